// What the DNS proxy reports besides block events: one allow per query it lets through (for
// decisions_total), GeoIP decisions on answer addresses (block events with the geo reason and the
// address, would-block in monitor groups, flagged answers), and the decision latency histogram.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/datapath/dnsproxy/dns_message.h"
#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "tests/filter/datapath/dnsproxy/dns_test_helpers.h"
#include "tests/support/run_helpers.h"

namespace egressguard::dnsproxy {
namespace {

using testing::make_query;
using testing::make_response;
using testing::parse_answer;

enum class Kind : std::uint8_t { Block, Allow, Flag };

struct Report {
  Kind kind;
  std::string name;
  std::string group;
  inspect::Verdict verdict;
  inspect::Mode mode;
  inspect::ReasonKind reason;
  std::string rule;  // inspect::rule_text
  std::string src;
  std::string dst;
  std::uint16_t dport;
  std::string dest_country;  // the policy's GeoIP view of dst
  BlockCause cause;
  std::string answer;
};

class RecordingSink : public DnsEventSink {
 public:
  bool on_dns_block(const inspect::Observation& o, const DnsBlockInfo& info) noexcept override {
    reports.push_back(make(Kind::Block, o, &info));
    return true;
  }
  void on_dns_allow(const inspect::Observation& o) noexcept override {
    reports.push_back(make(Kind::Allow, o, nullptr));
  }
  bool on_dns_flag(const inspect::Observation& o, const DnsBlockInfo& info) noexcept override {
    reports.push_back(make(Kind::Flag, o, &info));
    return true;
  }
  std::size_t count(Kind kind) const {
    std::size_t n = 0;
    for (const Report& r : reports) {
      n += r.kind == kind ? 1U : 0U;
    }
    return n;
  }
  std::vector<Report> reports;

 private:
  static Report make(Kind kind, const inspect::Observation& o, const DnsBlockInfo* info) {
    geoip::GeoInfo geo;
    const bool known = o.policy->lookup_geo(o.dst, geo);
    return Report{kind,
                  std::string(o.name),
                  o.policy->groups()[o.decision.group].spec.name,
                  o.decision.verdict,
                  o.decision.mode,
                  o.decision.reason.kind,
                  inspect::rule_text(*o.policy, o.decision),
                  o.src.to_string(),
                  o.dst.to_string(),
                  o.dport,
                  known ? std::string(geo.country_code()) : std::string(),
                  info != nullptr ? info->cause : BlockCause::List,
                  info != nullptr ? std::string(info->answer) : std::string()};
  }
};

// What the app's GeoAnswerHook does, without the app: the group's address rules decide.
class PolicyAddressHook : public AnswerAddressHook {
 public:
  inspect::Decision decide_answer_address(const AnswerAddressContext& context,
                                          const parse::IpAddress& address) noexcept override {
    ++calls;
    return context.policy->decide_address(address, context.group);
  }
  int calls = 0;
};

ClientInfo client(const char* ip) {
  ClientInfo c;
  c.ip = *parse::IpAddress::parse(ip);
  c.port = 40000;
  c.local = *parse::IpAddress::parse("10.8.0.1");
  c.local_port = 53;
  return c;
}

class Decisions : public ::testing::Test {
 protected:
  Decisions() : store_(fixture_.build()) {}

  DnsProxyCore core(AnswerAddressHook* hook = nullptr) {
    DnsProxyConfig config;
    config.block_ttl = 30;
    return DnsProxyCore(config, store_, &sink_, hook);
  }
  // Forwards `name` from `from`; the worker's upstream ID written in.
  PendingQuery forward(DnsProxyCore& proxy, const char* from, const std::string& name,
                       std::uint16_t qtype = 1) {
    PendingQuery pending;
    const QueryOutcome out =
        proxy.on_query(make_query({name, qtype, 0x7777, true}), client(from), pending, stats_);
    EXPECT_EQ(out.kind, QueryOutcome::Kind::Forward) << name;
    pending.query[0] = 0x12;
    pending.query[1] = 0x34;
    return pending;
  }

  testing::PolicyFixture fixture_;
  inspect::PolicyStore store_;
  RecordingSink sink_;
  DnsProxyStats stats_;
};

TEST_F(Decisions, AnAllowedQueryIsReportedOnceWhenItsAnswerIsRelayed) {
  DnsProxyCore proxy = core();
  const PendingQuery gov = forward(proxy, "10.8.0.10", "www.example.org");
  EXPECT_TRUE(sink_.reports.empty()) << "nothing before the answer";

  // An answer to another question is ignored and reports nothing; the real one reports once.
  const auto other = make_query({"other.example", 1, 0x1234, true});
  EXPECT_FALSE(proxy.on_response(gov, make_response(other, {}), stats_).has_value());
  EXPECT_TRUE(sink_.reports.empty());
  ASSERT_TRUE(proxy
                  .on_response(
                      gov, make_response(gov.query, {"www.example.org. 60 IN A 192.0.2.1"}), stats_)
                  .has_value());
  ASSERT_EQ(sink_.reports.size(), 1U);
  const Report& r = sink_.reports[0];
  EXPECT_EQ(r.kind, Kind::Allow);
  EXPECT_EQ(r.name, "www.example.org");
  EXPECT_EQ(r.group, "gov");
  EXPECT_EQ(r.verdict, inspect::Verdict::Allow);
  EXPECT_EQ(r.reason, inspect::ReasonKind::NoRule);
  EXPECT_EQ(r.src, "10.8.0.10");
  EXPECT_EQ(r.dst, "10.8.0.1") << "without an address decision the listener is the destination";
}

TEST_F(Decisions, EveryQueryIsReportedExactlyOnceAsAllowOrBlock) {
  struct Case {
    const char* what;
    const char* client;
    const char* name;
    std::vector<std::string> records;  // empty: the upstreams fail (SERVFAIL)
    std::size_t blocks;
    std::size_t allows;
  };
  const Case cases[] = {
      {"allowed, answered",
       "10.8.0.10",
       "www.example.org",
       {"www.example.org. 60 IN A 192.0.2.1"},
       0,
       1},
      {"allowed, no upstream answered", "10.8.0.10", "www.example.org", {}, 0, 1},
      {"list block, answered at once", "10.8.0.10", "www.tiktok.com", {}, 1, 0},
      {"CNAME cloaking blocked",
       "10.8.0.10",
       "cdn.example-shop.com",
       {"cdn.example-shop.com. 300 IN CNAME www.tiktok.com."},
       1,
       0},
      {"monitor group: would-block, forwarded",
       "10.99.0.1",
       "www.tiktok.com",
       {"www.tiktok.com. 60 IN A 192.0.2.9"},
       1,
       0},
      {"monitor group: would-block, no upstream", "10.99.0.1", "www.tiktok.com", {}, 1, 0},
      {"monitor group: CNAME would-block",
       "10.99.0.1",
       "cdn.example-shop.com",
       {"cdn.example-shop.com. 300 IN CNAME www.tiktok.com."},
       1,
       0},
      {"byod: nothing blocked",
       "10.30.0.20",
       "www.tiktok.com",
       {"www.tiktok.com. 60 IN A 192.0.2.9"},
       0,
       1},
  };
  for (const Case& c : cases) {
    sink_.reports.clear();
    DnsProxyCore proxy = core();
    PendingQuery pending;
    const auto query = make_query({c.name, 1, 0x7777, true});
    const QueryOutcome out = proxy.on_query(query, client(c.client), pending, stats_);
    if (out.kind == QueryOutcome::Kind::Forward) {
      pending.query[0] = 0x12;
      pending.query[1] = 0x34;
      if (c.records.empty()) {
        proxy.servfail(pending, stats_);
      } else {
        ASSERT_TRUE(
            proxy.on_response(pending, make_response(pending.query, c.records), stats_).has_value())
            << c.what;
      }
    }
    EXPECT_EQ(sink_.count(Kind::Block), c.blocks) << c.what;
    EXPECT_EQ(sink_.count(Kind::Allow), c.allows) << c.what;
    EXPECT_EQ(sink_.count(Kind::Flag), 0U) << c.what;
  }
}

TEST_F(Decisions, OldStyleHooksStillBlockWithoutAReason) {
  class VerdictHook : public AnswerAddressHook {
   public:
    inspect::Verdict on_answer_address(const AnswerAddressContext&,
                                       const parse::IpAddress& address) noexcept override {
      return address.to_string() == "203.0.113.66" ? inspect::Verdict::Block
                                                   : inspect::Verdict::Allow;
    }
  };
  VerdictHook hook;
  DnsProxyCore proxy = core(&hook);
  const PendingQuery gov = forward(proxy, "10.8.0.10", "x.example");
  auto out =
      proxy.on_response(gov, make_response(gov.query, {"x.example. 60 IN A 203.0.113.66"}), stats_);
  ASSERT_TRUE(out.has_value());
  const auto a = parse_answer(*out);
  EXPECT_EQ(a.rcode, kRcodeNxDomain);
  EXPECT_EQ(a.ede_text, "filtered by egressguard: answer address 203.0.113.66");
  ASSERT_EQ(sink_.reports.size(), 1U);
  EXPECT_EQ(sink_.reports[0].kind, Kind::Block);
  EXPECT_EQ(sink_.reports[0].reason, inspect::ReasonKind::NoRule);
  EXPECT_EQ(sink_.reports[0].cause, BlockCause::Address);
  EXPECT_EQ(sink_.reports[0].dst, "203.0.113.66");
}

// The fixture's policy with GeoIP rules: gov blocks CN and AS4134 and flags GB; pilot (monitor)
// blocks CN; the MaxMind test databases from the shared data set.
std::shared_ptr<const inspect::PolicySnapshot> geo_policy(const testing::PolicyFixture& fixture,
                                                          std::string* skip) {
  const std::string country = ::egressguard::testing::shared_data("geoip/GeoIP2-Country-Test.mmdb");
  const std::string asn = ::egressguard::testing::shared_data("geoip/GeoLite2-ASN-Test.mmdb");
  if (country.empty() || asn.empty()) {
    *skip = "shared data geoip/GeoIP2-Country-Test.mmdb or GeoLite2-ASN-Test.mmdb is missing";
    return nullptr;
  }
  inspect::PolicySpec spec = fixture.spec();
  for (inspect::GroupSpec& g : spec.groups) {
    if (g.name == "gov") {
      g.block_countries = {"CN"};
      g.flag_countries = {"GB"};
      g.block_asns = {4134};
    } else if (g.name == "pilot") {
      g.block_countries = {"CN"};
    }
  }
  spec.geoip = geoip::GeoipConfig{country, asn};
  auto built = inspect::PolicySnapshot::build(spec);
  if (!built) {
    *skip = built.error().front();
    return nullptr;
  }
  return *built;
}

TEST(DnsProxyGeo, AnswerAddressDecisionsCarryTheirReasonRuleAndAddress) {
  testing::PolicyFixture fixture;
  std::string why;
  auto policy = geo_policy(fixture, &why);
  if (!policy) {
    if (::egressguard::testing::in_ci()) {
      FAIL() << why << " (required under CI=true)";
    }
    GTEST_SKIP() << why;
  }
  inspect::PolicyStore store(policy);
  PolicyAddressHook hook;
  RecordingSink sink;
  DnsProxyConfig config;
  const DnsProxyCore proxy(config, store, &sink, &hook);

  struct Case {
    const char* what;
    const char* client;
    const char* qname;
    std::uint16_t qtype;
    const char* record;
    bool blocked;                // the client gets NXDOMAIN
    std::vector<Kind> kinds;     // what the sink heard, in order
    inspect::ReasonKind reason;  // of the first report
    inspect::Mode mode;
    const char* rule;
    const char* dest_country;
    const char* ede_text;  // when blocked
  };
  const Case cases[] = {
      {"CN address, gov: blocked by country",
       "10.8.0.10",
       "app.example.cn",
       1,
       "app.example.cn. 60 IN A 175.16.199.1",
       true,
       {Kind::Block},
       inspect::ReasonKind::GeoCountry,
       inspect::Mode::Enforce,
       "country CN",
       "CN",
       "filtered by egressguard: answer address 175.16.199.1, country CN"},
      {"Chinanet AAAA, gov: blocked by ASN",
       "10.8.0.10",
       "app.example.cn",
       28,
       "app.example.cn. 60 IN AAAA 240e::1",
       true,
       {Kind::Block},
       inspect::ReasonKind::GeoAsn,
       inspect::Mode::Enforce,
       "AS4134",
       "",
       "filtered by egressguard: answer address 240e::1, AS4134"},
      {"GB address, gov: relayed and flagged",
       "10.8.0.10",
       "x.example.uk",
       1,
       "x.example.uk. 60 IN A 2.125.160.216",
       false,
       {Kind::Flag, Kind::Allow},
       inspect::ReasonKind::GeoFlag,
       inspect::Mode::Enforce,
       "country GB",
       "GB",
       ""},
      {"CN address, pilot (monitor): relayed, would-block",
       "10.99.0.1",
       "app.example.cn",
       1,
       "app.example.cn. 60 IN A 175.16.199.1",
       false,
       {Kind::Block},
       inspect::ReasonKind::GeoCountry,
       inspect::Mode::Monitor,
       "country CN",
       "CN",
       ""},
      {"CN address, byod: no address rules",
       "10.30.0.20",
       "app.example.cn",
       1,
       "app.example.cn. 60 IN A 175.16.199.1",
       false,
       {Kind::Allow},
       inspect::ReasonKind::NoRule,
       inspect::Mode::Enforce,
       "",
       "",
       ""},
  };
  for (const Case& c : cases) {
    sink.reports.clear();
    DnsProxyStats stats;
    PendingQuery pending;
    ASSERT_EQ(proxy
                  .on_query(make_query({c.qname, c.qtype, 0x7777, true}), client(c.client), pending,
                            stats)
                  .kind,
              QueryOutcome::Kind::Forward)
        << c.what;
    auto out = proxy.on_response(pending, make_response(pending.query, {c.record}), stats);
    ASSERT_TRUE(out.has_value()) << c.what;
    const auto answer = parse_answer(*out);
    EXPECT_EQ(answer.rcode, c.blocked ? kRcodeNxDomain : kRcodeNoError) << c.what;
    EXPECT_EQ(answer.answers.size(), c.blocked ? 0U : 1U) << c.what;
    EXPECT_EQ(stats.blocked_address.load(), c.blocked ? 1U : 0U) << c.what;
    if (c.blocked) {
      EXPECT_EQ(answer.ede, kEdeFiltered) << c.what;
      EXPECT_EQ(answer.ede_text, c.ede_text) << c.what;
    }
    ASSERT_EQ(sink.reports.size(), c.kinds.size()) << c.what;
    for (std::size_t i = 0; i < c.kinds.size(); ++i) {
      EXPECT_EQ(sink.reports[i].kind, c.kinds[i]) << c.what << " report " << i;
    }
    const Report& r = sink.reports[0];
    EXPECT_EQ(r.reason, c.reason) << c.what;
    EXPECT_EQ(r.mode, c.mode) << c.what;
    EXPECT_EQ(r.rule, c.rule) << c.what;
    EXPECT_EQ(r.src, c.client) << c.what << ": the client, not the listener";
    EXPECT_EQ(r.name, c.qname) << c.what;
    if (r.reason != inspect::ReasonKind::NoRule) {
      // The answer address is the event's destination (dest_ip, dest_country, dest_asn).
      const std::string record = c.record;
      EXPECT_EQ(r.dst, record.substr(record.rfind(' ') + 1)) << c.what;
      EXPECT_EQ(r.dport, 0U) << c.what;
      EXPECT_EQ(r.dest_country, c.dest_country) << c.what;
      EXPECT_EQ(r.cause, BlockCause::Address) << c.what;
      EXPECT_EQ(r.answer, c.blocked ? "nxdomain" : "forwarded") << c.what;
    }
    if (c.kinds.back() == Kind::Allow) {
      // The flagged query is counted with its flag decision; a plain one with its question's.
      EXPECT_EQ(sink.reports.back().reason, c.reason) << c.what;
      EXPECT_EQ(sink.reports.back().verdict, inspect::Verdict::Allow) << c.what;
    }
  }
}

TEST(DnsLatency, ObservationsLandInTheirBucketAndOutcome) {
  struct Case {
    std::uint64_t ns;
    std::size_t bucket;  // le semantics: a value equal to a bound is in that bound's bucket
  };
  const Case cases[] = {
      {0, 0},
      {10'000, 0},
      {10'001, 1},
      {1'000'000, 6},
      {2'500'000'000, kLatencyBoundsNs.size() - 1},
      {2'500'000'001, kLatencyBoundsNs.size()},  // +Inf
  };
  DnsLatency latency;
  std::uint64_t sum = 0;
  for (const Case& c : cases) {
    latency.observe(LatencyOutcome::Answered, c.ns);
    sum += c.ns;
  }
  latency.observe(LatencyOutcome::Servfail, 3'000'000'000);
  DnsLatencyCounts counts;
  latency.add_to(counts);
  latency.add_to(counts);  // a second worker with the same observations
  const auto& answered = counts.by_outcome[static_cast<std::size_t>(LatencyOutcome::Answered)];
  for (std::size_t i = 0; i < answered.buckets.size(); ++i) {
    std::uint64_t expected = 0;
    for (const Case& c : cases) {
      expected += c.bucket == i ? 2U : 0U;
    }
    EXPECT_EQ(answered.buckets[i], expected) << "bucket " << i;
  }
  EXPECT_EQ(answered.sum_ns, 2 * sum);
  EXPECT_EQ(answered.count(), 2 * std::size(cases));
  const auto& servfail = counts.by_outcome[static_cast<std::size_t>(LatencyOutcome::Servfail)];
  EXPECT_EQ(servfail.count(), 2U);
  EXPECT_EQ(servfail.buckets.back(), 2U);
  EXPECT_EQ(counts.by_outcome[static_cast<std::size_t>(LatencyOutcome::Dropped)].count(), 0U);
  EXPECT_EQ(describe(LatencyOutcome::Answered), "answered");
  EXPECT_EQ(describe(LatencyOutcome::Servfail), "servfail");
  EXPECT_EQ(describe(LatencyOutcome::Dropped), "dropped");
}

}  // namespace
}  // namespace egressguard::dnsproxy
