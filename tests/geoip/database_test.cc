#include "geoip/database.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "geoip/geo_databases.h"
#include "tests/geoip/geoip_test_support.h"
#include "tests/support/temp_dir.h"

namespace egressguard::geoip {
namespace {

using test::address_bytes;

struct CountryCase {
  const char* what;
  const char* address;
  bool found;
  const char* country;  // "" = found without a country
};

// Ground truth: shared/data/geoip/GeoIP2-Country-Test.json.
const CountryCase kCountryCases[] = {
    {"IPv4 (::2.125.160.216/125 GB)", "2.125.160.216", true, "GB"},
    {"IPv4 last of a /125", "2.125.160.223", true, "GB"},
    {"IPv4 country, not registered_country (81.2.69.142/127 GB, reg. US)", "81.2.69.143", true,
     "GB"},
    {"IPv4 CN (175.16.199.0/120)", "175.16.199.1", true, "CN"},
    {"IPv4 no country (214.1.1.0/24)", "214.1.1.7", true, ""},
    {"IPv4 not in the database", "1.1.1.1", false, ""},
    {"IPv4 next to a /125", "2.125.160.224", false, ""},
    {"IPv4-mapped IPv6", "::ffff:175.16.199.1", true, "CN"},
    {"IPv6 JP (2001:218::/32)", "2001:218::1", true, "JP"},
    {"IPv6 NO stays Norway (2a02:cf40::/29)", "2a02:cf40::1", true, "NO"},
    {"IPv6 RU (2a02:d0c0::/29)", "2a02:d0c0:1::2", true, "RU"},
    {"IPv6 no country (2a02:d500::/29)", "2a02:d500::1", true, ""},
    {"IPv6 not in the database", "2001:db8::1", false, ""},
};

TEST(GeoipDatabase, CountryLookupsMatchTheSourceJson) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(path, "GeoIP2-Country-Test.mmdb");
  auto db = Database::open(path, DatabaseKind::Country);
  ASSERT_TRUE(db) << db.error();
  EXPECT_EQ((*db)->database_type(), "GeoIP2-Country");
  EXPECT_EQ((*db)->ip_version(), 6U);
  for (const CountryCase& c : kCountryCases) {
    GeoInfo info;
    const auto bytes = address_bytes(c.address);
    EXPECT_EQ((*db)->lookup(bytes, info), c.found) << c.what;
    EXPECT_EQ(info.country_code(), c.country) << c.what;
    EXPECT_FALSE(info.has_asn()) << c.what;
  }
}

TEST(GeoipDatabase, GeoLiteCountryAndCityDatabasesGiveTheSameCountry) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(lite, "GeoLite2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(city, "GeoIP2-City-Test.mmdb");
  for (const std::string& path : {lite, city}) {
    auto db = Database::open(path, DatabaseKind::Country);
    ASSERT_TRUE(db) << db.error();
    GeoInfo info;
    EXPECT_TRUE((*db)->lookup(address_bytes("2.125.160.216"), info)) << path;
    EXPECT_EQ(info.country_code(), "GB") << path;
    GeoInfo v6;
    EXPECT_TRUE((*db)->lookup(address_bytes("2001:218::1"), v6)) << path;
    EXPECT_EQ(v6.country_code(), "JP") << path;
  }
}

struct AsnCase {
  const char* what;
  const char* address;
  bool found;
  std::uint32_t asn;
  const char* org;
};

// Ground truth: shared/data/geoip/GeoLite2-ASN-Test.json.
const AsnCase kAsnCases[] = {
    {"IPv4 with organisation (1.128.0.0/11)", "1.128.0.1", true, 1221, "Telstra Pty Ltd"},
    {"IPv4 without organisation (12.81.96.0/19)", "12.81.96.1", true, 7018, ""},
    {"IPv4 escaping-worthy org (12.81.92.0/22)", "12.81.92.9", true, 7018, "AT&T Services"},
    {"IPv6 Chinanet (240e::/24)", "240e::1", true, 4134, "Chinanet"},
    {"IPv6 Telenor Norge (2001:4600::/24)", "2001:4600::1", true, 2119, "Telenor Norge AS"},
    {"IPv4 not in the database", "10.0.0.1", false, 0, ""},
    {"IPv6 not in the database", "2001:db8::1", false, 0, ""},
};

TEST(GeoipDatabase, AsnLookupsMatchTheSourceJson) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(path, "GeoLite2-ASN-Test.mmdb");
  auto db = Database::open(path, DatabaseKind::Asn);
  ASSERT_TRUE(db) << db.error();
  for (const AsnCase& c : kAsnCases) {
    GeoInfo info;
    EXPECT_EQ((*db)->lookup(address_bytes(c.address), info), c.found) << c.what;
    EXPECT_EQ(info.asn, c.asn) << c.what;
    EXPECT_EQ(info.as_org(), c.org) << c.what;
    EXPECT_FALSE(info.has_country()) << c.what;
  }
}

TEST(GeoipDatabase, BadAddressSizeIsNotFound) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(path, "GeoLite2-ASN-Test.mmdb");
  auto db = Database::open(path, DatabaseKind::Asn);
  ASSERT_TRUE(db) << db.error();
  GeoInfo info;
  const std::vector<std::uint8_t> five = {1, 128, 0, 1, 0};
  EXPECT_FALSE((*db)->lookup(five, info));
  EXPECT_FALSE((*db)->lookup({}, info));
}

TEST(GeoipDatabases, CombinesCountryAndAsn) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(country, "GeoIP2-Country-Test.mmdb");
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(asn, "GeoLite2-ASN-Test.mmdb");
  auto dbs = GeoDatabases::open(GeoipConfig{country, asn});
  ASSERT_TRUE(dbs);
  GeoInfo info;
  // 2001:218::/32 is JP in the country DB; not in the ASN DB.
  EXPECT_TRUE((*dbs)->lookup(address_bytes("2001:218::1"), info));
  EXPECT_EQ(info.country_code(), "JP");
  EXPECT_EQ(info.asn, 0U);
  GeoInfo both;
  EXPECT_TRUE((*dbs)->lookup(address_bytes("1.128.0.1"), both));  // only in the ASN DB
  EXPECT_EQ(both.asn, 1221U);
  EXPECT_EQ(both.country_code(), "");
}

struct BadCase {
  const char* file;
  DatabaseKind kind;
  const char* error;  // after "<path>: "
};

TEST(GeoipDatabase, MalformedDatabasesAreRefusedWithPathWhatWhy) {
  const BadCase cases[] = {
      {"bad-corrupt-search-tree.mmdb", DatabaseKind::Country,
       "corrupt search tree: node 1 points back at the root node"},
      {"bad-cyclic-data-structure.mmdb", DatabaseKind::Country,
       "not a MaxMind DB: The MaxMind DB file's data section contains bad data (unknown data "
       "type or corrupt data)"},
      {"bad-offset-integer-overflow.mmdb", DatabaseKind::Asn,
       "not a MaxMind DB: The MaxMind DB file's data section contains bad data (unknown data "
       "type or corrupt data)"},
      {"GeoLite2-ASN-Test.mmdb", DatabaseKind::Country,
       "not a country database: database_type \"GeoLite2-ASN\" has no country.iso_code in any "
       "record"},
      {"GeoIP2-Country-Test.mmdb", DatabaseKind::Asn,
       "not a asn database: database_type \"GeoIP2-Country\" has no autonomous_system_number in "
       "any record"},
  };
  for (const BadCase& c : cases) {
    EGRESSGUARD_GEOIP_DATA_OR_SKIP(path, c.file);
    auto db = Database::open(path, c.kind);
    ASSERT_FALSE(db) << c.file;
    EXPECT_EQ(db.error(), path + ": " + c.error) << c.file;
  }
}

TEST(GeoipDatabase, MissingAndEmptyFilesAreRefused) {
  const testing::TempDir tmp("eg-geoip-missing");
  const std::string dir = tmp.path().string();
  auto missing = Database::open(dir + "/none.mmdb", DatabaseKind::Country);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            dir + "/none.mmdb: cannot open GeoIP database: No such file or directory");
  std::ofstream(dir + "/empty.mmdb").close();
  auto empty = Database::open(dir + "/empty.mmdb", DatabaseKind::Country);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), dir + "/empty.mmdb: not a MaxMind DB: the file is empty");
  std::ofstream(dir + "/text.mmdb") << "not a database at all\n";
  auto text = Database::open(dir + "/text.mmdb", DatabaseKind::Country);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error(), dir +
                              "/text.mmdb: not a MaxMind DB: The MaxMind DB file contains "
                              "invalid metadata");
}

TEST(GeoipDatabase, OverwritingTheFileDoesNotChangeAnOpenDatabase) {
  EGRESSGUARD_GEOIP_DATA_OR_SKIP(source, "GeoIP2-Country-Test.mmdb");
  const testing::TempDir tmp("eg-geoip-overwrite");
  const std::string dir = tmp.path().string();
  const std::string path = dir + "/country.mmdb";
  std::filesystem::copy_file(source, path);
  auto db = Database::open(path, DatabaseKind::Country);
  ASSERT_TRUE(db) << db.error();
  std::ofstream(path, std::ios::trunc) << "x";  // in place, shorter: a shared mapping would fault
  GeoInfo info;
  EXPECT_TRUE((*db)->lookup(address_bytes("175.16.199.1"), info));
  EXPECT_EQ(info.country_code(), "CN");
}

// Databases built by the test with the MaxMind DB writer (libmaxmind-db-writer-perl).
TEST(GeoipDatabase, BuiltCountryDatabase) {
  EGRESSGUARD_DB_WRITER_OR_SKIP();
  const testing::TempDir tmp("eg-geoip-built");
  const std::string dir = tmp.path().string();
  const std::string path = dir + "/country.mmdb";
  ASSERT_EQ(test::make_test_db(path, "country",
                               {"71.18.0.0/16=CN", "198.51.100.0/24=no", "2001:db8:1::/48=RU"}),
            "");
  auto db = Database::open(path, DatabaseKind::Country);
  ASSERT_TRUE(db) << db.error();
  EXPECT_EQ((*db)->database_type(), "EgressGuard-Test-Country");
  const CountryCase cases[] = {
      {"IPv4", "71.18.255.255", true, "CN"},
      {"IPv4 lower-case code is upper-cased", "198.51.100.7", true, "NO"},
      {"IPv4-mapped alias", "::ffff:71.18.1.1", true, "CN"},
      {"IPv6", "2001:db8:1:ffff::1", true, "RU"},
      {"IPv6 outside", "2001:db8:2::1", false, ""},
      {"IPv4 outside", "71.19.0.0", false, ""},
  };
  for (const CountryCase& c : cases) {
    GeoInfo info;
    EXPECT_EQ((*db)->lookup(address_bytes(c.address), info), c.found) << c.what;
    EXPECT_EQ(info.country_code(), c.country) << c.what;
  }
}

TEST(GeoipDatabase, BuiltAsnDatabaseCutsLongOrganisationsAtUtf8Boundaries) {
  EGRESSGUARD_DB_WRITER_OR_SKIP();
  const testing::TempDir tmp("eg-geoip-built-asn");
  const std::string dir = tmp.path().string();
  const std::string path = dir + "/asn.mmdb";
  std::string long_org(kMaxOrgSize - 1, 'x');
  long_org += "\xc3\xa9tail";  // 'é' straddles the cut
  ASSERT_EQ(test::make_test_db(path, "asn",
                               {"71.18.0.0/16=396986:Bytedance Inc.", "2001:db8::/32=138699",
                                "203.0.113.0/24=4294967294:" + long_org}),
            "");
  auto db = Database::open(path, DatabaseKind::Asn);
  ASSERT_TRUE(db) << db.error();
  GeoInfo v4;
  EXPECT_TRUE((*db)->lookup(address_bytes("71.18.1.2"), v4));
  EXPECT_EQ(v4.asn, 396986U);
  EXPECT_EQ(v4.as_org(), "Bytedance Inc.");
  GeoInfo v6;
  EXPECT_TRUE((*db)->lookup(address_bytes("2001:db8::9"), v6));
  EXPECT_EQ(v6.asn, 138699U);
  EXPECT_EQ(v6.as_org(), "");
  GeoInfo cut;
  EXPECT_TRUE((*db)->lookup(address_bytes("203.0.113.1"), cut));
  EXPECT_EQ(cut.asn, 4294967294U);
  EXPECT_EQ(cut.as_org(), std::string(kMaxOrgSize - 1, 'x'));
}

TEST(GeoipDatabase, BuiltDatabaseWithABadCountryCodeIsRefused) {
  EGRESSGUARD_DB_WRITER_OR_SKIP();
  const testing::TempDir tmp("eg-geoip-built-bad");
  const std::string dir = tmp.path().string();
  const std::string path = dir + "/country.mmdb";
  ASSERT_EQ(test::make_test_db(path, "country", {"71.18.0.0/16=CHN"}), "");
  auto db = Database::open(path, DatabaseKind::Country);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().find(path + ": bad data record at offset "), std::string::npos)
      << db.error();
  EXPECT_NE(db.error().find(": country iso_code is not an ISO 3166-1 alpha-2 code"),
            std::string::npos)
      << db.error();
}

}  // namespace
}  // namespace egressguard::geoip
