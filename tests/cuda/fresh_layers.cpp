// Part 2 of the CUDA parity test for the transformer layers' ops (attention, FFN, embeddings):
// each CUDA op against its CPU op on fresh random inputs, MRT2's shapes and odd ones.
// Tolerance kTolerance (1e-5 of the output's scale): the device sums in another fp32 order
// (attention: warp butterflies and value groups; FFN: dense.cu's order), ~1e-7 relative per
// sum; softmax turns a logit error δ into a relative probability error δ, and the logits here
// are O(1), so outputs agree to ~1e-6. The embeddings do the CPU's operations in its order and
// should show 0.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention/attention_cuda.hpp"
#include "kernels/embedding/embedding_cuda.hpp"
#include "kernels/ffn/ffn_cuda.hpp"
#include "tests/cuda/support.hpp"

namespace continuo::cuda_test {
namespace {

// ---- attention: a device-resident ring over many steps -------------------------------------

struct AttentionShape {
  std::size_t heads, dim, window, sinks, steps;
  bool per_dim_scale;
  std::size_t clear_every;  // 0: never; 12: the depth decoder's ring, cleared every frame
  bool graph;               // push + attend captured once, replayed at every step
};

std::string attention_name(const AttentionShape& s, k::DType dtype) {
  return "attention_h" + std::to_string(s.heads) + "_d" + std::to_string(s.dim) + "_w" +
         std::to_string(s.window) + "_sinks" + std::to_string(s.sinks) + "_steps" +
         std::to_string(s.steps) + (s.per_dim_scale ? "_pds" : "") +
         (s.clear_every != 0 ? "_clear" + std::to_string(s.clear_every) : "") + "_" +
         dtype_name(dtype) + (s.graph ? "_graph" : "");
}

// Step 0 attends over the empty ring (zeros without sinks, the sinks alone with them); step
// t ≥ 1 pushes position t − 1 (after a clear every clear_every positions), then attends. The
// CPU runs the same sequence on its own ring. The device ring starts poisoned, so a read of a
// slot never written gives NaN; the ring's state stays on the device throughout.
void attention_case(Report& r, h::Rng& rng, const AttentionShape& s, k::DType dtype) {
  const std::size_t stride = s.heads * s.dim;
  const auto q = h::uniform(rng, s.steps * stride, -1.5f, 1.5f);
  const auto key = h::uniform(rng, s.steps * stride, -1.5f, 1.5f);
  const auto value = h::uniform(rng, s.steps * stride, -1.0f, 1.0f);
  const h::Param sink_keys = h::param(rng, s.sinks * stride, dtype, -0.3f, 0.3f);
  const h::Param sink_values = h::param(rng, s.sinks * stride, dtype, -1.0f, 1.0f);
  h::Param per_dim;
  if (s.per_dim_scale) per_dim = h::param(rng, s.dim, k::DType::f32, -1.0f, 1.0f);
  std::vector<float> q_scale(s.dim);
  k::query_scale(per_dim.view(k::DType::f32), s.dim, q_scale.data());

  const std::size_t floats = k::kv_ring_floats(s.window, s.heads, s.dim);
  std::vector<float> keys(floats), values(floats);
  k::KvRing ring{keys.data(), values.data(), s.window, s.heads, s.dim};
  const k::AttentionSinks sinks{sink_keys.view(dtype), sink_values.view(dtype), s.sinks};
  std::vector<float> scratch(k::attend_scratch_size(ring, sinks));

  cu::DeviceBuffer<float> device_keys(floats), device_values(floats);
  device_keys.fill_bytes(0xFF);
  device_values.fill_bytes(0xFF);
  cu::DeviceBuffer<cu::KvRingState> state(1);
  const cu::DeviceKvRing device_ring{device_keys.data(), device_values.data(), s.window,
                                     s.heads, s.dim, state.data()};
  const auto device_sink_keys = upload(sinks.keys);
  const auto device_sink_values = upload(sinks.values);
  const cu::DeviceAttentionSinks device_sinks{device_sink_keys.view, device_sink_values.view, s.sinks};
  const auto device_scale = upload(q_scale.data(), s.dim);
  cu::DeviceBuffer<float> dq(stride), dk(stride), dv(stride);
  Poisoned<float> out(stride);

  cudaStream_t stream = nullptr;
  CONTINUO_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  CONTINUO_CUDA_CHECK(cudaDeviceSynchronize());  // the fills and uploads above, on stream 0
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  if (s.graph) {
    CONTINUO_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    cu::kv_ring_push(stream, device_ring, dk.data(), dv.data());
    cu::attend(stream, device_ring, device_sinks, dq.data(), device_scale.data, out.data());
    CONTINUO_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    CONTINUO_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  }

  std::vector<float> want((s.steps + 1) * stride);
  std::vector<float> got;
  std::size_t bad = 0;
  cu::kv_ring_clear(stream, device_ring);
  for (std::size_t t = 0; t <= s.steps; ++t) {
    const std::size_t position = t == 0 ? 0 : t - 1;
    const float* qt = &q[position * stride];
    out.repoison(stream);
    upload_on(stream, dq.data(), qt, stride);
    if (t == 0) {
      cu::attend(stream, device_ring, device_sinks, dq.data(), device_scale.data, out.data());
    } else {
      if (s.clear_every != 0 && position % s.clear_every == 0 && position != 0) {
        k::kv_ring_clear(ring);
        cu::kv_ring_clear(stream, device_ring);
      }
      k::kv_ring_push(ring, &key[position * stride], &value[position * stride]);
      upload_on(stream, dk.data(), &key[position * stride], stride);
      upload_on(stream, dv.data(), &value[position * stride], stride);
      if (s.graph) {
        CONTINUO_CUDA_CHECK(cudaGraphLaunch(exec, stream));
      } else {
        cu::kv_ring_push(stream, device_ring, dk.data(), dv.data());
        cu::attend(stream, device_ring, device_sinks, dq.data(), device_scale.data, out.data());
      }
    }
    k::attend(ring, sinks, qt, q_scale.data(), scratch.data(), &want[t * stride]);
    const auto step = out.read(bad);
    got.insert(got.end(), step.begin(), step.end());
  }
  cu::KvRingState final_state;
  state.download({&final_state, 1});
  bad += final_state.next != ring.next || final_state.filled != ring.filled;
  if (s.graph) {
    CONTINUO_CUDA_CHECK(cudaGraphExecDestroy(exec));
    CONTINUO_CUDA_CHECK(cudaGraphDestroy(graph));
  }
  CONTINUO_CUDA_CHECK(cudaStreamDestroy(stream));
  r.record(attention_name(s, dtype), relative_error(got, want), kTolerance, bad + nonfinite(got));
}

// ---- ffn -------------------------------------------------------------------------------------

void ffn_case(Report& r, h::Rng& rng, const k::FfnShape& shape, k::DType dtype, bool in_place) {
  const std::size_t rows1 = k::ffn_scratch_size(shape);
  const float bound1 = 2.0f / std::sqrt(static_cast<float>(shape.model));
  const float bound2 = 1.0f / std::sqrt(static_cast<float>(shape.hidden));
  const h::Param w1 = h::param(rng, rows1 * shape.model, dtype, -bound1, bound1);
  const h::Param b1 = h::param(rng, rows1, dtype, -0.5f, 0.5f);
  const h::Param w2 = h::param(rng, shape.model * shape.hidden, dtype, -bound2, bound2);
  const h::Param b2 = h::param(rng, shape.model, dtype, -0.5f, 0.5f);
  const auto x = h::uniform(rng, shape.model, -1.0f, 1.0f);
  std::vector<float> scratch(rows1);
  std::vector<float> want(shape.model);
  k::ffn(shape, {w1.view(dtype), b1.view(dtype), w2.view(dtype), b2.view(dtype)}, x.data(),
         scratch.data(), want.data());

  const auto dw1 = upload(w1.view(dtype));
  const auto db1 = upload(b1.view(dtype));
  const auto dw2 = upload(w2.view(dtype));
  const auto db2 = upload(b2.view(dtype));
  const cu::DeviceFfnWeights weights{dw1.view, db1.view, dw2.view, db2.view};
  const auto dx = upload(x.data(), shape.model);
  cu::DeviceBuffer<float> device_scratch(rows1);
  device_scratch.fill_bytes(0xFF);
  std::size_t bad = 0;
  std::vector<float> got;
  if (in_place) {
    cu::ffn(nullptr, shape, weights, dx.data, device_scratch.data(), dx.data);
    got = download(dx, shape.model);
  } else {
    Poisoned<float> y(shape.model);
    cu::ffn(nullptr, shape, weights, dx.data, device_scratch.data(), y.data());
    got = y.read(bad);
  }
  r.record(std::string("ffn_") + (shape.gated ? "gated_" : "") + h::activation_name(shape.activation) +
               "_d" + std::to_string(shape.model) + "_h" + std::to_string(shape.hidden) + "_" +
               dtype_name(dtype) + (in_place ? "_in_place" : ""),
           relative_error(got, want), kTolerance, bad + nonfinite(got));
}

// ---- embeddings ------------------------------------------------------------------------------

// The decoder's shared embedding: one token (embed_token) and the previous frame's 12 unique
// codes averaged (embed_mean), table [12 294, dim], scale sqrt(dim).
void decoder_embedding_case(Report& r, h::Rng& rng, std::size_t dim, k::DType dtype) {
  constexpr std::size_t kVocab = 12 * 1024 + 6;
  const k::EmbeddingShape shape{kVocab, dim};
  const h::Param table = h::param(rng, kVocab * dim, dtype, -0.05f, 0.05f);
  const auto device_table = upload(table.view(dtype));
  const float scale = k::embedding_scale(dim);
  std::uniform_int_distribution<std::int32_t> code(0, 1023);
  std::vector<std::int32_t> unique(12);
  for (std::size_t level = 0; level < 12; ++level) {
    unique[level] = static_cast<std::int32_t>(6 + 1024 * level) + code(rng);
  }
  unique[11] = static_cast<std::int32_t>(kVocab) - 1;  // the last row is reachable
  const auto device_ids = to_device(unique.data(), unique.size());
  std::size_t bad = 0;

  std::vector<float> want(dim);
  Poisoned<float> y(dim);
  double token_error = 0.0;
  for (const std::size_t i : {std::size_t{0}, std::size_t{5}, std::size_t{11}}) {
    k::embed_token(shape, table.view(dtype), unique[i], scale, want.data());
    y.repoison(nullptr);
    cu::embed_token(nullptr, shape, device_table.view, device_ids.data() + i, scale, y.data());
    const auto got = y.read(bad);
    bad += nonfinite(got);
    token_error = std::max(token_error, relative_error(got, want));
  }
  const std::string suffix = "_v" + std::to_string(kVocab) + "_d" + std::to_string(dim) + "_" + dtype_name(dtype);
  r.record("embed_token" + suffix + " (3 tokens)", token_error, kTolerance, bad);

  bad = 0;
  k::embed_mean(shape, table.view(dtype), unique.data(), unique.size(), scale, want.data());
  y.repoison(nullptr);
  cu::embed_mean(nullptr, shape, device_table.view, device_ids.data(), unique.size(), scale, y.data());
  const auto got = y.read(bad);
  r.record("embed_mean" + suffix + "_n12", relative_error(got, want), kTolerance, bad + nonfinite(got));
}

// The encoder's MultiChannelEmbedding: channel c reads its own slice (offsets = cumulative
// vocab sizes); ids are raw values + 7, so 6 is a masked channel.
void channels_case(Report& r, h::Rng& rng, const std::string& what,
                   const std::vector<std::size_t>& vocabs, std::size_t table_rows,
                   const k::MultiChannelShape& shape, k::DType dtype) {
  std::vector<std::size_t> offsets;
  std::vector<std::int32_t> tokens;
  std::size_t offset = 0;
  for (const std::size_t v : vocabs) {
    offsets.push_back(offset);
    offset += v;
    std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(v) - 1);
    tokens.push_back(id(rng));
  }
  tokens.front() = 6;  // masked
  tokens.back() = static_cast<std::int32_t>(vocabs.back()) - 1;
  const h::Param table = h::param(rng, table_rows * shape.dim, dtype, -0.05f, 0.05f);
  std::vector<float> want(shape.dim);
  k::embed_channels(shape, table.view(dtype), offsets.data(), tokens.data(), want.data());

  const auto device_table = upload(table.view(dtype));
  const auto device_offsets = to_device(offsets.data(), offsets.size());
  const auto device_tokens = to_device(tokens.data(), tokens.size());
  Poisoned<float> y(shape.dim);
  cu::embed_channels(nullptr, shape, device_table.view, device_offsets.data(), device_tokens.data(),
                     y.data());
  std::size_t bad = 0;
  const auto got = y.read(bad);
  r.record("embed_channels_" + what + "_c" + std::to_string(shape.channels) + "_d" +
               std::to_string(shape.dim) + "_" + dtype_name(dtype),
           relative_error(got, want), kTolerance, bad + nonfinite(got));
}

void embedding_cases(Report& r, h::Rng& rng) {
  constexpr auto f32 = k::DType::f32;
  constexpr auto bf16 = k::DType::bf16;
  decoder_embedding_case(r, rng, 1024, bf16);  // mrt2_small Dt
  decoder_embedding_case(r, rng, 3072, bf16);  // mrt2_base Dt
  decoder_embedding_case(r, rng, 64, f32);
  // MusicCoCa branch: 12 levels of 1031 ids, 768-d, summed (docs/mrt2-reference.md §1)
  const std::vector<std::size_t> style(12, 1031);
  channels_case(r, rng, "style_sum", style, 12 * 1031, {12, 768, 0, k::ChannelReduction::sum}, bf16);
  // regular branch: 128 notes (11 ids), drum (9), two CFG (48), CFG drums (16); 1536 rows; mean
  std::vector<std::size_t> regular(128, 11);
  regular.insert(regular.end(), {9, 48, 48, 16});
  for (const std::size_t de : {std::size_t{256}, std::size_t{1024}}) {
    channels_case(r, rng, "regular_mean", regular, 1536, {132, de, 0, k::ChannelReduction::mean}, f32);
  }
  // reserved ids shared by every channel, un-offset
  const std::vector<std::size_t> small(7, 20);
  channels_case(r, rng, "reserved6_sum", small, 6 + 7 * 20, {7, 33, 6, k::ChannelReduction::sum}, bf16);
}

}  // namespace

void fresh_layer_cases(Report& r, std::uint64_t seed) {
  h::Rng rng(seed ^ 0xBB67AE8584CAA73Bull);
  constexpr auto f32 = k::DType::f32;
  constexpr auto bf16 = k::DType::bf16;
  //                  heads dim window sinks steps pds  clear graph
  attention_case(r, rng, {8, 128, 42, 1, 100, true, 0, false}, f32);   // mrt2_small temporal
  attention_case(r, rng, {8, 128, 42, 1, 100, true, 0, true}, bf16);
  attention_case(r, rng, {24, 128, 26, 1, 60, true, 0, true}, bf16);   // mrt2_base temporal
  attention_case(r, rng, {6, 128, 13, 0, 36, true, 12, false}, f32);   // mrt2_small depth
  attention_case(r, rng, {6, 128, 13, 0, 36, true, 12, true}, f32);
  attention_case(r, rng, {8, 128, 13, 0, 24, true, 12, true}, f32);    // mrt2_base depth
  attention_case(r, rng, {3, 16, 4, 2, 11, false, 0, false}, f32);     // two sinks
  attention_case(r, rng, {2, 33, 5, 1, 13, true, 0, false}, bf16);     // 33 ∤ 512: 15 groups
  attention_case(r, rng, {1, 512, 3, 1, 7, true, 0, false}, f32);      // the largest dim
  attention_case(r, rng, {2, 64, 1000, 1, 1100, true, 0, true}, f32);  // 1001 logits > threads

  ffn_case(r, rng, {1024, 4096, false, k::Activation::gelu_tanh}, bf16, false);  // small temporal
  ffn_case(r, rng, {3072, 8192, false, k::Activation::gelu_tanh}, bf16, false);  // base temporal
  ffn_case(r, rng, {768, 3072, false, k::Activation::gelu_tanh}, f32, false);    // small depth
  ffn_case(r, rng, {1024, 4096, false, k::Activation::gelu_tanh}, f32, true);    // base depth
  ffn_case(r, rng, {96, 200, true, k::Activation::gelu_tanh}, f32, false);
  ffn_case(r, rng, {64, 128, false, k::Activation::relu}, f32, false);
  ffn_case(r, rng, {64, 128, true, k::Activation::silu}, bf16, false);
  ffn_case(r, rng, {100, 37, true, k::Activation::gelu_tanh}, f32, false);  // scalar GEMV paths

  embedding_cases(r, rng);
}

}  // namespace continuo::cuda_test
