#include "filter/parse/http_host.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/parse/builders_helpers.h"

namespace egressguard::parse {
namespace {

struct Case {
  std::string name{};
  std::string stream{};
  std::optional<HttpParseError> error{};
  std::string host{};
  std::string host_name{};
  std::string method = "GET";
  bool is_connect = false;
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"simple",
               "GET / HTTP/1.1\r\nHost: www.tiktok.com\r\nAccept: */*\r\n\r\n",
               {},
               "www.tiktok.com",
               "www.tiktok.com"});
  c.push_back({"host_not_first",
               "GET /x HTTP/1.1\r\nUser-Agent: curl\r\nHost: a.example\r\n\r\n",
               {},
               "a.example",
               "a.example"});
  c.push_back({"lowercase_header",
               "POST /api HTTP/1.1\r\nhost: a.example\r\n\r\n",
               {},
               "a.example",
               "a.example",
               "POST"});
  c.push_back({"mixed_case_header",
               "GET / HTTP/1.0\r\nHoSt: a.example\r\n\r\n",
               {},
               "a.example",
               "a.example"});
  c.push_back({"lf_only", "GET / HTTP/1.1\nHost: lf.example\n\n", {}, "lf.example", "lf.example"});
  c.push_back({"whitespace_trimmed",
               "GET / HTTP/1.1\r\nHost: \t a.example \t\r\n\r\n",
               {},
               "a.example",
               "a.example"});
  c.push_back({"no_space_after_colon",
               "GET / HTTP/1.1\r\nHost:a.example\r\n\r\n",
               {},
               "a.example",
               "a.example"});
  c.push_back({"port",
               "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n",
               {},
               "a.example:8080",
               "a.example"});
  c.push_back(
      {"ipv4_literal", "GET / HTTP/1.1\r\nHost: 192.0.2.1\r\n\r\n", {}, "192.0.2.1", "192.0.2.1"});
  c.push_back({"ipv6_literal_port",
               "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
               {},
               "[2001:db8::1]:8080",
               "2001:db8::1"});
  c.push_back({"first_host_wins",
               "GET / HTTP/1.1\r\nHost: one.example\r\nHost: two.example\r\n\r\n",
               {},
               "one.example",
               "one.example"});
  c.push_back({"connect_with_host",
               "CONNECT www.tiktok.com:443 HTTP/1.1\r\nHost: www.tiktok.com:443\r\n\r\n",
               {},
               "www.tiktok.com:443",
               "www.tiktok.com",
               "CONNECT",
               true});
  c.push_back({"connect_without_host",
               "CONNECT www.tiktok.com:443 HTTP/1.1\r\nUser-Agent: x\r\n\r\n",
               {},
               "www.tiktok.com:443",
               "www.tiktok.com",
               "CONNECT",
               true});
  c.push_back({"absolute_form_without_host",
               "GET http://proxy.example:3128/a?b HTTP/1.0\r\n\r\n",
               {},
               "proxy.example:3128",
               "proxy.example"});
  c.push_back({"absolute_form_userinfo",
               "GET http://u:p@x.example/ HTTP/1.0\r\n\r\n",
               {},
               "x.example",
               "x.example"});
  c.push_back({"any_token_method",
               "PROPFIND /dav HTTP/1.1\r\nHost: dav.example\r\n\r\n",
               {},
               "dav.example",
               "dav.example",
               "PROPFIND"});
  c.push_back({"obs_fold_before_host",
               "GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\nHost: a.example\r\n\r\n",
               {},
               "a.example",
               "a.example"});
  c.push_back({"empty_host", "GET / HTTP/1.1\r\nHost: \r\n\r\n", HttpParseError::NoHost});
  c.push_back({"empty_host_absolute_form",
               "GET http://a.example/ HTTP/1.1\r\nHost:\r\n",
               {},
               "a.example",
               "a.example"});
  c.push_back({"no_host_http10", "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n", HttpParseError::NoHost});
  c.push_back({"tls", std::string("\x16\x03\x01\x02\x00\x01", 6), HttpParseError::NotHttp});
  c.push_back({"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HttpParseError::NotHttp});
  c.push_back({"http09", "GET /\r\n", HttpParseError::NotHttp});
  c.push_back({"bad_version", "GET / HTTP/1.x\r\n\r\n", HttpParseError::NotHttp});
  c.push_back({"ssh", "SSH-2.0-OpenSSH_9.2\r\n", HttpParseError::NotHttp});
  c.push_back({"space_before_colon", "GET / HTTP/1.1\r\nHost : a.example\r\n\r\n",
               HttpParseError::BadRequest});
  c.push_back({"line_without_colon", "GET / HTTP/1.1\r\nnonsense\r\nHost: a\r\n\r\n",
               HttpParseError::BadRequest});
  c.push_back({"control_in_host", std::string("GET / HTTP/1.1\r\nHost: a\x01.example\r\n\r\n"),
               HttpParseError::BadRequest});
  c.push_back({"empty", "", HttpParseError::NeedMore});
  c.push_back(
      {"headers_incomplete", "GET / HTTP/1.1\r\nAccept: */*\r\n", HttpParseError::NeedMore});
  c.push_back(
      {"host_line_incomplete", "GET / HTTP/1.1\r\nHost: www.tik", HttpParseError::NeedMore});
  c.push_back({"too_large", "GET / HTTP/1.1\r\nX-Pad: " + std::string(20000, 'a'),
               HttpParseError::TooLarge});
  return c;
}

class ParseHttpRequest : public ::testing::TestWithParam<Case> {};

TEST_P(ParseHttpRequest, MatchesTable) {
  const Case& c = GetParam();
  const auto result = parse_http_request(as_bytes(c.stream));
  if (c.error) {
    ASSERT_FALSE(result.has_value()) << result->host;
    EXPECT_EQ(describe(result.error()), describe(*c.error));
    return;
  }
  ASSERT_TRUE(result.has_value()) << describe(result.error());
  EXPECT_EQ(result->host, c.host);
  EXPECT_EQ(result->host_name, c.host_name);
  EXPECT_EQ(result->method, c.method);
  EXPECT_EQ(result->is_connect, c.is_connect);
}

INSTANTIATE_TEST_SUITE_P(Table, ParseHttpRequest, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

TEST(ParseHttpRequest, NeedsMoreAtEveryPrefixUntilTheHostLineEnds) {
  const std::string request =
      "GET /index.html HTTP/1.1\r\nUser-Agent: test\r\nHost: www.tiktok.com\r\nAccept: */*\r\n\r\n";
  const std::size_t host_line_end = request.find("\r\nAccept") + 2;
  for (std::size_t n = 0; n < request.size(); ++n) {
    const auto result = parse_http_request(as_bytes(std::string_view(request).substr(0, n)));
    if (n < host_line_end) {
      ASSERT_FALSE(result.has_value()) << n;
      EXPECT_EQ(result.error(), HttpParseError::NeedMore) << n;
    } else {
      ASSERT_TRUE(result.has_value()) << n;
      EXPECT_EQ(result->host, "www.tiktok.com");
    }
  }
}

TEST(ParseHttpRequest, NeedsMoreAtEveryPrefixOfARequestWithoutHost) {
  const std::string request = "CONNECT a.example:443 HTTP/1.1\nProxy-Authorization: x\n\n";
  for (std::size_t n = 0; n < request.size(); ++n) {
    const auto result = parse_http_request(as_bytes(std::string_view(request).substr(0, n)));
    ASSERT_FALSE(result.has_value()) << n;
    EXPECT_EQ(result.error(), HttpParseError::NeedMore) << n;
  }
  const auto result = parse_http_request(as_bytes(request));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->host_name, "a.example");
  EXPECT_FALSE(result->host_from_header);
}

TEST(ParseHttpRequest, RejectsNonHttpEarly) {
  // A TLS record is refused on its first byte, not after 16 KiB.
  EXPECT_EQ(parse_http_request(test::Bytes{0x16}).error(), HttpParseError::NotHttp);
  EXPECT_EQ(parse_http_request(as_bytes("GET / FTP")).error(), HttpParseError::NotHttp);
}

TEST(ParseHttpRequest, KeepsTheTargetAuthorityBesideHost) {
  const auto result = parse_http_request(
      as_bytes("GET http://www.tiktok.com/ HTTP/1.1\r\nHost: allowed.example\r\n\r\n"));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->host, "allowed.example");
  EXPECT_EQ(result->target_authority, "www.tiktok.com");
  EXPECT_EQ(result->target, "http://www.tiktok.com/");
}

TEST(LooksLikeHttpRequest, NeedsAnUpperCaseMethodAndSpace) {
  EXPECT_TRUE(looks_like_http_request(as_bytes("GET / HTTP/1.1")));
  EXPECT_TRUE(looks_like_http_request(as_bytes("PROPFIND ")));
  EXPECT_TRUE(looks_like_http_request(as_bytes("M-SEARCH * HTTP/1.1")));
  EXPECT_FALSE(looks_like_http_request(as_bytes("GET")));
  EXPECT_FALSE(looks_like_http_request(as_bytes("get / HTTP/1.1")));
  EXPECT_FALSE(looks_like_http_request(test::Bytes{0x16, 3, 1, 0, 5}));
}

TEST(HttpHostName, StripsPortAndBrackets) {
  EXPECT_EQ(http_host_name("a.example:80"), "a.example");
  EXPECT_EQ(http_host_name("[::1]:80"), "::1");
  EXPECT_EQ(http_host_name("[::1]"), "::1");
  EXPECT_EQ(http_host_name("2001:db8::1"), "2001:db8::1");
  EXPECT_EQ(http_host_name("a.example"), "a.example");
}

}  // namespace
}  // namespace egressguard::parse
