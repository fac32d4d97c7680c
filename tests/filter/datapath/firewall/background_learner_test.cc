#include "filter/datapath/firewall/background_learner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filter/datapath/dnsproxy/dns_message.h"
#include "tests/filter/datapath/firewall/firewall_test_helpers.h"

namespace egressguard::firewall {
namespace {

using testing::FakeBackend;
using testing::PolicyFixture;
using testing::Record;
using namespace std::chrono_literals;

parse::IpAddress ip(const char* text) {
  return *parse::IpAddress::parse(text);
}

TEST(CategoryNames, ExactNamesAndBareNamesOfSuffixBlockRulesOnce) {
  PolicyFixture fixture;
  const auto policy = fixture.build();
  EXPECT_EQ(category_names(*policy, "doh-bypass", 100),
            (std::vector<std::string>{"cloudflare-dns.com", "dns.google"}));
  EXPECT_EQ(category_names(*policy, "doh-bypass", 1).size(), 1U);
  EXPECT_EQ(category_names(*policy, "tiktok", 100),
            (std::vector<std::string>{"tiktok.com", "tiktokcdn.com"}));
  EXPECT_TRUE(category_names(*policy, "no-such-category", 100).empty());
}

class LearnerTest : public ::testing::Test {
 protected:
  LearnerTest() : store_(fixture_.build()) {
    config_.learn_ips = true;
    config_.learn_timeout_s = 3600;
    config_.doh_timeout_s = 86400;
    learned_ = std::make_unique<LearnedAddresses>(config_, writer_);
  }

  BackgroundLearnerOptions options() {
    BackgroundLearnerOptions o;
    o.learn_blocked = true;
    o.resolve = [this](std::string_view name) -> Result<ResolvedName, std::string> {
      resolved_names_.fetch_add(1);
      const auto found = answers_.find(std::string(name));
      if (found == answers_.end()) {
        return fail("resolving " + std::string(name) + ": timeout");
      }
      return found->second;
    };
    return o;
  }
  std::string sent() {
    while (writer_.flush_batch() != 0) {
    }
    std::lock_guard<std::mutex> lock(state_->mutex);
    std::string all;
    for (const auto& c : state_->commands) {
      all += c;
    }
    return all;
  }

  PolicyFixture fixture_;
  inspect::PolicyStore store_;
  FirewallConfig config_;
  std::shared_ptr<FakeBackend::State> state_ = std::make_shared<FakeBackend::State>();
  NftSetWriter writer_{std::make_unique<FakeBackend>(state_)};
  std::unique_ptr<LearnedAddresses> learned_;
  std::map<std::string, ResolvedName> answers_ = {
      {"dns.google", {{}, {ip("192.0.2.8"), ip("2001:db8:53::8")}}},
      {"www.tiktok.com", {{"edge.example.net"}, {ip("198.51.100.10")}}},
      {"v16m.tiktokcdn.com", {{}, {ip("198.51.100.20"), ip("127.0.0.1")}}},
  };
  std::atomic<int> resolved_names_{0};
};

TEST_F(LearnerTest, StartResolvesTheDohNamesIntoTheDohSets) {
  BackgroundLearner learner(store_, *learned_, options());
  learner.start();
  ASSERT_TRUE(learner.wait_idle(5s));
  learner.stop();
  EXPECT_EQ(sent(),
            "add element inet egressguard doh_v4 { 192.0.2.8 timeout 86400s }\n"
            "add element inet egressguard doh_v6 { 2001:db8:53::8 timeout 86400s }\n");
  const BackgroundCounters c = learner.counters();
  EXPECT_EQ(c.doh_refreshes, 1U);
  EXPECT_EQ(c.doh_names, 1U);
  EXPECT_EQ(c.doh_resolved, 2U);
  EXPECT_EQ(c.resolve_failures, 1U);  // cloudflare-dns.com: no answer in this test
}

TEST_F(LearnerTest, BlockedNameIsResolvedOnceAndItsAddressesLearned) {
  BackgroundLearner learner(store_, *learned_, options());
  learner.start();
  ASSERT_TRUE(learner.wait_idle(5s));
  EXPECT_TRUE(learner.learn_blocked_name("www.tiktok.com"));
  EXPECT_FALSE(learner.learn_blocked_name("WWW.TIKTOK.COM."));  // same name, recently resolved
  EXPECT_TRUE(learner.learn_blocked_name("v16m.tiktokcdn.com"));
  ASSERT_TRUE(learner.wait_idle(5s));
  learner.stop();
  const std::string all = sent();
  EXPECT_NE(all.find("learned_v4 { "), std::string::npos) << all;
  EXPECT_NE(all.find("198.51.100.10 timeout 3600s"), std::string::npos) << all;
  EXPECT_NE(all.find("198.51.100.20 timeout 3600s"), std::string::npos) << all;
  EXPECT_EQ(all.find("127.0.0.1"), std::string::npos) << all;
  const BackgroundCounters c = learner.counters();
  EXPECT_EQ(c.blocked_names, 2U);
  EXPECT_EQ(c.blocked_learned, 2U);
  EXPECT_EQ(c.blocked_recent, 1U);
}

TEST_F(LearnerTest, BlockedNamesAreRateLimitedAndBounded) {
  BackgroundLearnerOptions o = options();
  o.blocked_per_second = 0;
  o.blocked_burst = 2;
  BackgroundLearner learner(store_, *learned_, o);  // not started: names wait in the queue
  EXPECT_TRUE(learner.learn_blocked_name("a.tiktok.com"));
  EXPECT_TRUE(learner.learn_blocked_name("b.tiktok.com"));
  EXPECT_FALSE(learner.learn_blocked_name("c.tiktok.com"));
  EXPECT_EQ(learner.counters().blocked_rate_limited, 1U);

  BackgroundLearnerOptions small = options();
  small.blocked_queue = 1;
  BackgroundLearner bounded(store_, *learned_, small);
  EXPECT_TRUE(bounded.learn_blocked_name("a.tiktok.com"));
  EXPECT_FALSE(bounded.learn_blocked_name("b.tiktok.com"));
  EXPECT_EQ(bounded.counters().blocked_dropped, 1U);
}

TEST_F(LearnerTest, BlockedNamesAreIgnoredWithoutLearnIps) {
  BackgroundLearnerOptions o = options();
  o.learn_blocked = false;
  BackgroundLearner learner(store_, *learned_, o);
  EXPECT_FALSE(learner.learn_blocked_name("www.tiktok.com"));
}

TEST_F(LearnerTest, EventSinkForwardsAndHandsEnforcedListBlocksToTheLearner) {
  class Counting : public dnsproxy::DnsEventSink {
   public:
    bool on_dns_block(const inspect::Observation&,
                      const dnsproxy::DnsBlockInfo&) noexcept override {
      ++events;
      return false;
    }
    int events = 0;
  } inner;
  BackgroundLearner learner(store_, *learned_, options());
  LearningEventSink sink(&inner, learner);
  inspect::Observation o;
  o.name = "www.tiktok.com";
  o.decision.verdict = inspect::Verdict::Block;
  o.decision.mode = inspect::Mode::Enforce;
  dnsproxy::DnsBlockInfo list;
  EXPECT_FALSE(sink.on_dns_block(o, list));  // the inner sink's answer
  dnsproxy::DnsBlockInfo anti_bypass{dnsproxy::BlockCause::AntiBypass, {}, "nxdomain", 17};
  o.name = "mask.icloud.com";
  sink.on_dns_block(o, anti_bypass);
  o.name = "v16m.tiktokcdn.com";
  o.decision.mode = inspect::Mode::Monitor;
  sink.on_dns_block(o, list);
  EXPECT_EQ(inner.events, 3);
  learner.start();
  ASSERT_TRUE(learner.wait_idle(5s));
  learner.stop();
  EXPECT_EQ(learner.counters().blocked_names, 1U);  // only www.tiktok.com

  LearningEventSink alone(nullptr, learner);
  EXPECT_TRUE(alone.on_dns_block(o, list));
}

// A UDP "upstream" on loopback answering A questions with a CNAME and an address, AAAA with
// NODATA.
class FakeUpstream {
 public:
  FakeUpstream() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpstream() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  void serve() {
    std::vector<std::uint8_t> buffer(1500);
    for (;;) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) {
        return;
      }
      const std::vector<std::uint8_t> query(buffer.begin(), buffer.begin() + n);
      parse::DnsNameBuffer qname{};
      auto message = parse::parse_dns_message(query, qname);
      if (!message) {
        continue;
      }
      std::vector<Record> records;
      if (message->qtype == 1) {
        records = {{std::string(message->qname), 5, "edge.example.net"},
                   {"edge.example.net", 1, "192.0.2.7"}};
      }
      const auto answer = testing::make_response(query, records);
      ::sendto(fd_, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST(ResolveAddresses, AsksAThenAaaaAndCollectsTheChain) {
  FakeUpstream upstream;
  const std::vector<dnsproxy::Endpoint> upstreams = {
      {ip("127.0.0.1"), upstream.port()},
  };
  auto resolved = resolve_addresses(upstreams, "dns.google", 2s);
  ASSERT_TRUE(resolved.has_value()) << resolved.error();
  EXPECT_EQ(resolved->cnames, (std::vector<std::string>{"edge.example.net"}));
  ASSERT_EQ(resolved->addresses.size(), 1U);
  EXPECT_EQ(resolved->addresses[0].to_string(), "192.0.2.7");
}

TEST(ResolveAddresses, FailsOverAndTimesOut) {
  FakeUpstream upstream;
  int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);  // bound, never answers
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(silent, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(silent, reinterpret_cast<sockaddr*>(&sa), &len);
  const dnsproxy::Endpoint dead{ip("127.0.0.1"), ntohs(sa.sin_port)};
  const std::vector<dnsproxy::Endpoint> both = {dead, {ip("127.0.0.1"), upstream.port()}};
  auto resolved = resolve_addresses(both, "dns.google", 100ms);
  ASSERT_TRUE(resolved.has_value()) << resolved.error();
  EXPECT_EQ(resolved->addresses.size(), 1U);
  const std::vector<dnsproxy::Endpoint> only_dead = {dead};
  auto failed = resolve_addresses(only_dead, "dns.google", 50ms);
  ASSERT_FALSE(failed.has_value());
  EXPECT_NE(failed.error().find("timeout"), std::string::npos) << failed.error();
  ::close(silent);
}

TEST(BuildAddressQuery, RefusesBadNames) {
  EXPECT_TRUE(build_address_query("dns.google.", 1, 7).has_value());
  EXPECT_FALSE(build_address_query("", 1, 7).has_value());
  EXPECT_FALSE(build_address_query("a..b", 1, 7).has_value());
  EXPECT_FALSE(build_address_query(std::string(64, 'a') + ".com", 1, 7).has_value());
}

}  // namespace
}  // namespace egressguard::firewall
