// Proxies, HTTP and DNS outside their usual places, through the whole Inspector: SOCKS 4/4A/5
// and HTTP CONNECT tunnels (the proxy's destination name and the tunnelled SNI / Host are both
// decided), HTTP over UDP (SSDP), DNS queries on UDP ports DNS does not use, salvaged
// ClientHellos and GTP-U encapsulation; with the cases that must not be taken for any of them.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/inspect/inspector.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace egressguard::inspect {
namespace {

using test::Bytes;

constexpr auto kEth = parse::LinkType::Ethernet;
constexpr const char* kClient = "10.1.0.5";  // group gov: blocks tiktok
constexpr const char* kProxy = "192.0.2.80";
constexpr std::uint32_t kIsn = 5000;

// ---- builders ----

Bytes socks5_greeting(const Bytes& methods = {0}) {
  Bytes out = {5, static_cast<std::uint8_t>(methods.size())};
  test::append(out, methods);
  return out;
}

Bytes socks5_connect_domain(std::string_view name, std::uint16_t port = 443) {
  Bytes out = {5, 1, 0, 3, static_cast<std::uint8_t>(name.size())};
  test::append(out, name);
  test::put16(out, port);
  return out;
}

Bytes socks5_connect_address(std::string_view address, std::uint16_t port = 443,
                             std::uint8_t command = 1) {
  const Bytes raw = test::address_bytes(address);
  Bytes out = {5, command, 0, static_cast<std::uint8_t>(raw.size() == 4 ? 1 : 4)};
  test::append(out, raw);
  test::put16(out, port);
  return out;
}

Bytes socks4(std::string_view user, std::optional<std::string_view> host,
             std::uint16_t port = 443) {
  Bytes out = {4, 1};
  test::put16(out, port);
  test::append(out, host ? Bytes{0, 0, 0, 1} : Bytes{192, 0, 2, 44});
  test::append(out, user);
  out.push_back(0);
  if (host) {
    test::append(out, *host);
    out.push_back(0);
  }
  return out;
}

Bytes text(std::string_view s) {
  return test::bytes_of(s);
}

Bytes hello(std::string_view sni) {
  return test::tls_stream(sni);
}

Bytes http_get(std::string_view host) {
  return text("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\nAccept: */*\r\n\r\n");
}

Bytes connect_request(std::string_view authority, std::string_view host) {
  std::string r = "CONNECT " + std::string(authority) + " HTTP/1.1\r\n";
  if (!host.empty()) {
    r += "Host: " + std::string(host) + "\r\n";
  }
  r += "User-Agent: curl/8.0\r\nProxy-Connection: Keep-Alive\r\n\r\n";
  return text(r);
}

// ---- TCP tunnels ----

struct Expected {
  AppProto app;
  const char* name;
  Verdict verdict;
  std::uint32_t flags_set = 0;
  std::uint32_t flags_clear = 0;
};

struct TunnelCase {
  const char* description;
  std::vector<Bytes> segments;  // client segments, in order, after the handshake
  std::vector<Expected> seen;   // observations, in order
  Verdict final_verdict;        // the decision returned for the last segment
  std::uint16_t port = 1080;
};

void PrintTo(const TunnelCase& c, std::ostream* os) {
  *os << c.description;
}

class Tunnel : public ::testing::TestWithParam<TunnelCase> {};

TEST_P(Tunnel, DecidesTheProxyNameAndTheTunnelledName) {
  const TunnelCase& c = GetParam();
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  PacketMeta meta{1000000, "eth0"};
  inspector.inspect_frame(
      kEth, test::tcp_frame(kClient, 41000, kProxy, c.port, kIsn, {}, parse::kTcpSyn, 0), meta);
  std::uint32_t seq = kIsn + 1;
  Decision last;
  for (const Bytes& segment : c.segments) {
    meta.ts_us += 1000;
    last = inspector.inspect_frame(
        kEth, test::tcp_frame(kClient, 41000, kProxy, c.port, seq, segment), meta);
    seq += static_cast<std::uint32_t>(segment.size());
  }
  EXPECT_EQ(last.verdict, c.final_verdict);
  ASSERT_EQ(sink.seen.size(), c.seen.size());
  for (std::size_t i = 0; i < c.seen.size(); ++i) {
    const Expected& e = c.seen[i];
    EXPECT_EQ(sink.seen[i].app, e.app) << i;
    EXPECT_EQ(sink.seen[i].name, e.name) << i;
    EXPECT_EQ(sink.seen[i].decision.verdict, e.verdict) << i;
    EXPECT_EQ(sink.seen[i].flags & e.flags_set, e.flags_set) << i << ": " << sink.seen[i].flags;
    EXPECT_EQ(sink.seen[i].flags & e.flags_clear, 0U) << i << ": " << sink.seen[i].flags;
    EXPECT_EQ(sink.seen[i].dport, c.port);
  }
  const Flow* flow = inspector.find_flow(
      *parse::decode_packet(kEth, test::tcp_frame(kClient, 41000, kProxy, c.port, seq, {})));
  ASSERT_NE(flow, nullptr);
  EXPECT_EQ(flow->decision.verdict, c.final_verdict);
  EXPECT_EQ(inspector.stats().reassembly_bytes_in_use, 0U);
}

const Bytes kGreeting = socks5_greeting();
const Bytes kTikTokHello = hello("www.tiktok.com");

INSTANTIATE_TEST_SUITE_P(
    Cases, Tunnel,
    ::testing::Values(
        TunnelCase{"socks5_domain_blocked",
                   {kGreeting, socks5_connect_domain("www.tiktok.com")},
                   {{AppProto::Socks, "www.tiktok.com", Verdict::Block}},
                   Verdict::Block},
        TunnelCase{
            "socks5_domain_allowed_then_tls_blocked",
            {kGreeting, socks5_connect_domain("cdn.example.org"), hello("vcs-va.tiktokv.com")},
            {{AppProto::Socks, "cdn.example.org", Verdict::Allow, 0, kFlagTunnel},
             {AppProto::Tls, "vcs-va.tiktokv.com", Verdict::Block, kFlagTunnel}},
            Verdict::Block},
        TunnelCase{"socks5_domain_allowed_then_tls_allowed",
                   {kGreeting, socks5_connect_domain("example.org"), hello("example.org")},
                   {{AppProto::Socks, "example.org", Verdict::Allow},
                    {AppProto::Tls, "example.org", Verdict::Allow, kFlagTunnel}},
                   Verdict::Allow},
        TunnelCase{"socks5_ipv4_then_tls",
                   {kGreeting, socks5_connect_address("198.51.100.9"), hello("m.tiktok.com")},
                   {{AppProto::Tls, "m.tiktok.com", Verdict::Block, kFlagTunnel}},
                   Verdict::Block},
        TunnelCase{
            "socks5_ipv6_then_http",
            {kGreeting, socks5_connect_address("2001:db8::80", 80), http_get("www.tiktok.com")},
            {{AppProto::Http, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
            Verdict::Block},
        TunnelCase{
            "socks5_pipelined_in_one_segment",
            {test::cat({kGreeting, socks5_connect_domain("a.example"), hello("api.tiktokv.com")})},
            {{AppProto::Socks, "a.example", Verdict::Allow},
             {AppProto::Tls, "api.tiktokv.com", Verdict::Block, kFlagTunnel}},
            Verdict::Block},
        TunnelCase{"socks5_username_password",
                   {socks5_greeting({0, 2}),
                    text("\x01\x05"
                         "alice\x06"
                         "secret"),
                    socks5_connect_domain("www.tiktok.com")},
                   {{AppProto::Socks, "www.tiktok.com", Verdict::Block}},
                   Verdict::Block},
        TunnelCase{"socks5_clienthello_split_after_handshake",
                   {kGreeting, socks5_connect_domain("a.example"),
                    Bytes(kTikTokHello.begin(), kTikTokHello.begin() + 20),
                    Bytes(kTikTokHello.begin() + 20, kTikTokHello.end())},
                   {{AppProto::Socks, "a.example", Verdict::Allow},
                    {AppProto::Tls, "www.tiktok.com", Verdict::Block, kFlagTunnel | kFlagSplit}},
                   Verdict::Block},
        TunnelCase{"socks5_to_port_53_carries_dns_over_tcp",
                   {kGreeting, socks5_connect_address("192.0.2.53", 53),
                    test::with_u16_length(test::dns_query(9, "www.tiktok.com"))},
                   {{AppProto::Dns, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
                   Verdict::Block},
        TunnelCase{"socks5_udp_associate_is_not_a_tunnel",
                   {kGreeting, socks5_connect_address("0.0.0.0", 0, 3), hello("www.tiktok.com")},
                   {},
                   Verdict::Allow},
        TunnelCase{"socks4a_domain_blocked",
                   {socks4("bob", "m.tiktok.com")},
                   {{AppProto::Socks, "m.tiktok.com", Verdict::Block}},
                   Verdict::Block},
        TunnelCase{"socks4a_allowed_then_tls_blocked",
                   {socks4("", "example.org"), hello("www.tiktok.com")},
                   {{AppProto::Socks, "example.org", Verdict::Allow},
                    {AppProto::Tls, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
                   Verdict::Block},
        TunnelCase{"socks4_ipv4_then_tls",
                   {socks4("bob", std::nullopt), hello("www.tiktok.com")},
                   {{AppProto::Tls, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
                   Verdict::Block},
        TunnelCase{"connect_blocked",
                   {connect_request("www.tiktok.com:443", "www.tiktok.com:443")},
                   {{AppProto::Http, "www.tiktok.com:443", Verdict::Block, 0, kFlagTunnel}},
                   Verdict::Block,
                   3128},
        TunnelCase{
            "connect_allowed_then_clienthello_blocked",
            {connect_request("example.org:443", "example.org:443"), hello("vcs-va.tiktokv.com")},
            {{AppProto::Http, "example.org:443", Verdict::Allow},
             {AppProto::Tls, "vcs-va.tiktokv.com", Verdict::Block, kFlagTunnel}},
            Verdict::Block,
            3128},
        TunnelCase{"connect_allowed_then_clienthello_allowed",
                   {connect_request("example.org:443", ""), hello("example.org")},
                   {{AppProto::Http, "example.org:443", Verdict::Allow},
                    {AppProto::Tls, "example.org", Verdict::Allow, kFlagTunnel}},
                   Verdict::Allow,
                   3128},
        TunnelCase{"connect_and_clienthello_in_one_segment",
                   {test::cat({connect_request("example.org:443", ""), kTikTokHello})},
                   {{AppProto::Http, "example.org:443", Verdict::Allow},
                    {AppProto::Tls, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
                   Verdict::Block,
                   3128},
        TunnelCase{
            "connect_header_block_split",
            {text("CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n"),
             text("Proxy-Authorization: Basic dTpw\r\n"), text("\r\n"), hello("www.tiktok.com")},
            {{AppProto::Http, "example.org:443", Verdict::Allow},
             {AppProto::Tls, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
            Verdict::Block,
            8080},
        TunnelCase{"connect_authority_decides_whatever_host_says",
                   {connect_request("www.tiktok.com:443", "example.org")},
                   {{AppProto::Http, "www.tiktok.com:443", Verdict::Block}},
                   Verdict::Block,
                   3128},
        TunnelCase{"connect_host_header_also_decided",
                   {connect_request("example.org:443", "www.tiktok.com")},
                   {{AppProto::Http, "example.org:443", Verdict::Allow},
                    {AppProto::Http, "www.tiktok.com", Verdict::Block}},
                   Verdict::Block,
                   3128},
        TunnelCase{"absolute_form_target_decides_whatever_host_says",
                   {text("GET http://www.tiktok.com/feed HTTP/1.1\r\nHost: example.org\r\n\r\n")},
                   {{AppProto::Http, "www.tiktok.com", Verdict::Block}},
                   Verdict::Block,
                   3128},
        TunnelCase{"socks5_then_connect_chain",
                   {kGreeting, socks5_connect_domain("proxy2.example", 3128),
                    connect_request("example.org:443", ""), hello("www.tiktok.com")},
                   {{AppProto::Socks, "proxy2.example", Verdict::Allow},
                    {AppProto::Http, "example.org:443", Verdict::Allow, kFlagTunnel},
                    {AppProto::Tls, "www.tiktok.com", Verdict::Block, kFlagTunnel}},
                   Verdict::Block},
        TunnelCase{"dcerpc_bind_is_not_socks",
                   {Bytes{5, 0, 11, 3, 16, 0, 0, 0, 0x48, 0, 0, 0, 1, 0, 0, 0}},
                   {},
                   Verdict::Allow,
                   135},
        TunnelCase{"socks5_greeting_then_binary_is_not_socks",
                   {kGreeting, Bytes{0x17, 0x03, 0x03, 0, 5, 1, 2, 3, 4, 5}},
                   {},
                   Verdict::Allow}),
    [](const ::testing::TestParamInfo<TunnelCase>& param) {
      return std::string(param.param.description);
    });

TEST(Tunnel, ChainsDeeperThanTheBoundAreNotFollowed) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  PacketMeta meta{1000000, "eth0"};
  Bytes stream;
  for (int i = 0; i < 8; ++i) {
    stream = test::cat({stream, kGreeting, socks5_connect_address("192.0.2.1", 1080)});
  }
  stream = test::cat({stream, hello("www.tiktok.com")});
  inspector.inspect_frame(kEth, test::tcp_frame(kClient, 41000, kProxy, 1080, kIsn + 1, stream),
                          meta);
  EXPECT_TRUE(sink.seen.empty());
  EXPECT_LE(inspector.stats().tunnels, 3U);
}

// ---- UDP: HTTP over UDP and DNS on other ports ----

struct UdpCase {
  const char* description;
  const char* dst;
  std::uint16_t sport, dport;
  std::vector<Bytes> datagrams;  // from the client
  std::vector<Expected> seen;
};

void PrintTo(const UdpCase& c, std::ostream* os) {
  *os << c.description;
}

class UdpNames : public ::testing::TestWithParam<UdpCase> {};

TEST_P(UdpNames, FindsOnlyRealNames) {
  const UdpCase& c = GetParam();
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  PacketMeta meta{1000000, "eth0"};
  for (const Bytes& datagram : c.datagrams) {
    meta.ts_us += 1000;
    inspector.inspect_frame(kEth, test::udp_frame(kClient, c.sport, c.dst, c.dport, datagram),
                            meta);
  }
  ASSERT_EQ(sink.seen.size(), c.seen.size());
  for (std::size_t i = 0; i < c.seen.size(); ++i) {
    EXPECT_EQ(sink.seen[i].app, c.seen[i].app) << i;
    EXPECT_EQ(sink.seen[i].name, c.seen[i].name) << i;
    EXPECT_EQ(sink.seen[i].decision.verdict, c.seen[i].verdict) << i;
    EXPECT_EQ(sink.seen[i].flags & c.seen[i].flags_set, c.seen[i].flags_set) << i;
    EXPECT_EQ(sink.seen[i].l4, parse::kIpProtoUdp);
  }
}

Bytes with_opt(Bytes query, std::size_t padding = 0) {
  query[11] = 1;  // ARCOUNT
  Bytes opt = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0};
  Bytes options;
  if (padding != 0) {
    test::put16(options, 12);  // Padding option, RFC 7830
    test::put16(options, static_cast<std::uint32_t>(padding));
    options.resize(options.size() + padding, 0);
  }
  test::append(opt, test::with_u16_length(options));
  return test::cat({query, opt});
}

Bytes with_header(Bytes message, std::size_t at, std::uint8_t value) {
  message[at] = value;
  return message;
}

Bytes netbios_name_query() {
  Bytes out = test::dns_header(0x8a31, 0x0110, 1);
  test::append(out, test::dns_name("FHEPFCELEHFCEPFFFACACACACACACABN"));
  test::put16(out, 0x20);  // NB
  test::put16(out, 1);
  return out;
}

const Bytes kTikTokQuery = test::dns_query(0x48c4, "wWw.TiKtOk.CoM", 16);

INSTANTIATE_TEST_SUITE_P(
    Cases, UdpNames,
    ::testing::Values(
        UdpCase{"ssdp_msearch",
                "239.255.255.250",
                50000,
                1900,
                {text("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "
                      "\"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")},
                {{AppProto::Http, "239.255.255.250:1900", Verdict::Allow, kFlagIpLiteral}}},
        UdpCase{"ssdp_notify",
                "239.255.255.250",
                1900,
                1900,
                {text("NOTIFY * HTTP/1.1\r\nHost: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\n"
                      "NTS: ssdp:alive\r\n\r\n")},
                {{AppProto::Http, "239.255.255.250:1900", Verdict::Allow}}},
        UdpCase{"http_over_udp_blocked",
                "192.0.2.9",
                50001,
                8080,
                {text("GET / HTTP/1.1\r\nHost: www.tiktok.com\r\n\r\n")},
                {{AppProto::Http, "www.tiktok.com", Verdict::Block}}},
        UdpCase{"http_over_udp_without_host_is_unnamed",
                "192.0.2.9",
                50002,
                8080,
                {text("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n")},
                {}},
        UdpCase{"dns_on_udp_443_with_0x20_case",
                "181.214.35.149",
                57970,
                443,
                {kTikTokQuery},
                {{AppProto::Dns, "wWw.TiKtOk.CoM", Verdict::Block}}},
        UdpCase{"dns_on_udp_443_with_edns_padding",
                "181.214.35.149",
                57971,
                443,
                {with_opt(test::dns_query(7, "m.tiktok.com"), 40)},
                {{AppProto::Dns, "m.tiktok.com", Verdict::Block}}},
        UdpCase{"dns_on_odd_port_every_query_of_the_flow",
                "192.0.2.153",
                57972,
                5300,
                {test::dns_query(1, "example.org"), test::dns_query(2, "www.tiktok.com")},
                {{AppProto::Dns, "example.org", Verdict::Allow},
                 {AppProto::Dns, "www.tiktok.com", Verdict::Block}}},
        UdpCase{"dns_response_first_is_not_a_query",
                "181.214.35.149",
                57973,
                443,
                {with_header(kTikTokQuery, 2, 0x81)},
                {}},
        UdpCase{"dns_with_answer_record_is_not_a_query",
                "181.214.35.149",
                57974,
                443,
                {with_header(kTikTokQuery, 7, 1)},
                {}},
        UdpCase{"dns_with_trailing_bytes_is_not_a_query",
                "181.214.35.149",
                57975,
                443,
                {test::cat({kTikTokQuery, Bytes{0}})},
                {}},
        UdpCase{"dns_with_non_opt_additional_is_not_a_query",
                "181.214.35.149",
                57976,
                443,
                {with_header(with_opt(kTikTokQuery),
                             static_cast<std::size_t>(kTikTokQuery.size() + 2), 250)},
                {}},
        UdpCase{"dns_with_opcode_update_is_not_a_query",
                "181.214.35.149",
                57977,
                443,
                {with_header(kTikTokQuery, 2, 0x28)},
                {}},
        UdpCase{
            "netbios_name_query_is_not_dns", "10.1.255.255", 137, 137, {netbios_name_query()}, {}},
        UdpCase{"quic_short_header_is_not_dns",
                "192.0.2.1",
                57978,
                443,
                {test::cat({Bytes{0x41, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00},
                            test::dns_name("www.tiktok.com"), Bytes(40, 0x5a)})},
                {}},
        UdpCase{"wireguard_is_nothing", "192.0.2.1", 51820, 51820, {Bytes(148, 0x01)}, {}}),
    [](const ::testing::TestParamInfo<UdpCase>& param) {
      return std::string(param.param.description);
    });

TEST(UdpNames, QuicInitialOnPort443IsStillQuic) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  const Bytes dcid = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  test::ClientHelloSpec spec;
  spec.sni = "www.tiktok.com";
  spec.quic_transport_params = true;
  const Bytes datagram =
      test::quic::initial(dcid, test::quic::crypto_frame(0, test::client_hello(spec)));
  const Decision d = inspector.inspect_frame(
      kEth, test::udp_frame(kClient, 50000, "192.0.2.43", 443, datagram), {1, "eth0"});
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].app, AppProto::Quic);
}

// ---- salvaged ClientHello, GTP-U ----

TEST(SalvagedClientHello, ABrokenTailAfterTheServerNameStillNamesTheFlow) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  test::ClientHelloSpec spec;
  spec.sni = "www.tiktok.com";
  spec.extra_extensions = {{16, Bytes{0xb8, 0x89, 0xa5, 0x2f, 0x56}}};  // ALPN list overruns
  const Bytes stream = test::tls_records(test::client_hello(spec));
  inspector.inspect_frame(
      kEth, test::tcp_frame(kClient, 41001, "192.0.2.10", 443, kIsn, {}, parse::kTcpSyn, 0),
      {1, ""});
  const Decision d = inspector.inspect_frame(
      kEth, test::tcp_frame(kClient, 41001, "192.0.2.10", 443, kIsn + 1, stream), {2, ""});
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].name, "www.tiktok.com");
  EXPECT_NE(sink.seen[0].flags & kFlagMalformed, 0U);
  EXPECT_EQ(inspector.stats().tls_parse_errors, 1U);
}

TEST(Gtpu, TheInnerFlowIsInspected) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  const Bytes inner = test::ipv4(
      kClient, "54.221.224.45", parse::kIpProtoTcp,
      test::tcp(58552, 443, hello("www.tiktok.com"), parse::kTcpAck | parse::kTcpPsh, kIsn + 1, 1));
  Bytes gtp = {0x30, 0xff};
  test::put16(gtp, static_cast<std::uint32_t>(inner.size()));
  test::put32(gtp, 0x07ece496);
  test::append(gtp, inner);
  const Bytes frame = test::ethernet(
      0x0800,
      test::ipv4("10.238.36.64", "10.238.244.49", parse::kIpProtoUdp, test::udp(2152, 2152, gtp)));
  const Decision d = inspector.inspect_frame(kEth, frame, {1, ""});
  EXPECT_EQ(d.verdict, Verdict::Block);
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].name, "www.tiktok.com");
  EXPECT_EQ(sink.seen[0].src, kClient);
}

}  // namespace
}  // namespace egressguard::inspect
