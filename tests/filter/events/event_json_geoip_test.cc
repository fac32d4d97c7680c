// Destination GeoIP fields and address-rule reasons in the event schema (docs/events.md).
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "filter/events/event_json.h"
#include "tests/geoip/geoip_test_support.h"
#include "tests/support/temp_dir.h"

namespace egressguard::events {
namespace {

class EventJsonGeoipTest : public ::testing::Test {
 protected:
  std::shared_ptr<const inspect::PolicySnapshot> policy(const std::string& country,
                                                        const std::string& asn) {
    inspect::PolicySpec spec;
    inspect::CategorySpec tiktok;
    tiktok.name = "tiktok";
    std::ofstream(dir_ + "/t.txt") << "*.tiktok.com\n";
    std::ofstream(dir_ + "/ip.txt") << "AS1221\n";
    tiktok.lists.push_back(inspect::ListSpec{"tiktok", dir_ + "/t.txt", {}});
    tiktok.ip_lists = {dir_ + "/ip.txt"};
    spec.categories = {tiktok};
    inspect::GroupSpec gov;
    gov.name = "gov";
    gov.block = {"tiktok"};
    gov.block_countries = {"CN"};
    gov.flag_countries = {"GB"};
    spec.groups = {gov};
    spec.default_group = "gov";
    spec.geoip = geoip::GeoipConfig{country, asn};
    auto built = inspect::PolicySnapshot::build(spec);
    EXPECT_TRUE(built) << built.error().front();
    return built ? *built : nullptr;
  }

  std::string event(const inspect::PolicySnapshot& p, const char* dst) {
    inspect::Observation o;
    o.src = *parse::IpAddress::parse("10.8.0.5");
    o.dst = *parse::IpAddress::parse(dst);
    o.sport = 50000;
    o.dport = 443;
    o.l4 = 6;
    o.app = inspect::AppProto::Tls;
    o.decision = p.decide_address(o.dst, 0);
    o.policy = &p;
    std::string out;
    append_event_json(out, o, EventContext{"gw1", "pcap"});
    return out;
  }

  egressguard::testing::TempDir tmp_{"eg-event-geoip"};
  const std::string dir_ = tmp_.path().string();
};

TEST_F(EventJsonGeoipTest, CarriesDestinationCountryAsnAndRule) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  const auto p = policy(country, asn);
  ASSERT_NE(p, nullptr);
  const std::string cn = event(*p, "175.16.199.1");
  EXPECT_NE(cn.find("\"event_type\":\"block\""), std::string::npos) << cn;
  EXPECT_NE(cn.find("\"reason\":\"geo_country\",\"category\":null,\"rule\":\"country CN\","
                    "\"list\":null,\"line\":null,\"dest_country\":\"CN\""),
            std::string::npos)
      << cn;
  EXPECT_EQ(cn.find("dest_asn"), std::string::npos) << cn;  // not in the ASN test DB

  const std::string listed = event(*p, "1.128.0.1");
  EXPECT_NE(listed.find("\"reason\":\"ip_list\",\"category\":\"tiktok\",\"rule\":\"AS1221\","
                        "\"list\":\"" +
                        dir_ +
                        "/ip.txt\",\"line\":1,\"dest_asn\":1221,"
                        "\"dest_as_org\":\"Telstra Pty Ltd\""),
            std::string::npos)
      << listed;

  const std::string flagged = event(*p, "2.125.160.216");
  EXPECT_NE(flagged.find("\"action\":\"allow\""), std::string::npos) << flagged;
  EXPECT_NE(flagged.find("\"reason\":\"geo_flag\""), std::string::npos) << flagged;
  EXPECT_NE(flagged.find("\"dest_country\":\"GB\""), std::string::npos) << flagged;
  EXPECT_NE(flagged.find("\"flags\":[\"geo_flag\"]"), std::string::npos) << flagged;

  // AT&T's organisation has an '&': escaped like every string; JSON stays one line.
  const std::string att = event(*p, "12.81.92.9");
  EXPECT_NE(att.find("\"dest_asn\":7018,\"dest_as_org\":\"AT&T Services\""), std::string::npos)
      << att;
  const std::string unknown = event(*p, "192.0.2.1");
  EXPECT_EQ(unknown.find("dest_"), unknown.find("dest_ip"));  // only dest_ip/dest_port
  EXPECT_EQ(unknown.find("dest_country"), std::string::npos);
}

TEST_F(EventJsonGeoipTest, NoGeoFieldsWithoutDatabases) {
  inspect::PolicySpec spec;
  inspect::CategorySpec c;
  c.name = "c";
  std::ofstream(dir_ + "/c.txt") << "*.example.com\n";
  c.lists.push_back(inspect::ListSpec{"c", dir_ + "/c.txt", {}});
  spec.categories = {c};
  inspect::GroupSpec g;
  g.name = "g";
  spec.groups = {g};
  spec.default_group = "g";
  auto p = inspect::PolicySnapshot::build(spec);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)->geo(), nullptr);
  const std::string out = event(**p, "175.16.199.1");
  EXPECT_EQ(out.find("dest_country"), std::string::npos) << out;
  EXPECT_NE(out.find("\"reason\":\"no_name\""), std::string::npos) << out;
}

}  // namespace
}  // namespace egressguard::events
