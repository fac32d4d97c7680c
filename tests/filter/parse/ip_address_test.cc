#include "filter/parse/ip_address.h"

#include <string>
#include <unordered_set>

#include <gtest/gtest.h>

namespace egressguard::parse {
namespace {

struct TextCase {
  std::string input;
  std::string canonical;  // empty: input must be rejected
};

class IpAddressText : public ::testing::TestWithParam<TextCase> {};

TEST_P(IpAddressText, ParsesAndPrintsCanonically) {
  const TextCase& c = GetParam();
  const auto address = IpAddress::parse(c.input);
  if (c.canonical.empty()) {
    EXPECT_FALSE(address.has_value());
    return;
  }
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->to_string(), c.canonical);
  EXPECT_EQ(IpAddress::parse(address->to_string()), address);
}

INSTANTIATE_TEST_SUITE_P(
    Table, IpAddressText,
    ::testing::Values(TextCase{"192.0.2.1", "192.0.2.1"}, TextCase{"0.0.0.0", "0.0.0.0"},
                      TextCase{"255.255.255.255", "255.255.255.255"},
                      TextCase{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
                      TextCase{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // first longest
                      TextCase{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // no "::" for one
                      TextCase{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},           // longest wins
                      TextCase{"::", "::"}, TextCase{"::1", "::1"}, TextCase{"fe80::", "fe80::"},
                      TextCase{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
                      TextCase{"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"}, TextCase{"256.0.0.1", ""},
                      TextCase{"1.2.3", ""}, TextCase{"", ""}, TextCase{"example.com", ""},
                      TextCase{"1::2::3", ""}, TextCase{"192.0.2.1 ", ""}));

TEST(IpAddress, V4StoresNetworkOrder) {
  const IpAddress a = IpAddress::v4(0xc0000201);
  EXPECT_EQ(a.family, 4);
  EXPECT_EQ(a.to_string(), "192.0.2.1");
  EXPECT_EQ(a.v4_host_order(), 0xc0000201U);
  EXPECT_EQ(a, *IpAddress::parse("192.0.2.1"));
}

TEST(IpAddress, HashSeparatesFamiliesAndAddresses) {
  const IpAddress v4_zero = *IpAddress::parse("0.0.0.0");
  const IpAddress v6_zero = *IpAddress::parse("::");
  EXPECT_NE(v4_zero, v6_zero);
  EXPECT_NE(v4_zero.hash(), v6_zero.hash());
  std::unordered_set<IpAddress> seen;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    seen.insert(IpAddress::v4(0x0a000000 + i));
  }
  EXPECT_EQ(seen.size(), 1000U);
  EXPECT_EQ(IpAddress::v4(7).hash(), IpAddress::v4(7).hash());
}

TEST(IpAddress, UnsetPrintsDash) {
  EXPECT_EQ(IpAddress{}.to_string(), "-");
  EXPECT_EQ(IpAddress::from_bytes(ByteSpan{}).family, 0);
}

}  // namespace
}  // namespace egressguard::parse
