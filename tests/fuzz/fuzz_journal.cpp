// libFuzzer: a session journal (engine/journal.hpp), a file `continuo replay` reads. It must
// parse or throw JournalError naming the line; any other exception, crash or sanitizer
// report is a finding. What parses must write back to the same events.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  continuo::Journal journal;
  try {
    journal = continuo::parse_journal(text, "fuzz.journal");
  } catch (const continuo::JournalError&) {
    return 0;
  }
  for (const continuo::JournalEvent& event : journal.events) {
    const std::string line = continuo::journal_line(event);
    const continuo::Journal again =
        continuo::parse_journal(continuo::journal_header_text(journal.header) + line, "again.journal");
    if (again.events.size() != 1 || again.events[0].frame != event.frame || again.events[0].kind != event.kind) {
      std::abort();
    }
  }
  return 0;
}
