// Shared GeoIP test support: the MaxMind test databases from the shared data set, and small
// databases built with tests/geoip/make_test_db.pl (Debian: libmaxmind-db-writer-perl).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"

namespace egressguard::geoip::test {

// Address text to 4 or 16 network-order bytes (the test's own input: must parse).
inline std::vector<std::uint8_t> address_bytes(const std::string& text) {
  std::array<std::uint8_t, 16> bytes{};
  if (::inet_pton(AF_INET, text.c_str(), bytes.data()) == 1) {
    return {bytes.begin(), bytes.begin() + 4};
  }
  EXPECT_EQ(::inet_pton(AF_INET6, text.c_str(), bytes.data()), 1) << text;
  return {bytes.begin(), bytes.end()};
}

// True when the writer module is installed; otherwise *why says so.
inline bool have_db_writer(std::string* why) {
  const auto r = ::egressguard::testing::run_command("perl -MMaxMind::DB::Writer::Tree -e 1 2>&1");
  if (r.exit_code != 0) {
    *why =
        "perl module MaxMind::DB::Writer::Tree is missing (apt-get install "
        "libmaxmind-db-writer-perl): " +
        r.out;
    return false;
  }
  return true;
}

// Builds `out` with make_test_db.pl; "" on success, else the script's output.
inline std::string make_test_db(const std::string& out, const std::string& type,
                                const std::vector<std::string>& records) {
  std::string command = "perl '" +
                        ::egressguard::testing::source_path("tests/geoip/make_test_db.pl") + "' '" +
                        out + "' " + type;
  for (const std::string& r : records) {
    command += " '" + r + "'";
  }
  const auto result = ::egressguard::testing::run_command(command + " 2>&1");
  return result.exit_code == 0 ? std::string() : "make_test_db.pl failed: " + result.out;
}

}  // namespace egressguard::geoip::test

// Sets `var` to shared/data/geoip/<file>; skips the test (fails under CI=true) when absent.
#define EGRESSGUARD_GEOIP_DATA_OR_SKIP(var, file)                                            \
  const std::string var = ::egressguard::testing::shared_data(std::string("geoip/") + file); \
  if (var.empty()) {                                                                         \
    if (::egressguard::testing::in_ci()) {                                                   \
      FAIL() << "shared data geoip/" << file << " is missing (required under CI=true)";      \
    }                                                                                        \
    GTEST_SKIP() << "shared data geoip/" << file << " is missing (../shared/data)";          \
  }

// Skips (fails under CI=true) when the MaxMind DB writer is not installed.
#define EGRESSGUARD_DB_WRITER_OR_SKIP()                       \
  do {                                                        \
    std::string why_;                                         \
    if (!::egressguard::geoip::test::have_db_writer(&why_)) { \
      if (::egressguard::testing::in_ci()) {                  \
        FAIL() << why_;                                       \
      }                                                       \
      GTEST_SKIP() << why_;                                   \
    }                                                         \
  } while (false)
