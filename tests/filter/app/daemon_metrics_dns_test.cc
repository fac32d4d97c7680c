// DaemonMetrics and the DNS proxy / NFQUEUE datapaths: allowed DNS queries in decisions_total, the
// proxy's decision latency histogram next to the inline one, the Inspector counters' `stats`
// lines.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/app/daemon_metrics.h"
#include "filter/app/load_policy.h"
#include "tests/support/temp_dir.h"

namespace egressguard::app {
namespace {

class Loaded {
 public:
  Loaded() {
    dir_.write("tiktok.txt", "*.tiktok.com\n");
    const std::string config =
        dir_.write("eg.toml",
                   "default_group = \"gov\"\n"
                   "[[category]]\nname = \"tiktok\"\nlists = [{ path = \"tiktok.txt\" }]\n"
                   "[[group]]\nname = \"gov\"\ncidrs = [\"127.0.0.0/8\"]\nblock = [\"tiktok\"]\n");
    auto loaded = load_policy(config);
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().front());
    if (loaded) {
      result_ = std::move(*loaded);
    }
  }
  const LoadedPolicy& operator*() const { return result_; }
  const LoadedPolicy* operator->() const { return &result_; }

 private:
  testing::TempDir dir_{"eg-dm-dns"};
  LoadedPolicy result_;
};

class RecordingSink : public dnsproxy::DnsEventSink {
 public:
  bool on_dns_block(const inspect::Observation&, const dnsproxy::DnsBlockInfo&) noexcept override {
    ++blocks;
    return true;
  }
  void on_dns_allow(const inspect::Observation&) noexcept override { ++allows; }
  bool on_dns_flag(const inspect::Observation&, const dnsproxy::DnsBlockInfo&) noexcept override {
    ++flags;
    return true;
  }
  int blocks = 0, allows = 0, flags = 0;
};

bool has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(DaemonMetricsDns, AllowedQueriesAreCountedAndPassedOnFlagsAreNotCounted) {
  Loaded loaded;
  ASSERT_TRUE(loaded->policy);
  inspect::PolicyStore store(loaded->policy);
  DaemonMetrics m(loaded->config, store);
  RecordingSink next;
  dnsproxy::DnsEventSink* sink = m.wrap_dns(&next);

  inspect::Observation o;
  o.app = inspect::AppProto::Dns;
  o.policy = loaded->policy.get();
  o.name = "www.example.org";
  o.decision = loaded->policy->decide_name("www.example.org", 0);
  sink->on_dns_allow(o);
  sink->on_dns_allow(o);
  EXPECT_TRUE(sink->on_dns_flag(o, dnsproxy::DnsBlockInfo{}));
  o.name = "www.tiktok.com";
  o.decision = loaded->policy->decide_name("www.tiktok.com", 0);
  EXPECT_TRUE(sink->on_dns_block(o, dnsproxy::DnsBlockInfo{}));
  EXPECT_EQ(next.allows, 2);
  EXPECT_EQ(next.flags, 1);
  EXPECT_EQ(next.blocks, 1);

  const std::string text = m.registry().expose();
  EXPECT_TRUE(has(text,
                  "egressguard_decisions_total{datapath=\"dnsproxy\",group=\"gov\","
                  "category=\"none\",action=\"allow\"} 2\n"))
      << text;
  EXPECT_TRUE(has(text,
                  "egressguard_decisions_total{datapath=\"dnsproxy\",group=\"gov\","
                  "category=\"tiktok\",action=\"block\"} 1\n"));
  EXPECT_TRUE(has(text, "egressguard_names_total{datapath=\"dnsproxy\",kind=\"dns\"} 3\n"));
}

TEST(DaemonMetricsDns, TheProxysLatencyIsExposedBesideTheInlineOne) {
  EXPECT_EQ(std::vector<std::uint64_t>(dnsproxy::kLatencyBoundsNs.begin(),
                                       dnsproxy::kLatencyBoundsNs.end()),
            metrics::latency_buckets_ns())
      << "the two datapaths' buckets must match";
  Loaded loaded;
  ASSERT_TRUE(loaded->policy);
  inspect::PolicyStore store(loaded->policy);
  dnsproxy::DnsProxyConfig dns;  // port 0: the kernel picks one (never started)
  dns.listen = {dnsproxy::Endpoint{*parse::IpAddress::parse("127.0.0.1"), 0}};
  dns.upstreams = {dnsproxy::Endpoint{*parse::IpAddress::parse("127.0.0.1"), 9}};
  dns.workers = 1;
  auto proxy = dnsproxy::DnsProxy::open(dns, store);
  ASSERT_TRUE(proxy) << proxy.error();
  DaemonMetrics m(loaded->config, store);
  m.add_dns_proxy(**proxy);
  const std::string text = m.registry().expose();
  EXPECT_TRUE(has(text, "# TYPE egressguard_decision_latency_seconds histogram\n")) << text;
  for (
      const char* series :
      {"egressguard_decision_latency_seconds_count{datapath=\"nfqueue\"} 0\n",
       "egressguard_decision_latency_seconds_count{datapath=\"dnsproxy\",outcome=\"answered\"} 0\n",
       "egressguard_decision_latency_seconds_count{datapath=\"dnsproxy\",outcome=\"servfail\"} 0\n",
       "egressguard_decision_latency_seconds_count{datapath=\"dnsproxy\",outcome=\"dropped\"} 0\n",
       "egressguard_decision_latency_seconds_bucket{datapath=\"dnsproxy\",outcome=\"answered\","
       "le=\"1e-05\"} 0\n"}) {
    EXPECT_TRUE(has(text, series)) << series;
  }
}

TEST(DaemonMetricsDns, LatencySnapshotIsCumulativeInSeconds) {
  dnsproxy::DnsLatencyCounts::Series series;
  series.buckets[0] = 2;
  series.buckets[3] = 1;
  series.buckets.back() = 4;
  series.sum_ns = 1'500'000'000;
  const metrics::HistogramSnapshot s = latency_snapshot(series);
  ASSERT_EQ(s.upper_bounds.size(), dnsproxy::kLatencyBoundsNs.size());
  ASSERT_EQ(s.cumulative.size(), dnsproxy::kLatencyBoundsNs.size() + 1);
  EXPECT_DOUBLE_EQ(s.upper_bounds[0], 1e-05);
  EXPECT_EQ(s.cumulative[0], 2U);
  EXPECT_EQ(s.cumulative[2], 2U);
  EXPECT_EQ(s.cumulative[3], 3U);
  EXPECT_EQ(s.cumulative.back(), 7U);
  EXPECT_EQ(s.count, 7U);
  EXPECT_DOUBLE_EQ(s.sum, 1.5);
}

TEST(InspectStatsText, OneLinePerCounterPrefixedInspect) {
  inspect::InspectStats s;
  s.packets = 12;
  s.flows_evicted = 3;
  s.reassembly_drops = 4;
  s.tls_parse_errors = 5;
  const std::string text = inspect_stats_text(s);
  for (const char* line :
       {"inspect_packets 12\n", "inspect_flows_evicted 3\n", "inspect_reassembly_drops 4\n",
        "inspect_tls_parse_errors 5\n", "inspect_active_flows 0\n"}) {
    EXPECT_TRUE(has(text, line)) << line << "\n" << text;
  }
  std::size_t lines = 0;
  inspect::for_each_counter(s, [&](std::string_view, std::uint64_t) { ++lines; });
  EXPECT_EQ(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')), lines);
}

}  // namespace
}  // namespace egressguard::app
