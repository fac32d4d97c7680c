// The bundled default capture (examples/captures/default.pcap, recorded by
// scripts/make-default-capture.sh): with the example config, every TikTok/CapCut/Telegram/VK name
// of the gov-managed device is blocked, the BYOD device is untouched, and ordinary names pass.
// The expected names come from the capture's tshark truth (default.truth.tsv) and the catalogue
// decision for each (explain), not from a hard-coded list.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"
#include "tests/support/temp_dir.h"

namespace egressguard::testing {
namespace {

struct TruthRow {
  std::string src;
  std::string kind;
  std::string name;
};

std::vector<TruthRow> read_truth() {
  std::vector<TruthRow> rows;
  std::ifstream in(source_path("examples/captures/default.truth.tsv"));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) {
      cols.push_back(col);
    }
    if (cols.size() >= 8 && cols[6] != "dns_response") {
      rows.push_back({cols[2], cols[6], cols[7]});
    }
  }
  return rows;
}

std::string app_of(const std::string& kind) {
  if (kind == "sni") {
    return "tls";
  }
  if (kind == "quic_sni") {
    return "quic";
  }
  if (kind == "http_host") {
    return "http";
  }
  return "dns";
}

bool is_gov(const std::string& ip) {
  return ip.rfind("10.8.", 0) == 0 || ip.rfind("fd00:8:", 0) == 0;
}

TEST(DefaultCapture, GovManagedBlockedByodUntouched) {
  const auto truth = read_truth();
  ASSERT_GT(truth.size(), 40U);
  const std::string config = "'" + source_path("examples/egressguard.toml") + "'";

  // Which names the gov-managed policy blocks, asked through explain.
  std::map<std::string, bool> blocked_for_gov;
  for (const TruthRow& row : truth) {
    if (blocked_for_gov.count(row.name) > 0) {
      continue;
    }
    const auto r = run_command(egressguard_binary() + " explain --json --config " + config +
                               " --group gov-managed '" + row.name + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    blocked_for_gov[row.name] = r.out.find("\"action\":\"block\"") != std::string::npos;
  }
  ASSERT_TRUE(blocked_for_gov["www.tiktok.com"]);
  ASSERT_FALSE(blocked_for_gov["www.example.org"]);

  const TempDir tmp("eg-default-capture");
  const std::string events = tmp.file("eg-default-capture.json");
  const auto scan =
      run_command(egressguard_binary() + " scan --config " + config + " --events '" + events +
                  "' '" + source_path("examples/captures/default.pcap") + "'");
  ASSERT_EQ(scan.exit_code, 0) << scan.err;

  // Each event line: (src group, app, name). Expect exactly the gov rows whose name is blocked.
  std::multiset<std::string> expected;
  for (const TruthRow& row : truth) {
    if (is_gov(row.src) && blocked_for_gov[row.name]) {
      expected.insert(row.src + " " + app_of(row.kind) + " " + row.name);
    }
  }
  ASSERT_GE(expected.size(), 10U);
  std::multiset<std::string> got;
  std::ifstream in(events);
  std::string line;
  while (std::getline(in, line)) {
    auto field = [&](const std::string& key) {
      const std::string needle = "\"" + key + "\":\"";
      const auto at = line.find(needle);
      if (at == std::string::npos) {
        return std::string();
      }
      const auto start = at + needle.size();
      return line.substr(start, line.find('"', start) - start);
    };
    EXPECT_EQ(field("event_type"), "block") << line;
    EXPECT_EQ(field("group"), "gov-managed") << line;
    EXPECT_EQ(field("mode"), "enforce") << line;
    EXPECT_FALSE(field("category").empty()) << line;
    got.insert(field("src_ip") + " " + field("app_proto") + " " + field("name"));
  }
  EXPECT_EQ(got, expected);
  // The summary on stderr names both groups; BYOD has names and no blocks.
  EXPECT_NE(scan.err.find("gov-managed"), std::string::npos) << scan.err;
  std::istringstream summary(scan.err);
  bool byod_line = false;
  while (std::getline(summary, line)) {
    if (line.rfind("byod ", 0) == 0) {
      byod_line = true;
      std::istringstream cols(line);
      std::string name;
      unsigned long long flows = 0, names = 0, unnamed = 0, blocked = 0;
      cols >> name >> flows >> names >> unnamed >> blocked;
      EXPECT_GT(names, 10U) << line;
      EXPECT_EQ(blocked, 0U) << line;
    }
  }
  EXPECT_TRUE(byod_line) << scan.err;
}

TEST(ScanErrors, UnreadableAndTruncatedCapturesSayWhy) {
  const std::string config = "'" + source_path("examples/egressguard.toml") + "'";
  const TempDir dir("eg-scan-errors");
  // Not a capture at all.
  const std::string garbage = dir.write("garbage.pcap", "this is not a capture file\n");
  auto r = run_command(egressguard_binary() + " scan --config " + config + " --events /dev/null '" +
                       garbage + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("garbage.pcap: cannot read capture: "), std::string::npos) << r.err;

  // The default capture cut in the middle of a packet: the packets before the cut are inspected.
  std::ifstream in(source_path("examples/captures/default.pcap"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 5000U);
  const std::string cut = dir.write("cut.pcap", bytes.substr(0, bytes.size() / 2 + 7));
  r = run_command(egressguard_binary() + " scan --config " + config + " --events - '" + cut + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cut.pcap: truncated or corrupt capture after "), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("\"event_type\":\"block\""), std::string::npos)
      << "packets before the cut must still be inspected";
}

TEST(ScanAll, LogsAllowedNamesTooAndEveryLineIsJson) {
  const std::string config = "'" + source_path("examples/egressguard.toml") + "'";
  const auto r = run_command(egressguard_binary() + " scan --all --config " + config +
                             " --events - '" + source_path("examples/captures/default.pcap") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::size_t names = 0;
  std::size_t byod = 0;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
    if (line.find("\"event_type\":\"name\"") != std::string::npos) {
      ++names;
    }
    if (line.find("\"group\":\"byod\"") != std::string::npos) {
      ++byod;
      EXPECT_NE(line.find("\"action\":\"allow\""), std::string::npos) << line;
    }
  }
  EXPECT_GT(names, 20U);
  EXPECT_GT(byod, 10U);
}

}  // namespace
}  // namespace egressguard::testing
