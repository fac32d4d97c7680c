// GeoAnswerHook: DNS answer addresses against the client group's GeoIP/ASN rules.
#include "filter/app/geo_answer_hook.h"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/geoip/geoip_test_support.h"
#include "tests/support/temp_dir.h"

namespace egressguard::app {
namespace {

class CountingHook : public dnsproxy::AnswerAddressHook {
 public:
  inspect::Verdict on_answer_address(const dnsproxy::AnswerAddressContext&,
                                     const parse::IpAddress&) noexcept override {
    ++calls;
    return inspect::Verdict::Allow;
  }
  int calls = 0;
};

TEST(GeoAnswerHook, BlocksAnswerAddressesByCountryAndAsnPerGroup) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  const testing::TempDir tmp("eg-geo-hook");
  const std::string dir = tmp.path().string();
  std::ofstream(dir + "/t.txt") << "*.tiktok.com\n";
  std::ofstream(dir + "/allow.txt") << "allowed.example\n";
  inspect::PolicySpec spec;
  inspect::CategorySpec tiktok;
  tiktok.name = "tiktok";
  tiktok.lists.push_back(inspect::ListSpec{"tiktok", dir + "/t.txt", {}});
  inspect::CategorySpec exceptions;
  exceptions.name = "exceptions";
  exceptions.lists.push_back(inspect::ListSpec{"exceptions", dir + "/allow.txt", {}});
  spec.categories = {tiktok, exceptions};
  inspect::GroupSpec gov;
  gov.name = "gov";
  gov.block = {"tiktok"};
  gov.allow = {"exceptions"};
  gov.block_countries = {"CN"};
  gov.flag_countries = {"GB"};
  gov.block_asns = {4134};
  inspect::GroupSpec byod;
  byod.name = "byod";
  inspect::GroupSpec pilot;
  pilot.name = "pilot";
  pilot.block_countries = {"CN"};
  pilot.mode = inspect::Mode::Monitor;
  spec.groups = {gov, byod, pilot};
  spec.default_group = "gov";
  spec.geoip = geoip::GeoipConfig{country, asn};
  auto policy = inspect::PolicySnapshot::build(spec);
  ASSERT_TRUE(policy) << policy.error().front();

  CountingHook next;
  GeoAnswerHook hook(&next);
  struct Case {
    const char* what;
    std::uint32_t group;
    const char* qname;
    const char* address;
    inspect::Verdict verdict;
  };
  const Case cases[] = {
      {"CN answer, gov", 0, "app.example.cn", "175.16.199.1", inspect::Verdict::Block},
      {"Chinanet AAAA, gov", 0, "app.example.cn", "240e::1", inspect::Verdict::Block},
      {"RU is not blocked for gov", 0, "x.example.ru", "2a02:d0c0::1", inspect::Verdict::Allow},
      {"GB flagged, allowed", 0, "x.example.uk", "2.125.160.216", inspect::Verdict::Allow},
      {"allow rule beats GeoIP", 0, "allowed.example", "175.16.199.1", inspect::Verdict::Allow},
      {"byod passes", 1, "app.example.cn", "175.16.199.1", inspect::Verdict::Allow},
      {"monitoring group is not blocked", 2, "app.example.cn", "175.16.199.1",
       inspect::Verdict::Allow},
  };
  for (const Case& c : cases) {
    dnsproxy::AnswerAddressContext context;
    context.policy = policy->get();
    context.group = c.group;
    context.qname = c.qname;
    context.owner = c.qname;
    EXPECT_EQ(hook.on_answer_address(context, *parse::IpAddress::parse(c.address)), c.verdict)
        << c.what;
  }
  const GeoAnswerCounters counters = hook.counters();
  EXPECT_EQ(counters.blocked, 2U);
  EXPECT_EQ(counters.would_block, 1U);
  EXPECT_EQ(counters.flagged, 1U);
  EXPECT_EQ(next.calls, 5);  // every address the hook did not block goes on
}

}  // namespace
}  // namespace egressguard::app
