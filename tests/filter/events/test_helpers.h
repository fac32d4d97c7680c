// Helpers for the event pipeline tests: a scratch directory, a settable clock, file reading.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "filter/events/event_output.h"
#include "tests/support/temp_dir.h"

namespace egressguard::events::testing {

// A fresh directory under the system temp dir, removed with the object.
using ::egressguard::testing::TempDir;

// A clock the test moves by hand.
struct ManualClock {
  std::uint64_t now_us = 0;
  Clock clock() { return Clock{&ManualClock::read, this}; }
  static std::uint64_t read(void* self) { return static_cast<ManualClock*>(self)->now_us; }
};

// 2026-11-29T09:00:00Z + seconds, in microseconds.
std::uint64_t at(std::int64_t seconds_after_0900);

std::string read_file(const std::string& path);
// Lines of a plain or gzip file (zlib reads both).
std::vector<std::string> read_lines(const std::string& path);
// Every file name in `dir`, sorted.
std::vector<std::string> list_dir(const std::filesystem::path& dir);

}  // namespace egressguard::events::testing
