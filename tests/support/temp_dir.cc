#include "tests/support/temp_dir.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include <gtest/gtest.h>
#include <unistd.h>

namespace egressguard::testing {
namespace {

// The running test as "Suite.Name" with anything but [A-Za-z0-9_.-] replaced, cut so that a
// socket path inside the directory stays well under sun_path's 108 bytes; "" outside a test.
std::string current_test_tag() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) {
    return "";
  }
  std::string tag = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : tag) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
    if (!keep) {
      c = '_';
    }
  }
  constexpr std::size_t kMaxTag = 40;
  if (tag.size() > kMaxTag) {
    tag.erase(0, tag.size() - kMaxTag);  // the test name's end is the distinctive part
  }
  return tag;
}

}  // namespace

TempDir::TempDir(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  std::string name = std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
                     std::to_string(counter.fetch_add(1));
  const std::string tag = current_test_tag();
  if (!tag.empty()) {
    name += "-" + tag;
  }
  path_ = std::filesystem::temp_directory_path() / name;
  // A leftover can only come from a dead process that had the same pid.
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
  return (path_ / name).string();
}

std::string TempDir::write(std::string_view name, std::string_view text) const {
  const std::filesystem::path target = path_ / name;
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) {
    throw std::runtime_error(target.parent_path().string() + ": cannot create: " + ec.message());
  }
  errno = 0;
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) {
    throw std::runtime_error(target.string() + ": cannot write: " +
                             (errno != 0 ? std::strerror(errno) : "stream error"));
  }
  return target.string();
}

}  // namespace egressguard::testing
