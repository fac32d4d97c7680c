#include "filter/metrics/decision_metrics.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "filter/metrics/list_versions.h"
#include "tests/filter/metrics/prometheus_text_helpers.h"
#include "tests/support/temp_dir.h"

namespace egressguard::metrics {
namespace {

using inspect::AppProto;
using inspect::CategorySpec;
using inspect::GroupSpec;
using inspect::ListSpec;
using inspect::Observation;
using inspect::PolicySnapshot;
using inspect::PolicySpec;

class DecisionMetricsTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return dir_.write(name, text);
  }

  static ListSpec list(std::string name, std::string path) {
    ListSpec l;
    l.name = std::move(name);
    l.path = std::move(path);
    return l;
  }

  // gov blocks tiktok (with the exception list), byod blocks nothing, pilot monitors tiktok.
  std::shared_ptr<const PolicySnapshot> build(std::uint64_t version,
                                              const std::string& byod_name = "byod") {
    PolicySpec s;
    CategorySpec tiktok;
    tiktok.name = "tiktok";
    tiktok.lists.push_back(list("tiktok", write("tiktok.txt", "*.tiktok.com\n")));
    CategorySpec telegram;
    telegram.name = "telegram";
    telegram.lists.push_back(list("telegram", write("telegram.txt", "*.telegram.org\n")));
    CategorySpec exceptions;
    exceptions.name = "exceptions";
    exceptions.lists.push_back(list("local", write("exc.txt", "newsroom.tiktok.com\n")));
    s.categories = {tiktok, telegram, exceptions};
    GroupSpec gov;
    gov.name = "gov";
    gov.block = {"tiktok"};
    gov.allow = {"local"};
    GroupSpec byod;
    byod.name = byod_name;
    GroupSpec pilot;
    pilot.name = "pilot";
    pilot.block = {"tiktok"};
    pilot.mode = inspect::Mode::Monitor;
    s.groups = {gov, byod, pilot};
    s.default_group = "gov";
    auto built = PolicySnapshot::build(s, version);
    EXPECT_TRUE(built) << (built ? "" : built.error().front());
    return built ? *built : nullptr;
  }

  static Observation observe(const PolicySnapshot& policy, std::string_view name,
                             std::uint32_t group, AppProto app = AppProto::Tls) {
    Observation o;
    o.app = app;
    o.name = name;
    o.decision = policy.decide_name(name, group);
    o.policy = &policy;
    return o;
  }

  testing::TempDir dir_{"eg-metrics"};
};

TEST_F(DecisionMetricsTest, CountsDecisionsByGroupCategoryAndAction) {
  auto policy = build(1);
  ASSERT_TRUE(policy);
  DecisionMetrics m({"dnsproxy", "nfqueue"});
  const struct {
    const char* name;
    std::uint32_t group;
    const char* category;
    DecisionAction action;
  } cases[] = {
      {"www.tiktok.com", 0, "tiktok", DecisionAction::Block},
      {"newsroom.tiktok.com", 0, "exceptions", DecisionAction::Allow},  // exception rule
      {"www.example.org", 0, "none", DecisionAction::Allow},            // no rule
      {"www.tiktok.com", 1, "none", DecisionAction::Allow},             // byod blocks nothing
      {"www.tiktok.com", 2, "tiktok", DecisionAction::WouldBlock},      // monitor mode
  };
  for (const auto& c : cases) {
    const Observation o = observe(*policy, c.name, c.group);
    const auto before = m.decisions(1, policy->groups()[c.group].spec.name, c.category, c.action);
    m.count(1, o);
    EXPECT_EQ(m.decisions(1, policy->groups()[c.group].spec.name, c.category, c.action), before + 1)
        << c.name << " group " << c.group;
    EXPECT_EQ(m.decisions(0, policy->groups()[c.group].spec.name, c.category, c.action), 0U);
  }

  Exposition out;
  m.write(out);
  auto parsed = testing::parse_prometheus_text(out.text());
  ASSERT_TRUE(parsed) << parsed.error() << "\n" << out.text();
  EXPECT_EQ(
      parsed->value(
          "egressguard_decisions_total",
          {{"datapath", "nfqueue"}, {"group", "gov"}, {"category", "tiktok"}, {"action", "block"}}),
      1);
  // Series of the matrix exist at 0 before any decision: gov x {tiktok, exceptions, none}.
  EXPECT_EQ(parsed->value("egressguard_decisions_total", {{"datapath", "dnsproxy"},
                                                          {"group", "gov"},
                                                          {"category", "exceptions"},
                                                          {"action", "block"}}),
            0);
  // A category the group does not use has no series.
  EXPECT_EQ(
      parsed->value("egressguard_decisions_total", {{"group", "gov"}, {"category", "telegram"}}),
      -1);
  EXPECT_EQ(
      parsed->value("egressguard_decisions_total", {{"group", "byod"}, {"category", "tiktok"}}),
      -1);
  // 2 datapaths x (gov: 3 categories + byod: 1 + pilot: 2) x 3 actions.
  EXPECT_EQ(parsed->count("egressguard_decisions_total"), 2U * 6U * 3U);
  EXPECT_EQ(parsed->value("egressguard_names_total", {{"datapath", "nfqueue"}, {"kind", "tls"}}),
            5);
  EXPECT_EQ(parsed->value("egressguard_decisions_unmapped_total", {{"datapath", "nfqueue"}}), 0);
}

TEST_F(DecisionMetricsTest, KeepsCountsAcrossReloadsAndAddsNewSeries) {
  auto v1 = build(1);
  DecisionMetrics m({"nfqueue"});
  m.count(0, observe(*v1, "www.tiktok.com", 0));
  auto v2 = build(2, "guest");  // byod renamed guest
  m.count(0, observe(*v2, "www.tiktok.com", 0));
  m.count(0, observe(*v2, "www.tiktok.com", 1));
  // An old snapshot still in use by a worker keeps counting into the same cells.
  m.count(0, observe(*v1, "www.tiktok.com", 1));
  EXPECT_EQ(m.decisions(0, "gov", "tiktok", DecisionAction::Block), 2U);
  EXPECT_EQ(m.decisions(0, "guest", "none", DecisionAction::Allow), 1U);
  EXPECT_EQ(m.decisions(0, "byod", "none", DecisionAction::Allow), 1U);
  Exposition out;
  m.write(out);
  auto parsed = testing::parse_prometheus_text(out.text());
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->value("egressguard_decisions_total",
                          {{"group", "byod"}, {"category", "none"}, {"action", "allow"}}),
            1);
}

TEST_F(DecisionMetricsTest, CountsNamesFlagsFlowsAndUnmappedDecisions) {
  auto policy = build(1);
  DecisionMetrics m({"nfqueue"});
  Observation quic = observe(*policy, "www.example.org", 0, AppProto::Quic);
  quic.flags = inspect::kFlagEch | inspect::kFlagSplit;
  m.count(0, quic);
  Observation unnamed;
  unnamed.app = AppProto::Tls;
  unnamed.policy = policy.get();
  unnamed.decision = policy->decide_unnamed(0);
  m.count(0, unnamed);
  Observation orphan = observe(*policy, "www.example.org", 0);
  orphan.policy = nullptr;
  m.count(0, orphan);
  Observation bad_group = observe(*policy, "www.example.org", 0);
  bad_group.decision.group = 99;
  m.count(0, bad_group);
  m.count_flow(0);
  m.count(7, quic);  // an unknown datapath is ignored
  Exposition out;
  m.write(out);
  auto parsed = testing::parse_prometheus_text(out.text());
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->value("egressguard_names_total", {{"kind", "quic"}}), 1);
  EXPECT_EQ(parsed->value("egressguard_names_total", {{"kind", "tls"}}), 2);
  EXPECT_EQ(parsed->value("egressguard_unnamed_flows_total"), 1);
  EXPECT_EQ(parsed->value("egressguard_flow_flags_total", {{"flag", "ech"}}), 1);
  EXPECT_EQ(parsed->value("egressguard_flow_flags_total", {{"flag", "split"}}), 1);
  EXPECT_EQ(parsed->value("egressguard_flow_flags_total", {{"flag", "gap"}}), 0);
  EXPECT_EQ(parsed->value("egressguard_flows_total"), 1);
  EXPECT_EQ(parsed->value("egressguard_decisions_unmapped_total"), 2);
  EXPECT_EQ(m.decisions(0, "gov", "none", DecisionAction::Allow), 2U);
}

class RecordingSink : public inspect::ObservationSink, public dnsproxy::DnsEventSink {
 public:
  void on_observation(const Observation& /*o*/) override { ++observations; }
  void on_flow_new(std::uint32_t /*group*/) override { ++flows; }
  bool on_dns_block(const Observation& /*o*/,
                    const dnsproxy::DnsBlockInfo& /*i*/) noexcept override {
    ++blocks;
    return accept;
  }
  int observations = 0, flows = 0, blocks = 0;
  bool accept = true;
};

TEST_F(DecisionMetricsTest, SinksCountAndPassEverythingOn) {
  auto policy = build(1);
  DecisionMetrics m({"dnsproxy", "nfqueue"});
  Histogram latency(latency_buckets_ns(), 1e9);
  RecordingSink next;
  CountingObservationSink inline_sink(m, 1, &next, &latency);
  CountingDnsEventSink dns_sink(m, 0, &next);
  CountingDnsEventSink dns_alone(m, 0, nullptr);

  Observation o = observe(*policy, "www.tiktok.com", 0);
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  o.ts_us = static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
            static_cast<std::uint64_t>(ts.tv_nsec) / 1000U - 200;  // arrived 200 us ago
  inline_sink.on_observation(o);
  inline_sink.on_flow_new(0);
  EXPECT_EQ(next.observations, 1);
  EXPECT_EQ(next.flows, 1);
  const HistogramSnapshot s = latency.snapshot();
  EXPECT_EQ(s.count, 1U);
  EXPECT_GE(s.sum, 200e-6);
  EXPECT_EQ(s.cumulative[2], 0U);  // not under 50 us
  o.ts_us = 1;                     // a clock step: not recorded
  inline_sink.on_observation(o);
  EXPECT_EQ(latency.snapshot().count, 1U);

  const dnsproxy::DnsBlockInfo info;
  EXPECT_TRUE(dns_sink.on_dns_block(o, info));
  next.accept = false;
  EXPECT_FALSE(dns_sink.on_dns_block(o, info));  // the next sink's drop is reported
  EXPECT_TRUE(dns_alone.on_dns_block(o, info));
  EXPECT_EQ(next.blocks, 2);
  EXPECT_EQ(m.decisions(0, "gov", "tiktok", DecisionAction::Block), 3U);
  EXPECT_EQ(m.decisions(1, "gov", "tiktok", DecisionAction::Block), 2U);
}

TEST_F(DecisionMetricsTest, CountsFromManyThreadsWithoutLosingAny) {
  auto policy = build(1);
  DecisionMetrics m({"nfqueue"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      const Observation o = observe(*policy, "www.tiktok.com", 0);
      for (int i = 0; i < 20000; ++i) {
        m.count(0, o);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(m.decisions(0, "gov", "tiktok", DecisionAction::Block), 80000U);
}

TEST_F(DecisionMetricsTest, ListVersionsNameFileRulesAndHash) {
  auto policy = build(1);
  const auto lists = list_versions(*policy);
  ASSERT_EQ(lists.size(), 3U);
  EXPECT_EQ(lists[0].name, "tiktok");
  EXPECT_EQ(lists[0].category, "tiktok");
  EXPECT_EQ(lists[0].format, "plain");
  EXPECT_EQ(lists[0].rules, 1U);
  EXPECT_EQ(lists[0].size, 13U);
  EXPECT_GT(lists[0].mtime, 0);
  // sha256("*.tiktok.com\n")
  EXPECT_EQ(lists[0].sha256, sha256_file(lists[0].path));
  EXPECT_EQ(lists[0].sha256.size(), 64U);
  const std::string empty = write("empty.txt", "");
  EXPECT_EQ(sha256_file(empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_file(dir_.file("missing")), "");

  Exposition out;
  write_list_metrics(out, lists);
  auto parsed = testing::parse_prometheus_text(out.text());
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(
      parsed->value("egressguard_list_info",
                    {{"list", "tiktok"}, {"sha256", lists[0].sha256}, {"path", lists[0].path}}),
      1);
  EXPECT_EQ(parsed->value("egressguard_list_rules", {{"list", "local"}}), 1);
  EXPECT_EQ(
      parsed->value("egressguard_list_skipped_lines", {{"list", "local"}, {"reason", "invalid"}}),
      0);
}

}  // namespace
}  // namespace egressguard::metrics
