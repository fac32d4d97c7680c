#include "filter/app/config.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace egressguard::app {
namespace {

constexpr const char* kMinimal = R"(default_group = "gov"
[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]
[[group]]
name = "gov"
cidrs = ["10.8.0.0/16"]
block = ["tiktok"]
)";

std::vector<std::string> errors_of(const std::string& text) {
  auto config = parse_config(text, "eg.toml", "/etc/eg");
  if (config) {
    return {};
  }
  return config.error();
}

TEST(ParseConfig, AcceptsMinimalConfigAndResolvesListPaths) {
  auto config = parse_config(kMinimal, "eg.toml", "/etc/eg");
  ASSERT_TRUE(config.has_value()) << (config ? "" : config.error().front());
  EXPECT_EQ(config->policy.default_group, "gov");
  ASSERT_EQ(config->policy.categories.size(), 1U);
  ASSERT_EQ(config->policy.categories[0].lists.size(), 1U);
  EXPECT_EQ(config->policy.categories[0].lists[0].path, "/etc/eg/tiktok.txt");
  EXPECT_EQ(config->policy.categories[0].lists[0].name, "tiktok");
  ASSERT_EQ(config->policy.groups.size(), 1U);
  EXPECT_EQ(config->policy.groups[0].members.cidrs.size(), 1U);
  EXPECT_EQ(config->policy.groups[0].mode, inspect::Mode::Enforce);
}

struct ErrorCase {
  const char* description;
  std::string text;
  std::string expected;  // the exact first message
};

class ConfigErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrors, ReportsFileLineColumnWhatAndWhy) {
  const auto errors = errors_of(GetParam().text);
  ASSERT_FALSE(errors.empty()) << GetParam().description;
  EXPECT_EQ(errors.front(), GetParam().expected) << GetParam().description;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(
        ErrorCase{"unknown top-level key", "defualt_group = \"x\"\n" + std::string(kMinimal),
                  "eg.toml:1:1: unknown key \"defualt_group\" in the top level: expected one of "
                  "default_group, inspect, events, category, group, nfqueue, firewall, dns, "
                  "control, geoip, metrics, run"},
        ErrorCase{"typo in a group key switches nothing off silently",
                  R"(default_group = "gov"
[[category]]
name = "tiktok"
lists = [{ path = "t.txt" }]
[[group]]
name = "gov"
blocks = ["tiktok"]
)",
                  "eg.toml:7:1: unknown key \"blocks\" in group[0]: expected one of name, "
                  "description, cidrs, interfaces, macs, vlans, block, allow, mode, "
                  "enforce_action, strip_ech, anti_bypass, block_countries, flag_countries, "
                  "block_asns"},
        ErrorCase{"missing default group",
                  R"([[group]]
name = "gov"
)",
                  "eg.toml:1:1: default_group is missing: set it explicitly to the group of "
                  "sources that match no group"},
        ErrorCase{"default group not defined",
                  R"(default_group = "guest"
[[group]]
name = "gov"
)",
                  "eg.toml:1:17: default_group \"guest\" is not a configured group: define it "
                  "with [[group]]"},
        ErrorCase{"bad CIDR",
                  R"(default_group = "gov"
[[group]]
name = "gov"
cidrs = ["10.8.0.0/33"]
)",
                  "eg.toml:4:10: group[0].cidrs \"10.8.0.0/33\" is not a CIDR: prefix length 33 "
                  "is out of range: must be 0..32"},
        ErrorCase{"not an address",
                  R"(default_group = "gov"
[[group]]
name = "gov"
cidrs = ["10.8.0/16"]
)",
                  "eg.toml:4:10: group[0].cidrs \"10.8.0/16\" is not a CIDR: \"10.8.0\" is not "
                  "an IPv4 or IPv6 address"},
        ErrorCase{"unknown blocked category",
                  R"(default_group = "gov"
[[category]]
name = "tiktok"
lists = [{ path = "t.txt" }]
[[group]]
name = "gov"
block = ["tiktk"]
)",
                  "eg.toml:7:10: group \"gov\" blocks unknown category \"tiktk\": no [[category]] "
                  "has that name"},
        ErrorCase{"bad mode",
                  R"(default_group = "gov"
[[group]]
name = "gov"
mode = "enforcing"
)",
                  "eg.toml:4:8: group[0].mode \"enforcing\" is not a mode: expected \"enforce\" "
                  "or \"monitor\""},
        ErrorCase{"bad list format",
                  R"(default_group = "gov"
[[category]]
name = "tiktok"
lists = [{ path = "t.txt", format = "dnsmasq" }]
[[group]]
name = "gov"
)",
                  "eg.toml:4:37: category[0].lists[0].format \"dnsmasq\" is not a list format: "
                  "expected plain, hosts, adblock or rpz"},
        ErrorCase{"VLAN out of range",
                  R"(default_group = "gov"
[[group]]
name = "gov"
vlans = [5000]
)",
                  "eg.toml:4:10: group[0].vlans entry is out of range: a VLAN id is 1..4094"},
        ErrorCase{"integer out of range",
                  R"(default_group = "gov"
[inspect]
max_flows = 10
[[group]]
name = "gov"
)",
                  "eg.toml:3:13: inspect.max_flows 10 is out of range: must be 1024..67108864"},
        ErrorCase{"wrong type",
                  R"(default_group = "gov"
[[group]]
name = "gov"
cidrs = "10.0.0.0/8"
)",
                  "eg.toml:4:9: group[0].cidrs must be an array of strings: got a string"},
        ErrorCase{"invalid TOML", "default_group = \n",
                  "eg.toml:1:17: invalid TOML: Error while parsing key-value pair: expected value, "
                  "saw '\\n'"},
        ErrorCase{"duplicate group",
                  R"(default_group = "gov"
[[group]]
name = "gov"
[[group]]
name = "gov"
)",
                  "eg.toml:4:1: group \"gov\" is defined twice: names must be unique"},
        ErrorCase{"category without lists",
                  R"(default_group = "gov"
[[category]]
name = "x"
[[group]]
name = "gov"
)",
                  "eg.toml:2:1: category[0].lists is missing: a category needs at least one "
                  "list"}));

TEST(ParseConfig, ReportsEveryProblemAtOnce) {
  const auto errors = errors_of(R"(default_group = "gov"
[[group]]
name = "gov"
cidrs = ["nope", "10.0.0.0/8", "1.2.3.4/99"]
macs = ["zz:00:00:00:00:00"]
mode = "x"
)");
  EXPECT_EQ(errors.size(), 4U);
}

TEST(ParseConfig, GroupsKeepConfigurationOrder) {
  auto config = parse_config(R"(default_group = "b"
[[group]]
name = "z"
[[group]]
name = "a"
[[group]]
name = "b"
mode = "monitor"
)",
                             "eg.toml", "");
  ASSERT_TRUE(config.has_value());
  ASSERT_EQ(config->policy.groups.size(), 3U);
  EXPECT_EQ(config->policy.groups[0].name, "z");
  EXPECT_EQ(config->policy.groups[1].name, "a");
  EXPECT_EQ(config->policy.groups[2].mode, inspect::Mode::Monitor);
}

TEST(LoadConfig, MissingFileSaysWhy) {
  auto config = load_config("/nonexistent/egressguard.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().front(),
            "/nonexistent/egressguard.toml: cannot open: No such file or directory");
}

TEST(LoadConfig, ExampleConfigIsValid) {
  auto config = load_config(std::string(EGRESSGUARD_SOURCE_DIR) + "/examples/egressguard.toml");
  ASSERT_TRUE(config.has_value()) << (config ? "" : config.error().front());
  EXPECT_EQ(config->policy.default_group, "gov-managed");
  std::vector<std::string> names;
  for (const auto& g : config->policy.groups) {
    names.push_back(g.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"exempt", "gov-managed", "byod", "guest"}));
}

// [nfqueue], [firewall] and enforce_action (the inline gateway).
TEST(ParseConfig, ReadsNfqueueFirewallAndEnforceAction) {
  auto config = parse_config(std::string(kMinimal) + R"(enforce_action = "drop"
[nfqueue]
queues = [2, 3, 4]
fail_mode = "closed"
max_packets = 12
[firewall]
learn_ips = true
learn_timeout = 600
doh_addresses = ["1.1.1.1", "2606:4700:4700::1111"]
)",
                             "eg.toml", "/etc/eg");
  ASSERT_TRUE(config.has_value()) << (config ? "" : config.error().front());
  EXPECT_TRUE(config->nfqueue.enabled);
  EXPECT_EQ(config->nfqueue.queues, (std::vector<std::uint16_t>{2, 3, 4}));
  EXPECT_FALSE(config->nfqueue.fail_open);
  EXPECT_EQ(config->nfqueue.max_packets, 12U);
  EXPECT_TRUE(config->firewall.learn_ips);
  EXPECT_EQ(config->firewall.learn_timeout_s, 600U);
  EXPECT_EQ(config->firewall.doh_addresses.size(), 2U);
  EXPECT_EQ(config->policy.groups[0].enforce_action, inspect::EnforceAction::Drop);
}

TEST(ParseConfig, InlineDefaultsAreRejectAndNoNfqueue) {
  auto config = parse_config(kMinimal, "eg.toml", "/etc/eg");
  ASSERT_TRUE(config.has_value());
  EXPECT_FALSE(config->nfqueue.enabled);
  EXPECT_FALSE(config->firewall.learn_ips);
  EXPECT_EQ(config->policy.groups[0].enforce_action, inspect::EnforceAction::Reject);
}

TEST(ParseConfig, InlineErrorsSayWhatAndWhy) {
  struct Case {
    const char* what;
    std::string text;
    std::string expected;
  };
  const std::string base(kMinimal);
  const Case cases[] = {
      {"fail_mode is required", base + "[nfqueue]\nqueues = [0]\n",
       "eg.toml:9:1: nfqueue.fail_mode is missing: set \"open\" (traffic passes uninspected "
       "while egressguard is down) or \"closed\" (it stops)"},
      {"bad fail_mode", base + "[nfqueue]\nfail_mode = \"maybe\"\n",
       "eg.toml:10:13: nfqueue.fail_mode \"maybe\" is not a mode: expected \"open\" or "
       "\"closed\""},
      {"queue out of range", base + "[nfqueue]\nfail_mode = \"open\"\nqueues = [70000]\n",
       "eg.toml:11:11: nfqueue.queues entry is out of range: must be 0..65535"},
      {"queues not consecutive", base + "[nfqueue]\nfail_mode = \"open\"\nqueues = [0, 2]\n",
       "eg.toml:11:14: nfqueue.queues 2 does not follow 0: queues must be consecutive "
       "(--queue-balance first:last)"},
      {"unknown nfqueue key", base + "[nfqueue]\nfail_mode = \"open\"\nqueue = 1\n",
       "eg.toml:11:1: unknown key \"queue\" in [nfqueue]: expected one of queues, fail_mode, "
       "max_packets, queue_maxlen, batch, socket_buffer"},
      {"bad enforce_action", base + "enforce_action = \"block\"\n",
       "eg.toml:9:18: group[0].enforce_action \"block\" is not an action: expected \"reject\" "
       "(TCP reset, ICMP) or \"drop\""},
      {"bad doh address", base + "[firewall]\ndoh_addresses = [\"dns.google\"]\n",
       "eg.toml:10:18: firewall.doh_addresses \"dns.google\" is not an IP address: expected "
       "e.g. 1.1.1.1 or 2606:4700::1111"},
  };
  for (const Case& c : cases) {
    const auto errors = errors_of(c.text);
    ASSERT_FALSE(errors.empty()) << c.what;
    EXPECT_EQ(errors.front(), c.expected) << c.what;
  }
}

TEST(ParseConfig, ReadsDnsControlAndGroupDnsKeys) {
  const std::string text = std::string(kMinimal) +
                           "strip_ech = true\n"
                           "anti_bypass = false\n"
                           "[dns]\n"
                           "listen = [\"127.0.0.1:5353\", \"[::1]:5353\", \"10.8.0.1\"]\n"
                           "upstreams = [\"192.0.2.53\", \"[2001:db8:53::53]:5300\"]\n"
                           "block_answer = \"null\"\n"
                           "block_ttl = 30\n"
                           "workers = 4\n"
                           "upstream_timeout_ms = 250\n"
                           "query_timeout_ms = 900\n"
                           "tcp_idle_timeout_ms = 5000\n"
                           "max_tcp_connections = 10\n"
                           "max_tcp_pipeline = 4\n"
                           "max_pending = 100\n"
                           "udp_payload = 1400\n"
                           "[control]\n"
                           "socket = \"run/ctl.sock\"\n";
  auto config = parse_config(text, "eg.toml", "/etc/eg");
  ASSERT_TRUE(config.has_value()) << (config ? "" : config.error().front());
  const auto& dns = config->dns;
  EXPECT_TRUE(dns.enabled);
  ASSERT_EQ(dns.listen.size(), 3U);
  EXPECT_EQ(dns.listen[0].to_string(), "127.0.0.1:5353");
  EXPECT_EQ(dns.listen[1].to_string(), "[::1]:5353");
  EXPECT_EQ(dns.listen[2].to_string(), "10.8.0.1:53");
  ASSERT_EQ(dns.upstreams.size(), 2U);
  EXPECT_EQ(dns.upstreams[0].to_string(), "192.0.2.53:53");
  EXPECT_EQ(dns.upstreams[1].to_string(), "[2001:db8:53::53]:5300");
  EXPECT_EQ(dns.block_answer, dnsproxy::BlockAnswer::Null);
  EXPECT_EQ(dns.block_ttl, 30U);
  EXPECT_EQ(dns.workers, 4U);
  EXPECT_EQ(dns.upstream_timeout_ms, 250U);
  EXPECT_EQ(dns.query_timeout_ms, 900U);
  EXPECT_EQ(dns.tcp_idle_timeout_ms, 5000U);
  EXPECT_EQ(dns.max_tcp_connections, 10U);
  EXPECT_EQ(dns.max_tcp_pipeline, 4U);
  EXPECT_EQ(dns.max_pending, 100U);
  EXPECT_EQ(dns.udp_payload, 1400U);
  EXPECT_EQ(config->control.socket, "/etc/eg/run/ctl.sock");
  ASSERT_EQ(config->policy.groups.size(), 1U);
  EXPECT_TRUE(config->policy.groups[0].strip_ech);
  EXPECT_FALSE(config->policy.groups[0].anti_bypass);
}

TEST(ParseConfig, DnsDefaults) {
  auto config = parse_config(kMinimal, "eg.toml", "/etc/eg");
  ASSERT_TRUE(config.has_value());
  EXPECT_FALSE(config->dns.enabled);
  EXPECT_TRUE(config->control.socket.empty());
  EXPECT_FALSE(config->policy.groups[0].strip_ech);
  EXPECT_TRUE(config->policy.groups[0].anti_bypass) << "anti-bypass is on by default";
  EXPECT_EQ(config->dns.block_answer, dnsproxy::BlockAnswer::Nxdomain);
}

TEST(ParseConfig, DnsErrorsSayWhatAndWhy) {
  const std::string base = std::string(kMinimal);  // 8 lines
  const std::string ok_lists = "listen = [\"127.0.0.1:53\"]\nupstreams = [\"192.0.2.53\"]\n";
  struct Case {
    const char* what;
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"no listen", base + "[dns]\nupstreams = [\"192.0.2.53\"]\n",
       "eg.toml:9:1: dns.listen is missing: give at least one address such as "
       "\"192.0.2.53:53\" or \"[::1]:53\""},
      {"empty upstreams", base + "[dns]\nlisten = [\"127.0.0.1\"]\nupstreams = []\n",
       "eg.toml:11:13: dns.upstreams is empty: give at least one address such as "
       "\"192.0.2.53:53\" or \"[::1]:53\""},
      {"bad address", base + "[dns]\nlisten = [\"localhost:53\"]\nupstreams = [\"192.0.2.53\"]\n",
       "eg.toml:10:11: dns.listen \"localhost:53\" is not an address: not an IPv4 or IPv6 "
       "address (write IPv6 with a port as [addr]:port)"},
      {"bad port", base + "[dns]\nlisten = [\"127.0.0.1:99999\"]\nupstreams = [\"192.0.2.53\"]\n",
       "eg.toml:10:11: dns.listen \"127.0.0.1:99999\" is not an address: the port must be a "
       "number 1..65535"},
      {"bad block answer", base + "[dns]\n" + ok_lists + "block_answer = \"drop\"\n",
       "eg.toml:12:16: dns.block_answer \"drop\" is not a block answer: expected "
       "\"nxdomain\", \"null\" or \"refused\""},
      {"workers out of range", base + "[dns]\n" + ok_lists + "workers = 0\n",
       "eg.toml:12:11: dns.workers 0 is out of range: must be 1..256"},
      {"unknown dns key", base + "[dns]\n" + ok_lists + "timeout = 5\n",
       "eg.toml:12:1: unknown key \"timeout\" in [dns]: expected one of listen, upstreams, "
       "block_answer, block_ttl, workers, upstream_timeout_ms, query_timeout_ms, "
       "tcp_idle_timeout_ms, max_tcp_connections, max_tcp_pipeline, max_pending, udp_payload"},
      {"control without socket", base + "[control]\n",
       "eg.toml:9:1: control.socket is missing: it is required"},
      {"strip_ech not a boolean", base + "strip_ech = \"yes\"\n",
       "eg.toml:9:13: group[0].strip_ech must be true or false: got a string"},
  };
  for (const Case& c : cases) {
    const auto errors = errors_of(c.text);
    ASSERT_FALSE(errors.empty()) << c.what;
    EXPECT_EQ(errors.front(), c.expected) << c.what;
  }
}

}  // namespace
}  // namespace egressguard::app
