// GeoAnswerHook::decide_answer_address: the decision keeps its reason, so the DNS proxy's event
// can name the rule and the address.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "filter/app/geo_answer_hook.h"
#include "tests/geoip/geoip_test_support.h"
#include "tests/support/temp_dir.h"

namespace egressguard::app {
namespace {

class BlockingNext : public dnsproxy::AnswerAddressHook {
 public:
  inspect::Verdict on_answer_address(const dnsproxy::AnswerAddressContext&,
                                     const parse::IpAddress& address) noexcept override {
    return address.to_string() == "192.0.2.66" ? inspect::Verdict::Block : inspect::Verdict::Allow;
  }
};

TEST(GeoAnswerDecision, KeepsTheGeoReasonModeAndGroup) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  const testing::TempDir tmp("eg-geo-decision");
  const std::string dir = tmp.path().string();
  std::ofstream(dir + "/t.txt") << "*.tiktok.com\n";
  inspect::PolicySpec spec;
  inspect::CategorySpec tiktok;
  tiktok.name = "tiktok";
  tiktok.lists.push_back(inspect::ListSpec{"tiktok", dir + "/t.txt", {}});
  spec.categories = {tiktok};
  inspect::GroupSpec gov;
  gov.name = "gov";
  gov.block = {"tiktok"};
  gov.block_countries = {"CN"};
  gov.flag_countries = {"GB"};
  gov.block_asns = {4134};
  inspect::GroupSpec pilot;
  pilot.name = "pilot";
  pilot.block_countries = {"CN"};
  pilot.mode = inspect::Mode::Monitor;
  spec.groups = {gov, pilot};
  spec.default_group = "gov";
  spec.geoip = geoip::GeoipConfig{country, asn};
  auto policy = inspect::PolicySnapshot::build(spec);
  ASSERT_TRUE(policy) << policy.error().front();

  BlockingNext next;
  GeoAnswerHook hook(&next);
  struct Case {
    const char* what;
    std::uint32_t group;
    const char* address;
    inspect::Verdict verdict;
    inspect::Mode mode;
    inspect::ReasonKind reason;
    const char* rule;
  };
  const Case cases[] = {
      {"CN, gov", 0, "175.16.199.1", inspect::Verdict::Block, inspect::Mode::Enforce,
       inspect::ReasonKind::GeoCountry, "country CN"},
      {"AS4134, gov", 0, "240e::1", inspect::Verdict::Block, inspect::Mode::Enforce,
       inspect::ReasonKind::GeoAsn, "AS4134"},
      {"GB, gov: flagged", 0, "2.125.160.216", inspect::Verdict::Allow, inspect::Mode::Enforce,
       inspect::ReasonKind::GeoFlag, "country GB"},
      {"CN, pilot: would block", 1, "175.16.199.1", inspect::Verdict::Block, inspect::Mode::Monitor,
       inspect::ReasonKind::GeoCountry, "country CN"},
      {"the next hook's block passes through", 0, "192.0.2.66", inspect::Verdict::Block,
       inspect::Mode::Enforce, inspect::ReasonKind::NoRule, ""},
      {"nothing decides", 0, "192.0.2.1", inspect::Verdict::Allow, inspect::Mode::Enforce,
       inspect::ReasonKind::NoRule, ""},
  };
  for (const Case& c : cases) {
    dnsproxy::AnswerAddressContext context;
    context.policy = policy->get();
    context.group = c.group;
    context.qname = "app.example";
    context.owner = "app.example";
    const inspect::Decision d =
        hook.decide_answer_address(context, *parse::IpAddress::parse(c.address));
    EXPECT_EQ(d.verdict, c.verdict) << c.what;
    EXPECT_EQ(d.mode, c.mode) << c.what;
    EXPECT_EQ(d.reason.kind, c.reason) << c.what;
    EXPECT_EQ(d.group, c.group) << c.what;
    EXPECT_EQ(inspect::rule_text(**policy, d), c.rule) << c.what;
  }
}

}  // namespace
}  // namespace egressguard::app
