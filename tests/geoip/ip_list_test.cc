#include "geoip/ip_list.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/geoip/geoip_test_support.h"

namespace egressguard::geoip {
namespace {

struct LineCase {
  const char* what;
  const char* line;
  bool ok;
  bool entry;          // an entry (not blank/comment)
  std::uint32_t asn;   // 0: a prefix
  const char* prefix;  // to_string, when a prefix
  const char* error;
};

TEST(ParseIpListLine, Table) {
  const LineCase cases[] = {
      {"ASN", "AS396986", true, true, 396986, "", ""},
      {"lower-case as, trailing comment", "as138699   # ByteDance", true, true, 138699, "", ""},
      {"highest ASN", "AS4294967294", true, true, 4294967294U, "", ""},
      {"IPv4 prefix", "71.18.0.0/16", true, true, 0, "71.18.0.0/16", ""},
      {"IPv6 prefix", "2001:db8::/32", true, true, 0, "2001:db8::/32", ""},
      {"comment", "# nothing", true, false, 0, "", ""},
      {"blank with CR", "  \r", true, false, 0, "", ""},
      {"ASN 0", "AS0", false, false, 0, "",
       "invalid ASN \"AS0\": out of range: an ASN is 1..4294967294"},
      {"ASN too big", "AS4294967295", false, false, 0, "",
       "invalid ASN \"AS4294967295\": out of range: an ASN is 1..4294967294"},
      {"bare number", "396986", false, false, 0, "",
       "invalid ASN \"396986\": expected an ASN such as AS396986"},
      {"host bits", "71.18.0.1/16", false, false, 0, "",
       "invalid prefix \"71.18.0.1/16\": host bits are set: the network is not aligned to /16"},
      {"bad length", "71.18.0.0/33", false, false, 0, "",
       "invalid prefix \"71.18.0.0/33\": prefix length \"33\" is not 0..32"},
      {"bad address", "71.18.0/16", false, false, 0, "",
       "invalid prefix \"71.18.0/16\": \"71.18.0\" is not an IPv4 or IPv6 address"},
      {"two fields", "AS1 AS2", false, false, 0, "",
       "\"AS1 AS2\" has more than one field: one ASN or prefix a line"},
  };
  for (const LineCase& c : cases) {
    auto parsed = parse_ip_list_line(c.line);
    ASSERT_EQ(parsed.has_value(), c.ok) << c.what;
    if (!c.ok) {
      EXPECT_EQ(parsed.error(), c.error) << c.what;
      continue;
    }
    ASSERT_EQ(parsed->has_value(), c.entry) << c.what;
    if (!c.entry) {
      continue;
    }
    EXPECT_EQ((*parsed)->asn, c.asn) << c.what;
    if (c.asn == 0) {
      EXPECT_EQ((*parsed)->prefix.to_string(), c.prefix) << c.what;
    }
  }
}

TEST(IpPrefix, ContainsOnlyItsFamilyAndBits) {
  const auto v4 = IpPrefix::parse("71.18.128.0/17", nullptr);
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->contains(test::address_bytes("71.18.200.1")));
  EXPECT_FALSE(v4->contains(test::address_bytes("71.18.127.255")));
  EXPECT_FALSE(v4->contains(test::address_bytes("::ffff:71.18.200.1")));
  const auto v6 = IpPrefix::parse("2001:db8:8000::/33", nullptr);
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(test::address_bytes("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(test::address_bytes("2001:db8:7fff::1")));
  EXPECT_FALSE(v6->contains(test::address_bytes("71.18.200.1")));
  const auto all = IpPrefix::parse("0.0.0.0/0", nullptr);
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(test::address_bytes("203.0.113.9")));
}

TEST(ParseIpList, ReportsEveryErrorWithFileLine) {
  auto list = parse_ip_list("# header\nAS396986\nAS0\n\n10.0.0.0/33\nAS1\n", "ip/x.txt");
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error(),
            (std::vector<std::string>{
                "ip/x.txt:3: invalid ASN \"AS0\": out of range: an ASN is 1..4294967294",
                "ip/x.txt:5: invalid prefix \"10.0.0.0/33\": prefix length \"33\" is not 0..32"}));
  auto good = parse_ip_list("# header\nAS396986\n\n71.18.0.0/16 # x\n", "ip/x.txt");
  ASSERT_TRUE(good);
  ASSERT_EQ(good->entries.size(), 2U);
  EXPECT_EQ(good->entries[0].line, 2U);
  EXPECT_EQ(good->entries[1].line, 4U);
  auto missing = load_ip_list("/nonexistent/ip.txt");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().front(),
            "/nonexistent/ip.txt: cannot open IP list: No such file or directory");
}

TEST(Catalogue, IpListsLoadWithoutErrors) {
  const std::string dir = ::egressguard::testing::source_path("domains/catalogue/ip");
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") {
      continue;
    }
    ++files;
    auto list = load_ip_list(entry.path().string());
    ASSERT_TRUE(list) << list.error().front();
    EXPECT_FALSE(list->entries.empty()) << entry.path();
  }
  EXPECT_GE(files, 1U);
}

}  // namespace
}  // namespace egressguard::geoip
