// [events] and [[events.syslog]] in egressguard.toml: values and exact error messages.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/app/config.h"

namespace egressguard::app {
namespace {

constexpr const char* kBase = R"(default_group = "gov"
[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]
[[group]]
name = "gov"
cidrs = ["10.8.0.0/16"]
block = ["tiktok"]
)";

// The config with `events` (lines from line 10 on) appended.
Result<Config, std::vector<std::string>> with_events(const std::string& events) {
  return parse_config(std::string(kBase) + "\n" + events, "eg.toml", "/etc/eg");
}

TEST(ConfigEvents, DefaultsWhenAbsent) {
  auto config = with_events("");
  ASSERT_TRUE(config.has_value());
  const auto& e = config->events;
  EXPECT_EQ(e.path, "");
  EXPECT_EQ(e.queue_capacity, 65536U);
  EXPECT_EQ(e.rotate_size, 0U);
  EXPECT_FALSE(e.rotate_daily);
  EXPECT_EQ(e.keep, 0U);
  EXPECT_EQ(e.max_age_days, 0U);
  EXPECT_FALSE(e.compress);
  EXPECT_EQ(e.aggregate_window_ms, 0U);
  EXPECT_FALSE(e.to_stdout);
  EXPECT_TRUE(e.syslog.empty());
}

TEST(ConfigEvents, ReadsEveryKey) {
  auto config = with_events(R"([events]
path = "log/events.json"
sensor = "gw-1"
log_allowed = true
queue_capacity = 1024
rotate_size = "100MB"
rotate_daily = true
keep = 30
max_age_days = 90
compress = true
aggregate_window = "10s"
stdout = true
[[events.syslog]]
address = "siem.example:6514"
protocol = "tcp"
facility = "local5"
app_name = "eg-gw1"
[[events.syslog]]
address = "[2001:db8::1]:514"
)");
  ASSERT_TRUE(config.has_value()) << config.error().front();
  const auto& e = config->events;
  EXPECT_EQ(e.path, "/etc/eg/log/events.json");
  EXPECT_EQ(e.sensor, "gw-1");
  EXPECT_TRUE(e.log_allowed);
  EXPECT_EQ(e.queue_capacity, 1024U);
  EXPECT_EQ(e.rotate_size, 100ULL << 20);
  EXPECT_TRUE(e.rotate_daily);
  EXPECT_EQ(e.keep, 30U);
  EXPECT_EQ(e.max_age_days, 90U);
  EXPECT_TRUE(e.compress);
  EXPECT_EQ(e.aggregate_window_ms, 10'000U);
  EXPECT_TRUE(e.to_stdout);
  ASSERT_EQ(e.syslog.size(), 2U);
  EXPECT_EQ(e.syslog[0].host, "siem.example");
  EXPECT_EQ(e.syslog[0].port, 6514);
  EXPECT_EQ(e.syslog[0].protocol, events::SyslogProtocol::Tcp);
  EXPECT_EQ(e.syslog[0].facility, 21);
  EXPECT_EQ(e.syslog[0].app_name, "eg-gw1");
  EXPECT_EQ(e.syslog[1].host, "2001:db8::1");
  EXPECT_EQ(e.syslog[1].protocol, events::SyslogProtocol::Udp);
  EXPECT_EQ(e.syslog[1].facility, 16);
  EXPECT_EQ(e.syslog[1].app_name, "egressguard");
}

TEST(ConfigEvents, AcceptsOneSyslogTableAndPlainNumbers) {
  auto config = with_events(R"([events]
path = "-"
rotate_size = 1048576
aggregate_window = 5
[events.syslog]
address = "127.0.0.1:514"
)");
  ASSERT_TRUE(config.has_value()) << config.error().front();
  EXPECT_EQ(config->events.path, "-");
  EXPECT_EQ(config->events.rotate_size, 1048576U);
  EXPECT_EQ(config->events.aggregate_window_ms, 5000U);
  ASSERT_EQ(config->events.syslog.size(), 1U);
}

struct ErrorCase {
  const char* description;
  const char* events;
  std::vector<std::string> errors;
};

TEST(ConfigEvents, ReportsEachProblemWithFileLineAndColumn) {
  const ErrorCase cases[] = {
      {"unknown key",
       "[events]\nrotate = 1\n",
       {"eg.toml:11:1: unknown key \"rotate\" in [events]: expected one of path, log_allowed, "
        "sensor, queue_capacity, rotate_size, rotate_daily, keep, max_age_days, compress, "
        "aggregate_window, stdout, syslog"}},
      {"bad size unit",
       "[events]\nrotate_size = \"100MX\"\n",
       {"eg.toml:11:15: events.rotate_size \"100MX\" is not a size: unknown unit \"MX\": "
        "expected B, K, M, G or T"}},
      {"size too small",
       "[events]\nrotate_size = \"1K\"\n",
       {"eg.toml:11:15: events.rotate_size 1024 bytes is too small: rotate at 4KB or more (0 = "
        "never)"}},
      {"size of the wrong type",
       "[events]\nrotate_size = true\n",
       {"eg.toml:11:15: events.rotate_size must be a string such as \"100MB\": got a boolean"}},
      {"negative size",
       "[events]\nrotate_size = -1\n",
       {"eg.toml:11:15: events.rotate_size -1 is out of range: must be >= 0"}},
      {"duration without unit",
       "[events]\naggregate_window = \"10\"\n",
       {"eg.toml:11:20: events.aggregate_window \"10\" is not a duration: a unit is required: "
        "ms, s, m or h"}},
      {"duration too long",
       "[events]\naggregate_window = \"2h\"\n",
       {"eg.toml:11:20: events.aggregate_window is too long: at most 1h (0 = off)"}},
      {"queue too small",
       "[events]\nqueue_capacity = 1\n",
       {"eg.toml:11:18: events.queue_capacity 1 is out of range: must be 16..16777216"}},
      {"keep not an integer",
       "[events]\nkeep = \"30\"\n",
       {"eg.toml:11:8: events.keep must be an integer: got a string"}},
      {"compress not a boolean",
       "[events]\ncompress = \"yes\"\n",
       {"eg.toml:11:12: events.compress must be true or false: got a string"}},
      {"syslog without address",
       "[[events.syslog]]\nprotocol = \"udp\"\n",
       {"eg.toml:10:1: events.syslog[0].address is missing: it is required"}},
      {"syslog without port",
       "[[events.syslog]]\naddress = \"siem.example\"\n",
       {"eg.toml:11:11: events.syslog[0].address \"siem.example\" is not host:port: a port is "
        "required: write \"host:514\""}},
      {"syslog protocol",
       "[events.syslog]\naddress = \"h:514\"\nprotocol = \"tls\"\n",
       {"eg.toml:12:12: events.syslog.protocol \"tls\" is not a protocol: expected \"udp\" or "
        "\"tcp\""}},
      {"syslog facility",
       "[events.syslog]\naddress = \"h:514\"\nfacility = \"local9\"\n",
       {"eg.toml:12:12: events.syslog.facility \"local9\" is unknown: expected a syslog facility "
        "name: kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp or "
        "local0..local7"}},
      {"syslog app name",
       "[events.syslog]\naddress = \"h:514\"\napp_name = \"my app\"\n",
       {"eg.toml:12:12: events.syslog.app_name \"my app\" must be printable US-ASCII without "
        "spaces (RFC 5424 APP-NAME)"}},
      {"syslog unknown key",
       "[events.syslog]\naddress = \"h:514\"\nport = 514\n",
       {"eg.toml:12:1: unknown key \"port\" in events.syslog: expected one of address, protocol, "
        "facility, app_name"}},
      {"syslog not a table",
       "[events]\nsyslog = \"h:514\"\n",
       {"eg.toml:11:10: events.syslog must be a table: write [[events.syslog]] with address = "
        "\"host:514\""}},
      {"several at once",
       "[events]\nkeep = -1\nmax_age_days = 40000\n",
       {"eg.toml:11:8: events.keep -1 is out of range: must be 0..100000",
        "eg.toml:12:16: events.max_age_days 40000 is out of range: must be 0..36500"}},
  };
  for (const ErrorCase& c : cases) {
    auto config = with_events(c.events);
    ASSERT_FALSE(config.has_value()) << c.description;
    EXPECT_EQ(config.error(), c.errors) << c.description;
  }
}

}  // namespace
}  // namespace egressguard::app
