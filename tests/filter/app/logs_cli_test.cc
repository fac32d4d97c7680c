// `egressguard logs` as the SOC runs it: the built binary over current, rotated and .gz event
// files in a temporary directory.
#include <string>

#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"
#include "tests/support/temp_dir.h"

namespace egressguard::testing {
namespace {

std::string event(const std::string& time, const std::string& tag, const std::string& group,
                  const std::string& src, const std::string& name, const std::string& action,
                  const std::string& extra = "") {
  const bool blocked = action == "block";
  return "{\"timestamp\":\"2026-11-29T" + time + "Z\",\"event_type\":\"" +
         (blocked ? "block" : "name") + "\",\"sensor\":\"" + tag +
         "\",\"datapath\":\"pcap\",\"flow_id\":1,\"src_ip\":\"" + src +
         "\",\"src_port\":40000,\"dest_ip\":\"198.51.100.10\",\"dest_port\":443,\"proto\":\"TCP\","
         "\"app_proto\":\"tls\",\"group\":\"" +
         group + "\",\"name\":\"" + name + "\",\"action\":\"" + action +
         "\",\"mode\":\"enforce\",\"reason\":\"" + (blocked ? "rule" : "no_rule") +
         "\",\"category\":" + (blocked ? "\"tiktok\"" : "null") +
         ",\"rule\":" + (blocked ? "\"*.tiktok.com\"" : "null") +
         ",\"list\":" + (blocked ? "\"domains/catalogue/tiktok.txt\"" : "null") +
         ",\"line\":" + (blocked ? "26" : "null") + ",\"policy_version\":1,\"flags\":[]" + extra +
         "}\n";
}

class LogsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // Oldest events in the compressed file, the live file last with a half-written line.
    write("events.json.2",
          event("09:00:01", "a", "gov-managed", "10.8.0.10", "www.tiktok.com", "block") +
              event("09:00:04", "d", "byod", "10.9.0.5", "www.tiktok.com", "allow"));
    ASSERT_EQ(run_command("gzip '" + path("events.json.2") + "'").exit_code, 0);
    write("events.json.1", event("09:00:02", "b", "gov-managed", "10.8.0.11", "API.TikTok.com.",
                                 "block", ",\"count\":5") +
                               "this is not json\n" +
                               event("09:00:05", "e", "gov-managed", "10.8.0.10",
                                     "evil\\u001b[2J.example", "allow"));
    write("events.json",
          event("09:00:03", "c", "gov-managed", "10.8.1.1", "v16.tiktokcdn.com", "allow") +
              event("10:00:00", "f", "kiosk", "2001:db8::5", "www.tiktok.com", "block") +
              "{\"timestamp\":\"2026-11-29T10:00:01Z\",\"event_type\":\"blo");
  }
  void write(const std::string& name, const std::string& text) { dir_.write(name, text); }
  std::string path(const std::string& name) const { return dir_.file(name); }
  CommandResult logs(const std::string& args) {
    return run_command(egressguard_binary() + " logs " + args);
  }
  std::string dir() const { return "'" + dir_.path().string() + "'"; }

  // The "sensor" tags of --json output, in order.
  static std::string tags(const std::string& json_lines) {
    std::string out;
    std::size_t at = 0;
    while ((at = json_lines.find("\"sensor\":\"", at)) != std::string::npos) {
      at += 10;
      out += json_lines.substr(at, json_lines.find('"', at) - at);
    }
    return out;
  }

  TempDir dir_{"eg-logs-cli"};
};

TEST_F(LogsCli, PrintsEveryFileInTimeOrderAndReportsMalformedLines) {
  const auto r = logs(dir() + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tags(r.out), "abcdef") << r.out;
  EXPECT_NE(r.err.find("malformed lines: 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("events.json.1:2: not a JSON object"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("events.json:3: truncated JSON (last line, no newline"), std::string::npos)
      << r.err;
  // --json prints the lines as they are in the files.
  EXPECT_NE(r.out.find("\"name\":\"API.TikTok.com.\""), std::string::npos);
}

TEST_F(LogsCli, FiltersByGroupNameAndSource) {
  EXPECT_EQ(tags(logs(dir() + " --json --group gov-managed").out), "abce");
  EXPECT_EQ(tags(logs(dir() + " --json --group gov-managed,kiosk --name '*.tiktok.com'").out),
            "abf");
  EXPECT_EQ(tags(logs(dir() + " --json --name www.tiktok.com").out), "adf");
  // Inputs may follow the filters (a filter takes one value per use).
  EXPECT_EQ(tags(logs("--json --group gov-managed --name '*.tiktok.com' " + dir()).out), "ab");
  EXPECT_EQ(tags(logs(dir() + " --json --src 10.8.0.0/16").out), "abce");
  EXPECT_EQ(tags(logs(dir() + " --json --src 2001:db8::/32").out), "f");
  EXPECT_EQ(tags(logs(dir() + " --json --action allow --category tiktok").out), "");
  EXPECT_EQ(tags(logs(dir() + " --json --type block --category tiktok").out), "abf");
}

TEST_F(LogsCli, RelativeAndAbsoluteTimes) {
  const std::string now = " --now 2026-11-29T10:00:30Z";
  EXPECT_EQ(tags(logs(dir() + " --json --since 30m" + now).out), "f");
  EXPECT_EQ(tags(logs(dir() + " --json --since 61m --until 59m" + now).out), "abcde");
  EXPECT_EQ(tags(logs(dir() + " --json --since 2026-11-29T09:00:02Z --until "
                              "2026-11-29T09:00:04Z")
                     .out),
            "bc");
  EXPECT_EQ(tags(logs(dir() + " --json --since 2026-11-30").out), "");
  const auto bad = logs(dir() + " --since yesterday");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--since: invalid time \"yesterday\""), std::string::npos) << bad.err;
}

TEST_F(LogsCli, TableEscapesNetworkNames) {
  const auto r = logs(path("events.json.1") + " --group gov-managed");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("TIME ", 0), 0U) << r.out;
  EXPECT_NE(r.out.find("evil\\x1b[2J.example"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_NE(r.out.find("*.tiktok.com domains/catalogue/tiktok.txt:26 (x5)"), std::string::npos)
      << r.out;
}

TEST_F(LogsCli, TopCountsAggregatedEvents) {
  const auto r = logs("top --by name -n 2 " + dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("           5  api.tiktok.com\n           3  www.tiktok.com\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("evil"), std::string::npos) << r.out;  // -n 2
  const auto src = logs("top --by src --action block --json " + dir());
  EXPECT_EQ(src.out,
            "{\"by\":\"src\",\"top\":[{\"value\":\"10.8.0.11\",\"count\":5},{\"value\":"
            "\"10.8.0.10\",\"count\":1},{\"value\":\"2001:db8::5\",\"count\":1}]}\n");
  EXPECT_EQ(logs("top --by colour " + dir()).exit_code, 2);
}

TEST_F(LogsCli, StatsSummarisesFilesAndMalformedLines) {
  const auto r = logs("stats " + dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("files read: 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("events.json.2.gz"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("events: 10 in 6 lines"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("time range: 2026-11-29T09:00:01Z .. 2026-11-29T10:00:00Z"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("malformed lines: 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("events.json.1:2: not a JSON object"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("by action:\n             7  block\n             3  allow\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("           1  kiosk"), std::string::npos) << r.out;
  const auto json = logs("stats --json " + dir());
  EXPECT_NE(json.out.find("\"events\":10,\"malformed\":2"), std::string::npos) << json.out;
}

TEST_F(LogsCli, ConfigDefaultsToTheEventsPathAndItsRotatedFiles) {
  write("egressguard.toml",
        "default_group = \"gov-managed\"\n[events]\npath = \"events.json\"\n"
        "[[group]]\nname = \"gov-managed\"\n");
  write("unrelated.json", event("09:00:00", "z", "byod", "10.9.0.9", "x.example", "allow"));
  const auto r = logs("--config " + path("egressguard.toml") + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(tags(r.out), "abcdef");
}

TEST_F(LogsCli, UnreadableInputsAreReportedAndTheRestPrinted) {
  const auto r = logs(path("missing.json") + " " + path("events.json") + " --json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(tags(r.out), "cf");
  EXPECT_NE(r.err.find("missing.json: No such file or directory"), std::string::npos) << r.err;
  EXPECT_EQ(logs("").exit_code, 2);  // no inputs and no --config
}

}  // namespace
}  // namespace egressguard::testing
