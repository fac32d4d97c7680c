// The Inspector end to end: DNS, HTTP, QUIC, groups, fragments, flow-table and memory bounds.
#include "filter/inspect/inspector.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace egressguard::inspect {
namespace {

using test::Bytes;

constexpr auto kEth = parse::LinkType::Ethernet;

class InspectorTest : public ::testing::Test {
 protected:
  explicit InspectorTest(InspectConfig config = {}) : inspector_(policy_.store(), config, &sink_) {}

  Decision feed(const Bytes& frame) {
    meta_.ts_us += 1000;
    return inspector_.inspect_frame(kEth, frame, meta_);
  }

  test::TestPolicy policy_;
  test::RecordingSink sink_;
  Inspector inspector_;
  PacketMeta meta_{1000000, "wlan0"};
};

// ---- DNS ----

struct DnsCase {
  const char* description;
  const char* client;
  std::uint16_t sport, dport;
  const char* name;
  Verdict verdict;
};

class DnsUdp : public ::testing::TestWithParam<DnsCase> {};

TEST_P(DnsUdp, DecidesEveryQuery) {
  const DnsCase& c = GetParam();
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  const Bytes query = test::dns_query(7, c.name, 28);
  const char* server = test::is_v6(c.client) ? "fd00:53::53" : "192.0.2.53";
  const Decision d = inspector.inspect_frame(
      kEth, test::udp_frame(c.client, c.sport, server, c.dport, query), {1, "eth1"});
  EXPECT_EQ(d.verdict, c.verdict);
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].name, c.name);
  EXPECT_EQ(sink.seen[0].app, AppProto::Dns);
  EXPECT_EQ(sink.seen[0].qtype, 28);
  EXPECT_EQ(sink.seen[0].src, c.client);
  EXPECT_EQ(sink.seen[0].interface, "eth1");
  EXPECT_EQ(inspector.stats().names[static_cast<std::size_t>(AppProto::Dns)], 1U);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DnsUdp,
    ::testing::Values(
        DnsCase{"gov_blocked", "10.1.0.7", 33000, 53, "www.TikTok.com", Verdict::Block},
        DnsCase{"gov_exact", "10.1.0.7", 33001, 53, "bytedance.com", Verdict::Block},
        DnsCase{"gov_not_below_exact", "10.1.0.7", 33001, 53, "a.bytedance.com", Verdict::Allow},
        DnsCase{"gov_other", "10.1.0.7", 33002, 53, "example.org", Verdict::Allow},
        DnsCase{"byod_allowed", "10.2.0.7", 33003, 53, "www.tiktok.com", Verdict::Allow},
        DnsCase{"mdns", "10.1.0.7", 5353, 5353, "m.tiktok.com", Verdict::Block},
        DnsCase{"llmnr", "10.1.0.7", 33004, 5355, "tiktok.com", Verdict::Block},
        DnsCase{"ipv6", "fd00:1::7", 33005, 53, "api.tiktokv.com", Verdict::Block}),
    [](const ::testing::TestParamInfo<DnsCase>& param) {
      return std::string(param.param.description);
    });

TEST_F(InspectorTest, DnsResponsesAreNotNames) {
  Bytes response = test::dns_header(7, 0x8180, 1, 0);
  test::append(response, test::dns_name("www.tiktok.com"));
  test::put16(response, 1);
  test::put16(response, 1);
  feed(test::udp_frame("192.0.2.53", 53, "10.1.0.7", 33000, response));
  EXPECT_TRUE(sink_.seen.empty());
  EXPECT_EQ(inspector_.stats().dns_parse_errors, 0U);
}

TEST_F(InspectorTest, EveryQueryOfAUdpFlowIsDecided) {
  EXPECT_EQ(feed(test::udp_frame("10.1.0.7", 33000, "192.0.2.53", 53,
                                 test::dns_query(1, "www.tiktok.com")))
                .verdict,
            Verdict::Block);
  EXPECT_EQ(
      feed(test::udp_frame("10.1.0.7", 33000, "192.0.2.53", 53, test::dns_query(2, "example.org")))
          .verdict,
      Verdict::Allow);
  EXPECT_EQ(sink_.seen.size(), 2U);
  EXPECT_EQ(inspector_.flow_count(), 1U);
}

TEST_F(InspectorTest, MalformedDnsIsCounted) {
  feed(test::udp_frame("10.1.0.7", 33000, "192.0.2.53", 53, Bytes{1, 2, 3}));
  EXPECT_EQ(inspector_.stats().dns_parse_errors, 1U);
  EXPECT_TRUE(sink_.seen.empty());
}

TEST_F(InspectorTest, DnsOverTcpTwoMessagesInOneSegment) {
  const Bytes stream = test::cat({test::with_u16_length(test::dns_query(1, "example.org")),
                                  test::with_u16_length(test::dns_query(2, "www.tiktok.com"))});
  feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.53", 53, 100, {}, parse::kTcpSyn, 0));
  const Decision d = feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.53", 53, 101, stream));
  EXPECT_EQ(d.verdict, Verdict::Block);  // a blocked query in the packet wins
  ASSERT_EQ(sink_.seen.size(), 2U);
  EXPECT_EQ(sink_.seen[0].name, "example.org");
  EXPECT_EQ(sink_.seen[1].name, "www.tiktok.com");
  EXPECT_EQ(sink_.seen[1].l4, parse::kIpProtoTcp);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);
}

TEST_F(InspectorTest, DnsOverTcpMessageSplitAcrossSegments) {
  const Bytes stream = test::cat({test::with_u16_length(test::dns_query(1, "example.org")),
                                  test::with_u16_length(test::dns_query(2, "www.tiktok.com"))});
  const std::size_t cut = 2 + 29 + 10;  // 2 + 29 bytes of the first message, then 10 more
  const Bytes first(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut));
  const Bytes second(stream.begin() + static_cast<std::ptrdiff_t>(cut), stream.end());
  feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.53", 53, 100, {}, parse::kTcpSyn, 0));
  EXPECT_EQ(feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.53", 53, 101, first)).verdict,
            Verdict::Allow);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_GT(inspector_.stats().reassembly_bytes_in_use, 0U);
  EXPECT_EQ(feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.53", 53,
                                 101 + static_cast<std::uint32_t>(cut), second))
                .verdict,
            Verdict::Block);
  ASSERT_EQ(sink_.seen.size(), 2U);
  EXPECT_EQ(sink_.seen[1].name, "www.tiktok.com");
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);  // fully consumed: buffer freed
  // A third query on the same connection is still parsed.
  const Bytes third = test::with_u16_length(test::dns_query(3, "example.net"));
  feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.53", 53,
                       101 + static_cast<std::uint32_t>(stream.size()), third));
  ASSERT_EQ(sink_.seen.size(), 3U);
  EXPECT_EQ(sink_.seen[2].name, "example.net");
}

// ---- HTTP ----

TEST_F(InspectorTest, HttpHostSplitAcrossSegments) {
  const std::string request = "GET / HTTP/1.1\r\nHo";
  const std::string rest = "st: www.tiktok.com:8080\r\nAccept: */*\r\n\r\n";
  feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.80", 80, 500, {}, parse::kTcpSyn, 0));
  EXPECT_EQ(feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.80", 80, 501, test::bytes_of(request)))
                .reason.kind,
            ReasonKind::NoName);
  const Decision d =
      feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.80", 80,
                           501 + static_cast<std::uint32_t>(request.size()), test::bytes_of(rest)));
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_EQ(sink_.seen[0].name, "www.tiktok.com:8080");  // raw, as seen
  EXPECT_EQ(sink_.seen[0].app, AppProto::Http);
  EXPECT_NE(sink_.seen[0].flags & kFlagSplit, 0U);
}

TEST_F(InspectorTest, HttpIpLiteralHost) {
  feed(test::tcp_frame("10.1.0.7", 40001, "192.0.2.80", 80, 1,
                       test::bytes_of("GET / HTTP/1.1\r\nHost: 192.0.2.80\r\n\r\n")));
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_NE(sink_.seen[0].flags & kFlagIpLiteral, 0U);
  EXPECT_EQ(sink_.seen[0].decision.verdict, Verdict::Allow);
}

// ---- QUIC ----

Bytes quic_hello(std::string_view sni) {
  test::ClientHelloSpec spec;
  spec.sni = std::string(sni);
  spec.alpn = {"h3"};
  spec.quic_transport_params = true;
  return test::client_hello(spec);
}

const Bytes kDcid = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

TEST_F(InspectorTest, QuicInitialSni) {
  const Bytes hello = quic_hello("www.tiktok.com");
  const Bytes datagram = test::quic::initial(kDcid, test::quic::crypto_frame(0, hello));
  const Decision d = feed(test::udp_frame("10.1.0.7", 50000, "192.0.2.43", 443, datagram));
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_EQ(sink_.seen[0].name, "www.tiktok.com");
  EXPECT_EQ(sink_.seen[0].app, AppProto::Quic);
  EXPECT_EQ(sink_.seen[0].alpn, "h3");
  EXPECT_EQ(sink_.seen[0].flags & kFlagQuicMultiPacket, 0U);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);
  // Later packets of the flow keep the decision.
  EXPECT_EQ(
      feed(test::udp_frame("10.1.0.7", 50000, "192.0.2.43", 443, Bytes{0x40, 1, 2, 3})).verdict,
      Verdict::Block);
  EXPECT_EQ(
      feed(test::udp_frame("192.0.2.43", 443, "10.1.0.7", 50000, Bytes{0x40, 1, 2, 3})).verdict,
      Verdict::Block);
}

TEST_F(InspectorTest, QuicClientHelloAcrossTwoInitialsInReverseOrder) {
  const Bytes hello = quic_hello("api.tiktokv.com");
  const std::size_t half = hello.size() / 2;
  const Bytes first(hello.begin(), hello.begin() + static_cast<std::ptrdiff_t>(half));
  const Bytes second(hello.begin() + static_cast<std::ptrdiff_t>(half), hello.end());
  const Bytes p0 = test::quic::initial(kDcid, test::quic::crypto_frame(0, first), 0);
  const Bytes p1 = test::quic::initial(kDcid, test::quic::crypto_frame(half, second), 1);
  EXPECT_EQ(feed(test::udp_frame("10.1.0.7", 50001, "192.0.2.43", 443, p1)).reason.kind,
            ReasonKind::NoName);
  EXPECT_TRUE(sink_.seen.empty());
  const Decision d = feed(test::udp_frame("10.1.0.7", 50001, "192.0.2.43", 443, p0));
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_EQ(sink_.seen[0].name, "api.tiktokv.com");
  EXPECT_NE(sink_.seen[0].flags & kFlagQuicMultiPacket, 0U);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);
}

TEST_F(InspectorTest, QuicScrambledCryptoFramesInOnePacket) {
  const Bytes hello = quic_hello("www.tiktok.com");
  Bytes frames;
  for (std::size_t at = 0; at < hello.size(); at += 40) {
    const std::size_t len = std::min<std::size_t>(40, hello.size() - at);
    frames = test::cat({test::quic::crypto_frame(at, ByteSpan(hello).subspan(at, len)),
                        frames});  // last chunk first
  }
  feed(test::udp_frame("10.1.0.7", 50002, "192.0.2.43", 443, test::quic::initial(kDcid, frames)));
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_EQ(sink_.seen[0].name, "www.tiktok.com");
  EXPECT_EQ(sink_.seen[0].flags & kFlagQuicMultiPacket, 0U);
}

TEST_F(InspectorTest, QuicDecryptFailureIsCounted) {
  Bytes datagram = test::quic::initial(kDcid, test::quic::crypto_frame(0, quic_hello("a.b")));
  datagram.back() ^= 1;  // breaks the AEAD tag
  feed(test::udp_frame("10.1.0.7", 50003, "192.0.2.43", 443, datagram));
  EXPECT_EQ(inspector_.stats().quic_decrypt_failures, 1U);
  EXPECT_TRUE(sink_.seen.empty());
}

TEST_F(InspectorTest, UdpThatIsNotQuicIsDecidedAtOnce) {
  feed(test::udp_frame("10.1.0.7", 51820, "192.0.2.1", 51820, Bytes(64, 0x01)));
  ASSERT_EQ(inspector_.flow_count(), 1U);
  const Flow* flow = inspector_.find_flow(*parse::decode_packet(
      kEth, test::udp_frame("10.1.0.7", 51820, "192.0.2.1", 51820, Bytes(64, 0x01))));
  ASSERT_NE(flow, nullptr);
  EXPECT_TRUE(flow->done);
  EXPECT_TRUE(sink_.seen.empty());
}

// ---- groups ----

struct GroupCase {
  const char* description;
  const char* client;
  const char* group;
  Verdict verdict;
  Mode mode;
};

class GroupResolution : public ::testing::TestWithParam<GroupCase> {};

TEST_P(GroupResolution, ClientSideDecidesTheGroup) {
  const GroupCase& c = GetParam();
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  // The first packet seen is the server's SYN-ACK: the client is its destination.
  inspector.inspect_frame(kEth,
                          test::tcp_frame("192.0.2.10", 443, c.client, 40000, 9000, {},
                                          parse::kTcpSyn | parse::kTcpAck, 101),
                          {1, ""});
  const Decision d = inspector.inspect_frame(
      kEth,
      test::tcp_frame(c.client, 40000, "192.0.2.10", 443, 101, test::tls_stream("www.tiktok.com")),
      {2, ""});
  EXPECT_EQ(d.verdict, c.verdict);
  EXPECT_EQ(d.mode, c.mode);
  EXPECT_EQ(d.group, policy.group(c.group));
  ASSERT_EQ(sink.new_flows.size(), 1U);
  EXPECT_EQ(sink.new_flows[0], policy.group(c.group));
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].src, c.client);
  EXPECT_EQ(sink.seen[0].sport, 40000);
  // The server's next packet gets the flow's decision.
  const Decision server = inspector.inspect_frame(
      kEth, test::tcp_frame("192.0.2.10", 443, c.client, 40000, 9001, test::bytes_of("x")),
      {3, ""});
  EXPECT_EQ(server.verdict, c.verdict);
  EXPECT_EQ(server.group, d.group);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GroupResolution,
    ::testing::Values(GroupCase{"gov", "10.1.2.3", "gov", Verdict::Block, Mode::Enforce},
                      GroupCase{"watch", "10.3.2.3", "watch", Verdict::Block, Mode::Monitor},
                      GroupCase{"byod", "10.2.2.3", "byod", Verdict::Allow, Mode::Enforce},
                      GroupCase{"unknown_default", "172.16.0.1", "byod", Verdict::Allow,
                                Mode::Enforce}),
    [](const ::testing::TestParamInfo<GroupCase>& param) {
      return std::string(param.param.description);
    });

TEST_F(InspectorTest, ServerPortHeuristicPicksTheClientMidFlow) {
  // First packet seen: from 443 to an ephemeral port, no SYN.
  feed(test::tcp_frame("192.0.2.10", 443, "10.1.0.9", 41000, 7000, test::bytes_of("server data")));
  const Decision d = feed(test::tcp_frame("10.1.0.9", 41000, "192.0.2.10", 443, 300,
                                          test::tls_stream("www.tiktok.com")));
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_EQ(sink_.seen[0].src, "10.1.0.9");
  EXPECT_NE(sink_.seen[0].flags & kFlagMidStream, 0U);
}

TEST_F(InspectorTest, VlanAndInterfaceReachTheObservation) {
  const Bytes frame =
      test::ethernet(0x0800,
                     test::ipv4("10.1.0.7", "192.0.2.53", parse::kIpProtoUdp,
                                test::udp(33000, 53, test::dns_query(1, "www.tiktok.com"))),
                     {test::VlanTag{0x8100, 42}});
  feed(frame);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_EQ(sink_.seen[0].vlan, std::optional<std::uint16_t>(42));
  EXPECT_EQ(sink_.seen[0].interface, "wlan0");
}

// ---- fragments ----

TEST_F(InspectorTest, LaterFragmentsFollowTheFirstFragmentsFlow) {
  Bytes query = test::dns_query(9, "www.tiktok.com");
  query.resize(query.size() + 64, 0);  // trailing bytes (as if EDNS data) for the second fragment
  const Bytes datagram = test::udp(33000, 53, query);
  test::Ipv4Spec first;
  first.src = "10.1.0.7";
  first.dst = "192.0.2.53";
  first.id = 0x4242;
  first.more_fragments = true;
  const std::size_t cut = 48;
  test::Ipv4Spec later = first;
  later.more_fragments = false;
  later.frag_offset = cut;
  const Decision d1 = feed(
      test::ethernet(0x0800, test::ipv4(first, parse::kIpProtoUdp, ByteSpan(datagram).first(cut))));
  EXPECT_EQ(d1.verdict, Verdict::Block);
  const Decision d2 = feed(test::ethernet(
      0x0800, test::ipv4(later, parse::kIpProtoUdp, ByteSpan(datagram).subspan(cut))));
  EXPECT_EQ(d2.verdict, Verdict::Block);
  EXPECT_EQ(inspector_.stats().fragments_attributed, 1U);
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_NE(sink_.seen[0].flags & kFlagIpFragment, 0U);

  test::Ipv4Spec orphan = later;
  orphan.id = 0x4343;
  const Decision d3 = feed(test::ethernet(
      0x0800, test::ipv4(orphan, parse::kIpProtoUdp, ByteSpan(datagram).subspan(cut))));
  EXPECT_EQ(d3.reason.kind, ReasonKind::NoName);
  EXPECT_EQ(inspector_.stats().fragments_unattributed, 1U);
}

// ---- decode errors and other protocols ----

TEST_F(InspectorTest, CountsDecodeErrorsAndOtherProtocols) {
  feed(Bytes{1, 2, 3});
  EXPECT_EQ(
      inspector_.stats().decode_errors[static_cast<std::size_t>(parse::DecodeError::Truncated)],
      1U);
  feed(test::ethernet(0x0806, Bytes(28, 0)));  // ARP
  EXPECT_EQ(inspector_.stats().non_ip, 1U);
  feed(test::ethernet(0x0800, test::ipv4("10.1.0.7", "192.0.2.1", 1, Bytes(8, 0))));  // ICMP
  EXPECT_EQ(inspector_.stats().non_tcp_udp, 1U);
  EXPECT_EQ(inspector_.stats().packets, 3U);
  EXPECT_EQ(inspector_.flow_count(), 0U);
}

// ---- bounds ----

class SmallTable : public InspectorTest {
 protected:
  static InspectConfig config() {
    InspectConfig c;
    c.max_flows = 64;
    c.flow_idle_timeout_s = 10;
    c.stream_bytes = 4096;
    c.reassembly_memory = 4 * (4096 + sizeof(ReassemblyState));
    return c;
  }
  SmallTable() : InspectorTest(config()) {}
};

Bytes udp_flow_frame(int i) {
  const std::string src = "10.2." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
  return test::udp_frame(src, static_cast<std::uint16_t>(20000 + i), "192.0.2.1", 9999,
                         Bytes(32, 0x01));
}

TEST_F(SmallTable, EvictsTheLeastRecentlyUsedWhenFull) {
  for (int i = 0; i < 64; ++i) {
    feed(udp_flow_frame(i));
  }
  const std::uint64_t memory = inspector_.memory_bytes();
  feed(udp_flow_frame(0));  // flow 0 becomes the most recently used
  for (int i = 64; i < 100; ++i) {
    feed(udp_flow_frame(i));
  }
  EXPECT_EQ(inspector_.flow_count(), 64U);
  EXPECT_EQ(inspector_.stats().flows_created, 100U);
  EXPECT_EQ(inspector_.stats().flows_evicted, 36U);
  EXPECT_EQ(inspector_.stats().active_flows, 64U);
  EXPECT_EQ(inspector_.memory_bytes(), memory);
  EXPECT_NE(inspector_.find_flow(*parse::decode_packet(kEth, udp_flow_frame(0))), nullptr);
  EXPECT_EQ(inspector_.find_flow(*parse::decode_packet(kEth, udp_flow_frame(1))), nullptr);
}

TEST_F(SmallTable, ExpiresIdleFlows) {
  for (int i = 0; i < 10; ++i) {
    feed(udp_flow_frame(i));
  }
  inspector_.expire(meta_.ts_us + 5000000);
  EXPECT_EQ(inspector_.flow_count(), 10U);
  inspector_.expire(meta_.ts_us + 11000000);
  EXPECT_EQ(inspector_.flow_count(), 0U);
  EXPECT_EQ(inspector_.stats().flows_expired, 10U);
  EXPECT_EQ(inspector_.stats().active_flows, 0U);
}

TEST_F(SmallTable, ExpiresIdleFlowsIncrementallyOnInsert) {
  feed(udp_flow_frame(0));
  feed(udp_flow_frame(1));
  meta_.ts_us += 20000000;
  feed(udp_flow_frame(2));
  EXPECT_EQ(inspector_.stats().flows_expired, 2U);
  EXPECT_EQ(inspector_.flow_count(), 1U);
}

TEST_F(SmallTable, ReassemblyMemoryIsBounded) {
  const Bytes stream = test::tls_stream("www.tiktok.com");
  const Bytes half(stream.begin(), stream.begin() + 40);
  for (int i = 0; i < 10; ++i) {
    const std::string client = "10.1.0." + std::to_string(i + 1);
    feed(test::tcp_frame(client, 40000, "192.0.2.10", 443, 1, half));
  }
  EXPECT_EQ(inspector_.stats().reassembly_drops, 6U);
  EXPECT_LE(inspector_.stats().reassembly_bytes_reserved, config().reassembly_memory);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use,
            4 * (std::uint64_t{4096} + sizeof(ReassemblyState)));
  // The flows that got no buffer were decided without a name and reported as truncated.
  ASSERT_EQ(sink_.seen.size(), 6U);
  for (const test::Seen& seen : sink_.seen) {
    EXPECT_TRUE(seen.name.empty());
    EXPECT_NE(seen.flags & kFlagTruncated, 0U);
  }
  // Buffers come back when flows end, and are reused.
  inspector_.expire(meta_.ts_us + 11000000);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);
  feed(test::tcp_frame("10.1.1.1", 40000, "192.0.2.10", 443, 1, half));
  EXPECT_EQ(inspector_.stats().reassembly_drops, 6U);
}

TEST_F(SmallTable, ClientHelloLargerThanTheWindowIsTruncated) {
  test::ClientHelloSpec spec;
  spec.sni = "www.tiktok.com";
  spec.padding = 5000;
  const Bytes stream = test::tls_records(test::client_hello(spec));
  std::uint32_t seq = 1;
  for (std::size_t at = 0; at < stream.size(); at += 1400) {
    const std::size_t len = std::min<std::size_t>(1400, stream.size() - at);
    feed(test::tcp_frame("10.1.0.1", 40000, "192.0.2.10", 443, seq,
                         ByteSpan(stream).subspan(at, len)));
    seq += static_cast<std::uint32_t>(len);
  }
  ASSERT_EQ(sink_.seen.size(), 1U);
  EXPECT_TRUE(sink_.seen[0].name.empty());
  EXPECT_NE(sink_.seen[0].flags & kFlagTruncated, 0U);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);
}

}  // namespace
}  // namespace egressguard::inspect

namespace egressguard::inspect {
namespace {

TEST_F(InspectorTest, FlushEndsEveryFlowAndReportsUndecidedTls) {
  const Bytes stream = test::tls_stream("www.tiktok.com");
  feed(test::tcp_frame("10.1.0.7", 40000, "192.0.2.10", 443, 1, ByteSpan(stream).first(30)));
  feed(test::udp_frame("10.1.0.7", 33000, "192.0.2.53", 53, test::dns_query(1, "example.org")));
  ASSERT_EQ(sink_.seen.size(), 1U);
  inspector_.flush();
  EXPECT_EQ(inspector_.flow_count(), 0U);
  EXPECT_EQ(inspector_.stats().flows_expired, 0U);
  EXPECT_EQ(inspector_.stats().reassembly_bytes_in_use, 0U);
  ASSERT_EQ(sink_.seen.size(), 2U);
  EXPECT_EQ(sink_.seen[1].app, AppProto::Tls);
  EXPECT_TRUE(sink_.seen[1].name.empty());
}

}  // namespace
}  // namespace egressguard::inspect

namespace egressguard::inspect {
namespace {

TEST_F(InspectorTest, EveryQuestionOfAMessageIsAName) {
  Bytes query = test::dns_header(0, 0, 3);
  for (const char* name : {"printer.local", "m.tiktok.com", "_ipps._tcp.local"}) {
    test::append(query, test::dns_name(name));
    test::put16(query, 12);
    test::put16(query, 1);
  }
  const Decision d = feed(test::udp_frame("10.1.0.7", 5353, "224.0.0.251", 5353, query));
  EXPECT_EQ(d.verdict, Verdict::Block);  // one blocked question blocks the packet
  ASSERT_EQ(sink_.seen.size(), 3U);
  EXPECT_EQ(sink_.seen[0].name, "printer.local");
  EXPECT_EQ(sink_.seen[1].name, "m.tiktok.com");
  EXPECT_EQ(sink_.seen[1].decision.verdict, Verdict::Block);
  EXPECT_EQ(sink_.seen[2].name, "_ipps._tcp.local");
  EXPECT_EQ(sink_.seen[2].qtype, 12);
  // The message claims more questions than it holds: counted, names so far kept.
  Bytes short_query = test::dns_header(0, 0, 2);
  test::append(short_query, test::dns_name("a.local"));
  test::put16(short_query, 1);
  test::put16(short_query, 1);
  feed(test::udp_frame("10.1.0.7", 5353, "224.0.0.251", 5353, short_query));
  EXPECT_EQ(sink_.seen.size(), 4U);
  EXPECT_EQ(inspector_.stats().dns_parse_errors, 1U);
}

}  // namespace
}  // namespace egressguard::inspect
