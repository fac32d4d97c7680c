#include "filter/inspect/groups.h"

#include <gtest/gtest.h>

namespace egressguard::inspect {
namespace {

parse::IpAddress ip(const char* text) {
  return *parse::IpAddress::parse(text);
}

Cidr cidr(const char* text) {
  return *Cidr::parse(text);
}

SourceIdentity source(const char* address, std::string_view interface = {},
                      const MacAddress* mac = nullptr, std::optional<std::uint16_t> vlan = {}) {
  SourceIdentity s;
  s.ip = ip(address);
  s.interface = interface;
  s.mac = mac;
  s.vlan = vlan;
  return s;
}

TEST(Cidr, ClearsHostBitsAndMatchesOnPrefixBoundaries) {
  const Cidr c = cidr("10.8.3.7/16");
  EXPECT_EQ(c.to_string(), "10.8.0.0/16");
  EXPECT_TRUE(c.contains(ip("10.8.0.1")));
  EXPECT_TRUE(c.contains(ip("10.8.255.255")));
  EXPECT_FALSE(c.contains(ip("10.9.0.0")));
  EXPECT_FALSE(c.contains(ip("::ffff:10.8.0.1")));  // another family never matches
  const Cidr odd = cidr("192.168.1.128/25");
  EXPECT_TRUE(odd.contains(ip("192.168.1.200")));
  EXPECT_FALSE(odd.contains(ip("192.168.1.127")));
  const Cidr v6 = cidr("fd00:8::/64");
  EXPECT_TRUE(v6.contains(ip("fd00:8::10")));
  EXPECT_FALSE(v6.contains(ip("fd00:9::10")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
  EXPECT_TRUE(cidr("10.1.2.3").contains(ip("10.1.2.3")));
  EXPECT_FALSE(cidr("10.1.2.3").contains(ip("10.1.2.4")));
}

TEST(Cidr, RejectsBadInputWithReason) {
  std::string why;
  EXPECT_FALSE(Cidr::parse("10.0.0.0/x", &why));
  EXPECT_EQ(why, "prefix length \"x\" is not a number");
  EXPECT_FALSE(Cidr::parse("fd00::/129", &why));
  EXPECT_EQ(why, "prefix length 129 is out of range: must be 0..128");
  EXPECT_FALSE(Cidr::parse("10.0.0.0/", &why));
  EXPECT_FALSE(Cidr::parse("host.example/8", &why));
}

TEST(ParseMac, AcceptsColonsAndDashes) {
  const auto mac = parse_mac("02:00:5E:10:ff:01");
  ASSERT_TRUE(mac);
  EXPECT_EQ((*mac)[0], 0x02);
  EXPECT_EQ((*mac)[5], 0x01);
  EXPECT_TRUE(parse_mac("02-00-5e-10-ff-01"));
  EXPECT_FALSE(parse_mac("02:00:5e:10:ff"));
  EXPECT_FALSE(parse_mac("02:00:5e:10:ff:0g"));
}

TEST(GroupResolver, FirstMatchingGroupWinsElseDefault) {
  GroupMembers exempt;
  exempt.cidrs.push_back(cidr("10.8.255.0/24"));
  GroupMembers gov;
  gov.cidrs.push_back(cidr("10.8.0.0/16"));
  gov.interfaces.push_back("wg-gov");
  gov.vlans.push_back(20);
  GroupMembers byod;
  byod.cidrs.push_back(cidr("10.30.0.0/16"));
  byod.macs.push_back(*parse_mac("02:00:00:00:00:aa"));
  const GroupResolver resolver({exempt, gov, byod}, /*default_group=*/1);

  struct Case {
    const char* description;
    SourceIdentity source;
    std::size_t expected;
  };
  const MacAddress byod_mac = *parse_mac("02:00:00:00:00:aa");
  const Case cases[] = {
      {"exempt range is listed first and wins inside the VPN pool", source("10.8.255.7"), 0},
      {"VPN pool", source("10.8.0.10"), 1},
      {"byod range", source("10.30.0.20"), 2},
      {"unknown address falls to the default group", source("172.16.0.1"), 1},
      {"interface membership", source("172.16.0.1", "wg-gov"), 1},
      {"MAC membership", source("172.16.0.1", "", &byod_mac), 2},
      {"VLAN membership", source("172.16.0.1", "", nullptr, std::uint16_t{20}), 1},
      {"unknown VLAN", source("172.16.0.1", "", nullptr, std::uint16_t{99}), 1},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(resolver.resolve(c.source), c.expected) << c.description;
  }
}

}  // namespace
}  // namespace egressguard::inspect
