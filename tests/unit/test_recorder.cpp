#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/recorder.hpp"

namespace continuo {
namespace {

namespace fs = std::filesystem;

constexpr int kFrameSamples = 4;  // stereo frames per model frame here

class Recorder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("continuo_test_recorder_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  RecordConfig config(AudioFormat format = AudioFormat::wav, double buffer_seconds = 1.0) const {
    return {dir_.string(), format, false, 100, buffer_seconds};
  }

  static JournalHeader facts() {
    JournalHeader h;
    h.model_spec = "double:counter,frame=4";
    h.model_identity = "double:counter";
    h.backend = "cpu";
    h.model_rate = 48000;
    h.frame_samples = kFrameSamples;
    h.output_rate = 48000;
    return h;
  }

  // Frame n's audio: every sample distinct, exactly representable at 24 bits.
  static std::vector<float> frame_audio(std::uint64_t n) {
    std::vector<float> audio(2 * kFrameSamples);
    for (std::size_t i = 0; i < audio.size(); ++i) audio[i] = static_cast<float>(n * audio.size() + i + 1) / 1024.0f;
    return audio;
  }

  static std::vector<float> read_audio(const std::string& path) {
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    EXPECT_NE(file, nullptr) << path << ": " << sf_strerror(nullptr);
    if (file == nullptr) return {};
    std::vector<float> audio(static_cast<std::size_t>(info.frames) * 2);
    EXPECT_EQ(sf_readf_float(file, audio.data(), info.frames), info.frames);
    sf_close(file);
    return audio;
  }

  static std::vector<JournalEvent> without_syncs(const Journal& journal) {
    std::vector<JournalEvent> events;
    for (const JournalEvent& e : journal.events) {
      if (e.kind != JournalKind::sync) events.push_back(e);
    }
    return events;
  }

  fs::path dir_;
};

TEST_F(Recorder, TakeHoldsEveryFrameAndTheJournalEachChangeAtItsFrame) {
  SessionRecorder recorder(config(), facts(), 7);
  TakeFiles files;
  ASSERT_EQ(recorder.start(files), "");
  EXPECT_TRUE(recorder.recording());
  EXPECT_EQ(fs::path(files.audio).parent_path(), dir_);
  ControlSnapshot control;
  for (std::uint64_t frame = 0; frame < 10; ++frame) {
    if (frame == 3) control.temperature = 0.5f;
    if (frame == 6) recorder.on_reset(6, 9);
    if (frame == 8) control.notes[60] = NoteState::onset;
    recorder.on_frame(frame, control, frame_audio(frame));
  }
  TakeFiles stopped;
  ASSERT_EQ(recorder.stop(stopped), "");
  EXPECT_FALSE(recorder.recording());
  EXPECT_EQ(stopped.audio, files.audio);
  EXPECT_EQ(stopped.journal, files.journal);
  EXPECT_EQ(recorder.stop(stopped), "not recording");

  const Journal journal = read_journal(files.journal);
  EXPECT_EQ(journal.header.audio_file, fs::path(files.audio).filename().string());
  EXPECT_EQ(journal.header.model_spec, "double:counter,frame=4");
  const std::vector<JournalEvent> expected{
      {0, JournalKind::reset, 7, {}},        {0, JournalKind::take, 0, {}},
      {3, JournalKind::set, 0, "temperature=0.5"}, {6, JournalKind::reset, 9, {}},
      {6, JournalKind::set, 0, "temperature=0.5"},  // from the defaults again after a reset
      {8, JournalKind::set, 0, "notes=60:2"}, {10, JournalKind::end, 40, {}},
  };
  EXPECT_EQ(without_syncs(journal), expected);
  std::vector<float> all;
  for (std::uint64_t frame = 0; frame < 10; ++frame) {
    const std::vector<float> audio = frame_audio(frame);
    all.insert(all.end(), audio.begin(), audio.end());
  }
  EXPECT_EQ(read_audio(files.audio), all);
}

TEST_F(Recorder, ASecondTakeCarriesTheHistorySinceTheLastReset) {
  SessionRecorder recorder(config(), facts(), 7);
  ControlSnapshot control;
  control.top_k = 3;
  recorder.on_frame(0, control, frame_audio(0));
  recorder.on_reset(1, 5);
  control.drums = 1;
  recorder.on_frame(1, control, frame_audio(1));
  TakeFiles files;
  ASSERT_EQ(recorder.start(files), "");
  recorder.on_frame(2, control, frame_audio(2));
  ASSERT_EQ(recorder.stop(files), "");
  // The take starts at frame 2; replay starts at the reset before it, from default controls.
  const std::vector<JournalEvent> expected{
      {1, JournalKind::reset, 5, {}},
      {1, JournalKind::set, 0, "top_k=3 drums=1"},
      {2, JournalKind::take, 0, {}},
      {3, JournalKind::end, 4, {}},
  };
  EXPECT_EQ(without_syncs(read_journal(files.journal)), expected);
  EXPECT_EQ(read_audio(files.audio), frame_audio(2));
}

// While the model fails the take holds the silence played, and the journal says where the
// step failed and how much silence came, so replay can make both again; a reset to a live
// context journals the tokens offered for it (one withdrawn is never journaled).
TEST_F(Recorder, FailuresSilenceAndContextsAreJournaledInOrder) {
  SessionRecorder recorder(config(), facts(), 7);
  TakeFiles files;
  ASSERT_EQ(recorder.start(files), "");
  ControlSnapshot control;
  recorder.on_frame(0, control, frame_audio(0));
  recorder.on_step_failed(1);
  recorder.on_silence(1, kFrameSamples);
  recorder.on_silence(1, kFrameSamples);
  recorder.on_reset(1, 7);  // a retry that fails again
  recorder.on_step_failed(1);
  recorder.on_silence(1, kFrameSamples);
  recorder.on_reset(1, 7);  // the retry that steps
  control.top_k = 9;
  recorder.on_frame(1, control, frame_audio(1));
  recorder.offer_context(std::vector<int>{4, 0, 15});
  recorder.on_context(2, 7);
  recorder.offer_context(std::vector<int>{1});
  recorder.withdraw_context();  // the generator refused it
  recorder.on_frame(2, control, frame_audio(2));
  ASSERT_EQ(recorder.stop(files), "");

  const std::vector<JournalEvent> expected{
      {0, JournalKind::reset, 7, {}},      {0, JournalKind::take, 0, {}},
      {1, JournalKind::fail, 0, {}},       {1, JournalKind::silence, kFrameSamples, {}},
      {1, JournalKind::silence, kFrameSamples, {}}, {1, JournalKind::reset, 7, {}},
      {1, JournalKind::fail, 0, {}},       {1, JournalKind::silence, kFrameSamples, {}},
      {1, JournalKind::reset, 7, {}},      {1, JournalKind::set, 0, "top_k=9"},
      {2, JournalKind::context, 7, "4,0,15"}, {2, JournalKind::set, 0, "top_k=9"},
      {3, JournalKind::end, 6 * kFrameSamples, {}},
  };
  EXPECT_EQ(without_syncs(read_journal(files.journal)), expected);
  std::vector<float> all = frame_audio(0);
  all.resize(all.size() + 3 * 2 * kFrameSamples, 0.0f);
  for (const std::uint64_t frame : {1, 2}) {
    const std::vector<float> audio = frame_audio(frame);
    all.insert(all.end(), audio.begin(), audio.end());
  }
  EXPECT_EQ(read_audio(files.audio), all);
}

// A take started while the model fails starts with the silence played: its take line comes
// before that silence's line, which the history before it also holds.
TEST_F(Recorder, ATakeStartedDuringAFailureStartsWithItsSilence) {
  SessionRecorder recorder(config(), facts(), 7);
  recorder.on_frame(0, ControlSnapshot{}, frame_audio(0));
  recorder.on_step_failed(1);
  recorder.on_silence(1, kFrameSamples);
  TakeFiles files;
  ASSERT_EQ(recorder.start(files), "");
  recorder.on_silence(1, kFrameSamples);
  recorder.on_reset(1, 7);
  recorder.on_frame(1, ControlSnapshot{}, frame_audio(1));
  ASSERT_EQ(recorder.stop(files), "");
  const std::vector<JournalEvent> expected{
      {0, JournalKind::reset, 7, {}},  {1, JournalKind::fail, 0, {}},
      {1, JournalKind::silence, kFrameSamples, {}}, {1, JournalKind::take, 0, {}},
      {1, JournalKind::silence, kFrameSamples, {}}, {1, JournalKind::reset, 7, {}},
      {2, JournalKind::end, 2 * kFrameSamples, {}},
  };
  EXPECT_EQ(without_syncs(read_journal(files.journal)), expected);
  std::vector<float> all(2 * kFrameSamples, 0.0f);
  const std::vector<float> audio = frame_audio(1);
  all.insert(all.end(), audio.begin(), audio.end());
  EXPECT_EQ(read_audio(files.audio), all);
}

// A journal replays one model: a switch ends the take, and a later take's header names the
// model switched to, its history starting at the switch's reset.
TEST_F(Recorder, AModelSwitchEndsTheTakeAndLaterTakesNameTheNewModel) {
  SessionRecorder recorder(config(), facts(), 7);
  TakeFiles first;
  ASSERT_EQ(recorder.start(first), "");
  ControlSnapshot control;
  for (std::uint64_t frame = 0; frame < 3; ++frame) recorder.on_frame(frame, control, frame_audio(frame));
  recorder.on_model(3, 11);
  JournalHeader next = facts();
  next.model_spec = "tiny";
  next.model_identity = "tiny@1234";
  recorder.use_model(next);
  control.top_k = 5;
  recorder.on_frame(3, control, frame_audio(3));
  for (int polls = 0; recorder.recording() && polls < 500; ++polls) usleep(10'000);
  EXPECT_FALSE(recorder.recording());
  const std::vector<JournalEvent> ended{{0, JournalKind::reset, 7, {}}, {0, JournalKind::take, 0, {}},
                                        {3, JournalKind::end, 3 * kFrameSamples, {}}};
  EXPECT_EQ(without_syncs(read_journal(first.journal)), ended);

  TakeFiles second;
  ASSERT_EQ(recorder.start(second), "");
  recorder.on_frame(4, control, frame_audio(4));
  ASSERT_EQ(recorder.stop(second), "");
  const Journal journal = read_journal(second.journal);
  EXPECT_EQ(journal.header.model_spec, "tiny");
  EXPECT_EQ(journal.header.model_identity, "tiny@1234");
  const std::vector<JournalEvent> expected{{3, JournalKind::reset, 11, {}},
                                           {3, JournalKind::set, 0, "top_k=5"},
                                           {4, JournalKind::take, 0, {}},
                                           {5, JournalKind::end, kFrameSamples, {}}};
  EXPECT_EQ(without_syncs(journal), expected);
}

// The generator never waits for the disk: a frame without room in the queue is dropped,
// counted and journaled, and the file keeps its place with silence.
TEST_F(Recorder, AWriterBehindCostsFramesNotTheGenerator) {
  const double one_frame = (2.0 * kFrameSamples + 1) / (2 * 1.05 * 48000);  // room for one frame's audio
  SessionRecorder recorder(config(AudioFormat::wav, one_frame), facts(), 0);
  TakeFiles files;
  ASSERT_EQ(recorder.start(files), "");
  constexpr std::uint64_t kFrames = 50;  // fewer than the event queue holds: only audio is dropped
  for (std::uint64_t frame = 0; frame < kFrames; ++frame) recorder.on_frame(frame, ControlSnapshot{}, frame_audio(frame));
  ASSERT_EQ(recorder.stop(files), "");
  EXPECT_GT(recorder.dropped_frames(), 0u);
  const Journal journal = read_journal(files.journal);
  const std::vector<float> audio = read_audio(files.audio);
  std::uint64_t first = 0;
  std::vector<bool> dropped(kFrames, false);
  std::uint64_t drops = 0;
  for (const JournalEvent& e : journal.events) {
    if (e.kind == JournalKind::take) first = e.frame;
    if (e.kind == JournalKind::drop) {
      dropped[e.frame] = true;
      ++drops;
      EXPECT_EQ(e.value, static_cast<std::uint64_t>(kFrameSamples));
    }
  }
  ASSERT_EQ(audio.size(), (kFrames - first) * 2 * kFrameSamples);
  for (std::uint64_t frame = first; frame < kFrames; ++frame) {
    const std::vector<float> expected = dropped[frame] ? std::vector<float>(2 * kFrameSamples, 0.0f) : frame_audio(frame);
    const auto at = audio.begin() + static_cast<std::ptrdiff_t>((frame - first) * 2 * kFrameSamples);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), at)) << "frame " << frame;
  }
  EXPECT_GE(recorder.dropped_frames(), drops);  // and the ones before the take's first frame
}

TEST_F(Recorder, FlacTakesHoldThe24BitAudio) {
  SessionRecorder recorder(config(AudioFormat::flac), facts(), 0);
  TakeFiles files;
  ASSERT_EQ(recorder.start(files), "");
  EXPECT_EQ(fs::path(files.audio).extension(), ".flac");
  recorder.on_frame(0, ControlSnapshot{}, frame_audio(0));
  ASSERT_EQ(recorder.stop(files), "");
  EXPECT_EQ(read_audio(files.audio), frame_audio(0));
}

TEST_F(Recorder, AnUnwritableDirectoryIsRefusedWithTheReason) {
  fs::create_directories(dir_);
  const fs::path file = dir_ / "not-a-directory";
  std::ofstream(file) << "x";
  RecordConfig bad = config();
  bad.dir = file.string();
  SessionRecorder recorder(bad, facts(), 0);
  TakeFiles files;
  EXPECT_EQ(recorder.start(files).rfind("cannot create record.dir '" + file.string() + "': ", 0), 0u);
  EXPECT_FALSE(recorder.recording());
}

}  // namespace
}  // namespace continuo
