#include "engine/controls.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "engine/audio_prompts.hpp"
#include "engine/number_text.hpp"

namespace continuo {
namespace {

// An inclusive range [lo, hi], or (lo, hi] when lo_open; NaN is outside every range.
struct Bounds {
  double lo;
  double hi;
  bool lo_open = false;

  bool contains(double value) const { return (lo_open ? value > lo : value >= lo) && value <= hi; }
};

// "" when value is in bounds, else "<what> must be between 0 and 10, got nan".
ControlResult check(const char* what, double value, Bounds bounds) {
  if (bounds.contains(value)) return {};
  const std::string lo = number_text(bounds.lo);
  const std::string hi = number_text(bounds.hi);
  const std::string rule = bounds.lo_open ? "greater than " + lo + " and at most " + hi
                                          : "between " + lo + " and " + hi;
  return std::string(what) + " must be " + rule + ", got " + number_text(value);
}

constexpr Bounds kCfg{-1, 7};

}  // namespace

Controls::Controls(ControlState& state, Playback& playback, std::function<StatusSnapshot()> status,
                   float volume_db, std::function<void()> reset, std::vector<Preset> presets,
                   std::shared_ptr<const StyleEncoder> style_encoder, LinkPeer* link)
    : state_(state),
      playback_(playback),
      status_(std::move(status)),
      reset_(std::move(reset)),
      presets_(std::move(presets)),
      volume_db_(volume_db),
      style_encoder_(std::move(style_encoder)),
      link_(link) {}

ControlResult Controls::set_temperature(float value) {
  ControlResult why = check("temperature", value, {0, 10, true});
  if (why.empty()) state_.update([&](ControlSnapshot& c) { c.temperature = value; });
  return why;
}

ControlResult Controls::set_top_k(int value) {
  ControlResult why = check("top_k", value, {1, 1024});
  if (why.empty()) state_.update([&](ControlSnapshot& c) { c.top_k = value; });
  return why;
}

ControlResult Controls::set_cfg_style(float value) {
  ControlResult why = check("cfg_style", value, kCfg);
  if (why.empty()) state_.update([&](ControlSnapshot& c) { c.cfg_style = value; });
  return why;
}

ControlResult Controls::set_cfg_notes(float value) {
  ControlResult why = check("cfg_notes", value, kCfg);
  if (why.empty()) state_.update([&](ControlSnapshot& c) { c.cfg_notes = value; });
  return why;
}

ControlResult Controls::set_cfg_drums(float value) {
  ControlResult why = check("cfg_drums", value, kCfg);
  if (why.empty()) state_.update([&](ControlSnapshot& c) { c.cfg_drums = value; });
  return why;
}

ControlResult Controls::set_drums(int value) {
  if (value < -1 || value > 1) {
    return "drums must be -1 (model decides), 0 (off) or 1 (on), got " + std::to_string(value);
  }
  state_.update([&](ControlSnapshot& c) { c.drums = value; });
  return {};
}

ControlResult Controls::set_seed(std::int64_t value) {
  if (value < 0) return "seed must be at least 0, got " + std::to_string(value);
  state_.update([&](ControlSnapshot& c) { c.seed = static_cast<std::uint64_t>(value); });
  return {};
}

ControlResult Controls::check_style_tokens(const std::array<int, kStyleTokens>& tokens) const {
  const double largest = style_codebook_.load(std::memory_order_relaxed) - 1;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    ControlResult why = check(("style token " + std::to_string(i)).c_str(), tokens[i], {-1, largest});
    if (!why.empty()) return why + " (the model playing takes -1.." + number_text(largest) + ")";
  }
  return {};
}

std::string Controls::use_style_codebook(int style_codebook) {
  style_codebook_.store(style_codebook, std::memory_order_relaxed);
  const auto tokens = state_.snapshot().style_tokens;
  if (std::all_of(tokens.begin(), tokens.end(), [&](int t) { return t < style_codebook; })) return {};
  std::string masked;
  state_.update([&](ControlSnapshot& c) {
    for (std::size_t i = 0; i < c.style_tokens.size(); ++i) {
      if (c.style_tokens[i] < style_codebook) continue;
      masked += (masked.empty() ? "" : ", ") + std::to_string(i) + "=" + std::to_string(c.style_tokens[i]);
      c.style_tokens[i] = -1;
    }
  });
  return masked;
}

ControlResult Controls::set_style_tokens(const std::array<int, kStyleTokens>& tokens) {
  if (ControlResult why = check_style_tokens(tokens); !why.empty()) return why;
  state_.update([&](ControlSnapshot& c) { c.style_tokens = tokens; });
  return {};
}

ControlResult Controls::set_prompts(const std::vector<WeightedPrompt>& prompts) {
  return apply_prompts([&](PromptSlots& slots) { return slots.replace_all(prompts); });
}

ControlResult Controls::set_prompt_text(int slot, std::string text) {
  return apply_prompts([&](PromptSlots& slots) { return slots.set_text(slot, std::move(text)); });
}

ControlResult Controls::set_prompt_weight(int slot, float weight) {
  return apply_prompts([&](PromptSlots& slots) { return slots.set_weight(slot, weight); });
}

std::vector<WeightedPrompt> Controls::prompts() const {
  const std::lock_guard lock(prompts_mutex_);
  return prompt_slots_.active();
}

std::array<WeightedPrompt, PromptSlots::kSlots> Controls::prompt_slots() const {
  const std::lock_guard lock(prompts_mutex_);
  return prompt_slots_.all();
}

void Controls::set_audio_prompts(AudioPrompts* prompts) { audio_prompts_ = prompts; }

ControlResult Controls::prompt_audio_live(int slot, double seconds, AudioDone done) {
  if (audio_prompts_ == nullptr) return "no audio prompts here";
  return audio_prompts_->start_live(slot, seconds, std::move(done));
}

ControlResult Controls::prompt_audio_file(int slot, const std::string& path, AudioDone done) {
  if (audio_prompts_ == nullptr) return "no audio prompts here";
  return audio_prompts_->start_file(slot, path, std::move(done));
}

std::shared_ptr<const StyleEncoder> Controls::style_encoder() const {
  const std::lock_guard lock(prompts_mutex_);
  return style_encoder_;
}

ControlResult Controls::set_prompt_audio(int slot, std::string label, AudioEmbedding embedding, const StyleEncoder* from) {
  const std::lock_guard lock(prompts_mutex_);
  if (style_encoder_.get() != from) return "the model changed while the audio was embedded: send it again";
  return apply_prompts_locked([&](PromptSlots& slots) { return slots.set_audio(slot, std::move(label), std::move(embedding)); });
}

// A copy of the slots with the change made and the tokens it blends to: nothing is kept
// until the caller applies it, so a refused prompt leaves the slots and the sound as they were.
Controls::PromptChange Controls::prepare_prompts(const std::function<std::string(PromptSlots&)>& change) const {
  PromptChange next{{}, prompt_slots_, std::nullopt};
  if (!style_encoder_) {
    next.why = "no text tower in this model: set /continuo/style/tokens instead";
    return next;
  }
  next.why = change(next.slots);
  const std::vector<WeightedPrompt> in_play = next.slots.active();
  if (!next.why.empty() || in_play.empty()) return next;
  try {
    next.tokens = style_encoder_->tokens(in_play);
  } catch (const std::invalid_argument& error) {
    next.why = error.what();
  }
  return next;
}

ControlResult Controls::apply_prompts(const std::function<std::string(PromptSlots&)>& change) {
  const std::lock_guard lock(prompts_mutex_);
  return apply_prompts_locked(change);
}

ControlResult Controls::apply_prompts_locked(const std::function<std::string(PromptSlots&)>& change) {
  PromptChange next = prepare_prompts(change);
  if (next.why.empty() && next.tokens) next.why = set_style_tokens(*next.tokens);
  if (next.why.empty()) prompt_slots_ = std::move(next.slots);
  return next.why;
}

void Controls::set_model_loader(ModelLoad load) { load_model_ = std::move(load); }

ControlResult Controls::load_model(const std::string& name, ModelDone done) {
  if (!load_model_) return "no model switching here";
  return load_model_(name, std::move(done));
}

void Controls::use_style_encoder(std::shared_ptr<const StyleEncoder> style_encoder) {
  const std::lock_guard lock(prompts_mutex_);
  style_encoder_ = std::move(style_encoder);
  prompt_slots_.drop_audio();
  if (prompt_slots_.active().empty()) return;
  PromptChange next = prepare_prompts([](PromptSlots&) { return std::string(); });
  if (next.why.empty() && next.tokens) next.why = set_style_tokens(*next.tokens);
  prompt_slots_ = next.why.empty() ? std::move(next.slots) : PromptSlots{};
}

ControlResult Controls::note(int pitch, int velocity) {
  ControlResult why = check("pitch", pitch, {0, kPitches - 1});
  if (why.empty()) why = check("velocity", velocity, {0, 127});
  if (!why.empty()) return why;
  if (velocity > 0) {
    state_.note_on(pitch);
  } else {
    state_.note_off(pitch);
  }
  return {};
}

ControlResult Controls::clear_notes() {
  state_.clear_notes();
  return {};
}

ControlResult Controls::set_onset_mode(int mode) {
  if (mode != 0 && mode != 1) {
    return "onset_mode must be 1 (a note-on is an onset frame, then held) or 0 (held at once, legato), got " +
           std::to_string(mode);
  }
  state_.update([&](ControlSnapshot& c) { c.onset_mode = mode; });
  return {};
}

ControlResult Controls::set_volume_db(float db) {
  ControlResult why = check("volume", db, {-120, 24});
  if (!why.empty()) return why;
  volume_db_.store(db, std::memory_order_relaxed);
  playback_.set_volume_db(db);
  return {};
}

ControlResult Controls::set_muted(bool muted) {
  muted_.store(muted, std::memory_order_relaxed);
  playback_.set_muted(muted);
  return {};
}

ControlResult Controls::set_link_tempo(double bpm) {
  if (link_ == nullptr) return "Link is off: set link.enabled = true in the config";
  return link_->set_tempo(bpm);
}

ControlResult Controls::reset() {
  if (!reset_) return "reset is not available without a running generator";
  reset_();
  return {};
}

// A model package's reset is its prefill (model.prefill_frames of silence, then a fresh
// continuation), so asking for silence as the context is asking for a reset.
ControlResult Controls::prefill_silence() { return reset(); }

void Controls::set_live_prefill(LivePrefill* prefill) { live_prefill_ = prefill; }

ControlResult Controls::prefill_live(double seconds, LivePrefill::Done done) {
  if (live_prefill_ == nullptr) return "no live input here";
  return live_prefill_->start(seconds, std::move(done));
}

ControlResult Controls::recall_preset(const Preset& p) {
  const std::string in = "preset \"" + p.name + "\": ";
  ControlResult why;
  const auto check_opt = [&](const char* what, const auto& value, Bounds bounds) {
    if (why.empty() && value) why = check(what, static_cast<double>(*value), bounds);
  };
  check_opt("temperature", p.temperature, {0, 10, true});
  check_opt("top_k", p.top_k, {1, 1024});
  check_opt("cfg_style", p.cfg_style, kCfg);
  check_opt("cfg_notes", p.cfg_notes, kCfg);
  check_opt("cfg_drums", p.cfg_drums, kCfg);
  check_opt("drums", p.drums, {-1, 1});
  check_opt("onset_mode", p.onset_mode, {0, 1});
  if (why.empty() && p.style_tokens) why = check_style_tokens(*p.style_tokens);
  if (!why.empty()) return in + why;
  const std::lock_guard lock(prompts_mutex_);
  std::optional<PromptChange> prompts;
  if (p.prompts) {
    prompts = prepare_prompts([&](PromptSlots& slots) { return slots.replace_all(*p.prompts); });
    if (!prompts->why.empty()) return in + prompts->why;
  }
  state_.update([&](ControlSnapshot& c) {
    if (p.style_tokens) c.style_tokens = *p.style_tokens;
    if (prompts && prompts->tokens) c.style_tokens = *prompts->tokens;
    if (p.temperature) c.temperature = *p.temperature;
    if (p.top_k) c.top_k = *p.top_k;
    if (p.cfg_style) c.cfg_style = *p.cfg_style;
    if (p.cfg_notes) c.cfg_notes = *p.cfg_notes;
    if (p.cfg_drums) c.cfg_drums = *p.cfg_drums;
    if (p.drums) c.drums = *p.drums;
    if (p.onset_mode) c.onset_mode = *p.onset_mode;
  });
  if (prompts) prompt_slots_ = std::move(prompts->slots);
  return {};
}

ControlResult Controls::recall_preset(const std::string& name) {
  const std::optional<Preset> found = preset_named(name);
  if (!found) return "no preset named \"" + name + "\"";
  return recall_preset(*found);
}

std::optional<Preset> Controls::preset_named(const std::string& name) const {
  const std::lock_guard lock(presets_mutex_);
  for (const Preset& p : presets_) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

std::optional<Preset> Controls::preset_for_program(int program) const {
  const std::lock_guard lock(presets_mutex_);
  for (const Preset& p : presets_) {
    if (p.program == program) return p;
  }
  return std::nullopt;
}

std::vector<Preset> Controls::presets() const {
  const std::lock_guard lock(presets_mutex_);
  return presets_;
}

void Controls::set_presets(std::vector<Preset> presets) {
  const std::lock_guard lock(presets_mutex_);
  presets_ = std::move(presets);
}

StatusSnapshot Controls::status() const { return status_ ? status_() : StatusSnapshot{}; }

}  // namespace continuo
