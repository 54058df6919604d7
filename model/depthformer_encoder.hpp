#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "kernels/ops.hpp"
#include "model/depthformer_config.hpp"
#include "model/depthformer_layers.hpp"
#include "model/mrt2_types.hpp"

namespace continuo::model {

// The conditioning encoder (docs/mrt2-reference.md §1): no attention and no state, one
// frame's conditioning in, one encoder_dims vector out:
//   style   = adapter · Σ_l style.table[id_l + l·style_vocab]       (MusicCoCa branch)
//   regular = mean_c regular.table[id_c + offset_c]                 (notes, drum, CFG)
//   output  = layer_norm((style + regular) / 2)
// with id = raw value + conditioning_offset (masked −1 → the channel's mask row).
class ConditioningEncoder {
 public:
  // Channels of the regular branch: one per pitch, drum, two CFG scales, CFG drums.
  static constexpr std::size_t kRegularChannels = kPitches + 4;

  struct Weights {
    kernels::WeightView style_table, style_adapter, regular_table, norm_scale, norm_bias;
  };
  // One frame's table ids: what the lookups read (the CUDA runtime uploads them).
  struct Ids {
    std::array<std::int32_t, kStyleTokens> style{};
    std::array<std::int32_t, kRegularChannels> regular{};
  };

  ConditioningEncoder(WeightBinder& binder, const DepthformerConfig& config);

  // Throws std::out_of_range naming the field when a value is outside its channel's range.
  void encode(const FrameConditioning& conditioning);
  std::span<const float> output() const { return output_; }

  // The ids of `conditioning` (raw value + offset), checked as encode checks them.
  Ids ids(const FrameConditioning& conditioning) const;
  const Weights& weights() const { return weights_; }
  // First row of each channel's slice of its table.
  std::span<const std::size_t> style_offsets() const { return style_offsets_; }
  std::span<const std::size_t> regular_offsets() const { return regular_offsets_; }

 private:
  void set_id(std::int32_t* ids, std::size_t channel, int raw, std::size_t vocab,
              const char* field) const;

  const DepthformerConfig& config_;
  Weights weights_;
  std::array<std::size_t, kStyleTokens> style_offsets_{};
  std::array<std::size_t, kRegularChannels> regular_offsets_{};
  std::array<std::size_t, kRegularChannels> regular_vocab_{};
  std::vector<float> style_sum_, style_, regular_, output_;
};

}  // namespace continuo::model
