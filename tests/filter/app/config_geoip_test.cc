// [geoip] and the per-group GeoIP rules of egressguard.toml (filter/app/config.cc).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/app/config.h"

namespace egressguard::app {
namespace {

constexpr const char* kCategory = R"(default_group = "gov"
[[category]]
name = "tiktok"
lists = [{ path = "tiktok.txt" }]
asns = ["ip/tiktok.txt"]
)";

std::vector<std::string> errors_of(const std::string& text) {
  auto config = parse_config(text, "eg.toml", "/etc/eg");
  if (config) {
    return {};
  }
  return config.error();
}

TEST(ParseConfigGeoip, ParsesDatabasesAndGroupRules) {
  const std::string text = std::string(kCategory) + R"([geoip]
country_db = "geoip/GeoLite2-Country.mmdb"
asn_db = "/var/lib/GeoIP/GeoLite2-ASN.mmdb"
[[group]]
name = "gov"
block = ["tiktok"]
block_countries = ["CN", "RU"]
flag_countries = ["NO"]
block_asns = [396986, 138699, 4294967294]
)";
  auto config = parse_config(text, "eg.toml", "/etc/eg");
  ASSERT_TRUE(config) << config.error().front();
  EXPECT_EQ(config->policy.geoip.country_db, "/etc/eg/geoip/GeoLite2-Country.mmdb");
  EXPECT_EQ(config->policy.geoip.asn_db, "/var/lib/GeoIP/GeoLite2-ASN.mmdb");
  EXPECT_EQ(config->policy.categories[0].ip_lists,
            std::vector<std::string>{"/etc/eg/ip/tiktok.txt"});
  const auto& gov = config->policy.groups[0];
  EXPECT_EQ(gov.block_countries, (std::vector<std::string>{"CN", "RU"}));
  EXPECT_EQ(gov.flag_countries, std::vector<std::string>{"NO"});  // a string: Norway, not false
  EXPECT_EQ(gov.block_asns, (std::vector<std::uint32_t>{396986, 138699, 4294967294U}));
}

struct ErrorCase {
  const char* what;
  const char* text;  // after kCategory
  std::vector<std::string> errors;
};

TEST(ParseConfigGeoip, ReportsEveryProblemWithFileLineColumn) {
  const ErrorCase cases[] = {
      {"lower-case and three-letter codes",
       R"([geoip]
country_db = "c.mmdb"
[[group]]
name = "gov"
block_countries = ["cn", "CHN"]
flag_countries = ["N0"]
)",
       {"eg.toml:10:20: group[0].block_countries \"cn\" is not a country code: expected ISO "
        "3166-1 alpha-2 in upper case, such as \"CN\"",
        "eg.toml:10:26: group[0].block_countries \"CHN\" is not a country code: expected ISO "
        "3166-1 alpha-2 in upper case, such as \"CN\"",
        "eg.toml:11:19: group[0].flag_countries \"N0\" is not a country code: expected ISO "
        "3166-1 alpha-2 in upper case, such as \"CN\""}},
      {"a bare NO (TOML has no such boolean) is a type error, not Norway",
       R"([geoip]
country_db = "c.mmdb"
[[group]]
name = "gov"
block_countries = [NO]
)",
       {"eg.toml:10:20: invalid TOML: Error while parsing floating-point: expected 'nan', saw "
        "'N'"}},
      {"ASN out of range and not an integer",
       R"([geoip]
asn_db = "a.mmdb"
[[group]]
name = "gov"
block_asns = [0, 4294967295, "AS1"]
)",
       {"eg.toml:10:15: group[0].block_asns 0 is out of range: an AS number is 1..4294967294",
        "eg.toml:10:18: group[0].block_asns 4294967295 is out of range: an AS number is "
        "1..4294967294",
        "eg.toml:10:30: group[0].block_asns must hold only integers: got a string"}},
      {"rules without their database",
       R"([[group]]
name = "gov"
block_countries = ["CN"]
flag_countries = ["GB"]
block_asns = [396986]
)",
       {"eg.toml:8:19: group \"gov\" block_countries needs a GeoIP database: set country_db in "
        "[geoip]",
        "eg.toml:9:18: group \"gov\" flag_countries needs a GeoIP database: set country_db in "
        "[geoip]",
        "eg.toml:10:14: group \"gov\" block_asns needs a GeoIP database: set asn_db in [geoip]"}},
      {"ASN rule with only a country database",
       R"([geoip]
country_db = "c.mmdb"
[[group]]
name = "gov"
block_asns = [396986]
)",
       {"eg.toml:10:14: group \"gov\" block_asns needs a GeoIP database: set asn_db in [geoip]"}},
      {"unknown key and empty [geoip]",
       R"([geoip]
city_db = "x.mmdb"
[[group]]
name = "gov"
)",
       {"eg.toml:7:1: unknown key \"city_db\" in [geoip]: expected one of country_db, asn_db",
        "eg.toml:6:1: [geoip] names no database: set country_db (GeoIP2/GeoLite2 Country or "
        "City) and/or asn_db (GeoLite2-ASN)"}},
  };
  for (const ErrorCase& c : cases) {
    EXPECT_EQ(errors_of(std::string(kCategory) + c.text), c.errors) << c.what;
  }
  EXPECT_EQ(
      errors_of("geoip = \"x.mmdb\"\n" + std::string(kCategory) + "[[group]]\nname = \"gov\"\n"),
      std::vector<std::string>{"eg.toml:1:9: geoip must be a table: write [geoip]"});
}

}  // namespace
}  // namespace egressguard::app
