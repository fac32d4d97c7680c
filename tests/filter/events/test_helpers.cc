#include "tests/filter/events/test_helpers.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <zlib.h>

namespace egressguard::events::testing {

std::uint64_t at(std::int64_t seconds_after_0900) {
  constexpr std::int64_t k0900 = 1795942800;  // 2026-11-29T09:00:00Z
  return static_cast<std::uint64_t>(k0900 + seconds_after_0900) * 1'000'000U;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  gzFile in = gzopen(path.c_str(), "rb");
  if (in == nullptr) {
    return lines;
  }
  std::string text;
  char chunk[4096];
  for (int n = 0; (n = gzread(in, chunk, sizeof chunk)) > 0;) {
    text.append(chunk, static_cast<std::size_t>(n));
  }
  gzclose(in);
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> list_dir(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace egressguard::events::testing
