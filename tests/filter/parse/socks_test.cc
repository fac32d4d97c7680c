#include "filter/parse/socks.h"

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::parse {
namespace {

using test::Bytes;

// SOCKS 5 greeting offering `methods`.
Bytes greeting(const Bytes& methods) {
  Bytes out = {5, static_cast<std::uint8_t>(methods.size())};
  test::append(out, methods);
  return out;
}

// SOCKS 5 request: VER CMD RSV ATYP ADDR PORT.
Bytes request5(std::uint8_t command, std::uint8_t atyp, const Bytes& address,
               std::uint16_t port = 443, std::uint8_t reserved = 0) {
  Bytes out = {5, command, reserved, atyp};
  test::append(out, address);
  test::put16(out, port);
  return out;
}

Bytes domain5(std::string_view name) {
  Bytes out = {static_cast<std::uint8_t>(name.size())};
  test::append(out, name);
  return out;
}

// RFC 1929 sub-negotiation.
Bytes userpass(std::string_view user, std::string_view password) {
  Bytes out = {1, static_cast<std::uint8_t>(user.size())};
  test::append(out, user);
  out.push_back(static_cast<std::uint8_t>(password.size()));
  test::append(out, password);
  return out;
}

// SOCKS 4 / 4A request.
Bytes request4(std::uint8_t command, std::uint16_t port, const Bytes& ip, std::string_view user,
               std::optional<std::string_view> host = std::nullopt) {
  Bytes out = {4, command};
  test::put16(out, port);
  test::append(out, ip);
  test::append(out, user);
  out.push_back(0);
  if (host) {
    test::append(out, *host);
    out.push_back(0);
  }
  return out;
}

const Bytes kIpv4 = {192, 0, 2, 10};
const Bytes kIpv6 = test::address_bytes("2001:db8::1");
const Bytes kTail = test::bytes_of("\x16\x03\x01 tunnelled");

struct Case {
  std::string name{};
  Bytes stream{};
  std::optional<SocksError> error{};
  std::uint8_t version = 5;
  SocksCommand command = SocksCommand::Connect;
  SocksAddressType address_type = SocksAddressType::Domain;
  std::string domain{};
  Bytes address{};
  std::uint16_t port = 443;
  bool credentials = false;
  std::size_t tail = 0;  // bytes after the handshake
};

std::vector<Case> cases() {
  const Bytes no_auth = greeting({0});
  std::vector<Case> c;
  // SOCKS 5, RFC 1928.
  c.push_back({"v5_domain",
               test::cat({no_auth, request5(1, 3, domain5("www.tiktok.com"))}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "www.tiktok.com"});
  c.push_back({"v5_ipv4",
               test::cat({no_auth, request5(1, 1, kIpv4, 80)}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Ipv4,
               "",
               kIpv4,
               80});
  c.push_back({"v5_ipv6",
               test::cat({no_auth, request5(1, 4, kIpv6)}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Ipv6,
               "",
               kIpv6});
  c.push_back({"v5_tunnelled_bytes_follow",
               test::cat({no_auth, request5(1, 3, domain5("a.example")), kTail}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "a.example",
               {},
               443,
               false,
               kTail.size()});
  c.push_back({"v5_several_methods_curl_style",
               test::cat({greeting({0, 1}), request5(1, 1, kIpv4, 80)}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Ipv4,
               "",
               kIpv4,
               80});
  c.push_back({"v5_rfc1929_credentials",
               test::cat({greeting({0, 2}), userpass("alice", "secret"),
                          request5(1, 3, domain5("vcs-va.tiktokv.com"))}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "vcs-va.tiktokv.com",
               {},
               443,
               true});
  c.push_back({"v5_rfc1929_empty_password",
               test::cat({greeting({2}), userpass("u", ""), request5(1, 3, domain5("a.b"))}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "a.b",
               {},
               443,
               true});
  c.push_back({"v5_reserved_byte_ignored",
               test::cat({no_auth, request5(1, 3, domain5("a.example"), 443, 0x7f)}),
               {},
               5,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "a.example"});
  c.push_back({"v5_udp_associate",
               test::cat({no_auth, request5(3, 1, {0, 0, 0, 0}, 0)}),
               {},
               5,
               SocksCommand::UdpAssociate,
               SocksAddressType::Ipv4,
               "",
               {0, 0, 0, 0},
               0});
  c.push_back({"v5_bind",
               test::cat({no_auth, request5(2, 3, domain5("b.example"), 21)}),
               {},
               5,
               SocksCommand::Bind,
               SocksAddressType::Domain,
               "b.example",
               {},
               21});
  // Incomplete: every prefix of a complete handshake is NeedMore (checked separately too).
  c.push_back({"v5_greeting_only", no_auth, SocksError::NeedMore});
  c.push_back({"v5_half_greeting", Bytes{5, 2, 0}, SocksError::NeedMore});
  c.push_back({"v5_domain_cut",
               test::cat({no_auth, Bytes{5, 1, 0, 3, 10}, test::bytes_of("www.t")}),
               SocksError::NeedMore});
  c.push_back({"v5_credentials_cut", test::cat({greeting({2}), Bytes{1, 5, 'a', 'l'}}),
               SocksError::NeedMore});
  // Not SOCKS.
  c.push_back({"empty", {}, SocksError::NeedMore});
  c.push_back({"tls", test::bytes_of("\x16\x03\x01\x02\x00"), SocksError::NotSocks});
  c.push_back({"v5_zero_methods_dcerpc", Bytes{5, 0, 11, 3, 16, 0, 0, 0}, SocksError::NotSocks});
  c.push_back({"v5_method_ff_offered", Bytes{5, 2, 0, 0xff}, SocksError::NotSocks});
  c.push_back({"v5_greeting_then_junk", test::cat({no_auth, Bytes{0x47, 0x45, 0x54}}),
               SocksError::NotSocks});
  c.push_back({"v4_bad_command", Bytes{4, 9, 0, 80, 1, 2, 3, 4, 0}, SocksError::NotSocks});
  // Malformed SOCKS.
  c.push_back(
      {"v5_bad_command", test::cat({no_auth, request5(7, 1, kIpv4)}), SocksError::BadRequest});
  c.push_back(
      {"v5_bad_address_type", test::cat({no_auth, request5(1, 2, kIpv4)}), SocksError::BadRequest});
  c.push_back(
      {"v5_empty_domain", test::cat({no_auth, request5(1, 3, Bytes{0})}), SocksError::BadRequest});
  c.push_back({"v5_request_version_4_after_auth",
               test::cat({greeting({2}), userpass("u", "p"), Bytes{4, 1, 0, 1, 1, 2, 3, 4, 0, 80}}),
               SocksError::BadRequest});
  c.push_back({"v5_gssapi_subnegotiation",
               test::cat({greeting({1}), Bytes{1, 1, 0, 4, 0xde, 0xad, 0xbe, 0xef}}),
               SocksError::UnsupportedAuth});
  // SOCKS 4 and 4A.
  c.push_back({"v4_ipv4",
               request4(1, 80, kIpv4, ""),
               {},
               4,
               SocksCommand::Connect,
               SocksAddressType::Ipv4,
               "",
               kIpv4,
               80});
  c.push_back({"v4_userid",
               request4(1, 443, kIpv4, "bob"),
               {},
               4,
               SocksCommand::Connect,
               SocksAddressType::Ipv4,
               "",
               kIpv4,
               443,
               true});
  c.push_back({"v4a_domain",
               request4(1, 443, {0, 0, 0, 1}, "", "m.tiktok.com"),
               {},
               4,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "m.tiktok.com"});
  c.push_back({"v4a_domain_with_userid",
               test::cat({request4(1, 443, {0, 0, 0, 255}, "bob", "a.example"), kTail}),
               {},
               4,
               SocksCommand::Connect,
               SocksAddressType::Domain,
               "a.example",
               {},
               443,
               true,
               kTail.size()});
  c.push_back({"v4_bind",
               request4(2, 21, kIpv4, ""),
               {},
               4,
               SocksCommand::Bind,
               SocksAddressType::Ipv4,
               "",
               kIpv4,
               21});
  c.push_back({"v4_0_0_0_0_is_not_4a",
               request4(1, 80, {0, 0, 0, 0}, ""),
               {},
               4,
               SocksCommand::Connect,
               SocksAddressType::Ipv4,
               "",
               {0, 0, 0, 0},
               80});
  c.push_back(
      {"v4_userid_without_nul", Bytes{4, 1, 0, 80, 1, 2, 3, 4, 'b', 'o'}, SocksError::NeedMore});
  c.push_back({"v4a_domain_without_nul", Bytes{4, 1, 1, 187, 0, 0, 0, 1, 0, 'a', '.'},
               SocksError::NeedMore});
  c.push_back({"v4a_empty_domain", request4(1, 443, {0, 0, 0, 1}, "", ""), SocksError::BadRequest});
  {
    Bytes long_userid = {4, 1, 0, 80, 1, 2, 3, 4};
    long_userid.resize(long_userid.size() + kMaxSocks4Field + 1, 'x');
    c.push_back({"v4_userid_too_long", long_userid, SocksError::TooLong});
  }
  return c;
}

class ParseSocksRequest : public ::testing::TestWithParam<Case> {};

TEST_P(ParseSocksRequest, ReadsTheClientHandshake) {
  const Case& c = GetParam();
  const auto result = parse_socks_request(c.stream);
  if (c.error) {
    ASSERT_FALSE(result.has_value()) << "parsed; expected " << describe(*c.error);
    EXPECT_EQ(result.error(), *c.error) << describe(result.error());
    EXPECT_EQ(looks_like_socks(c.stream), *c.error != SocksError::NotSocks);
    return;
  }
  ASSERT_TRUE(result.has_value()) << describe(result.error());
  EXPECT_TRUE(looks_like_socks(c.stream));
  EXPECT_EQ(result->version, c.version);
  EXPECT_EQ(result->command, c.command);
  EXPECT_EQ(result->address_type, c.address_type);
  EXPECT_EQ(result->domain, c.domain);
  EXPECT_EQ(Bytes(result->address.begin(), result->address.end()), c.address);
  EXPECT_EQ(result->port, c.port);
  EXPECT_EQ(result->credentials, c.credentials);
  EXPECT_EQ(result->handshake_size, c.stream.size() - c.tail);
  // Every shorter prefix of a complete handshake waits for more.
  for (std::size_t n = 0; n < result->handshake_size; ++n) {
    const auto prefix = parse_socks_request(ByteSpan(c.stream).first(n));
    ASSERT_FALSE(prefix.has_value()) << n;
    EXPECT_EQ(prefix.error(), SocksError::NeedMore) << n << ": " << describe(prefix.error());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseSocksRequest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           return param.param.name;
                         });

TEST(ParseSocksRequest, DomainIsAViewIntoTheStream) {
  const Bytes stream = test::cat({greeting({0}), request5(1, 3, domain5("a.example"))});
  const auto result = parse_socks_request(stream);
  ASSERT_TRUE(result.has_value());
  const auto* begin = reinterpret_cast<const char*>(stream.data());
  EXPECT_GE(result->domain.data(), begin);
  EXPECT_LE(result->domain.data() + result->domain.size(), begin + stream.size());
}

TEST(DescribeSocksError, NamesEveryError) {
  EXPECT_EQ(describe(SocksError::NeedMore), "socks_need_more");
  EXPECT_EQ(describe(SocksError::NotSocks), "socks_not_socks");
  EXPECT_EQ(describe(SocksError::BadRequest), "socks_bad_request");
  EXPECT_EQ(describe(SocksError::TooLong), "socks_too_long");
  EXPECT_EQ(describe(SocksError::UnsupportedAuth), "socks_unsupported_auth");
}

}  // namespace
}  // namespace egressguard::parse
