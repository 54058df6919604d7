#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "model/package.hpp"

namespace continuo::model {

// One transformer stack of the Depthformer (temporal or depth), from [architecture].
struct StackConfig {
  std::size_t layers = 0;
  std::size_t dims = 0;  // model width
  std::size_t ffn = 0;   // hidden width of the (plain, gelu_tanh) FFN
  std::size_t heads = 0;
  std::size_t head_dims = 0;
  std::size_t sinks = 0;          // attention sink embeddings (temporal: 1, depth: 0)
  std::size_t horizon = 0;        // self-attention max_past_horizon: horizon + 1 ring slots
  std::size_t cross_horizon = 0;  // temporal only: cross-attention max_past_horizon
};

// The Depthformer's hyper-parameters, as tools/convert_mrt2.py writes them into
// [architecture] (docs/models.md lists the keys).
struct DepthformerConfig {
  std::size_t levels = 0;           // RVQ levels predicted per frame (12)
  std::size_t codebook = 0;         // codes per level (1024)
  std::size_t reserved_tokens = 0;  // ids before the first code (6); id sos_id is SOS
  std::size_t vocab = 0;            // levels * codebook + reserved_tokens
  int sos_id = 0;
  int conditioning_offset = 0;  // raw conditioning value -> id: + 7 (-1 masked -> 6)
  std::size_t encoder_dims = 0;
  std::size_t style_vocab = 0;  // rows per MusicCoCa level in encoder.style.table
  std::size_t style_dims = 0;
  std::size_t regular_rows = 0;
  std::size_t note_vocab = 0, drum_vocab = 0, cfg_vocab = 0, cfg_drum_vocab = 0;
  StackConfig temporal;
  StackConfig depth;
  float norm_eps = 1e-6f;
  float logit_soft_cap = 30.0f;

  // Reads and checks the keys; ModelFileError "<dir>/model.toml: architecture.<key>: ..."
  // naming the first missing or inconsistent one.
  static DepthformerConfig from_manifest(const Manifest& manifest,
                                         const std::filesystem::path& dir);

  // The first unique id of level r: the level's codes are [level_begin(r), +codebook).
  std::size_t level_begin(std::size_t level) const { return reserved_tokens + level * codebook; }
  bool has_depth_adapter() const { return temporal.dims != depth.dims; }
};

}  // namespace continuo::model
