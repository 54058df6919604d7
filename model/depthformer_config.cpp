#include "model/depthformer_config.hpp"

#include <string_view>

#include "model/architecture.hpp"
#include "model/mrt2_types.hpp"

namespace continuo::model {
namespace {

StackConfig read_stack(const ArchitectureReader& arch, const std::string& tag) {
  StackConfig stack;
  stack.layers = arch.count(tag + "_layers");
  stack.dims = arch.count(tag + "_dims");
  stack.ffn = arch.count(tag + "_ffn");
  stack.heads = arch.count(tag + "_heads");
  stack.head_dims = arch.count(tag + "_head_dims");
  stack.sinks = arch.count(tag + "_sinks", 0);
  return stack;
}

}  // namespace

DepthformerConfig DepthformerConfig::from_manifest(const Manifest& manifest,
                                                   const std::filesystem::path& dir) {
  const ArchitectureReader arch(manifest, dir, "the Depthformer");
  DepthformerConfig c;
  c.levels = arch.count("levels");
  // FrameCodes has a fixed number of levels: a package predicting another count cannot run.
  if (c.levels != kLmLevels) arch.fail("levels", "must be " + std::to_string(kLmLevels));
  c.codebook = arch.count("codebook");
  c.reserved_tokens = arch.count("reserved_tokens", 0);
  c.vocab = arch.count("vocab");
  if (c.vocab != c.levels * c.codebook + c.reserved_tokens) {
    arch.fail("vocab", "must be levels * codebook + reserved_tokens");
  }
  c.sos_id = arch.get("sos_id", 0);
  if (static_cast<std::size_t>(c.sos_id) >= c.reserved_tokens) {
    arch.fail("sos_id", "must be a reserved id (below reserved_tokens)");
  }
  c.conditioning_offset = arch.get("conditioning_offset");
  c.encoder_dims = arch.count("encoder_dims");
  c.style_vocab = arch.count("style_vocab");
  c.style_dims = arch.count("style_dims");
  c.regular_rows = arch.count("regular_rows");
  c.note_vocab = arch.count("note_vocab");
  c.drum_vocab = arch.count("drum_vocab");
  c.cfg_vocab = arch.count("cfg_vocab");
  c.cfg_drum_vocab = arch.count("cfg_drum_vocab");
  if (kPitches * c.note_vocab + c.drum_vocab + 2 * c.cfg_vocab + c.cfg_drum_vocab >
      c.regular_rows) {
    arch.fail("regular_rows", "too few rows for the note, drum and CFG channels");
  }
  c.temporal = read_stack(arch, "temporal");
  c.temporal.horizon = arch.count("temporal_self_horizon", 0);
  c.temporal.cross_horizon = arch.count("temporal_cross_horizon", 0);
  c.depth = read_stack(arch, "depth");
  c.depth.horizon = arch.count("depth_horizon", 0);
  c.norm_eps = static_cast<float>(arch.number("norm_eps"));
  c.logit_soft_cap = static_cast<float>(arch.number("logit_soft_cap"));
  return c;
}

}  // namespace continuo::model
