// Golden tests of the generated ruleset: the printed text of each fixture config must equal the
// .golden file beside it. Regenerate after an intended change (and review the diff) with
//   cd tests/filter/datapath/firewall/data
//   egressguard firewall print --config X.toml > X.golden
#include "filter/datapath/firewall/ruleset.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"

namespace egressguard::firewall {
namespace {

const std::string kData =
    std::string(EGRESSGUARD_SOURCE_DIR) + "/tests/filter/datapath/firewall/data/";

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(FirewallPrint, MatchesGoldenFiles) {
  for (const char* name : {"gateway", "monitor_only", "closed"}) {
    const std::string config = kData + name + ".toml";
    const auto run = testing::run_command(testing::egressguard_binary() +
                                          " firewall print --config '" + config + "'");
    EXPECT_EQ(run.exit_code, 0) << name << ": " << run.err;
    EXPECT_EQ(run.out, read(kData + name + ".golden")) << name;
  }
}

inspect::GroupSpec group(std::string name, std::string cidr, bool blocks,
                         inspect::Mode mode = inspect::Mode::Enforce) {
  inspect::GroupSpec g;
  g.name = std::move(name);
  g.members.cidrs.push_back(*inspect::Cidr::parse(cidr));
  if (blocks) {
    g.block.push_back("tiktok");
  }
  g.mode = mode;
  return g;
}

TEST(BuildRuleset, OnlyEnforcedGroupsGetChains) {
  RulesetInput input;
  input.policy.groups = {group("gov", "10.8.0.0/16", true), group("byod", "10.30.0.0/16", false),
                         group("pilot", "10.10.0.0/16", true, inspect::Mode::Monitor)};
  input.policy.default_group = "byod";
  const Ruleset r = build_ruleset(input);
  ASSERT_EQ(r.enforced_groups, std::vector<std::string>{"gov"});
  EXPECT_NE(r.nft.find("chain g0_gov {"), std::string::npos);
  // Non-enforced groups after the last enforced one, with a non-enforced default: not named.
  EXPECT_EQ(r.nft.find("10.30.0.0/16"), std::string::npos);
  EXPECT_EQ(r.nft.find("pilot"), std::string::npos);
  EXPECT_EQ(r.nft.find("goto g0_gov  # default"), std::string::npos);
}

TEST(BuildRuleset, EarlierNonEnforcedGroupShadowsALaterEnforcedOne) {
  RulesetInput input;
  input.policy.groups = {group("exempt", "10.8.255.0/24", false),
                         group("gov", "10.8.0.0/16", true)};
  input.policy.default_group = "exempt";
  const Ruleset r = build_ruleset(input);
  const auto exempt = r.nft.find("ip saddr { 10.8.255.0/24 } accept");
  const auto gov = r.nft.find("ip saddr { 10.8.0.0/16 } goto g1_gov");
  ASSERT_NE(exempt, std::string::npos);
  ASSERT_NE(gov, std::string::npos);
  EXPECT_LT(exempt, gov);
}

TEST(BuildRuleset, FailClosedQueueHasNoBypassAndOneQueueUsesQueueNum) {
  RulesetInput input;
  input.policy.groups = {group("gov", "10.8.0.0/16", true)};
  input.policy.default_group = "gov";
  input.nfqueue.queues = {3};
  input.nfqueue.fail_open = false;
  const std::string text = format_ruleset(build_ruleset(input));
  EXPECT_NE(text.find("-j NFQUEUE --queue-num 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("--queue-bypass"), std::string::npos);
}

TEST(BuildRuleset, MissingDnsTargetBlocksThatFamilysDns) {
  RulesetInput input;
  input.policy.groups = {group("gov", "10.8.0.0/16", true)};
  input.policy.default_group = "gov";
  input.dns_v4 = DnsTarget{*parse::IpAddress::parse("10.8.0.1"), 5353};
  const Ruleset r = build_ruleset(input);
  EXPECT_NE(r.nft.find("th dport 53 dnat ip to 10.8.0.1:5353"), std::string::npos) << r.nft;
  EXPECT_NE(r.nft.find("meta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 meta l4proto tcp "
                       "reject with tcp reset"),
            std::string::npos)
      << r.nft;
  EXPECT_EQ(r.nft.find("meta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 meta"),
            std::string::npos);
}

TEST(BuildRuleset, NothingWithoutAnEnforcedGroup) {
  RulesetInput input;
  input.policy.groups = {group("byod", "10.30.0.0/16", false)};
  input.policy.default_group = "byod";
  const Ruleset r = build_ruleset(input);
  EXPECT_TRUE(r.nft.empty());
  EXPECT_TRUE(r.iptables.empty());
}

}  // namespace
}  // namespace egressguard::firewall
