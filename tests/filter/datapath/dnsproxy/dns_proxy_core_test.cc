#include "filter/datapath/dnsproxy/dns_proxy_core.h"

#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/datapath/dnsproxy/dns_message.h"
#include "tests/filter/datapath/dnsproxy/dns_test_helpers.h"

namespace egressguard::dnsproxy {
namespace {

using testing::make_query;
using testing::make_response;
using testing::parse_answer;
using testing::ParsedAnswer;

struct Event {
  std::string name;
  std::string group;
  std::string category;
  BlockCause cause;
  std::string cname_target;
  std::string answer;
  std::uint16_t ede;
  inspect::Mode mode;
};

class RecordingSink : public DnsEventSink {
 public:
  bool on_dns_block(const inspect::Observation& o, const DnsBlockInfo& info) noexcept override {
    Event e{std::string(o.name),
            o.policy->groups()[o.decision.group].spec.name,
            o.decision.reason.kind == inspect::ReasonKind::Rule
                ? o.policy->categories()[o.decision.reason.category].name
                : "",
            info.cause,
            std::string(info.cname_target),
            std::string(info.answer),
            info.ede,
            o.decision.mode};
    events.push_back(e);
    return true;
  }
  std::vector<Event> events;
};

class RecordingHook : public AnswerAddressHook {
 public:
  inspect::Verdict on_answer_address(const AnswerAddressContext& context,
                                     const parse::IpAddress& address) noexcept override {
    seen.push_back(std::string(context.owner) + " " + address.to_string());
    return address == block ? inspect::Verdict::Block : inspect::Verdict::Allow;
  }
  std::vector<std::string> seen;
  parse::IpAddress block;
};

ClientInfo client(const char* ip) {
  ClientInfo c;
  c.ip = *parse::IpAddress::parse(ip);
  c.port = 40000;
  c.local = *parse::IpAddress::parse("10.8.0.1");
  c.local_port = 53;
  return c;
}

class CoreTest : public ::testing::Test {
 protected:
  CoreTest() : store_(fixture_.build()) {}

  DnsProxyCore core(BlockAnswer answer = BlockAnswer::Nxdomain) {
    DnsProxyConfig config;
    config.block_answer = answer;
    config.block_ttl = 30;
    return DnsProxyCore(config, store_, &sink_, &hook_);
  }

  testing::PolicyFixture fixture_;
  inspect::PolicyStore store_;
  RecordingSink sink_;
  RecordingHook hook_;
  DnsProxyStats stats_;
};

struct QueryCase {
  const char* description;
  const char* client;
  std::string name;
  std::uint16_t qtype;
  bool edns;
  BlockAnswer block_answer;
  bool forwarded;
  std::uint8_t rcode;                // when answered
  std::vector<std::string> answers;  // when answered
  std::optional<std::uint16_t> ede;
  std::string ede_text;
  bool event;
};

class CoreQueries : public CoreTest, public ::testing::WithParamInterface<QueryCase> {};

TEST_P(CoreQueries, MatchTheTable) {
  const QueryCase& c = GetParam();
  DnsProxyCore proxy = core(c.block_answer);
  const auto query = make_query({c.name, c.qtype, 0x0102, c.edns});
  PendingQuery pending;
  const QueryOutcome out = proxy.on_query(query, client(c.client), pending, stats_);
  ASSERT_EQ(out.kind == QueryOutcome::Kind::Forward, c.forwarded) << c.description;
  EXPECT_EQ(sink_.events.size(), c.event ? 1U : 0U) << c.description;
  if (c.forwarded) {
    EXPECT_EQ(pending.query, query) << c.description;
    EXPECT_EQ(pending.qname, c.name) << c.description;
    EXPECT_EQ(pending.client_id, 0x0102) << c.description;
    return;
  }
  ASSERT_EQ(out.kind, QueryOutcome::Kind::Answer) << c.description;
  const ParsedAnswer a = parse_answer(out.answer);
  ASSERT_TRUE(a.ok) << c.description;
  EXPECT_EQ(a.id, 0x0102) << c.description;
  EXPECT_EQ(a.rcode, c.rcode) << c.description;
  EXPECT_EQ(a.answers, c.answers) << c.description;
  EXPECT_EQ(a.ede, c.ede) << c.description;
  EXPECT_EQ(a.ede_text, c.ede_text) << c.description;
  EXPECT_EQ(a.opt, c.edns) << c.description;
}

const std::string kTiktokText = "blocked by egressguard: category tiktok";

INSTANTIATE_TEST_SUITE_P(
    Table, CoreQueries,
    ::testing::Values(QueryCase{"gov: listed name -> NXDOMAIN + EDE 15",
                                "10.8.0.10",
                                "www.tiktok.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                15,
                                kTiktokText,
                                true},
                      QueryCase{"gov over IPv6",
                                "fd00:8::10",
                                "v16m.tiktokcdn.com",
                                28,
                                true,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                15,
                                kTiktokText,
                                true},
                      QueryCase{"gov without EDNS: no OPT, no EDE",
                                "10.8.0.10",
                                "tiktok.com",
                                1,
                                false,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                std::nullopt,
                                "",
                                true},
                      QueryCase{"gov: null answer",
                                "10.8.0.10",
                                "www.tiktok.com",
                                1,
                                true,
                                BlockAnswer::Null,
                                false,
                                kRcodeNoError,
                                {"www.tiktok.com. 30 IN A 0.0.0.0"},
                                15,
                                kTiktokText,
                                true},
                      QueryCase{"gov: refused",
                                "10.8.0.10",
                                "www.tiktok.com",
                                28,
                                true,
                                BlockAnswer::Refused,
                                false,
                                kRcodeRefused,
                                {},
                                15,
                                kTiktokText,
                                true},
                      QueryCase{"gov: exception is forwarded",
                                "10.8.0.10",
                                "newsroom.tiktok.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false},
                      QueryCase{"gov: unlisted name forwarded",
                                "10.8.0.10",
                                "www.example.org",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false},
                      QueryCase{"unknown source falls into gov (default)",
                                "192.0.2.99",
                                "www.tiktok.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                15,
                                kTiktokText,
                                true},
                      QueryCase{"byod: listed name forwarded",
                                "10.30.0.20",
                                "www.tiktok.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false},
                      QueryCase{"pilot (monitor): forwarded with a would-block event",
                                "10.99.0.1",
                                "www.tiktok.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                true},
                      QueryCase{"anti-bypass: Firefox canary",
                                "10.8.0.10",
                                "use-application-dns.net",
                                1,
                                true,
                                BlockAnswer::Refused,
                                false,
                                kRcodeNxDomain,
                                {},
                                17,
                                "filtered by egressguard: Firefox DoH canary",
                                true},
                      QueryCase{"anti-bypass: case-insensitive",
                                "10.8.0.10",
                                "USE-Application-DNS.net",
                                1,
                                false,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                std::nullopt,
                                "",
                                true},
                      QueryCase{"anti-bypass: iCloud Private Relay",
                                "10.8.0.10",
                                "mask.icloud.com",
                                28,
                                true,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                17,
                                "filtered by egressguard: iCloud Private Relay",
                                true},
                      QueryCase{"anti-bypass: mask-h2",
                                "10.8.0.10",
                                "mask-h2.icloud.com",
                                65,
                                true,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNxDomain,
                                {},
                                17,
                                "filtered by egressguard: iCloud Private Relay",
                                true},
                      QueryCase{"anti-bypass: DDR -> NODATA",
                                "10.8.0.10",
                                "_dns.resolver.arpa",
                                64,
                                true,
                                BlockAnswer::Nxdomain,
                                false,
                                kRcodeNoError,
                                {},
                                17,
                                "filtered by egressguard: DDR encrypted resolver discovery",
                                true},
                      QueryCase{"anti-bypass: only the exact name",
                                "10.8.0.10",
                                "x.mask.icloud.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false},
                      QueryCase{"anti-bypass off for the group",
                                "10.50.0.1",
                                "use-application-dns.net",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false},
                      QueryCase{"anti-bypass not for byod",
                                "10.30.0.20",
                                "mask.icloud.com",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false},
                      QueryCase{"anti-bypass not for monitor groups",
                                "10.99.0.1",
                                "use-application-dns.net",
                                1,
                                true,
                                BlockAnswer::Nxdomain,
                                true,
                                0,
                                {},
                                std::nullopt,
                                "",
                                false}));

TEST_F(CoreTest, EventNamesGroupCategoryAndAnswer) {
  DnsProxyCore proxy = core(BlockAnswer::Null);
  PendingQuery pending;
  static_cast<void>(proxy.on_query(make_query({"www.tiktok.com", 1, 1, true}), client("10.8.0.10"),
                                   pending, stats_));
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].name, "www.tiktok.com");
  EXPECT_EQ(sink_.events[0].group, "gov");
  EXPECT_EQ(sink_.events[0].category, "tiktok");
  EXPECT_EQ(sink_.events[0].cause, BlockCause::List);
  EXPECT_EQ(sink_.events[0].answer, "null");
  EXPECT_EQ(sink_.events[0].ede, 15);
  EXPECT_EQ(stats_.blocked_list.load(), 1U);
}

struct MalformedCase {
  const char* description;
  std::vector<std::uint8_t> bytes;
  bool answered;
  std::uint8_t rcode;
};

class CoreMalformed : public CoreTest, public ::testing::WithParamInterface<MalformedCase> {};

std::vector<std::uint8_t> with(std::vector<std::uint8_t> bytes, std::size_t at,
                               std::uint8_t value) {
  bytes[at] = value;
  return bytes;
}

std::vector<std::uint8_t> cut(std::vector<std::uint8_t> bytes, std::size_t size) {
  bytes.resize(size);
  return bytes;
}

std::vector<std::uint8_t> plus(std::vector<std::uint8_t> bytes, std::uint8_t extra) {
  bytes.push_back(extra);
  return bytes;
}

const std::vector<std::uint8_t> kGood = make_query({"www.example.org", 1, 0x0a0b, true});

TEST_P(CoreMalformed, AnswersFormErrWhenTheHeaderIsReadableElseDrops) {
  const MalformedCase& c = GetParam();
  DnsProxyCore proxy = core();
  PendingQuery pending;
  const QueryOutcome out = proxy.on_query(c.bytes, client("10.8.0.10"), pending, stats_);
  if (!c.answered) {
    EXPECT_EQ(out.kind, QueryOutcome::Kind::Drop) << c.description;
    EXPECT_EQ(stats_.dropped_malformed.load(), 1U) << c.description;
    return;
  }
  ASSERT_EQ(out.kind, QueryOutcome::Kind::Answer) << c.description;
  ASSERT_GE(out.answer.size(), kDnsHeaderSize);
  EXPECT_EQ(out.answer[0], 0x0a) << c.description;
  EXPECT_EQ(out.answer[1], 0x0b) << c.description;
  EXPECT_EQ(out.answer[3] & 0x0f, c.rcode) << c.description;
  EXPECT_NE(out.answer[2] & 0x80, 0) << c.description << ": QR set";
}

INSTANTIATE_TEST_SUITE_P(
    Table, CoreMalformed,
    ::testing::Values(MalformedCase{"empty", {}, false, 0},
                      MalformedCase{"11 bytes", cut(kGood, 11), false, 0},
                      MalformedCase{"a response (QR set)", with(kGood, 2, 0x81), false, 0},
                      MalformedCase{"header only, QDCOUNT 1", cut(kGood, 12), true, kRcodeFormErr},
                      MalformedCase{"question cut short", cut(kGood, 20), true, kRcodeFormErr},
                      MalformedCase{"QDCOUNT 2", with(kGood, 5, 2), true, kRcodeFormErr},
                      MalformedCase{"QDCOUNT 0", with(kGood, 5, 0), true, kRcodeFormErr},
                      MalformedCase{"OPT cut short", cut(kGood, kGood.size() - 3), true,
                                    kRcodeFormErr},
                      MalformedCase{"trailing byte", plus(kGood, 0), true, kRcodeFormErr},
                      MalformedCase{"label type 0x40", with(kGood, 12, 0x43), true, kRcodeFormErr},
                      MalformedCase{"opcode NOTIFY", with(kGood, 2, 0x21), true, kRcodeNotImp}));

// Upstream answers.
class CoreResponses : public CoreTest {
 protected:
  PendingQuery forward(const char* from, const std::string& name, std::uint16_t qtype,
                       bool edns = true, bool tcp = false) {
    DnsProxyCore proxy = core();
    PendingQuery pending;
    ClientInfo c = client(from);
    c.tcp = tcp;
    const QueryOutcome out =
        proxy.on_query(make_query({name, qtype, 0x7777, edns}), c, pending, stats_);
    EXPECT_EQ(out.kind, QueryOutcome::Kind::Forward);
    pending.query[0] = 0x12;  // the worker's upstream ID
    pending.query[1] = 0x34;
    return pending;
  }
};

TEST_F(CoreResponses, CnameCloakingIsBlockedForGovAndAnsweredForByod) {
  const std::vector<std::string> records = {"cdn.example-shop.com. 300 IN CNAME www.tiktok.com.",
                                            "www.tiktok.com. 300 IN A 198.51.100.10"};
  DnsProxyCore proxy = core();

  const PendingQuery gov = forward("10.8.0.10", "cdn.example-shop.com", 1);
  auto blocked = proxy.on_response(gov, make_response(gov.query, records), stats_);
  ASSERT_TRUE(blocked.has_value());
  const ParsedAnswer a = parse_answer(*blocked);
  EXPECT_EQ(a.id, 0x7777);
  EXPECT_EQ(a.rcode, kRcodeNxDomain);
  EXPECT_TRUE(a.answers.empty());
  EXPECT_EQ(a.ede, 15);
  EXPECT_EQ(a.ede_text, "blocked by egressguard: CNAME target www.tiktok.com, category tiktok");
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].name, "cdn.example-shop.com");
  EXPECT_EQ(sink_.events[0].cname_target, "www.tiktok.com");
  EXPECT_EQ(sink_.events[0].cause, BlockCause::Cname);
  EXPECT_EQ(sink_.events[0].category, "tiktok");
  EXPECT_EQ(stats_.blocked_cname.load(), 1U);
  EXPECT_TRUE(hook_.seen.empty()) << "a blocked answer's addresses are not looked at";

  const PendingQuery byod = forward("10.30.0.20", "cdn.example-shop.com", 1);
  const auto upstream = make_response(byod.query, records);
  auto passed = proxy.on_response(byod, upstream, stats_);
  ASSERT_TRUE(passed.has_value());
  std::vector<std::uint8_t> expected = upstream;
  expected[0] = 0x77;
  expected[1] = 0x77;
  EXPECT_EQ(*passed, expected) << "byte for byte, ID restored";
  EXPECT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(hook_.seen, std::vector<std::string>{"www.tiktok.com 198.51.100.10"});
}

TEST_F(CoreResponses, CnameChainDeepTargetIsChecked) {
  DnsProxyCore proxy = core();
  const PendingQuery gov = forward("10.8.0.10", "a.example", 28);
  auto out =
      proxy.on_response(gov,
                        make_response(gov.query, {"a.example. 60 IN CNAME b.example.",
                                                  "b.example. 60 IN CNAME "
                                                  "x.tiktokcdn.com.",
                                                  "x.tiktokcdn.com. 60 IN AAAA 2001:db8::1"}),
                        stats_);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(parse_answer(*out).rcode, kRcodeNxDomain);
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].cname_target, "x.tiktokcdn.com");
}

TEST_F(CoreResponses, CnameToAnExceptionIsAllowed) {
  DnsProxyCore proxy = core();
  const PendingQuery gov = forward("10.8.0.10", "press.example", 1);
  auto out = proxy.on_response(
      gov, make_response(gov.query, {"press.example. 60 IN CNAME newsroom.tiktok.com."}), stats_);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(parse_answer(*out).rcode, kRcodeNoError);
  EXPECT_EQ(parse_answer(*out).answers.size(), 1U);
}

TEST_F(CoreResponses, MonitorGroupGetsTheAnswerAndAWouldBlockEvent) {
  DnsProxyCore proxy = core();
  const PendingQuery pilot = forward("10.99.0.1", "cdn.example-shop.com", 1);
  auto out = proxy.on_response(
      pilot, make_response(pilot.query, {"cdn.example-shop.com. 300 IN CNAME www.tiktok.com."}),
      stats_);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(parse_answer(*out).answers.size(), 1U);
  ASSERT_EQ(sink_.events.size(), 1U);
  EXPECT_EQ(sink_.events[0].mode, inspect::Mode::Monitor);
  EXPECT_EQ(sink_.events[0].answer, "forwarded");
}

TEST_F(CoreResponses, AddressHookCanBlock) {
  DnsProxyCore proxy = core();
  hook_.block = *parse::IpAddress::parse("203.0.113.66");
  const PendingQuery gov = forward("10.8.0.10", "x.example", 1);
  auto out = proxy.on_response(
      gov,
      make_response(gov.query, {"x.example. 60 IN A 192.0.2.1", "x.example. 60 IN A 203.0.113.66"}),
      stats_);
  ASSERT_TRUE(out.has_value());
  const ParsedAnswer a = parse_answer(*out);
  EXPECT_EQ(a.rcode, kRcodeNxDomain);
  EXPECT_EQ(a.ede, 17);
  EXPECT_EQ(stats_.blocked_address.load(), 1U);
  EXPECT_EQ(hook_.seen.size(), 2U);
}

TEST_F(CoreResponses, TruncatedMismatchedAndMalformedAnswersAreRefused) {
  DnsProxyCore proxy = core();
  const PendingQuery gov = forward("10.8.0.10", "www.example.org", 1);
  auto tc = proxy.on_response(gov, make_response(gov.query, {}, 0, true), stats_);
  ASSERT_FALSE(tc.has_value());
  EXPECT_EQ(tc.error(), ResponseError::Truncated);

  const auto other = make_query({"other.example", 1, 0x1234, true});
  auto mismatch = proxy.on_response(gov, make_response(other, {}), stats_);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_EQ(mismatch.error(), ResponseError::Mismatch);

  auto wrong_type = proxy.on_response(
      gov, make_response(make_query({"www.example.org", 28, 0x1234, true}), {}), stats_);
  ASSERT_FALSE(wrong_type.has_value());
  EXPECT_EQ(wrong_type.error(), ResponseError::Mismatch);

  auto good = make_response(gov.query, {"www.example.org. 60 IN A 192.0.2.1"});
  good.resize(good.size() - 2);
  auto malformed = proxy.on_response(gov, good, stats_);
  ASSERT_FALSE(malformed.has_value());
  EXPECT_EQ(malformed.error(), ResponseError::Malformed);
}

TEST_F(CoreResponses, AnswerTooLargeForUdpClientIsCutToTc) {
  DnsProxyCore proxy = core();
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) {
    records.push_back("www.example.org. 60 IN TXT \"" + std::string(20, 'a') + "\"");
  }
  const PendingQuery udp = forward("10.30.0.20", "www.example.org", 16, false);
  auto out = proxy.on_response(udp, make_response(udp.query, records), stats_);
  ASSERT_TRUE(out.has_value());
  const ParsedAnswer a = parse_answer(*out);
  EXPECT_TRUE(a.tc);
  EXPECT_TRUE(a.answers.empty());
  EXPECT_LE(out->size(), 512U);
  EXPECT_EQ(stats_.truncated_to_client.load(), 1U);

  const PendingQuery tcp = forward("10.30.0.20", "www.example.org", 16, false, true);
  auto full = proxy.on_response(tcp, make_response(tcp.query, records), stats_);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(parse_answer(*full).answers.size(), 40U);
}

TEST_F(CoreResponses, StripEchOnlyForGroupsThatAskForIt) {
  DnsProxyCore proxy = core();
  const std::vector<std::string> records = {
      "www.example.org. 300 IN HTTPS \\# 16 0001 00 0001 0003 026832 0005 0002 abcd"};
  const PendingQuery ech = forward("10.50.0.1", "www.example.org", 65);
  auto stripped = proxy.on_response(ech, make_response(ech.query, records), stats_);
  ASSERT_TRUE(stripped.has_value());
  parse::DnsNameBuffer buffer{};
  auto scan = scan_response(*stripped, buffer, nullptr);
  ASSERT_TRUE(scan.has_value());
  EXPECT_FALSE(scan->has_ech);
  EXPECT_EQ(scan->header.id, 0x7777);
  EXPECT_EQ(stats_.ech_stripped.load(), 1U);

  const PendingQuery byod = forward("10.30.0.20", "www.example.org", 65);
  auto kept = proxy.on_response(byod, make_response(byod.query, records), stats_);
  ASSERT_TRUE(kept.has_value());
  auto scan2 = scan_response(*kept, buffer, nullptr);
  ASSERT_TRUE(scan2.has_value());
  EXPECT_TRUE(scan2->has_ech);
}

TEST_F(CoreResponses, ServfailCarriesEde22WithEdnsAndTheClientId) {
  DnsProxyCore proxy = core();
  const PendingQuery gov = forward("10.8.0.10", "www.example.org", 1);
  const ParsedAnswer a = parse_answer(proxy.servfail(gov, stats_));
  EXPECT_EQ(a.id, 0x7777);
  EXPECT_EQ(a.rcode, kRcodeServFail);
  EXPECT_EQ(a.ede, 22);
}

TEST_F(CoreTest, ReloadedPolicyDecidesTheNextQuery) {
  DnsProxyCore proxy = core();
  PendingQuery pending;
  const auto query = make_query({"www.tiktok.com", 1, 1, true});
  ASSERT_EQ(proxy.on_query(query, client("10.8.0.10"), pending, stats_).kind,
            QueryOutcome::Kind::Answer);
  std::ofstream(fixture_.dir() / "tiktok.txt") << "only.other.example\n";
  auto reloaded = store_.reload([&](std::uint64_t version) {
    return inspect::PolicySnapshot::build(fixture_.spec(), version);
  });
  ASSERT_TRUE(reloaded.has_value());
  EXPECT_EQ(proxy.on_query(query, client("10.8.0.10"), pending, stats_).kind,
            QueryOutcome::Kind::Forward);
}

}  // namespace
}  // namespace egressguard::dnsproxy
