// FileOutput: JSON lines into a file (or stdout) for the event pipeline, with rotation by size
// and at UTC midnight, optional gzip of rotated files, and retention by count and age.
//
// Rotated files are named `<path>.<YYYYmmddTHHMMSSZ>` (the UTC time of the rotation: the file
// holds events up to that moment), `-1`, `-2` ... appended when that name exists, `.gz` when
// compressed. Rotation writes out the buffer, closes, renames, reopens: nothing accepted is lost
// and no line is split across files. When a write fails (disk full), the whole lines that did
// not fit are counted as dropped and a partial line is cut off again (ftruncate), so the file
// only ever holds whole lines; the next batch tries again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "filter/events/event_output.h"

namespace egressguard::events {

struct FileOutputOptions {
  std::string path;               // "-" = stdout (no rotation)
  std::uint64_t rotate_size = 0;  // bytes; 0 = off
  bool rotate_daily = false;
  std::uint32_t keep = 0;          // rotated files kept; 0 = all
  std::uint32_t max_age_days = 0;  // 0 = no age limit
  bool compress = false;
  // Compression and retention on a helper thread (the writer goes on); false runs them inline
  // (scan, tests).
  bool background = true;
  std::size_t buffer_bytes = 64 * 1024;
};

class FileOutput : public EventOutput {
 public:
  // Opens (appends to) the file; applies retention and compresses rotated files left over from
  // an earlier run.
  static Result<std::unique_ptr<FileOutput>, std::string> open(FileOutputOptions options,
                                                               std::uint64_t now_us);
  ~FileOutput() override;
  FileOutput(const FileOutput&) = delete;
  FileOutput& operator=(const FileOutput&) = delete;

  std::string_view name() const noexcept override { return stdout_ ? "stdout" : "file"; }
  void write(const EventLine& line, std::uint64_t now_us) override;
  void flush(std::uint64_t now_us) override;
  void close(std::uint64_t now_us) override;
  std::string last_error() const override { return last_error_; }

  // Rotates now (when the file is not empty). For tests and a future SIGUSR1.
  void rotate(std::uint64_t now_us);

  // The rotated files of `path`, newest first (what retention and `logs` see).
  static std::vector<std::string> rotated_files(const std::string& path);

 private:
  FileOutput() = default;
  void write_buffer();
  bool reopen();
  void housekeeping(std::string rotated, std::uint64_t now_us);
  void join_housekeeper();

  FileOutputOptions options_;
  bool stdout_ = false;
  int fd_ = -1;
  std::uint64_t size_ = 0;  // bytes in the current file
  std::uint64_t day_ = 0;   // UTC day (since the epoch) the current file started
  std::uint64_t reopen_after_us_ = 0;
  std::string buffer_;
  std::vector<std::uint64_t> buffered_events_;  // per buffered line
  std::string last_error_;
  std::thread housekeeper_;
  bool closed_ = false;
};

}  // namespace egressguard::events
