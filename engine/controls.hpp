#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/link_peer.hpp"
#include "engine/live_prefill.hpp"
#include "engine/playback.hpp"
#include "engine/preset.hpp"
#include "engine/prompt_slots.hpp"
#include "engine/stats.hpp"
#include "engine/style_encoder.hpp"

namespace continuo {

class AudioPrompts;

// Why a control was refused, in words a performer can act on ("temperature must be
// between 0 and 10, got nan"). Empty means applied.
using ControlResult = std::string;

// Everything a performer can change, for osc/ and midi/ alike: each setter validates its
// arguments, applies them (to the ControlState the generator snapshots at the next frame
// boundary, or to Playback for gain), and says why when it refuses. Thread-safe; never
// called from the audio thread.
class Controls {
 public:
  // volume_db: the gain Playback starts at, so volume_db() reports it before any change.
  // reset: schedules a fresh continuation at the next frame boundary and returns at once
  // (the generator's request_reset); none refuses reset and prefill.
  // presets: the config's [[presets]] (set_presets replaces them on a config reload).
  // style_encoder: the model's (Model::style_encoder()); none refuses prompts.
  // link: the Ableton Link session (link.enabled); none refuses set_link_tempo.
  Controls(ControlState& state, Playback& playback, std::function<StatusSnapshot()> status,
           float volume_db = 0.0f, std::function<void()> reset = {}, std::vector<Preset> presets = {},
           std::shared_ptr<const StyleEncoder> style_encoder = {}, LinkPeer* link = nullptr);

  // The playing model takes style tokens 0..style_codebook-1 (ModelInfo::style_codebook):
  // larger ones are refused from now on, and those in play are masked (-1). Returns what
  // was masked ("" when nothing). From the thread that starts or switches the model.
  std::string use_style_codebook(int style_codebook);

  ControlResult set_temperature(float value);      // (0, 10]
  ControlResult set_top_k(int value);              // 1..1024
  ControlResult set_cfg_style(float value);        // -1..7
  ControlResult set_cfg_notes(float value);        // -1..7
  ControlResult set_cfg_drums(float value);        // -1..7
  ControlResult set_drums(int value);              // -1 model decides, 0 off, 1 on
  ControlResult set_seed(std::int64_t value);      // >= 0
  ControlResult set_style_tokens(const std::array<int, kStyleTokens>& tokens);  // each -1..1023
  ControlResult note(int pitch, int velocity);     // pitch 0..127, velocity 0..127 (0 = off)
  ControlResult clear_notes();
  ControlResult set_onset_mode(int mode);          // 1 onset frame then sustain, 0 sustain at once (legato)
  ControlResult set_volume_db(float db);           // -120..24
  ControlResult set_muted(bool muted);
  ControlResult set_link_tempo(double bpm);        // 20..999, for every peer in the Link session
  ControlResult reset();            // fade out, model reset with the configured seed, fade in
  ControlResult prefill_silence();  // the same reset: a model package prefills with silence
  // The last seconds of the JACK inputs as the model's context (engine/live_prefill.hpp):
  // "" when started, done("" or why) follows once from the prefill's worker; else why not.
  ControlResult prefill_live(double seconds, LivePrefill::Done done);
  void set_live_prefill(LivePrefill* prefill);  // before any control thread calls prefill_live

  // Text prompts, for a model with a text tower (without one each refuses and says to set
  // style tokens instead). Every change re-blends the prompts in play (text and weight > 0)
  // on the calling thread and applies their tokens at the next frame boundary; with none in
  // play the style stays as it is.
  ControlResult set_prompts(const std::vector<WeightedPrompt>& prompts);  // replaces every slot
  ControlResult set_prompt_text(int slot, std::string text);            // slot 1..8
  ControlResult set_prompt_weight(int slot, float weight);              // slot 1..8, weight >= 0
  std::vector<WeightedPrompt> prompts() const;                          // in play, slot order
  std::array<WeightedPrompt, PromptSlots::kSlots> prompt_slots() const;  // every slot, in play or not

  // Audio prompts (/continuo/prompt/N/audio, engine/audio_prompts.hpp): "" when started,
  // done("" or why) follows once from the worker; else why not.
  using AudioDone = std::function<void(const std::string& why)>;
  ControlResult prompt_audio_live(int slot, double seconds, AudioDone done);
  ControlResult prompt_audio_file(int slot, const std::string& path, AudioDone done);
  void set_audio_prompts(AudioPrompts* prompts);  // before any control thread asks for one
  // The style encoder in use (none: prompts are refused), for a worker to embed audio with.
  std::shared_ptr<const StyleEncoder> style_encoder() const;
  // Slot `slot` becomes an audio prompt: `embedding`, made by `from`, described by `label`;
  // blended with the others as a text slot is. Refused when the model changed since.
  ControlResult set_prompt_audio(int slot, std::string label, AudioEmbedding embedding, const StyleEncoder* from);

  // Switching the model (/continuo/model/load): load(name, done) starts loading the package
  // and returns "" or why not; done("" or why) follows once, from the loader's thread.
  using ModelDone = std::function<void(const std::string& why)>;
  using ModelLoad = std::function<ControlResult(const std::string& name, ModelDone done)>;
  void set_model_loader(ModelLoad load);  // before any control thread calls load_model
  ControlResult load_model(const std::string& name, ModelDone done);
  // The style encoder of the model now playing (none: prompts are refused). Audio slots are
  // emptied (their embeddings belong to the old encoder); the prompts left in play are
  // blended again by it and their tokens applied; without an encoder, or when it cannot
  // blend them, they are dropped and the style tokens stay.
  void use_style_encoder(std::shared_ptr<const StyleEncoder> style_encoder);

  // Applies every value the preset sets in one ControlState update: one version, so one
  // frame boundary hears all of it; its prompts (blended first) replace every slot. Refused
  // whole when any value is out of range or its prompts cannot be blended.
  ControlResult recall_preset(const Preset& preset);
  ControlResult recall_preset(const std::string& name);  // "no preset named ..." when none
  std::optional<Preset> preset_named(const std::string& name) const;
  std::optional<Preset> preset_for_program(int program) const;  // none: no preset has it
  std::vector<Preset> presets() const;
  void set_presets(std::vector<Preset> presets);  // a config reload's [[presets]]

  StatusSnapshot status() const;
  ControlSnapshot snapshot() const { return state_.snapshot(); }
  float volume_db() const { return volume_db_.load(std::memory_order_relaxed); }
  bool muted() const { return muted_.load(std::memory_order_relaxed); }

 private:
  ControlState& state_;
  Playback& playback_;
  std::function<StatusSnapshot()> status_;
  std::function<void()> reset_;
  mutable std::mutex presets_mutex_;
  std::vector<Preset> presets_;  // under presets_mutex_
  // Playback keeps only the linear gain; these are what the performer asked for.
  std::atomic<float> volume_db_;
  std::atomic<bool> muted_{false};

  struct PromptChange {
    ControlResult why;
    PromptSlots slots;
    std::optional<std::array<int, kStyleTokens>> tokens;  // none: no slot in play
  };
  PromptChange prepare_prompts(const std::function<std::string(PromptSlots&)>& change) const;  // lock held
  ControlResult apply_prompts(const std::function<std::string(PromptSlots&)>& change);
  ControlResult apply_prompts_locked(const std::function<std::string(PromptSlots&)>& change);  // lock held
  ControlResult check_style_tokens(const std::array<int, kStyleTokens>& tokens) const;
  std::atomic<int> style_codebook_{1024};
  ModelLoad load_model_;
  LivePrefill* live_prefill_ = nullptr;
  AudioPrompts* audio_prompts_ = nullptr;
  std::shared_ptr<const StyleEncoder> style_encoder_;  // under prompts_mutex_
  LinkPeer* const link_;
  mutable std::mutex prompts_mutex_;  // control threads only: prompts are never read in real time
  PromptSlots prompt_slots_;
};

}  // namespace continuo
