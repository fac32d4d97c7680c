// PolicySnapshot::decide_address: GeoIP/ASN rules per group and categories' IP lists, on the
// MaxMind test databases (shared/data/geoip; their .json sources are the truth).
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "filter/inspect/policy.h"
#include "tests/geoip/geoip_test_support.h"
#include "tests/support/temp_dir.h"

namespace egressguard::inspect {
namespace {

namespace fs = std::filesystem;

parse::IpAddress ip(const char* text) {
  return *parse::IpAddress::parse(text);
}

class PolicyGeoipTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    std::ofstream(p) << text;
    return p;
  }

  // gov blocks tiktok (whose IP list has AS1221 and 175.16.199.0/28), CN/RU and AS4134, flags
  // GB; byod blocks nothing; pilot monitors CN.
  PolicySpec spec(const std::string& country_db, const std::string& asn_db) {
    PolicySpec s;
    CategorySpec tiktok;
    tiktok.name = "tiktok";
    tiktok.lists.push_back(ListSpec{"tiktok", write("tiktok.txt", "*.tiktok.com\n"), {}});
    tiktok.ip_lists.push_back(write("tiktok-ip.txt",
                                    "# test IP list\nAS1221  # Telstra, for the test\n"
                                    "175.16.199.0/28\n"));
    s.categories = {tiktok};
    GroupSpec gov;
    gov.name = "gov";
    gov.members.cidrs.push_back(*Cidr::parse("10.8.0.0/16"));
    gov.block = {"tiktok"};
    gov.block_countries = {"CN", "RU"};
    gov.flag_countries = {"GB"};
    gov.block_asns = {4134};
    GroupSpec byod;
    byod.name = "byod";
    byod.members.cidrs.push_back(*Cidr::parse("10.30.0.0/16"));
    GroupSpec pilot;
    pilot.name = "pilot";
    pilot.members.cidrs.push_back(*Cidr::parse("10.99.0.0/16"));
    pilot.block_countries = {"CN"};
    pilot.mode = Mode::Monitor;
    s.groups = {gov, byod, pilot};
    s.default_group = "gov";
    s.geoip = geoip::GeoipConfig{country_db, asn_db};
    return s;
  }

  testing::TempDir tmp_{"eg-policy-geoip"};
  const std::string dir_ = tmp_.path().string();
};

struct AddressCase {
  const char* what;
  const char* group;
  const char* address;
  Verdict verdict;
  ReasonKind reason;
  const char* rule;  // rule_text
};

TEST_F(PolicyGeoipTest, DecidesUnnamedFlowsByCountryAsnAndIpListPerGroup) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  auto policy = PolicySnapshot::build(spec(country, asn));
  ASSERT_TRUE(policy) << policy.error().front();
  ASSERT_NE((*policy)->geo(), nullptr);
  const AddressCase cases[] = {
      {"CN by country (175.16.199.0/24)", "gov", "175.16.199.200", Verdict::Block,
       ReasonKind::GeoCountry, "country CN"},
      {"IP-list prefix beats country", "gov", "175.16.199.1", Verdict::Block, ReasonKind::IpList,
       "175.16.199.0/28"},
      {"RU by country, IPv6 (2a02:d0c0::/29)", "gov", "2a02:d0c0::1", Verdict::Block,
       ReasonKind::GeoCountry, "country RU"},
      {"NO stays Norway: not blocked", "gov", "2a02:cf40::1", Verdict::Allow, ReasonKind::NoName,
       ""},
      {"group ASN, IPv6 Chinanet (240e::/24)", "gov", "240e::1", Verdict::Block, ReasonKind::GeoAsn,
       "AS4134"},
      {"category IP-list ASN (1.128.0.0/11 AS1221)", "gov", "1.128.0.1", Verdict::Block,
       ReasonKind::IpList, "AS1221"},
      {"GB flagged, allowed", "gov", "2.125.160.216", Verdict::Allow, ReasonKind::GeoFlag,
       "country GB"},
      {"unknown address", "gov", "192.0.2.1", Verdict::Allow, ReasonKind::NoName, ""},
      {"byod passes CN", "byod", "175.16.199.200", Verdict::Allow, ReasonKind::NoName, ""},
      {"byod passes Chinanet", "byod", "240e::1", Verdict::Allow, ReasonKind::NoName, ""},
      {"pilot monitors CN", "pilot", "175.16.199.200", Verdict::Block, ReasonKind::GeoCountry,
       "country CN"},
      {"pilot has no ASN rule", "pilot", "240e::1", Verdict::Allow, ReasonKind::NoName, ""},
  };
  for (const AddressCase& c : cases) {
    const int group = (*policy)->find_group(c.group);
    ASSERT_GE(group, 0) << c.what;
    const Decision d = (*policy)->decide_address(ip(c.address), static_cast<std::uint32_t>(group));
    EXPECT_EQ(d.verdict, c.verdict) << c.what;
    EXPECT_EQ(d.reason.kind, c.reason) << c.what;
    EXPECT_EQ(rule_text(**policy, d), c.rule) << c.what;
    EXPECT_EQ(d.group, static_cast<std::uint32_t>(group)) << c.what;
  }
  const Decision pilot = (*policy)->decide_address(ip("175.16.199.200"), 2);
  EXPECT_EQ(pilot.mode, Mode::Monitor);
  EXPECT_FALSE(pilot.enforced_block());
  const Decision listed = (*policy)->decide_address(ip("1.128.0.1"), 0);
  EXPECT_EQ(listed.reason.line, 2U);
  EXPECT_EQ(listed.reason.category, 0U);
  EXPECT_EQ((*policy)->ip_lists()[listed.reason.ip_list].list.path, dir_ + "/tiktok-ip.txt");
}

TEST_F(PolicyGeoipTest, LookupGeoFillsCountryAsnAndOrganisation) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  auto policy = PolicySnapshot::build(spec(country, asn));
  ASSERT_TRUE(policy);
  geoip::GeoInfo info;
  ASSERT_TRUE((*policy)->lookup_geo(ip("81.2.69.160"), info));  // GB in the country DB
  EXPECT_EQ(info.country_code(), "GB");
  geoip::GeoInfo v6;
  ASSERT_TRUE((*policy)->lookup_geo(ip("2001:4600::1"), v6));
  EXPECT_EQ(v6.asn, 2119U);
  EXPECT_EQ(v6.as_org(), "Telenor Norge AS");
  geoip::GeoInfo none;
  EXPECT_FALSE((*policy)->lookup_geo(parse::IpAddress{}, none));
}

TEST_F(PolicyGeoipTest, RulesWithoutTheirDatabaseAndBadCodesAreErrors) {
  PolicySpec s = spec("", "");
  s.groups[0].block_countries.push_back("cn");
  auto policy = PolicySnapshot::build(s);
  ASSERT_FALSE(policy);
  const std::vector<std::string> expected = {
      "group \"gov\" block_countries \"cn\" is not an ISO 3166-1 alpha-2 code such as \"CN\"",
      "group \"gov\" has block_countries but no [geoip] country_db is configured",
      "group \"gov\" has flag_countries but no [geoip] country_db is configured",
      "group \"gov\" has block_asns but no [geoip] asn_db is configured",
      "group \"gov\" blocks a category with ASNs (asns = [...]) but no [geoip] asn_db is "
      "configured",
      "group \"pilot\" has block_countries but no [geoip] country_db is configured",
  };
  EXPECT_EQ(policy.error(), expected);
}

TEST_F(PolicyGeoipTest, BadIpListIsRefusedWithFileLine) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  PolicySpec s = spec(country, asn);
  s.categories[0].ip_lists = {write("bad-ip.txt", "AS0\n10.0.0.1/8\n")};
  auto policy = PolicySnapshot::build(s);
  ASSERT_FALSE(policy);
  const std::vector<std::string> expected = {
      dir_ + "/bad-ip.txt:1: invalid ASN \"AS0\": out of range: an ASN is 1..4294967294",
      dir_ +
          "/bad-ip.txt:2: invalid prefix \"10.0.0.1/8\": host bits are set: the network is "
          "not aligned to /8",
  };
  EXPECT_EQ(policy.error(), expected);
}

TEST_F(PolicyGeoipTest, ReloadWithABadDatabaseKeepsTheOldOneAndCounts) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country_source, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(bad, "bad-corrupt-search-tree.mmdb");
  const std::string country = dir_ + "/country.mmdb";
  fs::copy_file(country_source, country);
  auto first = PolicySnapshot::build(spec(country, asn));
  ASSERT_TRUE(first);
  PolicyStore store(*first);
  // The operator overwrites the database in place with a broken one, then reloads.
  fs::copy_file(bad, country, fs::copy_options::overwrite_existing);
  auto reloaded = store.reload(
      [&](std::uint64_t version) { return PolicySnapshot::build(spec(country, asn), version); });
  ASSERT_FALSE(reloaded);
  EXPECT_EQ(reloaded.error(),
            std::vector<std::string>{country + ": corrupt search tree: node 1 points back at the "
                                               "root node"});
  EXPECT_EQ(store.reload_failures(), 1U);
  EXPECT_EQ(store.current()->version(), 1U);
  const Decision d = store.current()->decide_address(ip("175.16.199.200"), 0);
  EXPECT_EQ(d.reason.kind, ReasonKind::GeoCountry);  // the old database still answers
  // A missing database: the same.
  fs::remove(country);
  auto missing = store.reload(
      [&](std::uint64_t version) { return PolicySnapshot::build(spec(country, asn), version); });
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            std::vector<std::string>{country + ": cannot open GeoIP database: No such file or "
                                               "directory"});
  EXPECT_EQ(store.reload_failures(), 2U);
  // A good one again: swapped in.
  fs::copy_file(country_source, country);
  auto good = store.reload(
      [&](std::uint64_t version) { return PolicySnapshot::build(spec(country, asn), version); });
  ASSERT_TRUE(good);
  EXPECT_EQ(store.current()->version(), 2U);
}

}  // namespace
}  // namespace egressguard::inspect
