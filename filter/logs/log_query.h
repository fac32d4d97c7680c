// The query engine behind `egressguard logs`: reads event files (current, rotated, .gz), keeps
// the events an EventFilter accepts and hands them on, in time order across files or file by
// file. Malformed lines (not JSON, a live file's half-written last line) are counted and the
// first few reported as file:line: why; they never stop the read.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/logs/event_filter.h"
#include "filter/logs/event_line.h"

namespace egressguard::logs {

struct MalformedLine {
  std::string file;
  std::uint64_t line = 0;
  std::string why;
};

struct ReadSummary {
  static constexpr std::size_t kMaxMalformedReported = 5;

  std::vector<std::string> files;   // files opened
  std::vector<std::string> errors;  // `path: why` for files that could not be read to the end
  std::uint64_t lines = 0;          // lines read, every file
  std::uint64_t parsed = 0;         // lines parsed as events (the rest was rejected unparsed)
  std::uint64_t matched = 0;        // events the filter accepted
  std::uint64_t file_bytes = 0;     // bytes read from disk (compressed for .gz)
  std::uint64_t text_bytes = 0;     // bytes of event text
  std::uint64_t malformed = 0;
  std::vector<MalformedLine> first_malformed;  // up to kMaxMalformedReported
};

// Called once per matching event; `line` and the views in `event` are valid during the call.
using EventSink = std::function<void(std::string_view line, const EventLine& event)>;

// Every matching event of `files`, in timestamp order: each file is read as written (writers
// append in time order) and the files are merged by timestamp, so rotated files, .gz files and
// files of several sensors interleave correctly. Equal timestamps keep the order of `files`.
ReadSummary read_events_in_order(const std::vector<std::string>& files, EventFilter& filter,
                                 const EventSink& sink);

// The same events file after file, with one file open at a time (for counting: stats, top).
ReadSummary read_events(const std::vector<std::string>& files, EventFilter& filter,
                        const EventSink& sink);

}  // namespace egressguard::logs
