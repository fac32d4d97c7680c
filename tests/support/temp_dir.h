// A scratch directory for one test, unique per process and per test, removed with the object.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace egressguard::testing {

// Creates <system temp dir>/<prefix>-<pid>-<counter>-<current gtest name> (the name only when a
// test is running), so tests run in parallel (ctest -j) never share a directory. The directory
// and everything in it is removed by the destructor.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "eg-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // <dir>/<name>; the file is not created.
  std::string file(std::string_view name) const;
  // Writes `text` (bytes as given) to <dir>/<name>, creating parent folders, and returns the
  // file's path; throws std::runtime_error naming the file when it cannot be written.
  std::string write(std::string_view name, std::string_view text) const;

 private:
  std::filesystem::path path_;
};

}  // namespace egressguard::testing
