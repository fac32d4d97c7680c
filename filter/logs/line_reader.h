// Reads an event file line by line: plain, or gzip (detected by its magic bytes 1f 8b, not by
// the name; concatenated gzip members are read as one stream), through zlib's streaming inflate
// so a rotated file is never decompressed whole. Lines are views into the reader's buffer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace egressguard::logs {

// One line of a file. `text` is a view into the reader: valid until the next call to next().
struct FileLine {
  std::string_view text;      // without '\n'
  std::uint64_t number = 0;   // 1-based
  bool too_long = false;      // longer than kMaxLineBytes: `text` is empty, the line was skipped
  bool unterminated = false;  // the file's last line had no '\n' (a live file being written)
};

class LineReader {
 public:
  // A line longer than this is skipped and reported (an event is well under 4 KiB).
  static constexpr std::size_t kMaxLineBytes = 1U << 20;

  // Errors are `path: why` (cannot open, not readable).
  static Result<std::unique_ptr<LineReader>, std::string> open(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line; false at the end of the input or on a read or gzip error (see error()).
  bool next(FileLine& line);

  const std::string& path() const noexcept { return path_; }
  bool gzip() const noexcept { return gzip_; }
  // Bytes read from the file (compressed bytes for gzip).
  std::uint64_t file_bytes() const noexcept { return file_bytes_; }
  // Bytes of text produced (after inflating).
  std::uint64_t text_bytes() const noexcept { return text_bytes_; }
  // Empty, or `path: gzip: why` / `path: read: why` once the input ended in error.
  const std::string& error() const noexcept { return error_; }

 private:
  LineReader(std::string path, int fd, bool gzip);
  // Appends more text to buffer_ at end_; false at the end of input (or error).
  bool fill();
  bool read_raw(char* out, std::size_t capacity, std::size_t& got);

  struct Inflater;
  std::string path_;
  int fd_ = -1;
  bool gzip_ = false;
  bool eof_ = false;
  std::unique_ptr<Inflater> inflater_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // the next line starts here
  std::size_t scan_ = 0;   // no '\n' in [begin_, scan_)
  std::size_t end_ = 0;    // text ends here
  bool skipping_ = false;  // discarding the rest of a too-long line
  std::uint64_t line_number_ = 0;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t text_bytes_ = 0;
  std::string error_;
};

// The files behind the analyst's arguments: a file as is; a directory's regular files whose
// names contain ".json" (events.json, events.json.1, events.json.2.gz,
// events-2026-11-29.json.gz), sorted; a pattern with * ? [ that is not an existing path,
// through glob(3). Directories and patterns skip `*.tmp` (a rotated file being compressed: its
// events are still in the uncompressed file). Errors (`path: no such file or directory`) are
// collected; the rest is still returned.
std::vector<std::string> expand_inputs(const std::vector<std::string>& args,
                                       std::vector<std::string>& errors);

// `path` and its rotated siblings in the same directory: names that start with `path`'s file
// name or its stem before ".json", followed by '.', '-' or '_' (events.json.1,
// events.json.2.gz, events.json.20261129T000000Z.gz, events-2026-11-29.json), except `*.tmp`.
// Sorted; `path` itself is included when it exists.
std::vector<std::string> rotated_siblings(const std::string& path);

}  // namespace egressguard::logs
