#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>

#include "engine/input_capture.hpp"
#include "engine/live_prefill.hpp"
#include "osc/address_map.hpp"

namespace continuo::osc {
namespace {

Arg f(float v) { return Arg::float32(v); }
Arg i(std::int32_t v) { return Arg::int32(v); }
Arg s(const char* v) { return Arg::string(v); }

class OscDispatch : public ::testing::Test {
 protected:
  explicit OscDispatch(std::shared_ptr<const StyleEncoder> style_encoder = nullptr, std::vector<Preset> presets = {})
      : style_encoder_(std::move(style_encoder)), presets_(std::move(presets)) {}

  // The reply's address and, for /done and /fail, its arguments joined by " | ".
  std::string send(const std::string& address, std::vector<Arg> args = {}) {
    const Message reply = dispatch({address, std::move(args)}, context_);
    std::string text = reply.address;
    if (reply.address == "/done" || reply.address == "/fail") {
      for (const Arg& arg : reply.args) text += " | " + arg.text;
    }
    return text;
  }

  std::string done(const std::string& address) { return "/done | " + address; }
  std::string failed(const std::string& address, const std::string& why) { return "/fail | " + address + " | " + why; }

  ControlSnapshot now() const { return state_.snapshot(); }

  std::shared_ptr<const StyleEncoder> style_encoder_;
  std::vector<Preset> presets_;
  ControlState state_{ControlSnapshot{}};
  AudioRing ring_{1024};
  Playback playback_{ring_, PlaybackConfig{}};
  Controls controls_{state_, playback_, [] {
                       StatusSnapshot st;
                       st.frames_generated = 42;
                       st.underruns = 0;
                       st.ring_fill_ms = 180.5;
                       st.model = "double:counter";
                       return st;
                     }, 0.0f, {}, presets_, style_encoder_};
  std::vector<bool> subscriptions_;
  CommandContext context_{controls_, [this](bool on) { subscriptions_.push_back(on); return ControlResult{}; }, 3};
};

TEST_F(OscDispatch, EverySetterRoundTripsWithDone) {
  EXPECT_EQ(send("/continuo/temperature", {f(0.7f)}), done("/continuo/temperature"));
  EXPECT_EQ(send("/continuo/topk", {i(64)}), done("/continuo/topk"));
  EXPECT_EQ(send("/continuo/cfg/style", {f(2)}), done("/continuo/cfg/style"));
  EXPECT_EQ(send("/continuo/cfg/notes", {f(3)}), done("/continuo/cfg/notes"));
  EXPECT_EQ(send("/continuo/cfg/drums", {f(4)}), done("/continuo/cfg/drums"));
  EXPECT_EQ(send("/continuo/drums", {i(0)}), done("/continuo/drums"));
  EXPECT_EQ(send("/continuo/seed", {i(99)}), done("/continuo/seed"));
  std::vector<Arg> tokens;
  for (int t = 0; t < kStyleTokens; ++t) tokens.push_back(i(t * 10));
  EXPECT_EQ(send("/continuo/style/tokens", tokens), done("/continuo/style/tokens"));
  EXPECT_EQ(send("/continuo/note", {i(60), i(100)}), done("/continuo/note"));
  EXPECT_EQ(send("/continuo/volume", {f(-6)}), done("/continuo/volume"));
  EXPECT_EQ(send("/continuo/mute", {i(1)}), done("/continuo/mute"));
  const ControlSnapshot c = now();
  EXPECT_EQ(c.temperature, 0.7f);
  EXPECT_EQ(c.top_k, 64);
  EXPECT_EQ(c.cfg_style, 2.0f);
  EXPECT_EQ(c.cfg_notes, 3.0f);
  EXPECT_EQ(c.cfg_drums, 4.0f);
  EXPECT_EQ(c.drums, 0);
  EXPECT_EQ(c.seed, 99u);
  EXPECT_EQ(c.style_tokens[11], 110);
  EXPECT_EQ(c.notes[60], NoteState::onset);
  EXPECT_EQ(controls_.volume_db(), -6.0f);
  EXPECT_TRUE(controls_.muted());
  EXPECT_EQ(send("/continuo/notes/clear"), done("/continuo/notes/clear"));
  EXPECT_EQ(now().notes[60], NoteState::masked);
}

TEST_F(OscDispatch, IntsAndFloatsAreTakenForEachOtherWhenUnambiguous) {
  EXPECT_EQ(send("/continuo/temperature", {i(2)}), done("/continuo/temperature"));
  EXPECT_EQ(now().temperature, 2.0f);
  EXPECT_EQ(send("/continuo/topk", {f(12.0f)}), done("/continuo/topk"));  // TouchDesigner sends floats
  EXPECT_EQ(now().top_k, 12);
  EXPECT_EQ(send("/continuo/note", {f(64), f(0)}), done("/continuo/note"));
  EXPECT_EQ(send("/continuo/seed", {Arg::int64(5'000'000'000)}), done("/continuo/seed"));
  EXPECT_EQ(now().seed, 5'000'000'000u);
  EXPECT_EQ(send("/continuo/mute", {Arg{'T', 1, 1, {}}}), done("/continuo/mute"));
  EXPECT_EQ(send("/continuo/topk", {f(12.5f)}),
            failed("/continuo/topk", "argument 1 must be a whole number, got 12.5; expects i (sample among the k "
                                     "most likely tokens, 1..1024)"));
  EXPECT_EQ(send("/continuo/topk", {f(std::numeric_limits<float>::quiet_NaN())}),
            failed("/continuo/topk", "argument 1 must be a whole number, got nan; expects i (sample among the k "
                                     "most likely tokens, 1..1024)"));
}

TEST_F(OscDispatch, WrongTypesAndArityNameTheSignature) {
  EXPECT_EQ(send("/continuo/temperature", {s("hot")}),
            failed("/continuo/temperature", "argument 1 must be a number, got type s; expects f (sampling "
                                            "temperature, greater than 0 and at most 10)"));
  EXPECT_EQ(send("/continuo/temperature"),
            failed("/continuo/temperature",
                   "expects f (sampling temperature, greater than 0 and at most 10), got none"));
  EXPECT_EQ(send("/continuo/note", {i(60)}),
            failed("/continuo/note", "expects ii (pitch 0..127, velocity 0..127, 0 = note off), got i"));
  EXPECT_EQ(send("/continuo/notes/clear", {i(1)}), failed("/continuo/notes/clear", "expects no arguments, got i"));
  EXPECT_EQ(send("/continuo/style/tokens", {i(1), i(2)}),
            failed("/continuo/style/tokens", "expects iiiiiiiiiiii (12 style tokens, each -1..1023, -1 masked), got ii"));
}

TEST_F(OscDispatch, RefusedValuesAnswerWithTheControlsReason) {
  EXPECT_EQ(send("/continuo/temperature", {f(std::numeric_limits<float>::quiet_NaN())}),
            failed("/continuo/temperature", "temperature must be greater than 0 and at most 10, got nan"));
  EXPECT_EQ(send("/continuo/temperature", {f(std::numeric_limits<float>::infinity())}),
            failed("/continuo/temperature", "temperature must be greater than 0 and at most 10, got inf"));
  EXPECT_EQ(send("/continuo/topk", {i(0)}), failed("/continuo/topk", "top_k must be between 1 and 1024, got 0"));
  EXPECT_EQ(send("/continuo/topk", {Arg::int64(1LL << 40)}),
            failed("/continuo/topk", "top_k must be between 1 and 1024, got 2147483647"));
  EXPECT_EQ(send("/continuo/seed", {i(-4)}), failed("/continuo/seed", "seed must be at least 0, got -4"));
  EXPECT_EQ(send("/continuo/volume", {f(30)}), failed("/continuo/volume", "volume must be between -120 and 24, got 30"));
  EXPECT_EQ(send("/continuo/mute", {i(2)}), failed("/continuo/mute", "mute must be 0 or 1, got 2"));
  EXPECT_EQ(send("/continuo/note", {i(200), i(1)}), failed("/continuo/note", "pitch must be between 0 and 127, got 200"));
  EXPECT_EQ(now().version, 0u) << "nothing refused may change the state";
}

TEST_F(OscDispatch, UnknownAddressesAreNotFound) {
  EXPECT_EQ(send("/continuo/bogus", {i(1)}), failed("/continuo/bogus", "Command not found"));
  EXPECT_EQ(send("/continuo/temperature/extra", {f(1)}), failed("/continuo/temperature/extra", "Command not found"));
  EXPECT_EQ(send("/continuo/prompt/"), failed("/continuo/prompt/", "Command not found"));
}

TEST_F(OscDispatch, PromptsFailHonestlyWithoutATextTower) {
  const std::string why = "no text tower in this model: set /continuo/style/tokens instead";
  EXPECT_EQ(send("/continuo/prompt", {s("warm jazz")}), failed("/continuo/prompt", why));
  EXPECT_EQ(send("/continuo/prompts", {s("a"), f(1), s("b"), f(0.5f)}), failed("/continuo/prompts", why));
  EXPECT_EQ(send("/continuo/prompt/1/text", {s("a")}), failed("/continuo/prompt/1/text", why));
  EXPECT_EQ(send("/continuo/prompt/3/weight", {f(0.2f)}), failed("/continuo/prompt/3/weight", why));
}

TEST_F(OscDispatch, AudioPromptArgumentsAreCheckedBeforeAnythingStarts) {
  const std::string address = "/continuo/prompt/1/audio";
  const std::string expects = "expects s \"live\" [f seconds, default 10] or s \"file\" s (a path in prompts.dir)";
  EXPECT_EQ(send(address), failed(address, expects));
  EXPECT_EQ(send(address, {s("loud")}), failed(address, expects));
  EXPECT_EQ(send(address, {s("file")}), failed(address, expects));
  EXPECT_EQ(send(address, {s("file"), f(1)}), failed(address, expects));
  EXPECT_EQ(send(address, {s("live"), f(1), f(2)}), failed(address, expects));
  EXPECT_EQ(send(address, {s("live"), s("x")}), failed(address, "argument 2 must be a number, got type s; " + expects));
  // Answered later, from the worker: a connection that cannot take a later reply is told so.
  EXPECT_EQ(send(address, {s("live")}), failed(address, "no later replies on this connection"));
}

// A text tower whose tokens show the blend: level l holds l + round(sum w·len(text) / sum w).
class LengthStyle final : public StyleEncoder {
 public:
  std::array<int, kStyleTokens> tokens(std::span<const WeightedPrompt> prompts) const override {
    double weighted = 0.0, total = 0.0;
    for (const WeightedPrompt& p : prompts) {
      if (p.text == "unblendable") throw std::invalid_argument("the tower refuses 'unblendable'");
      weighted += p.weight * static_cast<double>(p.text.size());
      total += p.weight;
    }
    std::array<int, kStyleTokens> tokens{};
    for (int l = 0; l < kStyleTokens; ++l) tokens[static_cast<std::size_t>(l)] = l + static_cast<int>(std::lround(weighted / total));
    return tokens;
  }
};

Preset prompt_preset(std::string name, std::vector<WeightedPrompt> prompts) {
  Preset p;
  p.name = std::move(name);
  p.temperature = 0.5f;
  p.prompts = std::move(prompts);
  return p;
}

class OscPrompts : public OscDispatch {
 protected:
  OscPrompts()
      : OscDispatch(std::make_shared<LengthStyle>(),
                    {prompt_preset("pair", {{"ab", 1.0f}, {"abcdefghij", 3.0f}}), prompt_preset("broken", {{"unblendable", 1.0f}})}) {}

  int base_token() const { return now().style_tokens[0]; }  // the blended length
  std::string status_prompts() {
    const Message reply = dispatch({"/continuo/status", {}}, context_);
    const auto names = status_fields();
    return reply.args[static_cast<std::size_t>(std::find(names.begin(), names.end(), "prompts") - names.begin())].text;
  }
};

TEST_F(OscPrompts, APromptSetsTheBlendedTokensAtTheNextFrame) {
  EXPECT_EQ(send("/continuo/prompt", {s("abcd")}), done("/continuo/prompt"));
  EXPECT_EQ(base_token(), 4);
  EXPECT_EQ(now().style_tokens[11], 15);
  EXPECT_EQ(status_prompts(), "abcd=1");
  EXPECT_EQ(send("/continuo/prompt", {s("ab"), f(3)}), done("/continuo/prompt"));
  EXPECT_EQ(base_token(), 2);
  EXPECT_EQ(status_prompts(), "ab=3") << "a single prompt replaces every other";
  EXPECT_EQ(send("/continuo/prompt", {s("abcdef"), i(2)}), done("/continuo/prompt")) << "an integer weight is a weight";
}

TEST_F(OscPrompts, ABlendIsWeightedInOneMessage) {
  EXPECT_EQ(send("/continuo/prompts", {s("ab"), f(1), s("abcdefghij"), f(3)}), done("/continuo/prompts"));
  EXPECT_EQ(base_token(), 8);  // (2 + 30) / 4
  EXPECT_EQ(status_prompts(), "ab=1; abcdefghij=3");
}

TEST_F(OscPrompts, SlotsAreBlendedAsTheyChange) {
  EXPECT_EQ(send("/continuo/prompt/1/text", {s("ab")}), done("/continuo/prompt/1/text"));
  EXPECT_EQ(base_token(), 2);
  EXPECT_EQ(send("/continuo/prompt/3/text", {s("abcdef")}), done("/continuo/prompt/3/text"));
  EXPECT_EQ(base_token(), 4);
  EXPECT_EQ(send("/continuo/prompt/3/weight", {f(3)}), done("/continuo/prompt/3/weight"));
  EXPECT_EQ(base_token(), 5);  // (2 + 18) / 4
  EXPECT_EQ(status_prompts(), "ab=1; abcdef=3");
  const auto before = now().version;
  EXPECT_EQ(send("/continuo/prompt/1/weight", {f(0)}), done("/continuo/prompt/1/weight"));
  EXPECT_EQ(send("/continuo/prompt/3/weight", {f(0)}), done("/continuo/prompt/3/weight"));
  EXPECT_EQ(status_prompts(), "");
  EXPECT_EQ(base_token(), 6) << "with nothing in play the style stays";
  EXPECT_GT(now().version, before);
  EXPECT_EQ(send("/continuo/prompt/8/weight", {f(1)}), done("/continuo/prompt/8/weight")) << "a weight without text waits";
  EXPECT_EQ(status_prompts(), "");
}

TEST_F(OscPrompts, APresetsPromptsAndValuesArriveInOneUpdate) {
  ASSERT_EQ(send("/continuo/prompt/5/text", {s("abc")}), done("/continuo/prompt/5/text"));
  const auto version = now().version;
  EXPECT_EQ(send("/continuo/preset", {s("pair")}), done("/continuo/preset"));
  EXPECT_EQ(now().version, version + 1) << "one frame boundary hears all of it";
  EXPECT_EQ(base_token(), 8);
  EXPECT_EQ(now().temperature, 0.5f);
  EXPECT_EQ(status_prompts(), "ab=1; abcdefghij=3") << "the preset's prompts replace every slot";
  EXPECT_EQ(send("/continuo/preset", {s("broken")}), failed("/continuo/preset", "preset \"broken\": the tower refuses 'unblendable'"));
  EXPECT_EQ(now().version, version + 1);
  EXPECT_EQ(status_prompts(), "ab=1; abcdefghij=3");
}

TEST_F(OscPrompts, RefusalsChangeNothing) {
  ASSERT_EQ(send("/continuo/prompt", {s("abc")}), done("/continuo/prompt"));
  const auto version = now().version;
  EXPECT_EQ(send("/continuo/prompt"), failed("/continuo/prompt", "expects s [f] (text, weight >= 0, default 1)"));
  EXPECT_EQ(send("/continuo/prompt", {i(3)}), failed("/continuo/prompt", "expects s [f] (text, weight >= 0, default 1)"));
  EXPECT_EQ(send("/continuo/prompt", {s("a"), f(-1)}), failed("/continuo/prompt", "prompt weight must be a finite number >= 0, got -1"));
  EXPECT_EQ(send("/continuo/prompt", {s("a"), f(std::numeric_limits<float>::quiet_NaN())}),
            failed("/continuo/prompt", "prompt weight must be a finite number >= 0, got nan"));
  EXPECT_EQ(send("/continuo/prompt", {s("a"), s("b")}),
            failed("/continuo/prompt", "a weight must be a number, got type s; expects s [f] (text, weight >= 0, default 1)"));
  EXPECT_EQ(send("/continuo/prompt", {Arg::string(std::string(1025, 'x'))}),
            failed("/continuo/prompt", "prompt text of 1025 bytes; at most 1024"));
  EXPECT_EQ(send("/continuo/prompts", {s("a"), f(1), s("b")}), failed("/continuo/prompts", "expects pairs s f s f ... (text, weight >= 0)"));
  EXPECT_EQ(send("/continuo/prompts", {f(1), f(1)}),
            failed("/continuo/prompts", "argument 1 must be text; expects pairs s f s f ... (text, weight >= 0)"));
  EXPECT_EQ(send("/continuo/prompts", {s("unblendable"), f(1)}), failed("/continuo/prompts", "the tower refuses 'unblendable'"));
  EXPECT_EQ(send("/continuo/prompt/9/text", {s("a")}), failed("/continuo/prompt/9/text", "prompt slot must be 1..8, got 9"));
  const std::string bad_address = "address must be /continuo/prompt/N/text, /continuo/prompt/N/weight or /continuo/prompt/N/audio with N 1..8";
  EXPECT_EQ(send("/continuo/prompt/x/text", {s("a")}), failed("/continuo/prompt/x/text", bad_address));
  EXPECT_EQ(send("/continuo/prompt/1/colour", {s("a")}), failed("/continuo/prompt/1/colour", bad_address));
  EXPECT_EQ(send("/continuo/prompt/1/text", {f(1)}), failed("/continuo/prompt/1/text", "expects s (the slot's text)"));
  EXPECT_EQ(send("/continuo/prompt/1/weight", {}), failed("/continuo/prompt/1/weight", "expects f (the slot's weight >= 0)"));
  EXPECT_EQ(now().version, version);
  EXPECT_EQ(status_prompts(), "abc=1");
}

TEST_F(OscDispatch, OnsetModeIsZeroOrOneAndShownInStatus) {
  EXPECT_EQ(send("/continuo/onset_mode", {i(0)}), done("/continuo/onset_mode"));
  EXPECT_EQ(now().onset_mode, 0);
  EXPECT_EQ(send("/continuo/note", {i(60), i(100)}), done("/continuo/note"));
  EXPECT_EQ(now().notes[60], NoteState::sustain);
  EXPECT_EQ(send("/continuo/onset_mode", {f(1.0f)}), done("/continuo/onset_mode"));
  EXPECT_EQ(send("/continuo/onset_mode", {i(3)}),
            failed("/continuo/onset_mode",
                   "onset_mode must be 1 (a note-on is an onset frame, then held) or 0 (held at once, legato), got 3"));
  EXPECT_EQ(send("/continuo/onset_mode"),
            failed("/continuo/onset_mode",
                   "expects i (1 a note-on is an onset frame, then held; 0 held at once (legato)), got none"));
  EXPECT_EQ(now().onset_mode, 1);
  const Message reply = dispatch({"/continuo/status", {}}, context_);
  const std::vector<std::string_view> names = status_fields();
  const auto at = std::find(names.begin(), names.end(), "onset_mode");
  ASSERT_NE(at, names.end());
  EXPECT_EQ(reply.args[static_cast<std::size_t>(at - names.begin())].integer, 1);
}

TEST_F(OscDispatch, AuthIsForTcpConnectionsWithASecret) {
  EXPECT_EQ(send("/continuo/auth", {s("x")}),
            failed("/continuo/auth", "nothing to authenticate: osc.secret guards TCP connections only, and is not set"));
  EXPECT_EQ(send("/continuo/auth", {i(1)}), failed("/continuo/auth", "expects s (the server's osc.secret)"));
  std::vector<std::string> tried;
  context_.authenticate = [&](const std::string& secret) -> ControlResult {
    tried.push_back(secret);
    return secret == "open sesame" ? "" : "wrong secret; the connection closes";
  };
  EXPECT_EQ(send("/continuo/auth", {s("nope")}), failed("/continuo/auth", "wrong secret; the connection closes"));
  EXPECT_EQ(send("/continuo/auth", {s("open sesame")}), done("/continuo/auth"));
  EXPECT_EQ(tried, (std::vector<std::string>{"nope", "open sesame"}));
}

TEST_F(OscDispatch, RecordStartsAndStopsATakeAndNamesItsFiles) {
  EXPECT_EQ(send("/continuo/record", {i(1)}),
            failed("/continuo/record", "no record directory: set record.dir in the config or run with --record DIR"));
  std::vector<bool> asked;
  context_.record = [&](bool start, std::vector<std::string>& files) -> ControlResult {
    asked.push_back(start);
    files = {"takes/take-1.wav", "takes/take-1.journal"};
    return asked.size() == 3 ? "not recording" : "";
  };
  EXPECT_EQ(send("/continuo/record", {i(1)}), "/done | /continuo/record | takes/take-1.wav | takes/take-1.journal");
  EXPECT_EQ(send("/continuo/record", {f(0)}), "/done | /continuo/record | takes/take-1.wav | takes/take-1.journal");
  EXPECT_EQ(send("/continuo/record", {i(0)}), failed("/continuo/record", "not recording"));
  EXPECT_EQ(send("/continuo/record", {i(2)}),
            failed("/continuo/record", "record must be 1 (start a take) or 0 (stop it), got 2"));
  EXPECT_EQ(asked, (std::vector<bool>{true, false, false}));
}

TEST_F(OscDispatch, NotifySubscribesTheSender) {
  EXPECT_EQ(send("/continuo/notify", {i(1)}), done("/continuo/notify"));
  EXPECT_EQ(send("/continuo/notify", {f(0)}), done("/continuo/notify"));
  EXPECT_EQ(send("/continuo/notify", {i(7)}), failed("/continuo/notify", "notify must be 0 or 1, got 7"));
  EXPECT_EQ(subscriptions_, (std::vector<bool>{true, false}));
}

TEST_F(OscDispatch, StatusReplyHasTheDocumentedFieldsInOrder) {
  controls_.note(60, 100);
  controls_.note(64, 100);
  controls_.set_top_k(77);
  controls_.set_volume_db(-3);
  const Message reply = dispatch({"/continuo/status", {}}, context_);
  ASSERT_EQ(reply.address, "/continuo/status.reply");
  const std::vector<std::string_view> names = status_fields();
  ASSERT_EQ(reply.args.size(), names.size());
  const auto field = [&](std::string_view name) {
    const auto at = std::find(names.begin(), names.end(), name);
    EXPECT_NE(at, names.end()) << name;
    return reply.args[static_cast<std::size_t>(at - names.begin())];
  };
  EXPECT_EQ(names[0], "frames_generated");
  EXPECT_EQ(field("frames_generated").integer, 42);
  EXPECT_EQ(field("ring_fill_ms").number, 180.5);
  EXPECT_EQ(field("held_notes").integer, 2);
  EXPECT_EQ(field("top_k").integer, 77);
  EXPECT_EQ(field("volume_db").number, -3.0);
  EXPECT_EQ(field("osc_dropped").integer, 3);
  EXPECT_EQ(field("seed").type, 'h');
  EXPECT_EQ(field("style_token_11").integer, -1);
  EXPECT_EQ(field("onset_mode").integer, 1);
  EXPECT_EQ(field("prompts").text, "");
  EXPECT_EQ(names[38], "model");
  EXPECT_EQ(field("model").text, "double:counter");
  EXPECT_EQ(names[39], "recording");
  EXPECT_EQ(field("recording").integer, 0);
  EXPECT_EQ(names[40], "osc_rate_limited");
  EXPECT_EQ(field("osc_rate_limited").integer, 0);
  EXPECT_EQ(field("link_peers").integer, -1) << "link.enabled is false";
  EXPECT_EQ(reply.types(), "ifiiffififffihfiii" + std::string(kStyleTokens, 'i') + "ffi" + "i" + "ffi" + "ss" + "ii" + "ifff");
}

// The reply comes when the load ends, through reply_later; a refusal at once is a /fail.
TEST_F(OscDispatch, ModelLoadAnswersWhenTheLoadEnds) {
  EXPECT_EQ(send("/continuo/model/load", {Arg::string("tiny")}),
            failed("/continuo/model/load", "no later replies on this connection"));
  std::vector<Message> later;
  context_.reply_later = [&](const Message& m) { later.push_back(m); };
  EXPECT_EQ(send("/continuo/model/load", {Arg::string("tiny")}),
            failed("/continuo/model/load", "no model switching here"));
  Controls::ModelDone pending;
  controls_.set_model_loader([&](const std::string& name, Controls::ModelDone done) -> ControlResult {
    if (name == "busy") return "busy: still loading tiny";
    pending = std::move(done);
    return {};
  });
  EXPECT_EQ(send("/continuo/model/load", {Arg::int32(3)}),
            failed("/continuo/model/load", "expects s (a model package name in model.dir)"));
  EXPECT_EQ(send("/continuo/model/load", {Arg::string("busy")}),
            failed("/continuo/model/load", "busy: still loading tiny"));
  EXPECT_EQ(send("/continuo/model/load", {Arg::string("tiny")}), "");  // nothing yet
  ASSERT_TRUE(pending);
  pending("depthformer.safetensors: truncated");
  pending("");
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].address, "/fail");
  EXPECT_EQ(later[0].args[0].text, "/continuo/model/load");
  EXPECT_EQ(later[0].args[1].text, "depthformer.safetensors: truncated");
  EXPECT_EQ(later[1].address, "/done");
  EXPECT_EQ(later[1].args[0].text, "/continuo/model/load");
}

// Answers one token per two frames; the level is checked before it is asked.
class HalfEncoder final : public AudioEncoder {
 public:
  int sample_rate() const override { return 100; }
  std::vector<int> encode(std::span<const float> audio) override { return std::vector<int>(audio.size() / 4, 1); }
};

TEST_F(OscDispatch, PrefillLiveTakesTenSecondsByDefaultAndAnswersWhenApplied) {
  std::vector<Message> later;
  context_.reply_later = [&](const Message& m) { later.push_back(m); };
  EXPECT_EQ(send("/continuo/prefill/live"), failed("/continuo/prefill/live", "no live input here"));
  InputCapture capture(30 * 100, 100);  // input.capture_seconds = 30 at 100 Hz
  std::size_t applied = 0;
  LivePrefill prefill(
      &capture, [] { return 100; },
      [&](const AudioEncoder&, std::span<const int> tokens) {
        applied = tokens.size();
        return std::string();
      },
      std::make_shared<HalfEncoder>(), ResamplerQuality::medium);
  controls_.set_live_prefill(&prefill);
  EXPECT_EQ(send("/continuo/prefill/live"),
            failed("/continuo/prefill/live", "not enough input captured yet: 0 s of the 10 s asked for"));
  EXPECT_EQ(send("/continuo/prefill/live", {s("ten")}),
            failed("/continuo/prefill/live",
                   "argument 1 must be a number, got type s; expects [f] (seconds of input, default 10)"));
  EXPECT_EQ(send("/continuo/prefill/live", {f(1), f(2)}),
            failed("/continuo/prefill/live", "expects [f] (seconds of input, default 10)"));
  const std::vector<float> played(1100, 0.25f);  // 11 s
  capture.write(played.data(), played.data(), played.size());
  EXPECT_EQ(send("/continuo/prefill/live"), "");  // nothing yet: answered when applied
  prefill.close();                                 // waits for the worker
  EXPECT_EQ(applied, 500u);                        // 10 s at 100 Hz, a token per two frames
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].address, "/done");
  EXPECT_EQ(later[0].args[0].text, "/continuo/prefill/live");
  controls_.set_live_prefill(nullptr);
}

TEST_F(OscDispatch, LinkTempoNeedsLink) {
  EXPECT_EQ(send("/continuo/link/tempo", {f(128)}),
            failed("/continuo/link/tempo", "Link is off: set link.enabled = true in the config"));
  EXPECT_EQ(send("/continuo/link/tempo", {s("fast")}),
            failed("/continuo/link/tempo",
                   "argument 1 must be a number, got type s; expects f (bpm 20..999 for every peer in the Ableton "
                   "Link session; needs link.enabled)"));
}

TEST_F(OscDispatch, HelpListsEveryCommandFromTheTable) {
  const Message reply = dispatch({"/continuo/help", {}}, context_);
  ASSERT_EQ(reply.address, "/continuo/help.reply");
  ASSERT_EQ(reply.args.size(), commands().size());
  EXPECT_EQ(reply.args[0].text, "/continuo/temperature f (sampling temperature, greater than 0 and at most 10)");
}

std::string read_docs() {
  std::ifstream in(std::filesystem::path(CONTINUO_SOURCE_DIR) / "docs" / "osc.md");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(OscDocs, DocumentEveryAddressAndStatusField) {
  const std::string docs = read_docs();
  ASSERT_FALSE(docs.empty()) << "docs/osc.md is missing";
  for (const Command& command : commands()) {
    EXPECT_NE(docs.find("`" + std::string(command.address)), std::string::npos) << command.address;
  }
  for (std::string_view name : status_fields()) {
    // The docs name the style tokens as a range: `style_token_0` … `style_token_11`.
    if (name.starts_with("style_token_") && name != "style_token_0" && name != "style_token_11") continue;
    EXPECT_NE(docs.find("`" + std::string(name) + "`"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace continuo::osc
