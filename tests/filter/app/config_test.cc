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
                  "default_group, inspect, events, category, group"},
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
                  "description, cidrs, interfaces, macs, vlans, block, allow, mode"},
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

}  // namespace
}  // namespace egressguard::app
