#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/control_state.hpp"
#include "engine/resampler.hpp"

namespace continuo {

// A journal that cannot be read; what() names the file and line.
struct JournalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What replay needs to load the same model and drive it the same way (docs/reliability.md,
// "Nothing lost"). One "key value" line each at the top of the journal.
struct JournalHeader {
  std::string model_spec;
  std::string model_identity;  // ModelInfo::identity: a package's name and fingerprint
  std::string backend;
  int prefill_frames = 0;
  int model_rate = 0;
  int frame_samples = 0;
  int output_rate = 0;  // at the first event; a later change is a rate event
  ResamplerQuality resampler = ResamplerQuality::medium;
  std::string audio_file;  // the take's audio, in the journal's directory
  std::string started;     // UTC, for people
};

// One line after the header: "<frame> <kind> [value | changes]". Frames are model frames
// counted from the engine's start; an event applies before that frame is generated.
enum class JournalKind {
  reset,    // value: the seed of the fresh continuation
  context,  // as reset, to a context (/continuo/prefill/live); value: the seed; text: the
            // codes the model's encoder made of the input (Model::reset_to_context)
  rate,     // value: the new output rate, Hz
  set,      // changes: the controls the model reads that differ from the frame before, or
            // after a reset line from the defaults (ControlSnapshot{})
  fail,     // the model's step for this frame threw (a device error): the frame was not
            // made; replay steps the model too, as the model may count its steps, and drops
            // what comes
  silence,  // value: samples of silence the generator played while the model failed,
            // before this frame; in the take's audio as they were played
  take,     // the take's audio file starts with the audio made next: the silence of a
            // silence line right after this one, or else this frame
  sync,   // value: samples in the audio file, all on disk (fsync) with this journal so far
  drop,   // value: samples of this frame the writer had no room for, silence in the file
  lost,   // value: events the writer had no room for before this one: replay diverges here
  end,    // value: samples in the audio file; the take ended cleanly before this frame
};

struct JournalEvent {
  std::uint64_t frame = 0;
  JournalKind kind = JournalKind::set;
  std::uint64_t value = 0;
  std::string text;  // set: control_changes(); context: its codes, context_text()

  bool operator==(const JournalEvent&) const = default;
};

struct Journal {
  JournalHeader header;
  std::vector<JournalEvent> events;
  // A last line without its newline, as a killed writer leaves it: not used, described
  // here ("line 12: '40 se' has no end of line") so replay can say so. Empty: none.
  std::string cut_tail;
};

std::string journal_header_text(const JournalHeader& header);
std::string journal_line(const JournalEvent& event);  // with its newline

// Errors name `name` (the file) and the line.
Journal parse_journal(std::string_view text, const std::string& name);
Journal read_journal(const std::string& path);

// The controls the model reads that differ between two frames' snapshots, as
// "name=value" words ("temperature=1.3 notes=60:2,64:0"); "" when none differ. Floats are
// written so that they read back bit-exactly.
std::string control_changes(const ControlSnapshot& before, const ControlSnapshot& after);
// Applies control_changes() text; throws JournalError (without a location) when a word is
// malformed or a value out of the range Controls accepts.
void apply_control_changes(std::string_view changes, ControlSnapshot& snapshot);

// A context's codes as a line's text, "c,c,c", and back; context_codes throws JournalError
// (without a location) unless there is at least one and each is a whole number >= 0 (the
// model checks the rest of its range).
std::string context_text(std::span<const int> codes);
std::vector<int> context_codes(std::string_view text);

}  // namespace continuo
