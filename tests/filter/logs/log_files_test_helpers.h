// Temporary event files for the logs tests: plain and gzip, with made-up events.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace egressguard::logs::testing {

// A fresh directory under the system temp dir, removed with the object.
using ::egressguard::testing::TempDir;

void write_file(const std::string& path, const std::string& bytes);
// One gzip member of `text` (zlib's deflate, gzip wrapper).
std::string gzip_bytes(const std::string& text);

// An event line (with '\n') at 2026-11-29T09:00:00Z + `second`; `tag` goes in "sensor" so a
// test can read back which events came out, in which order.
std::string event_at(int second, const std::string& tag, const std::string& group = "gov-managed",
                     const std::string& name = "www.tiktok.com");

}  // namespace egressguard::logs::testing
