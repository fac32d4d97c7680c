#include "filter/parse/packet.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::parse {
namespace {

using test::Bytes;
using test::bytes_of;

// What a decoded frame should show; fields left at their defaults are still compared.
struct Expect {
  std::string src{};
  std::string dst{};
  std::uint8_t l4 = kIpProtoTcp;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::string payload{};
  bool has_vlan = false;
  std::uint16_t vlan = 0;
  bool has_mac = false;
  std::uint8_t tunnel_depth = 0;
  bool is_fragment = false;
  bool first_fragment = false;
  std::uint16_t frag_offset = 0;
  bool truncated = false;
};

struct Case {
  std::string name{};
  LinkType link{};
  Bytes frame{};
  std::optional<DecodeError> error{};  // nullopt: expect success
  Expect expect{};
};

const Bytes hello_payload = bytes_of("hello");

Bytes tcp_v4() {
  return test::ipv4("192.0.2.1", "198.51.100.7", kIpProtoTcp, test::tcp(40000, 443, hello_payload));
}
Bytes udp_v6() {
  return test::ipv6("2001:db8::1", "2001:db8::53", kIpProtoUdp, test::udp(5353, 53, hello_payload));
}

const Expect tcp_v4_expect{.src = "192.0.2.1",
                           .dst = "198.51.100.7",
                           .l4 = kIpProtoTcp,
                           .sport = 40000,
                           .dport = 443,
                           .payload = "hello"};
const Expect udp_v6_expect{.src = "2001:db8::1",
                           .dst = "2001:db8::53",
                           .l4 = kIpProtoUdp,
                           .sport = 5353,
                           .dport = 53,
                           .payload = "hello"};

Expect with_mac(Expect e) {
  e.has_mac = true;
  return e;
}
Expect with_vlan(Expect e, std::uint16_t vlan) {
  e.has_mac = true;
  e.has_vlan = true;
  e.vlan = vlan;
  return e;
}
Expect tunnelled(Expect e, std::uint8_t depth, bool mac = false) {
  e.tunnel_depth = depth;
  e.has_mac = mac;
  return e;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  // Link types.
  c.push_back({"ethernet_ipv4_tcp",
               LinkType::Ethernet,
               test::ethernet(0x0800, tcp_v4()),
               {},
               with_mac(tcp_v4_expect)});
  c.push_back({"ethernet_ipv6_udp",
               LinkType::Ethernet,
               test::ethernet(0x86dd, udp_v6()),
               {},
               with_mac(udp_v6_expect)});
  c.push_back({"ethernet_padding_trimmed",
               LinkType::Ethernet,
               test::cat({test::ethernet(0x0800, tcp_v4()), Bytes(20, 0)}),
               {},
               with_mac(tcp_v4_expect)});
  c.push_back({"vlan_8021q",
               LinkType::Ethernet,
               test::ethernet(0x0800, tcp_v4(), {{0x8100, 0x2064}}),
               {},
               with_vlan(tcp_v4_expect, 100)});
  c.push_back({"qinq_records_outer",
               LinkType::Ethernet,
               test::ethernet(0x86dd, udp_v6(), {{0x88a8, 200}, {0x8100, 300}}),
               {},
               with_vlan(udp_v6_expect, 200)});
  c.push_back({"three_tags",
               LinkType::Ethernet,
               test::ethernet(0x0800, tcp_v4(), {{0x9100, 7}, {0x88a8, 8}, {0x8100, 9}}),
               {},
               with_vlan(tcp_v4_expect, 7)});
  c.push_back({"linux_sll",
               LinkType::LinuxSll,
               test::linux_sll(0x0800, tcp_v4()),
               {},
               with_mac(tcp_v4_expect)});
  c.push_back({"linux_sll_non_ethernet_no_mac",
               LinkType::LinuxSll,
               test::linux_sll(0x86dd, udp_v6(), 65534 /* ARPHRD_NONE (tun) */),
               {},
               udp_v6_expect});
  c.push_back({"linux_sll2",
               LinkType::LinuxSll2,
               test::linux_sll2(0x86dd, udp_v6()),
               {},
               with_mac(udp_v6_expect)});
  c.push_back({"raw_v4", LinkType::Raw, tcp_v4(), {}, tcp_v4_expect});
  c.push_back({"raw_v6", LinkType::Raw, udp_v6(), {}, udp_v6_expect});
  c.push_back({"link_ipv4", LinkType::Ipv4, tcp_v4(), {}, tcp_v4_expect});
  c.push_back({"link_ipv6", LinkType::Ipv6, udp_v6(), {}, udp_v6_expect});
  c.push_back({"link_ipv4_given_v6", LinkType::Ipv4, udp_v6(), DecodeError::BadIpVersion, {}});
  c.push_back(
      {"null_le_inet", LinkType::Null, test::null_loopback(2, true, tcp_v4()), {}, tcp_v4_expect});
  c.push_back(
      {"null_be_inet", LinkType::Null, test::null_loopback(2, false, tcp_v4()), {}, tcp_v4_expect});
  for (const std::uint32_t af : {24U, 28U, 30U}) {
    c.push_back({"null_inet6_" + std::to_string(af),
                 LinkType::Null,
                 test::null_loopback(af, true, udp_v6()),
                 {},
                 udp_v6_expect});
    c.push_back({"loop_inet6_" + std::to_string(af),
                 LinkType::Null,
                 test::null_loopback(af, false, udp_v6()),
                 {},
                 udp_v6_expect});
  }
  c.push_back({"null_unknown_family",
               LinkType::Null,
               test::null_loopback(7, true, tcp_v4()),
               DecodeError::NotIp,
               {}});
  // Non-IP and unsupported L2.
  c.push_back(
      {"arp", LinkType::Ethernet, test::ethernet(0x0806, Bytes(28, 0)), DecodeError::NotIp, {}});
  c.push_back({"vlan_arp",
               LinkType::Ethernet,
               test::ethernet(0x0806, Bytes(28, 0), {{0x8100, 5}}),
               DecodeError::NotIp,
               {}});
  c.push_back({"llc_length_field",
               LinkType::Ethernet,
               test::ethernet(0x0026, Bytes(38, 0)),
               DecodeError::NotIp,
               {}});
  c.push_back({"unknown_ethertype",
               LinkType::Ethernet,
               test::ethernet(0x1234, Bytes(38, 0)),
               DecodeError::UnsupportedEtherType,
               {}});
  c.push_back(
      {"bad_link_value", static_cast<LinkType>(99), tcp_v4(), DecodeError::UnsupportedLink, {}});
  {
    Bytes pppoe{0x11, 0x00, 0x00, 0x01};
    const Bytes ip = tcp_v4();
    test::put16(pppoe, static_cast<std::uint32_t>(ip.size() + 2));
    test::put16(pppoe, 0x0021);
    test::append(pppoe, ip);
    c.push_back({"pppoe_session_ipv4",
                 LinkType::Ethernet,
                 test::ethernet(0x8864, pppoe),
                 {},
                 with_mac(tcp_v4_expect)});
  }
  {
    Bytes mpls{0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40};  // two labels, bottom set
    test::append(mpls, udp_v6());
    c.push_back({"mpls_two_labels_ipv6",
                 LinkType::Ethernet,
                 test::ethernet(0x8847, mpls),
                 {},
                 with_mac(udp_v6_expect)});
  }
  // IPv4 details.
  {
    test::Ipv4Spec spec{.src = "192.0.2.1", .dst = "198.51.100.7"};
    spec.options = {0x94, 0x04, 0x00, 0x00};  // router alert
    c.push_back({"ipv4_options",
                 LinkType::Raw,
                 test::ipv4(spec, kIpProtoTcp, test::tcp(40000, 443, hello_payload)),
                 {},
                 tcp_v4_expect});
  }
  {
    const Bytes options{0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02};  // MSS, NOP, SACK ok
    c.push_back({"tcp_options",
                 LinkType::Raw,
                 test::ipv4("192.0.2.1", "198.51.100.7", kIpProtoTcp,
                            test::tcp(40000, 443, hello_payload, kTcpAck, 1, 2, options)),
                 {},
                 tcp_v4_expect});
  }
  {
    test::Ipv4Spec spec{.src = "192.0.2.1", .dst = "198.51.100.7"};
    spec.more_fragments = true;
    Expect e = tcp_v4_expect;
    e.is_fragment = true;
    e.first_fragment = true;
    c.push_back({"ipv4_first_fragment",
                 LinkType::Raw,
                 test::ipv4(spec, kIpProtoTcp, test::tcp(40000, 443, hello_payload)),
                 {},
                 e});
  }
  {
    test::Ipv4Spec spec{.src = "192.0.2.1", .dst = "198.51.100.7"};
    spec.frag_offset = 1480;
    Expect e{.src = "192.0.2.1", .dst = "198.51.100.7", .l4 = kIpProtoUdp, .payload = "hello"};
    e.is_fragment = true;
    e.frag_offset = 1480;
    c.push_back(
        {"ipv4_last_fragment", LinkType::Raw, test::ipv4(spec, kIpProtoUdp, hello_payload), {}, e});
  }
  {
    test::Ipv4Spec spec{.src = "192.0.2.1", .dst = "198.51.100.7"};
    spec.more_fragments = true;
    Expect e{.src = "192.0.2.1",
             .dst = "198.51.100.7",
             .l4 = kIpProtoUdp,
             .sport = 5353,
             .dport = 53,
             .payload = "hello+rest"};
    e.is_fragment = true;
    e.first_fragment = true;
    // The UDP length (100) covers the whole datagram; the first fragment holds less.
    Bytes datagram = test::udp(5353, 53, bytes_of("hello+rest"));
    datagram[4] = 0;
    datagram[5] = 100;
    c.push_back(
        {"ipv4_first_fragment_udp", LinkType::Raw, test::ipv4(spec, kIpProtoUdp, datagram), {}, e});
  }
  {
    test::Ipv4Spec spec{.src = "192.0.2.1", .dst = "198.51.100.7"};
    spec.total_len = 0;  // segmentation offload
    c.push_back({"ipv4_total_len_zero",
                 LinkType::Raw,
                 test::ipv4(spec, kIpProtoTcp, test::tcp(40000, 443, hello_payload)),
                 {},
                 tcp_v4_expect});
  }
  {
    Bytes frame = tcp_v4();
    frame.pop_back();  // snaplen cut
    frame.pop_back();
    Expect e = tcp_v4_expect;
    e.payload = "hel";
    e.truncated = true;
    c.push_back({"ipv4_capture_cut", LinkType::Raw, frame, {}, e});
  }
  {
    test::Ipv4Spec spec;
    spec.total_len = 10;
    c.push_back({"ipv4_total_len_below_header",
                 LinkType::Raw,
                 test::ipv4(spec, kIpProtoTcp, hello_payload),
                 DecodeError::BadIpHeader,
                 {}});
  }
  {
    Bytes frame = tcp_v4();
    frame[0] = 0x44;  // IHL 4
    c.push_back({"ipv4_bad_ihl", LinkType::Raw, frame, DecodeError::BadIpHeader, {}});
    frame[0] = 0x55;
    c.push_back({"ip_version_5", LinkType::Raw, frame, DecodeError::BadIpVersion, {}});
  }
  {
    Bytes frame = tcp_v4();
    frame[20 + 12] = 0x40;  // TCP data offset 4
    c.push_back({"tcp_bad_offset", LinkType::Raw, frame, DecodeError::BadTcpHeader, {}});
    frame[20 + 12] = 0xf0;  // 60-byte TCP header beyond the packet
    c.push_back({"tcp_offset_past_end", LinkType::Raw, frame, DecodeError::Truncated, {}});
  }
  {
    Bytes frame = test::ipv4("10.0.0.1", "10.0.0.2", kIpProtoUdp, test::udp(1, 2, hello_payload));
    frame[20 + 5] = 4;  // UDP length 4
    c.push_back({"udp_bad_length", LinkType::Raw, frame, DecodeError::BadUdpHeader, {}});
  }
  c.push_back({"icmp_passes_through",
               LinkType::Raw,
               test::ipv4("10.0.0.1", "10.0.0.2", 1, Bytes{8, 0, 0, 0, 0, 1, 0, 1}),
               {},
               Expect{.src = "10.0.0.1", .dst = "10.0.0.2", .l4 = 1}});
  // IPv6 extension headers and fragments.
  c.push_back({"ipv6_ext_chain",
               LinkType::Raw,
               test::ipv6("2001:db8::1", "2001:db8::53", 0,
                          test::ipv6_ext(
                              60, 0,
                              test::ipv6_ext(43, 1,
                                             test::ipv6_ext(kIpProtoUdp, 0,
                                                            test::udp(5353, 53, hello_payload))))),
               {},
               udp_v6_expect});
  {
    Expect e = udp_v6_expect;
    e.is_fragment = true;
    e.first_fragment = true;
    c.push_back({"ipv6_first_fragment",
                 LinkType::Raw,
                 test::ipv6("2001:db8::1", "2001:db8::53", 44,
                            test::ipv6_fragment(kIpProtoUdp, 0, true, 9,
                                                test::udp(5353, 53, hello_payload))),
                 {},
                 e});
  }
  {
    Expect e{.src = "2001:db8::1", .dst = "2001:db8::53", .l4 = kIpProtoUdp, .payload = "hello"};
    e.is_fragment = true;
    e.frag_offset = 1232;
    c.push_back(
        {"ipv6_later_fragment_after_dstopts",
         LinkType::Raw,
         test::ipv6("2001:db8::1", "2001:db8::53", 60,
                    test::ipv6_ext(
                        44, 0, test::ipv6_fragment(kIpProtoUdp, 1232, false, 9, hello_payload))),
         {},
         e});
  }
  c.push_back({"ipv6_atomic_fragment",
               LinkType::Raw,
               test::ipv6("2001:db8::1", "2001:db8::53", 44,
                          test::ipv6_fragment(kIpProtoUdp, 0, false, 9,
                                              test::udp(5353, 53, hello_payload))),
               {},
               udp_v6_expect});
  {
    Bytes ah{kIpProtoUdp, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    test::append(ah, test::udp(5353, 53, hello_payload));
    c.push_back({"ipv6_ah",
                 LinkType::Raw,
                 test::ipv6("2001:db8::1", "2001:db8::53", 51, ah),
                 {},
                 udp_v6_expect});
  }
  c.push_back({"ipv6_esp_stops",
               LinkType::Raw,
               test::ipv6("2001:db8::1", "2001:db8::53", 50, Bytes(24, 0x77)),
               {},
               Expect{.src = "2001:db8::1", .dst = "2001:db8::53", .l4 = 50}});
  c.push_back({"ipv6_no_next_header",
               LinkType::Raw,
               test::ipv6("2001:db8::1", "2001:db8::53", 60, test::ipv6_ext(59, 0, {})),
               {},
               Expect{.src = "2001:db8::1", .dst = "2001:db8::53", .l4 = 59}});
  c.push_back(
      {"ipv6_hop_by_hop_not_first",
       LinkType::Raw,
       test::ipv6(
           "2001:db8::1", "2001:db8::53", 60,
           test::ipv6_ext(0, 0, test::ipv6_ext(kIpProtoUdp, 0, test::udp(1, 2, hello_payload)))),
       DecodeError::BadIpv6ExtHeader,
       {}});
  {
    Bytes chain = test::udp(1, 2, hello_payload);
    std::uint8_t next = kIpProtoUdp;
    for (int i = 0; i < 20; ++i) {
      chain = test::ipv6_ext(next, 0, chain);
      next = 60;
    }
    c.push_back({"ipv6_ext_chain_too_long",
                 LinkType::Raw,
                 test::ipv6("2001:db8::1", "2001:db8::53", 60, chain),
                 DecodeError::BadIpv6ExtHeader,
                 {}});
  }
  c.push_back({"ipv6_ext_truncated",
               LinkType::Raw,
               test::ipv6("2001:db8::1", "2001:db8::53", 60, Bytes{17, 3, 0, 0}),
               DecodeError::Truncated,
               {}});
  // Tunnels.
  c.push_back({"gre_ipv4",
               LinkType::Ethernet,
               test::ethernet(0x0800, test::ipv4("203.0.113.1", "203.0.113.2", 47,
                                                 test::gre(0x0800, tcp_v4()))),
               {},
               tunnelled(tcp_v4_expect, 1, true)});
  c.push_back(
      {"gre_key_seq_checksum_ipv6",
       LinkType::Raw,
       test::ipv4("203.0.113.1", "203.0.113.2", 47,
                  test::gre(0x86dd, udp_v6(), {.checksum = true, .key = true, .sequence = true})),
       {},
       tunnelled(udp_v6_expect, 1)});
  c.push_back({"gre_teb_ethernet",
               LinkType::Raw,
               test::ipv4("203.0.113.1", "203.0.113.2", 47,
                          test::gre(0x6558, test::ethernet(0x0800, tcp_v4(), {{0x8100, 12}}),
                                    {.key = true})),
               {},
               tunnelled(with_vlan(tcp_v4_expect, 12), 1, true)});
  c.push_back({"gre_over_ipv6",
               LinkType::Raw,
               test::ipv6("2001:db8:ffff::1", "2001:db8:ffff::2", 47, test::gre(0x0800, tcp_v4())),
               {},
               tunnelled(tcp_v4_expect, 1)});
  c.push_back({"gre_unknown_payload_passes",
               LinkType::Raw,
               test::ipv4("203.0.113.1", "203.0.113.2", 47, test::gre(0x880b, hello_payload)),
               {},
               Expect{.src = "203.0.113.1", .dst = "203.0.113.2", .l4 = 47}});
  {
    Bytes g = test::gre(0x0800, tcp_v4());
    g[0] = 0x40;  // routing present
    c.push_back({"gre_routing_rejected",
                 LinkType::Raw,
                 test::ipv4("203.0.113.1", "203.0.113.2", 47, g),
                 DecodeError::BadGreHeader,
                 {}});
  }
  c.push_back({"ipip",
               LinkType::Raw,
               test::ipv4("203.0.113.1", "203.0.113.2", 4, tcp_v4()),
               {},
               tunnelled(tcp_v4_expect, 1)});
  c.push_back({"ipv6_in_ipv4",
               LinkType::Raw,
               test::ipv4("203.0.113.1", "203.0.113.2", 41, udp_v6()),
               {},
               tunnelled(udp_v6_expect, 1)});
  c.push_back({"ipv4_in_ipv6",
               LinkType::Raw,
               test::ipv6("2001:db8:ffff::1", "2001:db8:ffff::2", 4, tcp_v4()),
               {},
               tunnelled(tcp_v4_expect, 1)});
  c.push_back({"ipip_inner_version_mismatch",
               LinkType::Raw,
               test::ipv4("203.0.113.1", "203.0.113.2", 4, udp_v6()),
               DecodeError::BadIpVersion,
               {}});
  c.push_back(
      {"vxlan",
       LinkType::Ethernet,
       test::ethernet(
           0x0800,
           test::ipv4("203.0.113.1", "203.0.113.2", kIpProtoUdp,
                      test::udp(50000, 4789, test::vxlan(42, test::ethernet(0x0800, tcp_v4()))))),
       {},
       tunnelled(tcp_v4_expect, 1, true)});
  c.push_back({"vxlan_without_i_flag_is_udp",
               LinkType::Raw,
               test::ipv4("203.0.113.1", "203.0.113.2", kIpProtoUdp,
                          test::udp(50000, 4789, bytes_of("plainudp"))),
               {},
               Expect{.src = "203.0.113.1",
                      .dst = "203.0.113.2",
                      .l4 = kIpProtoUdp,
                      .sport = 50000,
                      .dport = 4789,
                      .payload = "plainudp"}});
  {
    // GTP-U (3GPP TS 29.281): G-PDU with the mandatory header only, and with the S flag plus a
    // PDU session container extension header (type 0x85, one 4-byte unit).
    const auto gtpu = [](std::uint8_t flags, const Bytes& options, const Bytes& inner,
                         std::uint8_t type = 0xff) {
      Bytes g = {flags, type};
      test::put16(g, static_cast<std::uint32_t>(options.size() + inner.size()));
      test::put32(g, 0x07ece496);
      test::append(g, options);
      test::append(g, inner);
      return test::ipv4("10.238.36.64", "10.238.244.49", kIpProtoUdp, test::udp(2152, 2152, g));
    };
    c.push_back({"gtpu", LinkType::Raw, gtpu(0x30, {}, tcp_v4()), {}, tunnelled(tcp_v4_expect, 1)});
    c.push_back({"gtpu_sequence_and_extension_header",
                 LinkType::Raw,
                 gtpu(0x36, Bytes{0, 1, 0, 0x85, 1, 0x10, 0x09, 0}, udp_v6()),
                 {},
                 tunnelled(udp_v6_expect, 1)});
    c.push_back(
        {"gtpu_echo_request_is_udp",
         LinkType::Raw,
         gtpu(0x32, Bytes{0, 1, 0, 0}, {}, 1),
         {},
         Expect{.src = "10.238.36.64",
                .dst = "10.238.244.49",
                .l4 = kIpProtoUdp,
                .sport = 2152,
                .dport = 2152,
                .payload = std::string("\x32\x01\x00\x04\x07\xec\xe4\x96\x00\x01\x00\x00", 12)}});
  }
  {
    // GRE in GRE in IPIP in VXLAN: depth 4 is fine, one more is too deep.
    Bytes inner = tcp_v4();
    inner = test::ipv4("203.0.113.1", "203.0.113.2", 47, test::gre(0x0800, inner));
    inner = test::ipv4("203.0.113.3", "203.0.113.4", 47, test::gre(0x0800, inner));
    inner = test::ipv4("203.0.113.5", "203.0.113.6", 4, inner);
    const Bytes depth4 =
        test::ipv4("203.0.113.7", "203.0.113.8", kIpProtoUdp,
                   test::udp(1, 4789, test::vxlan(1, test::ethernet(0x0800, inner))));
    c.push_back({"tunnel_depth_4", LinkType::Raw, depth4, {}, tunnelled(tcp_v4_expect, 4, true)});
    c.push_back({"tunnel_depth_5",
                 LinkType::Raw,
                 test::ipv4("192.0.2.200", "192.0.2.201", 4, depth4),
                 DecodeError::TunnelTooDeep,
                 {}});
  }
  {
    test::Ipv4Spec spec{.src = "203.0.113.1", .dst = "203.0.113.2"};
    spec.more_fragments = true;
    Expect e{.src = "203.0.113.1", .dst = "203.0.113.2", .l4 = 4};
    e.is_fragment = true;
    e.first_fragment = true;
    c.push_back(
        {"tunnel_in_fragment_not_decoded", LinkType::Raw, test::ipv4(spec, 4, tcp_v4()), {}, e});
  }
  // Truncation.
  c.push_back({"empty_ethernet", LinkType::Ethernet, {}, DecodeError::Truncated, {}});
  c.push_back({"empty_raw", LinkType::Raw, {}, DecodeError::Truncated, {}});
  c.push_back({"short_sll", LinkType::LinuxSll, Bytes(15, 0), DecodeError::Truncated, {}});
  c.push_back({"short_sll2", LinkType::LinuxSll2, Bytes(19, 0), DecodeError::Truncated, {}});
  c.push_back({"short_null", LinkType::Null, Bytes{2, 0, 0}, DecodeError::Truncated, {}});
  c.push_back({"vlan_tag_cut",
               LinkType::Ethernet,
               test::ethernet(0x8100, Bytes{0x00}),
               DecodeError::Truncated,
               {}});
  return c;
}

class DecodePacket : public ::testing::TestWithParam<Case> {};

TEST_P(DecodePacket, MatchesTable) {
  const Case& c = GetParam();
  const auto result = decode_packet(c.link, c.frame);
  if (c.error) {
    ASSERT_FALSE(result.has_value()) << "decoded l4=" << int{result->l4};
    EXPECT_EQ(describe(result.error()), describe(*c.error));
    return;
  }
  ASSERT_TRUE(result.has_value()) << describe(result.error());
  const PacketView& p = *result;
  const Expect& e = c.expect;
  EXPECT_EQ(p.src.to_string(), e.src);
  EXPECT_EQ(p.dst.to_string(), e.dst);
  EXPECT_EQ(p.l4, e.l4);
  EXPECT_EQ(p.sport, e.sport);
  EXPECT_EQ(p.dport, e.dport);
  EXPECT_EQ(as_chars(p.payload), e.payload);
  EXPECT_EQ(p.has_vlan, e.has_vlan);
  EXPECT_EQ(p.vlan, e.vlan);
  EXPECT_EQ(p.has_mac, e.has_mac);
  if (e.has_mac) {
    EXPECT_EQ(p.src_mac, test::kMacA);
  }
  EXPECT_EQ(p.tunnel_depth, e.tunnel_depth);
  EXPECT_EQ(p.is_fragment, e.is_fragment);
  EXPECT_EQ(p.first_fragment, e.first_fragment);
  EXPECT_EQ(p.frag_offset, e.frag_offset);
  EXPECT_EQ(p.truncated, e.truncated);
  if (!p.payload.empty()) {
    // The payload is a view into the frame, not a copy.
    EXPECT_GE(p.payload.data(), c.frame.data());
    EXPECT_LE(p.payload.data() + p.payload.size(), c.frame.data() + c.frame.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Table, DecodePacket, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(DecodePacket, ReportsTcpFieldsAndOffsets) {
  const Bytes frame = test::ethernet(
      0x0800,
      test::ipv4("192.0.2.1", "198.51.100.7", kIpProtoTcp,
                 test::tcp(1, 2, hello_payload, kTcpSyn | kTcpAck, 0xdeadbeef, 0x01020304)));
  const auto p = decode_packet(LinkType::Ethernet, frame);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->tcp_seq, 0xdeadbeefU);
  EXPECT_EQ(p->tcp_ack, 0x01020304U);
  EXPECT_EQ(p->tcp_flags, kTcpSyn | kTcpAck);
  EXPECT_EQ(p->ttl, 64);
  EXPECT_EQ(p->ip_total_len, 20 + 20 + 5);
  EXPECT_EQ(p->l3_offset, 14U);
  EXPECT_EQ(p->l4_offset, 34U);
}

TEST(DecodePacket, KeepsOutermostAddressesOfATunnel) {
  const Bytes frame = test::ipv4("203.0.113.1", "203.0.113.2", 47, test::gre(0x0800, tcp_v4()));
  const auto p = decode_packet(LinkType::Raw, frame);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->tunnel_src.to_string(), "203.0.113.1");
  EXPECT_EQ(p->tunnel_dst.to_string(), "203.0.113.2");
  EXPECT_EQ(p->src.to_string(), "192.0.2.1");
}

TEST(DecodePacket, FailsCleanlyOnEveryPrefixOfATunnelledFrame) {
  const Bytes frame = test::ethernet(
      0x0800,
      test::ipv4(
          "203.0.113.1", "203.0.113.2", kIpProtoUdp,
          test::udp(1, 4789, test::vxlan(1, test::ethernet(0x86dd, udp_v6(), {{0x8100, 3}})))),
      {{0x8100, 2}});
  ASSERT_TRUE(decode_packet(LinkType::Ethernet, frame).has_value());
  // Every cut is either Truncated or a successful decode with the capture-cut flag: a prefix
  // never reads outside its bytes (ASan checks that in the sanitizer build).
  for (std::size_t n = 0; n < frame.size(); ++n) {
    const ByteSpan prefix(frame.data(), n);
    const auto p = decode_packet(LinkType::Ethernet, prefix);
    if (p.has_value()) {
      EXPECT_TRUE(p->truncated) << n;
    } else {
      EXPECT_EQ(p.error(), DecodeError::Truncated) << n;
    }
  }
}

TEST(LinkTypeFromDlt, MapsPcapValues) {
  EXPECT_EQ(link_type_from_dlt(1), LinkType::Ethernet);
  EXPECT_EQ(link_type_from_dlt(113), LinkType::LinuxSll);
  EXPECT_EQ(link_type_from_dlt(276), LinkType::LinuxSll2);
  EXPECT_EQ(link_type_from_dlt(12), LinkType::Raw);
  EXPECT_EQ(link_type_from_dlt(101), LinkType::Raw);
  EXPECT_EQ(link_type_from_dlt(0), LinkType::Null);
  EXPECT_EQ(link_type_from_dlt(108), LinkType::Null);
  EXPECT_EQ(link_type_from_dlt(228), LinkType::Ipv4);
  EXPECT_EQ(link_type_from_dlt(229), LinkType::Ipv6);
  EXPECT_EQ(link_type_from_dlt(105), std::nullopt);  // 802.11
}

TEST(DescribeDecodeError, GivesDistinctCounterLabels) {
  EXPECT_EQ(describe(DecodeError::Truncated), "packet_truncated");
  EXPECT_EQ(describe(DecodeError::TunnelTooDeep), "packet_tunnel_too_deep");
  EXPECT_EQ(describe(DecodeError::NotIp), "packet_not_ip");
}

}  // namespace
}  // namespace egressguard::parse
