#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/app.hpp"
#include "engine/audio_prompts.hpp"
#include "engine/audio_ring.hpp"
#include "engine/config_reload.hpp"
#include "engine/controls.hpp"
#include "engine/frame_source.hpp"
#include "engine/generator.hpp"
#include "engine/jack_session.hpp"
#include "engine/input_capture.hpp"
#include "engine/link_peer.hpp"
#include "engine/live_prefill.hpp"
#include "engine/log.hpp"
#include "engine/model_swap.hpp"
#include "engine/nsm_session.hpp"
#include "engine/playback.hpp"
#include "engine/recorder.hpp"
#include "engine/signals.hpp"
#include "engine/systemd_notify.hpp"
#include "midi/alsa_input.hpp"
#include "midi/controls_sink.hpp"
#include "midi/midi_input.hpp"
#include "osc/osc_server.hpp"

namespace continuo {
namespace {

// Sizes of the live path in frames at the JACK rate, all derived from the config.
struct LiveSizes {
  std::size_t lookahead;       // the generator keeps the ring this full
  std::size_t ring_capacity;   // lookahead plus room for the frame being pushed
  std::size_t latency;         // reported to JACK: lookahead plus the model's own delay
  PlaybackConfig playback;
};

std::size_t ms_to_frames(double ms, int rate) { return static_cast<std::size_t>(std::lround(ms * rate / 1000.0)); }

LiveSizes live_sizes(const EngineConfig& engine, const ModelInfo& model, int rate) {
  const double scale = static_cast<double>(rate) / model.sample_rate;
  // The resampler may emit a few frames more than the ratio for one input frame.
  const auto frame_out = static_cast<std::size_t>(std::ceil(model.frame_samples * scale)) + 64;
  LiveSizes sizes;
  sizes.lookahead = ms_to_frames(engine.lookahead_ms, rate);
  sizes.ring_capacity = sizes.lookahead + 2 * frame_out;
  sizes.latency = sizes.lookahead + static_cast<std::size_t>(std::lround(model.latency_samples * scale));
  sizes.playback.fade_frames = ms_to_frames(engine.fade_ms, rate);
  sizes.playback.gain_ramp_frames = ms_to_frames(engine.gain_ramp_ms, rate);
  sizes.playback.resume_frames = sizes.lookahead / 2;
  sizes.playback.volume_db = static_cast<float>(engine.volume_db);
  return sizes;
}

// A taken port leaves the engine playing without OSC: sound comes first, and the log says
// how to fix it. A config mistake (bind address, allow entry) stops the start instead.
std::unique_ptr<osc::OscServer> make_osc(const OscConfig& config, Controls& controls, MidiInput& midi,
                                         SessionRecorder* recorder) {
  if (!config.enabled) return nullptr;
  // MIDI learn: the answer goes to the sender from the MIDI thread when a CC is bound.
  osc::LearnHooks learn{
      [&midi](const std::string& param, std::function<void(const osc::Message&)> reply) {
        return midi.learn(param, [reply = std::move(reply)](MidiParam p, std::optional<int> cc) {
          if (cc) {
            reply({"/done", {osc::Arg::string("/continuo/learn"), osc::Arg::string(midi_param_info(p).name),
                             osc::Arg::int32(*cc)}});
          } else {
            reply({"/fail", {osc::Arg::string("/continuo/learn"), osc::Arg::string("learn cancelled")}});
          }
        });
      },
      [&midi]() -> ControlResult {
        midi.cancel_learn();
        return {};
      }};
  try {
    osc::RecordHook record;
    if (recorder != nullptr) {
      record = [recorder](bool start, std::vector<std::string>& files) {
        TakeFiles take;
        const RecordResult why = start ? recorder->start(take) : recorder->stop(take);
        files = {take.audio, take.journal};
        return why;
      };
    }
    return std::make_unique<osc::OscServer>(config, controls, std::move(learn), std::move(record));
  } catch (const osc::OscBindError& error) {
    log_error(error.what(), "; playing on without OSC");
    return nullptr;
  }
}

// midi.backend = "alsa": RtMidi's thread fills the MIDI ring instead of the process
// callback. If the sequencer or the port is not there, the log says which and MIDI comes
// from the JACK port as with backend "jack": sound, and some MIDI, first.
std::unique_ptr<AlsaMidiInput> make_alsa_midi(const Config& config, MidiRing& ring) {
  if (config.midi.backend != MidiBackend::alsa) return nullptr;
  try {
    auto input = std::make_unique<AlsaMidiInput>(ring, config.midi.alsa_port, config.jack.client_name);
    log_info("midi: ALSA sequencer, listening to ", input->source());
    return input;
  } catch (const MidiBackendError& error) {
    log_error("midi: ", error.what(), "; taking MIDI from the JACK port ", config.jack.midi_port, " instead");
    return nullptr;
  }
}

// The capture ring for /continuo/prefill/live, none when input.capture_seconds is 0. Sized
// at the start rate; after a reconnect at another rate the seconds it holds scale with it.
std::unique_ptr<InputCapture> make_capture(const InputConfig& config, int rate) {
  if (config.capture_seconds <= 0.0) return nullptr;
  const auto frames = static_cast<std::size_t>(std::lround(config.capture_seconds * rate));
  return std::make_unique<InputCapture>(frames, static_cast<std::size_t>(rate));  // a second of slack
}

// What a journal says about the model, as replay must load it: a package directory by its
// absolute path, so replay works from any directory.
JournalHeader model_facts(const ModelConfig& settings, const ModelInfo& info, ResamplerQuality resampler,
                          int output_rate) {
  JournalHeader facts;
  std::error_code error;
  const bool directory = std::filesystem::is_directory(settings.spec, error);
  facts.model_spec = directory ? std::filesystem::absolute(settings.spec).lexically_normal().string() : settings.spec;
  facts.model_identity = info.identity.empty() ? info.name : info.identity;
  facts.backend = info.backend;
  facts.prefill_frames = settings.prefill_frames;
  facts.model_rate = info.sample_rate;
  facts.frame_samples = info.frame_samples;
  facts.output_rate = output_rate;
  facts.resampler = resampler;
  return facts;
}

// The recorder, when record.dir is set.
std::unique_ptr<SessionRecorder> make_recorder(const Config& config, const Model& model, int output_rate) {
  if (config.record.dir.empty()) return nullptr;
  return std::make_unique<SessionRecorder>(
      config.record, model_facts(config.model, model.info(), config.engine.resampler, output_rate), config.model.seed);
}

class LiveEngine {
 public:
  // model: loaded from config.model; sizes_, source_ and controls_ read it before models_
  // takes it over (members are initialised in the order declared). restore: controls set
  // before the first frame is made and the first sample played (an NSM session's state).
  LiveEngine(const Config& config, const ModelRegistry& registry, std::unique_ptr<Model> model,
             std::unique_ptr<JackSession> session, const std::function<void(Controls&)>& restore)
      : started_(config),
        applied_(config),
        session_(std::move(session)),
        sizes_(live_sizes(config.engine, model->info(), session_->sample_rate())),
        control_(config.control),
        ring_(sizes_.ring_capacity),
        playback_(ring_, sizes_.playback),
        source_(*model, control_, session_->sample_rate(), config.engine.resampler),
        recorder_(make_recorder(config, *model, session_->sample_rate())),
        generator_(source_, ring_, sizes_.lookahead, config.model.seed),
        capture_(make_capture(config.input, session_->sample_rate())),
        live_prefill_(
            capture_.get(), [this] { return session_->sample_rate(); },
            [this](const AudioEncoder& from, std::span<const int> tokens) { return apply_context(from, tokens); },
            model->audio_encoder(), config.engine.resampler),
        link_(config.link.enabled ? std::make_unique<LinkPeer>(config.link.tempo, config.link.quantum) : nullptr),
        controls_(control_, playback_, [this] { return status(); }, static_cast<float>(config.engine.volume_db),
                  [this] { generator_.request_reset(models_.settings().seed); }, config.presets,
                  model->style_encoder(), link_.get()),
        audio_prompts_(controls_, capture_.get(), [this] { return session_->sample_rate(); }, config.prompts.dir,
                       config.engine.resampler),
        models_(registry, generator_, std::move(model), config.model.spec, config.model,
                [this, resampler = config.engine.resampler](const std::string& name, const Model& playing) {
                  controls_.use_style_encoder(playing.style_encoder());
                  use_style_codebook(playing.info());
                  live_prefill_.use_encoder(playing.audio_encoder());
                  if (recorder_) {
                    recorder_->use_model(
                        model_facts(models_.settings(), playing.info(), resampler, session_->sample_rate()));
                  }
                  if (osc_) osc_->notify("model", "loaded " + name);
                }),
        midi_sink_(controls_),
        midi_(midi_sink_, config.midi),
        alsa_midi_(make_alsa_midi(config, midi_.midi_ring())) {
    if (recorder_) source_.set_recorder(recorder_.get());
    if (recorder_ && config.record.on_start) {
      TakeFiles files;
      const RecordResult why = recorder_->start(files);
      if (!why.empty()) log_error("recorder: ", why);
    }
    use_style_codebook(models_.playing_info());
    controls_.set_live_prefill(&live_prefill_);
    controls_.set_audio_prompts(&audio_prompts_);
    controls_.set_model_loader([this](const std::string& name, Controls::ModelDone done) {
      return models_.load_package(name, std::move(done));
    });
    osc_ = make_osc(config.osc, controls_, midi_, recorder_.get());  // its thread may call the loader at once
    // The analysis feed costs an FFT per frame: only while someone is subscribed.
    generator_.set_analysis_wanted(false);
    if (osc_) osc_->on_analysis_subscribers([this](bool wanted) { generator_.set_analysis_wanted(wanted); });
    if (sizes_.lookahead < 2 * static_cast<std::size_t>(session_->buffer_frames())) {
      log_warn("engine: lookahead ", config.engine.lookahead_ms, " ms is under two JACK periods; expect underruns");
    }
    if (restore) restore(controls_);
    generator_.start();
    midi_.sync_all(controls_.snapshot(), controls_.volume_db(), controls_.muted());  // knobs pick up from here
    midi_.start();
    // One producer for the MIDI ring: the ALSA input's thread or the process callback.
    session_->activate(playback_, static_cast<jack_nframes_t>(sizes_.latency), alsa_midi_ ? nullptr : &midi_.midi_ring(),
                       capture_.get());
    log_info("engine: running ", models_.playing_name(), ", lookahead ", config.engine.lookahead_ms, " ms (",
             sizes_.lookahead, " frames), reported latency ", sizes_.latency, " frames");
  }

  // OSC goes first: its commands read the session and playback. Then the client: its
  // process callback reads playback_, ring_ and the MIDI ring.
  ~LiveEngine() {
    midi_.cancel_learn();  // its answer would go through osc_
    models_.close();       // so would a load's
    live_prefill_.close();  // and a prefill's; it waits for the generator, stopped below
    audio_prompts_.close();  // and an audio prompt's
    if (osc_) osc_->on_analysis_subscribers({});
    osc_.reset();
    session_.reset();
    alsa_midi_.reset();
    midi_.stop();
    generator_.stop();
  }

  void tick() {
    session_->poll();
    // Control latency is resolved here, off the audio thread, from what it has read.
    const auto now = std::chrono::steady_clock::now();
    generator_.control_latency().resolve(generator_.frames_read(), now, session_->sample_rate());
    generator_.reset_latency().resolve(generator_.frames_read(), now, session_->sample_rate());
    if (session_->connected()) generator_.request_output_rate(session_->sample_rate());
    send_heard_analysis();
    const std::uint64_t underruns = playback_.underruns();
    if (underruns > underruns_logged_) {
      const std::string text =
          "underrun, the generator fell behind playback (" + std::to_string(underruns) + " so far)";
      log_warn("engine: ", text);
      if (osc_) osc_->notify("warning", text);
      underruns_logged_ = underruns;
    }
    const std::uint64_t dropped = recorder_ ? recorder_->dropped_frames() : 0;
    if (dropped > record_dropped_logged_) {
      const std::string text = "the recorder's disk writer fell behind: " + std::to_string(dropped) +
                               " frames dropped from takes so far (silent there)";
      log_warn("recorder: ", text);
      if (osc_) osc_->notify("warning", text);
      record_dropped_logged_ = dropped;
    }
    report_model_failures();
  }

  // SIGHUP: next is the config file read again. What can change while playing changes now,
  // without a gap; a changed [model] loads through the same path as /continuo/model/load;
  // the rest waits for a restart, and the log says so by key.
  void reload(const Config& next) {
    const ReloadPlan plan = plan_reload(started_, applied_, next);
    for (const std::string& key : plan.restart) {
      log_warn("config: ", key, " changed; it takes effect at the next start");
    }
    // The other [control] keys as one preset: one frame boundary hears them all.
    const bool controls_changed = std::any_of(plan.live.begin(), plan.live.end(), [](const std::string& key) {
      return key.starts_with("control.") && key != "control.seed";
    });
    const ControlResult controls_why =
        controls_changed ? controls_.recall_preset(changed_controls(applied_.control, next.control)) : ControlResult{};
    for (const std::string& key : plan.live) {
      const bool in_preset = key.starts_with("control.") && key != "control.seed";
      const ControlResult why = in_preset ? controls_why : apply_live(key, next);
      if (why.empty()) {
        log_info("config: ", key, " applied");
      } else {
        log_error("config: ", key, " not applied: ", why);
      }
    }
    // Only a [model] the file changed, as for [control]: a model the performer loaded stays.
    // One that failed to load is tried again at the next reload (the package may be fixed).
    if (!(next.model == applied_.model) || model_reload_failed_.exchange(false)) {
      const std::string why = models_.load_config(next.model, [this](const std::string& refused) {
        if (!refused.empty()) model_reload_failed_.store(true);  // the swap has logged why
      });
      if (!why.empty()) {
        log_error("config: model.spec ", next.model.spec, " not loaded: ", why);
        model_reload_failed_.store(true);
      }
    }
    applied_ = next;
    log_info("config: reloaded ", next.path, ", ", plan.live.size(), " change(s) applied now");
  }

  // Each frame's features go out once the audio thread has read its first sample, so
  // visuals line up with the sound (within this loop's 20 ms tick and one JACK period).
  void send_heard_analysis() {
    std::array<AnalysisFrame, 16> heard;
    const std::uint64_t read = generator_.frames_read();
    for (;;) {
      const std::size_t n = generator_.analysis().take_heard(read, heard);
      if (osc_) {
        for (std::size_t i = 0; i < n; ++i) osc_->send_analysis(heard[i]);
      }
      if (n < heard.size()) break;
    }
  }

  // The generator plays silence while the model fails, and retries: subscribers hear of both.
  void report_model_failures() {
    const std::uint64_t failures = generator_.step_failures();
    if (failures > failures_reported_) {
      failures_reported_ = failures;
      if (osc_) osc_->notify("warning", "model failed: " + generator_.failure_reason() +
                                            "; playing silence, retrying after every second of it");
    }
    const std::uint64_t recoveries = generator_.recoveries();
    if (recoveries > recoveries_reported_) {
      recoveries_reported_ = recoveries;
      if (osc_) osc_->notify("model", "recovered: " + models_.playing_name() + " plays again");
    }
  }

  // One [control] key, engine.volume_db, presets, log.level or midi.cc_map; "" when
  // applied, else why not.
  ControlResult apply_live(const std::string& key, const Config& next) {
    if (key == "engine.volume_db") return controls_.set_volume_db(static_cast<float>(next.engine.volume_db));
    if (key == "control.seed") return controls_.set_seed(static_cast<std::int64_t>(next.control.seed));
    if (key == "log.level") set_log_level(next.log_level);
    if (key == "presets") controls_.set_presets(next.presets);
    if (key == "midi.cc_map") midi_.set_cc_map(next.midi.cc_map);
    return {};
  }

  std::string model_name() const { return models_.playing_name(); }

  // The prefill worker's tokens to the generator, and to the recorder first: the generator
  // thread cannot copy them into the journal, so the recorder keeps them until it journals
  // the reset they made (or takes them back when the generator refused them).
  std::string apply_context(const AudioEncoder& from, std::span<const int> tokens) {
    if (recorder_) recorder_->offer_context(tokens);
    const std::string why = generator_.apply_context(from, tokens);
    if (!why.empty() && recorder_) recorder_->withdraw_context();
    return why;
  }

  // Style tokens in play that the model cannot take (a config or a switch to a smaller
  // style codebook) are masked rather than failing every step; the log names them.
  void use_style_codebook(const ModelInfo& info) {
    const std::string masked = controls_.use_style_codebook(info.style_codebook);
    if (!masked.empty()) {
      log_warn("control: style tokens ", masked, " are outside ", info.name, "'s 0..", info.style_codebook - 1,
               "; masked (-1)");
    }
  }
  const Controls& controls() const { return controls_; }

  // Progress of the two threads sound depends on, for the systemd watchdog.
  std::uint64_t frames_played() const { return playback_.frames_played(); }
  std::uint64_t frames_generated() const { return source_.frames(); }

  StatusSnapshot status() const {
    StatusSnapshot s;
    s.frames_generated = source_.frames();
    s.frames_played = playback_.frames_played();
    const int rate = session_->sample_rate();
    s.ring_fill_ms = rate > 0 ? 1000.0 * static_cast<double>(ring_.readable_frames()) / rate : 0.0;
    s.underruns = playback_.underruns();
    s.xruns = session_->xruns();
    s.reconnects = session_->reconnects();
    s.gen_ms_p50 = source_.step_ms().percentile(50);
    s.gen_ms_p99 = source_.step_ms().percentile(99);
    s.dsp_load_percent = session_->dsp_load_percent();
    s.cpu_percent = process_cpu_percent();
    s.sample_rate = rate;
    s.buffer_frames = session_->buffer_frames();
    s.control_ms_p50 = generator_.control_latency().percentile(50);
    s.control_ms_p95 = generator_.control_latency().percentile(95);
    s.control_samples = generator_.control_latency().count();
    s.reset_ms_p50 = generator_.reset_latency().percentile(50);
    s.reset_ms_p95 = generator_.reset_latency().percentile(95);
    s.resets_heard = generator_.reset_latency().count();
    s.analysed_frames = generator_.frames_analysed();
    s.stages = source_.stage_percentiles();
    s.midi_json = midi_.stats().to_json();
    s.model = models_.playing_name();
    s.model_failures = generator_.step_failures();
    s.recording = recorder_ && recorder_->recording();
    s.record_dropped_frames = recorder_ ? recorder_->dropped_frames() : 0;
    if (link_) {
      const LinkPosition link = link_->now();
      s.link_peers = link.peers;
      s.link_tempo = link.tempo;
      s.link_beat = link.beat;
      s.link_phase = link.phase;
    }
    return s;
  }

 private:
  const Config started_;  // what restart-only keys still hold
  Config applied_;        // the config as last applied (start, or the last reload)
  std::unique_ptr<JackSession> session_;
  LiveSizes sizes_;
  ControlState control_;
  AudioRing ring_;
  Playback playback_;
  FrameSource source_;
  std::unique_ptr<SessionRecorder> recorder_;  // record.dir set; outlives the generator thread
  Generator generator_;
  std::unique_ptr<InputCapture> capture_;  // input.capture_seconds > 0; written by the process callback
  LivePrefill live_prefill_;               // before controls_, which points at it
  std::unique_ptr<LinkPeer> link_;  // link.enabled
  Controls controls_;  // what MIDI and OSC change
  AudioPrompts audio_prompts_;  // after controls_, which it changes; controls_ points at it
  ModelSwap models_;   // owns the model the generator steps
  ControlsSink midi_sink_;
  MidiInput midi_;
  std::unique_ptr<AlsaMidiInput> alsa_midi_;  // midi.backend = "alsa"; pushes into midi_'s ring
  std::unique_ptr<osc::OscServer> osc_;
  std::uint64_t underruns_logged_ = 0;
  std::uint64_t failures_reported_ = 0;
  std::uint64_t recoveries_reported_ = 0;
  std::atomic<bool> model_reload_failed_{false};  // set by the loader thread
  std::uint64_t record_dropped_logged_ = 0;
};

// A reload that fails changes nothing: the error names the file, line and key.
void reload_config(LiveEngine& engine, const std::function<Config()>& reload) {
  Config next;
  try {
    next = reload();
  } catch (const ConfigError& error) {
    log_error("config: not reloaded, everything stays as it was: ", error.what());
    return;
  }
  engine.reload(next);
}

// Under a session manager (NSM_URL set) the session names the JACK client and holds the
// controls; the announce happens before anything registers with JACK, as NSM asks.
// Returns false when a SIGINT or SIGTERM came first.
bool join_session(Config& config, SignalWatch& signals, std::unique_ptr<NsmSession>& session) {
  const char* url = std::getenv("NSM_URL");
  if (url == nullptr || *url == '\0') return true;
  const auto stopped = [&signals] {
    const int signal = signals.wait(std::chrono::milliseconds(0));
    return signal == SIGINT || signal == SIGTERM;
  };
  session = NsmSession::join(url, config, stopped);
  return session != nullptr;
}

}  // namespace

int run_live(const Config& file_config, const ModelRegistry& registry, const std::function<Config()>& reload) {
  SignalWatch signals;
  process_cpu_percent();  // starts the process's CPU clock
  Config config = file_config;
  std::unique_ptr<NsmSession> nsm;
  try {
    if (!join_session(config, signals, nsm)) return 0;
  } catch (const osc::NsmError& error) {
    log_error(error.what());
    return kExitFailure;
  }
  std::unique_ptr<Model> model;
  try {
    model = registry.load(config.model.spec, model_options(config.model));
  } catch (const ModelError& error) {
    if (nsm) nsm->failed(std::string("model: ") + error.what());
    throw;
  }
  model->reset(config.model.seed);
  std::unique_ptr<JackSession> session;
  try {
    session = std::make_unique<JackSession>(config.jack);
  } catch (const JackError& error) {
    log_error("jack: ", error.what());
    if (nsm) nsm->failed(std::string("jack: ") + error.what());
    return kExitFailure;
  }
  std::unique_ptr<LiveEngine> engine;
  try {
    const auto restore = [&nsm](Controls& controls) {
      if (nsm) nsm->restore(controls);
    };
    engine = std::make_unique<LiveEngine>(config, registry, std::move(model), std::move(session), restore);
  } catch (const osc::OscError& error) {
    log_error(error.what());
    if (nsm) nsm->failed(error.what());
    return kExitFailure;
  }
  if (nsm) nsm->opened("continuo plays " + engine->model_name() + " as JACK client " + config.jack.client_name);
  SystemdNotifier systemd;
  WatchdogGate watchdog(systemd.watchdog_interval());
  systemd.send("READY=1\nSTATUS=playing " + engine->model_name());
  for (;;) {
    const int signal = signals.wait(std::chrono::milliseconds(20));
    if (signal == SIGINT || signal == SIGTERM) break;
    if (signal == SIGUSR1) log_info("status ", engine->status().to_json());
    if (signal == SIGHUP) {
      reload_config(*engine, [&] {
        Config next = reload();
        if (nsm) nsm->layer(next);
        return next;
      });
    }
    engine->tick();
    if (nsm) nsm->poll(engine->controls());
    if (watchdog.ping_due(std::chrono::steady_clock::now(), engine->frames_played(), engine->frames_generated())) {
      systemd.send("WATCHDOG=1");
    }
  }
  systemd.send("STOPPING=1");
  log_info("status ", engine->status().to_json());
  return 0;
}

}  // namespace continuo
