#include "osc/address_map.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace continuo::osc {
namespace {

int to_int(std::int64_t value) {
  return static_cast<int>(std::clamp<std::int64_t>(value, std::numeric_limits<int>::min(),
                                                   std::numeric_limits<int>::max()));
}

Arg count(std::uint64_t value) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::int32_t>::max();
  return Arg::int32(static_cast<std::int32_t>(std::min(value, kMax)));
}

std::string number_text(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// Reads argument i as the type expected: an integer where a float is expected, and a
// float with an integral value where an integer is (TouchDesigner sends floats for all).
std::string read_number(const Arg& arg, char expected, std::size_t i, Number& out) {
  if (!arg.is_number()) return "argument " + std::to_string(i + 1) + " must be a number, got type " + arg.type;
  out = {arg.number, arg.integer};
  if (expected == 'f' || arg.type == 'i' || arg.type == 'h' || arg.type == 'T' || arg.type == 'F') return {};
  constexpr double kLimit = 9.2e18;  // inside int64
  if (!std::isfinite(arg.number) || std::trunc(arg.number) != arg.number || std::fabs(arg.number) > kLimit) {
    return "argument " + std::to_string(i + 1) + " must be a whole number, got " + number_text(arg.number);
  }
  out.integer = static_cast<std::int64_t>(arg.number);
  return {};
}

std::string signature(const Command& command) {
  return (command.types.empty() ? std::string("no arguments") : std::string(command.types)) +
         (command.help.empty() ? "" : " (" + std::string(command.help) + ")");
}

std::string read_args(const Message& message, const Command& command, std::vector<Number>& out) {
  if (command.types == "*") return {};
  const std::string got = message.args.empty() ? "none" : message.types();
  if (message.args.size() != command.types.size()) return "expects " + signature(command) + ", got " + got;
  out.resize(message.args.size());
  for (std::size_t i = 0; i < message.args.size(); ++i) {
    std::string why = read_number(message.args[i], command.types[i], i, out[i]);
    if (!why.empty()) return why + "; expects " + signature(command);
  }
  return {};
}

// Commands that set one value through one Controls setter.
Command set_float(std::string_view address, std::string_view help, ControlResult (Controls::*set)(float)) {
  return {address, "f", help, [set](const std::vector<Number>& a, CommandContext& c) -> Outcome {
            return (c.controls.*set)(static_cast<float>(a[0].real));
          }};
}

Command set_int(std::string_view address, std::string_view help, ControlResult (Controls::*set)(int)) {
  return {address, "i", help, [set](const std::vector<Number>& a, CommandContext& c) -> Outcome {
            return (c.controls.*set)(to_int(a[0].integer));
          }};
}

// The prompts in play for status: "text=weight; text=weight" ("" when none).
std::string prompts_text(const std::vector<WeightedPrompt>& prompts) {
  std::string text;
  for (const WeightedPrompt& p : prompts) text += (text.empty() ? "" : "; ") + p.text + "=" + number_text(p.weight);
  return text;
}

// /continuo/status.reply: one field per entry, in this order.
struct StatusInput {
  StatusSnapshot engine;
  ControlSnapshot control;
  const Controls& controls;
  std::uint64_t packets_dropped;
  std::uint64_t messages_rate_limited;
};

struct StatusField {
  std::string_view name;
  std::function<Arg(const StatusInput&)> get;
};

const std::vector<StatusField>& status_table() {
  static const std::vector<StatusField> fields = [] {
    std::vector<StatusField> f{
        {"frames_generated", [](const StatusInput& s) { return count(s.engine.frames_generated); }},
        {"ring_fill_ms", [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.ring_fill_ms)); }},
        {"underruns", [](const StatusInput& s) { return count(s.engine.underruns); }},
        {"xruns", [](const StatusInput& s) { return count(s.engine.xruns); }},
        {"gen_ms_p50", [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.gen_ms_p50)); }},
        {"gen_ms_p99", [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.gen_ms_p99)); }},
        {"held_notes", [](const StatusInput& s) { return Arg::int32(held_notes(s.control)); }},
        {"temperature", [](const StatusInput& s) { return Arg::float32(s.control.temperature); }},
        {"top_k", [](const StatusInput& s) { return Arg::int32(s.control.top_k); }},
        {"cfg_style", [](const StatusInput& s) { return Arg::float32(s.control.cfg_style); }},
        {"cfg_notes", [](const StatusInput& s) { return Arg::float32(s.control.cfg_notes); }},
        {"cfg_drums", [](const StatusInput& s) { return Arg::float32(s.control.cfg_drums); }},
        {"drums", [](const StatusInput& s) { return Arg::int32(s.control.drums); }},
        {"seed", [](const StatusInput& s) { return Arg::int64(static_cast<std::int64_t>(s.control.seed)); }},
        {"volume_db", [](const StatusInput& s) { return Arg::float32(s.controls.volume_db()); }},
        {"muted", [](const StatusInput& s) { return Arg::int32(s.controls.muted() ? 1 : 0); }},
        {"osc_dropped", [](const StatusInput& s) { return count(s.packets_dropped); }},
        {"control_version", [](const StatusInput& s) { return count(s.control.version); }},
    };
    static constexpr std::string_view kTokenNames[kStyleTokens] = {
        "style_token_0", "style_token_1", "style_token_2", "style_token_3", "style_token_4",  "style_token_5",
        "style_token_6", "style_token_7", "style_token_8", "style_token_9", "style_token_10", "style_token_11"};
    for (std::size_t i = 0; i < kStyleTokens; ++i) {
      f.push_back({kTokenNames[i], [i](const StatusInput& s) { return Arg::int32(s.control.style_tokens[i]); }});
    }
    // Appended after the style tokens: fields are only ever added at the end.
    f.push_back({"control_ms_p50",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.control_ms_p50)); }});
    f.push_back({"control_ms_p95",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.control_ms_p95)); }});
    f.push_back({"control_samples", [](const StatusInput& s) { return count(s.engine.control_samples); }});
    f.push_back({"onset_mode", [](const StatusInput& s) { return Arg::int32(s.control.onset_mode); }});
    f.push_back({"reset_ms_p50",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.reset_ms_p50)); }});
    f.push_back({"reset_ms_p95",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.reset_ms_p95)); }});
    f.push_back({"resets_heard", [](const StatusInput& s) { return count(s.engine.resets_heard); }});
    f.push_back({"prompts", [](const StatusInput& s) { return Arg::string(prompts_text(s.controls.prompts())); }});
    f.push_back({"model", [](const StatusInput& s) { return Arg::string(s.engine.model); }});
    f.push_back({"recording", [](const StatusInput& s) { return Arg::int32(s.engine.recording ? 1 : 0); }});
    f.push_back({"osc_rate_limited", [](const StatusInput& s) { return count(s.messages_rate_limited); }});
    f.push_back({"link_peers", [](const StatusInput& s) { return Arg::int32(s.engine.link_peers); }});
    f.push_back({"link_tempo",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.link_tempo)); }});
    f.push_back({"link_beat",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.link_beat)); }});
    f.push_back({"link_phase",
                 [](const StatusInput& s) { return Arg::float32(static_cast<float>(s.engine.link_phase)); }});
    return f;
  }();
  return fields;
}

Outcome status_reply(const std::vector<Number>&, CommandContext& context) {
  const StatusInput input{context.controls.status(), context.controls.snapshot(), context.controls,
                          context.packets_dropped, context.messages_rate_limited};
  Message reply{"/continuo/status.reply", {}};
  for (const StatusField& field : status_table()) reply.args.push_back(field.get(input));
  return reply;
}

Outcome help_reply(const std::vector<Number>&, CommandContext&) {
  Message reply{"/continuo/help.reply", {}};
  for (const Command& command : commands()) {
    reply.args.push_back(Arg::string(std::string(command.address) + " " + signature(command)));
  }
  return reply;
}

Outcome style_tokens(const std::vector<Number>& args, CommandContext& context) {
  std::array<int, kStyleTokens> tokens{};
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = to_int(args[i].integer);
  return context.controls.set_style_tokens(tokens);
}

Outcome on_off(const char* what, std::int64_t value, const std::function<ControlResult(bool)>& apply) {
  if (value != 0 && value != 1) return std::string(what) + " must be 0 or 1, got " + std::to_string(value);
  return apply(value == 1);
}

Outcome learn(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  if (m.args.size() != 1 || m.args[0].type != 's') return "expects s (a parameter name such as temperature)";
  if (!context.learn) return "no MIDI input";
  ControlResult why = context.learn(m.args[0].text);
  if (!why.empty()) return why;
  return Message{};  // armed: answered when a CC is bound
}

Outcome preset(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  if (m.args.size() != 1 || m.args[0].type != 's') return "expects s (a preset name from the config's [[presets]])";
  return context.controls.recall_preset(m.args[0].text);
}

Outcome auth(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  if (m.args.size() != 1 || m.args[0].type != 's') return "expects s (the server's osc.secret)";
  if (!context.authenticate) return "nothing to authenticate: osc.secret guards TCP connections only, and is not set";
  return context.authenticate(m.args[0].text);
}

// A prompt's weight argument: any number (TouchDesigner sends floats, others integers).
std::string read_weight(const Arg& arg, float& weight) {
  if (!arg.is_number()) return std::string("a weight must be a number, got type ") + arg.type;
  weight = static_cast<float>(arg.number);
  return {};
}

Outcome prompt(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  constexpr const char* kExpects = "expects s [f] (text, weight >= 0, default 1)";
  if (m.args.empty() || m.args.size() > 2 || m.args[0].type != 's') return kExpects;
  WeightedPrompt p{m.args[0].text, 1.0f};
  if (m.args.size() == 2) {
    const std::string why = read_weight(m.args[1], p.weight);
    if (!why.empty()) return why + "; " + kExpects;
  }
  return context.controls.set_prompts({p});
}

Outcome prompts(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  constexpr const char* kExpects = "expects pairs s f s f ... (text, weight >= 0)";
  if (m.args.empty() || m.args.size() % 2 != 0) return kExpects;
  std::vector<WeightedPrompt> blend;
  for (std::size_t i = 0; i < m.args.size(); i += 2) {
    if (m.args[i].type != 's') return "argument " + std::to_string(i + 1) + " must be text; " + kExpects;
    WeightedPrompt p{m.args[i].text, 0.0f};
    const std::string why = read_weight(m.args[i + 1], p.weight);
    if (!why.empty()) return "argument " + std::to_string(i + 2) + ": " + why + "; " + kExpects;
    blend.push_back(std::move(p));
  }
  return context.controls.set_prompts(blend);
}

// A command answered when its work ends, from another thread: /done <address>, or /fail
// <address> <why>.
std::function<void(const std::string& why)> answer_later(const CommandContext& context) {
  return [reply = context.reply_later, address = context.message->address](const std::string& why) {
    if (why.empty()) {
      reply({"/done", {Arg::string(address)}});
    } else {
      reply({"/fail", {Arg::string(address), Arg::string(why)}});
    }
  };
}

// /continuo/prompt/N/audio live [f] | file s: answered when the prompt is in place or refused.
Outcome prompt_audio(int slot, CommandContext& context) {
  const Message& m = *context.message;
  constexpr const char* kExpects = "expects s \"live\" [f seconds, default 10] or s \"file\" s (a path in prompts.dir)";
  constexpr double kDefaultSeconds = 10.0;
  if (m.args.empty() || m.args[0].type != 's') return kExpects;
  const std::string& source = m.args[0].text;
  ControlResult why;
  if (source == "live" && m.args.size() <= 2) {
    Number seconds{kDefaultSeconds, 0};
    if (m.args.size() == 2) {
      if (std::string bad = read_number(m.args[1], 'f', 1, seconds); !bad.empty()) return bad + "; " + kExpects;
    }
    if (!context.reply_later) return "no later replies on this connection";
    why = context.controls.prompt_audio_live(slot, seconds.real, answer_later(context));
  } else if (source == "file" && m.args.size() == 2 && m.args[1].type == 's') {
    if (!context.reply_later) return "no later replies on this connection";
    why = context.controls.prompt_audio_file(slot, m.args[1].text, answer_later(context));
  } else {
    return kExpects;
  }
  if (!why.empty()) return why;
  return Message{};  // answered when the prompt is in place
}

// /continuo/prompt/N/text s, /continuo/prompt/N/weight f and /continuo/prompt/N/audio ....
Outcome prompt_slot(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  constexpr std::string_view kPrefix = "/continuo/prompt/";
  const std::string_view rest = std::string_view(m.address).substr(kPrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string_view slot_text = rest.substr(0, slash);
  const std::string_view field = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  int slot = 0;
  const auto [end, error] = std::from_chars(slot_text.data(), slot_text.data() + slot_text.size(), slot);
  if (error != std::errc{} || end != slot_text.data() + slot_text.size() ||
      (field != "text" && field != "weight" && field != "audio")) {
    return "address must be /continuo/prompt/N/text, /continuo/prompt/N/weight or /continuo/prompt/N/audio with N 1..8";
  }
  if (field == "audio") return prompt_audio(slot, context);
  if (field == "text") {
    if (m.args.size() != 1 || m.args[0].type != 's') return "expects s (the slot's text)";
    return context.controls.set_prompt_text(slot, m.args[0].text);
  }
  float weight = 0.0f;
  const std::string why = m.args.size() == 1 ? read_weight(m.args[0], weight) : "expects f (the slot's weight >= 0)";
  return why.empty() ? context.controls.set_prompt_weight(slot, weight) : Outcome{why};
}

Outcome load_model(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  if (m.args.size() != 1 || m.args[0].type != 's') return "expects s (a model package name in model.dir)";
  if (!context.reply_later) return "no later replies on this connection";
  ControlResult why = context.controls.load_model(m.args[0].text, answer_later(context));
  if (!why.empty()) return why;
  return Message{};  // answered when the load ends
}

// Optional f seconds (default 10); answered when the context is in place or refused.
Outcome prefill_live(const std::vector<Number>&, CommandContext& context) {
  const Message& m = *context.message;
  constexpr const char* kExpects = "expects [f] (seconds of input, default 10)";
  constexpr double kDefaultSeconds = 10.0;
  if (m.args.size() > 1) return kExpects;
  Number seconds{kDefaultSeconds, 0};
  if (m.args.size() == 1) {
    const std::string why = read_number(m.args[0], 'f', 0, seconds);
    if (!why.empty()) return why + "; " + kExpects;
  }
  if (!context.reply_later) return "no later replies on this connection";
  ControlResult why = context.controls.prefill_live(seconds.real, answer_later(context));
  if (!why.empty()) return why;
  return Message{};  // answered when the prefill ends
}

Outcome record(const std::vector<Number>& args, CommandContext& context) {
  const std::int64_t on = args[0].integer;
  if (on != 0 && on != 1) return "record must be 1 (start a take) or 0 (stop it), got " + std::to_string(on);
  if (!context.record) return "no record directory: set record.dir in the config or run with --record DIR";
  std::vector<std::string> files;
  const ControlResult why = context.record(on == 1, files);
  if (!why.empty()) return why;
  Message done{"/done", {Arg::string("/continuo/record")}};
  for (const std::string& file : files) done.args.push_back(Arg::string(file));
  return done;
}

Outcome learn_cancel(const std::vector<Number>&, CommandContext& context) {
  if (!context.learn_cancel) return "no MIDI input";
  return context.learn_cancel();
}

const Command* find(std::string_view address) {
  const auto& all = commands();
  const auto found = std::find_if(all.begin(), all.end(), [&](const Command& c) {
    return c.address.back() == '/' ? address.starts_with(c.address) && address.size() > c.address.size()
                                   : address == c.address;
  });
  return found == all.end() ? nullptr : &*found;
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> all{
      set_float("/continuo/temperature", "sampling temperature, greater than 0 and at most 10",
                &Controls::set_temperature),
      set_int("/continuo/topk", "sample among the k most likely tokens, 1..1024", &Controls::set_top_k),
      set_float("/continuo/cfg/style", "guidance toward the style, -1..7", &Controls::set_cfg_style),
      set_float("/continuo/cfg/notes", "guidance toward the held notes, -1..7", &Controls::set_cfg_notes),
      set_float("/continuo/cfg/drums", "guidance toward the drums setting, -1..7", &Controls::set_cfg_drums),
      set_int("/continuo/drums", "-1 model decides, 0 off, 1 on", &Controls::set_drums),
      {"/continuo/seed", "i", "sampling seed, at least 0",
       [](const std::vector<Number>& a, CommandContext& c) -> Outcome { return c.controls.set_seed(a[0].integer); }},
      {"/continuo/style/tokens", "iiiiiiiiiiii", "12 style tokens, each -1..1023, -1 masked", style_tokens},
      {"/continuo/note", "ii", "pitch 0..127, velocity 0..127, 0 = note off",
       [](const std::vector<Number>& a, CommandContext& c) -> Outcome {
         return c.controls.note(to_int(a[0].integer), to_int(a[1].integer));
       }},
      {"/continuo/notes/clear", "", "",
       [](const std::vector<Number>&, CommandContext& c) -> Outcome { return c.controls.clear_notes(); }},
      set_int("/continuo/onset_mode", "1 a note-on is an onset frame, then held; 0 held at once (legato)",
              &Controls::set_onset_mode),
      set_float("/continuo/volume", "output gain in dB, -120..24", &Controls::set_volume_db),
      {"/continuo/mute", "i", "1 mute, 0 unmute",
       [](const std::vector<Number>& a, CommandContext& c) -> Outcome {
         return on_off("mute", a[0].integer, [&](bool on) { return c.controls.set_muted(on); });
       }},
      {"/continuo/reset", "", "fade out, fresh continuation with the configured seed, fade in",
       [](const std::vector<Number>&, CommandContext& c) -> Outcome { return c.controls.reset(); }},
      {"/continuo/prefill/silence", "", "the same reset: a model package prefills its context with silence",
       [](const std::vector<Number>&, CommandContext& c) -> Outcome { return c.controls.prefill_silence(); }},
      {"/continuo/prefill/live", "*",
       "[f]: the last seconds (default 10, at most input.capture_seconds) of the JACK inputs as the context; "
       "answered /done once in place",
       prefill_live},
      {"/continuo/status", "", "", status_reply},
      {"/continuo/notify", "i", "1 sends this sender events, 0 stops",
       [](const std::vector<Number>& a, CommandContext& c) -> Outcome {
         return on_off("notify", a[0].integer, c.subscribe);
       }},
      {"/continuo/help", "", "", help_reply},
      {"/continuo/learn", "*", "s: temperature, top_k, cfg_style, cfg_notes, cfg_drums, drums, volume_db or mute; "
       "the next CC moved is bound, answered /done /continuo/learn <param> <cc>", learn},
      {"/continuo/learn/cancel", "", "disarms learn", learn_cancel},
      {"/continuo/preset", "*", "s: a preset name from the config's [[presets]]; all its values at one frame boundary",
       preset},
      {"/continuo/subscribe/analysis", "i", "1 sends this sender /continuo/analysis per frame heard, 0 stops",
       [](const std::vector<Number>& a, CommandContext& c) -> Outcome {
         if (!c.subscribe_analysis) return "no analysis feed here";
         return on_off("subscribe/analysis", a[0].integer, c.subscribe_analysis);
       }},
      {"/continuo/auth", "*", "s: osc.secret; a TCP connection's first message when the server has one", auth},
      {"/continuo/prompt", "*", "s [f]: text and weight (default 1); replaces every prompt; needs a text tower",
       prompt},
      {"/continuo/prompts", "*", "s f s f ...: up to 8 prompts blended by weight in one message", prompts},
      {"/continuo/link/tempo", "f", "bpm 20..999 for every peer in the Ableton Link session; needs link.enabled",
       [](const std::vector<Number>& a, CommandContext& c) -> Outcome { return c.controls.set_link_tempo(a[0].real); }},
      {"/continuo/prompt/", "*",
       "N/text s, N/weight f, or N/audio live [f] | file s, N 1..8: one slot of the blend; audio is answered "
       "when embedded",
       prompt_slot},
      {"/continuo/model/load", "*",
       "s: a model package name in model.dir; answered /done when it plays, /fail with the reason when refused",
       load_model},
      {"/continuo/record", "i", "1 starts a take in record.dir, 0 stops it; /done names its audio and journal",
       record},
  };
  return all;
}

std::vector<std::string_view> status_fields() {
  std::vector<std::string_view> names;
  for (const StatusField& field : status_table()) names.push_back(field.name);
  return names;
}

Message dispatch(const Message& message, CommandContext& context) {
  const auto fail = [&](std::string reason) {
    return Message{"/fail", {Arg::string(message.address), Arg::string(std::move(reason))}};
  };
  const Command* command = find(message.address);
  if (command == nullptr) return fail("Command not found");
  std::vector<Number> args;
  context.message = &message;
  std::string why = read_args(message, *command, args);
  if (!why.empty()) return fail(std::move(why));
  Outcome outcome = command->run(args, context);
  if (auto* reply = std::get_if<Message>(&outcome)) return std::move(*reply);
  auto& refusal = std::get<ControlResult>(outcome);
  if (!refusal.empty()) return fail(std::move(refusal));
  return Message{"/done", {Arg::string(message.address)}};
}

}  // namespace continuo::osc
