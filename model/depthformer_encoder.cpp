#include "model/depthformer_encoder.hpp"

#include <stdexcept>
#include <string>

namespace continuo::model {

ConditioningEncoder::ConditioningEncoder(WeightBinder& binder, const DepthformerConfig& config)
    : config_(config),
      style_sum_(config.style_dims),
      style_(config.encoder_dims),
      regular_(config.encoder_dims),
      output_(config.encoder_dims) {
  const std::size_t de = config.encoder_dims;
  weights_.style_table =
      binder.bind("encoder.style.table", {kStyleTokens * config.style_vocab, config.style_dims});
  weights_.style_adapter = binder.bind("encoder.style.adapter", {de, config.style_dims});
  weights_.regular_table = binder.bind("encoder.regular.table", {config.regular_rows, de});
  weights_.norm_scale = binder.bind("encoder.norm.scale", {de});
  weights_.norm_bias = binder.bind("encoder.norm.bias", {de});
  for (std::size_t l = 0; l < kStyleTokens; ++l) style_offsets_[l] = l * config.style_vocab;
  // Channel order of the official conditioning frame after the 12 style tokens.
  for (std::size_t p = 0; p < kPitches; ++p) regular_vocab_[p] = config.note_vocab;
  regular_vocab_[kPitches] = config.drum_vocab;
  regular_vocab_[kPitches + 1] = config.cfg_vocab;
  regular_vocab_[kPitches + 2] = config.cfg_vocab;
  regular_vocab_[kPitches + 3] = config.cfg_drum_vocab;
  std::size_t offset = 0;
  for (std::size_t c = 0; c < kRegularChannels; ++c) {
    regular_offsets_[c] = offset;
    offset += regular_vocab_[c];
  }
}

void ConditioningEncoder::set_id(std::int32_t* ids, std::size_t channel, int raw, std::size_t vocab,
                                 const char* field) const {
  const long id = static_cast<long>(raw) + config_.conditioning_offset;
  if (id < 0 || id >= static_cast<long>(vocab)) {
    throw std::out_of_range(
        std::string("conditioning ") + field + ": value " + std::to_string(raw) + " outside -1.." +
        std::to_string(static_cast<long>(vocab) - 1 - config_.conditioning_offset));
  }
  ids[channel] = static_cast<std::int32_t>(id);
}

ConditioningEncoder::Ids ConditioningEncoder::ids(const FrameConditioning& c) const {
  Ids result;
  for (std::size_t l = 0; l < kStyleTokens; ++l) {
    set_id(result.style.data(), l, c.style_tokens[l], config_.style_vocab, "style_tokens");
  }
  std::int32_t* ids = result.regular.data();
  for (std::size_t p = 0; p < kPitches; ++p) set_id(ids, p, c.notes[p], regular_vocab_[p], "notes");
  set_id(ids, kPitches, c.drum, regular_vocab_[kPitches], "drum");
  set_id(ids, kPitches + 1, c.cfg_style_token, regular_vocab_[kPitches + 1], "cfg_style_token");
  set_id(ids, kPitches + 2, c.cfg_notes_token, regular_vocab_[kPitches + 2], "cfg_notes_token");
  set_id(ids, kPitches + 3, c.cfg_drum_token, regular_vocab_[kPitches + 3], "cfg_drum_token");
  return result;
}

void ConditioningEncoder::encode(const FrameConditioning& c) {
  const Ids frame_ids = ids(c);
  const std::size_t de = config_.encoder_dims;
  kernels::embed_channels({kStyleTokens, config_.style_dims, 0, kernels::ChannelReduction::sum},
                          weights_.style_table, style_offsets_.data(), frame_ids.style.data(),
                          style_sum_.data());
  kernels::dense({config_.style_dims, de}, weights_.style_adapter, {}, style_sum_.data(),
                 style_.data());
  kernels::embed_channels({kRegularChannels, de, 0, kernels::ChannelReduction::mean},
                          weights_.regular_table, regular_offsets_.data(),
                          frame_ids.regular.data(), regular_.data());
  // sl.Parallel with CombinationMode.MEAN over the two branches.
  for (std::size_t i = 0; i < de; ++i) output_[i] = (style_[i] + regular_[i]) * 0.5f;
  kernels::layer_norm({de, config_.norm_eps}, weights_.norm_scale, weights_.norm_bias,
                      output_.data(), output_.data());
}

}  // namespace continuo::model
