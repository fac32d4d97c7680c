#include "filter/datapath/firewall/learned_addresses.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/datapath/firewall/upstream_resolver.h"
#include "tests/filter/datapath/firewall/firewall_test_helpers.h"

namespace egressguard::firewall {
namespace {

using testing::FakeBackend;
using testing::PolicyFixture;
using testing::Record;

parse::IpAddress ip(const char* text) {
  return *parse::IpAddress::parse(text);
}

struct LearnableCase {
  const char* address;
  bool learnable;
};

class IsLearnable : public ::testing::TestWithParam<LearnableCase> {};

TEST_P(IsLearnable, MatchesTheTable) {
  EXPECT_EQ(is_learnable(ip(GetParam().address)), GetParam().learnable) << GetParam().address;
}

INSTANTIATE_TEST_SUITE_P(
    Table, IsLearnable,
    ::testing::Values(
        // The lab's servers live in documentation ranges: they must be learnable.
        LearnableCase{"198.51.100.10", true}, LearnableCase{"192.0.2.53", true},
        LearnableCase{"203.0.113.7", true}, LearnableCase{"10.1.2.3", true},
        LearnableCase{"8.8.8.8", true}, LearnableCase{"0.0.0.0", false},
        LearnableCase{"0.1.2.3", false}, LearnableCase{"127.0.0.1", false},
        LearnableCase{"127.255.0.1", false}, LearnableCase{"169.254.1.1", false},
        LearnableCase{"224.0.0.1", false}, LearnableCase{"239.255.255.250", false},
        LearnableCase{"255.255.255.255", false}, LearnableCase{"2001:db8:100::10", true},
        LearnableCase{"2606:4700::1111", true}, LearnableCase{"fd00::1", true},
        LearnableCase{"::", false}, LearnableCase{"::1", false}, LearnableCase{"fe80::1", false},
        LearnableCase{"febf::1", false}, LearnableCase{"fec0::1", true},
        LearnableCase{"ff02::1", false}, LearnableCase{"::ffff:127.0.0.1", false},
        LearnableCase{"::ffff:198.51.100.10", true}));

TEST(IsLearnable, RefusesAnUnsetAddress) {
  EXPECT_FALSE(is_learnable(parse::IpAddress{}));
}

struct ClassifyCase {
  const char* description;
  std::vector<std::string_view> names;
  AnswerTarget target;
};

class ClassifyNames : public ::testing::TestWithParam<ClassifyCase> {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new PolicyFixture;
    policy_ = new std::shared_ptr<const inspect::PolicySnapshot>(fixture_->build());
  }
  static void TearDownTestSuite() {
    delete policy_;
    delete fixture_;
  }
  static PolicyFixture* fixture_;
  static std::shared_ptr<const inspect::PolicySnapshot>* policy_;
};
PolicyFixture* ClassifyNames::fixture_ = nullptr;
std::shared_ptr<const inspect::PolicySnapshot>* ClassifyNames::policy_ = nullptr;

TEST_P(ClassifyNames, MatchesTheTable) {
  const ClassifyCase& c = GetParam();
  EXPECT_EQ(classify_names(**policy_, c.names, "doh-bypass"), c.target) << c.description;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyNames,
    ::testing::Values(
        ClassifyCase{"blocked qname", {"www.tiktok.com"}, AnswerTarget::Learned},
        ClassifyCase{"raw case and trailing dot", {"WWW.TikTok.COM."}, AnswerTarget::Learned},
        ClassifyCase{"allowed qname, blocked CNAME",
                     {"cdn.example-shop.com", "www.tiktok.com", "edge.example.net"},
                     AnswerTarget::Learned},
        ClassifyCase{"blocked owner at the end of the chain",
                     {"cdn.example-shop.com", "v16m.tiktokcdn.com"},
                     AnswerTarget::Learned},
        ClassifyCase{
            "exception of the enforced group", {"newsroom.tiktok.com"}, AnswerTarget::None},
        ClassifyCase{"allowed name", {"www.example.org"}, AnswerTarget::None},
        ClassifyCase{"look-alike is not a subdomain", {"nottiktok.com"}, AnswerTarget::None},
        ClassifyCase{"doh: bare name of a suffix rule", {"dns.google"}, AnswerTarget::Doh},
        ClassifyCase{"doh: subdomain", {"x.dns.google"}, AnswerTarget::Doh},
        ClassifyCase{"doh: exact rule", {"cloudflare-dns.com"}, AnswerTarget::Doh},
        ClassifyCase{
            "doh wins over another category", {"www.tiktok.com", "dns.google"}, AnswerTarget::Doh},
        ClassifyCase{"bad name", {"exa mple..com"}, AnswerTarget::None},
        ClassifyCase{"no names", {}, AnswerTarget::None}));

TEST(ClassifyNamesModes, MonitorGroupsTeachNothing) {
  PolicyFixture fixture;
  const auto policy = fixture.build(false);  // gov in monitor mode: no group enforces
  const std::vector<std::string_view> names = {"www.tiktok.com"};
  EXPECT_EQ(classify_names(*policy, names, "doh-bypass"), AnswerTarget::None);
}

class LearnedTest : public ::testing::Test {
 protected:
  LearnedTest() : policy_(fixture_.build()) {}

  std::unique_ptr<LearnedAddresses> learned(bool learn_ips) {
    FirewallConfig config;
    config.learn_ips = learn_ips;
    config.learn_timeout_s = 3600;
    config.doh_timeout_s = 86400;
    return std::make_unique<LearnedAddresses>(config, writer_);
  }
  inspect::Verdict answer(LearnedAddresses& hook, std::string_view qname, std::string_view owner,
                          const char* address, const std::vector<std::string>& cnames = {}) {
    dnsproxy::AnswerAddressContext context;
    context.policy = policy_.get();
    context.group = 1;  // byod
    context.qname = qname;
    context.owner = owner;
    context.cnames = cnames;
    return hook.on_answer_address(context, ip(address));
  }
  std::string sent() {
    writer_.flush_batch();
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::string all;
    for (const auto& c : state_->commands) {
      all += c;
    }
    return all;
  }

  PolicyFixture fixture_;
  std::shared_ptr<const inspect::PolicySnapshot> policy_;
  std::shared_ptr<FakeBackend::State> state_ = std::make_shared<FakeBackend::State>();
  NftSetWriter writer_{std::make_unique<FakeBackend>(state_)};
};

TEST_F(LearnedTest, BlockedNameOfAnEnforcedGroupIsLearnedFromAByodAnswer) {
  auto hook = learned(true);
  EXPECT_EQ(answer(*hook, "www.tiktok.com", "www.tiktok.com", "198.51.100.10"),
            inspect::Verdict::Allow);
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "2001:db8:100::10");
  EXPECT_EQ(sent(),
            "add element inet egressguard learned_v4 { 198.51.100.10 timeout 3600s }\n"
            "add element inet egressguard learned_v6 { 2001:db8:100::10 timeout 3600s }\n");
  EXPECT_EQ(hook->counters().learned_added, 2U);
}

TEST_F(LearnedTest, AllowedNamesAddNothing) {
  auto hook = learned(true);
  answer(*hook, "www.example.org", "www.example.org", "198.51.100.10");
  answer(*hook, "newsroom.tiktok.com", "newsroom.tiktok.com", "198.51.100.11");
  EXPECT_EQ(sent(), "");
  EXPECT_EQ(hook->counters().learned_added, 0U);
}

TEST_F(LearnedTest, CnameInTheMiddleOfTheChainCounts) {
  auto hook = learned(true);
  answer(*hook, "cdn.example-shop.com", "edge.example.net", "198.51.100.30",
         {"www.tiktok.com", "edge.example.net"});
  EXPECT_EQ(sent(), "add element inet egressguard learned_v4 { 198.51.100.30 timeout 3600s }\n");
}

TEST_F(LearnedTest, LearnIpsOffStillFillsTheDohSets) {
  auto hook = learned(false);
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "198.51.100.10");
  answer(*hook, "dns.google", "dns.google", "192.0.2.8");
  EXPECT_EQ(sent(), "add element inet egressguard doh_v4 { 192.0.2.8 timeout 86400s }\n");
  EXPECT_EQ(hook->counters().doh_added, 1U);
  EXPECT_EQ(hook->counters().learned_added, 0U);
}

TEST_F(LearnedTest, LoopbackAndLinkLocalAnswersAreNeverLearned) {
  auto hook = learned(true);
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "127.0.0.1");
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "0.0.0.0");
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "fe80::1");
  EXPECT_EQ(sent(), "");
  EXPECT_EQ(hook->counters().unlearnable, 3U);
}

TEST_F(LearnedTest, HotNameIsAddedOnce) {
  auto hook = learned(true);
  for (int i = 0; i < 100; ++i) {
    answer(*hook, "www.tiktok.com", "www.tiktok.com", "198.51.100.10");
  }
  EXPECT_EQ(hook->counters().learned_added, 1U);
  EXPECT_EQ(hook->counters().learned_recent, 99U);
  EXPECT_EQ(writer_.counters().enqueued, 1U);
}

TEST_F(LearnedTest, ANewPolicyIsNotAnsweredFromTheMemo) {
  auto hook = learned(true);
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "198.51.100.10");
  policy_ = fixture_.build(false, 2);  // reload: nothing enforced any more
  answer(*hook, "www.tiktok.com", "www.tiktok.com", "198.51.100.11");
  EXPECT_EQ(sent(), "add element inet egressguard learned_v4 { 198.51.100.10 timeout 3600s }\n");
}

// Through the DNS proxy's core: a BYOD client's query is forwarded and the upstream's answer
// goes through the hook with its CNAME chain.
TEST_F(LearnedTest, ProxyCoreHandsRelayedAnswersToTheHook) {
  auto hook = learned(true);
  inspect::PolicyStore store(policy_);
  dnsproxy::DnsProxyCore core(dnsproxy::DnsProxyConfig{}, store, nullptr, hook.get());
  dnsproxy::DnsProxyStats stats;
  dnsproxy::ClientInfo byod;
  byod.ip = ip("10.30.0.20");
  byod.port = 40000;
  struct Case {
    const char* qname;
    std::vector<Record> records;
  };
  const std::vector<Case> cases = {
      {"www.tiktok.com",
       {{"www.tiktok.com", 1, "198.51.100.10"}, {"www.tiktok.com", 28, "2001:db8:100::10"}}},
      {"cdn.example-shop.com",
       {{"cdn.example-shop.com", 5, "www.tiktok.com"},
        {"www.tiktok.com", 5, "edge.example.net"},
        {"edge.example.net", 1, "198.51.100.20"}}},
      {"www.example.org", {{"www.example.org", 1, "198.51.100.30"}}},
  };
  for (const Case& c : cases) {
    const auto query = *build_address_query(c.qname, 1, 0x4242);
    dnsproxy::PendingQuery pending;
    ASSERT_EQ(core.on_query(query, byod, pending, stats).kind,
              dnsproxy::QueryOutcome::Kind::Forward)
        << c.qname;
    const auto response = testing::make_response(query, c.records);
    ASSERT_TRUE(core.on_response(pending, response, stats).has_value()) << c.qname;
  }
  EXPECT_EQ(sent(),
            "add element inet egressguard learned_v4 { 198.51.100.10 timeout 3600s, "
            "198.51.100.20 timeout 3600s }\n"
            "add element inet egressguard learned_v6 { 2001:db8:100::10 timeout 3600s }\n");
}

}  // namespace
}  // namespace egressguard::firewall
