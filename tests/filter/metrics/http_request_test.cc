// parse_request_head: which request lines the metrics server answers, and the status it gives
// the others.
#include "filter/metrics/http_request.h"

#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace egressguard::metrics {
namespace {

struct Accepted {
  std::string_view head;
  std::string_view method;
  std::string_view path;
};

TEST(ParseRequestHead, AcceptsGetAndHeadWithTheQueryDropped) {
  const Accepted cases[] = {
      {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "GET", "/metrics"},
      {"HEAD /healthz HTTP/1.0\r\n\r\n", "HEAD", "/healthz"},
      {"GET /metrics?name=x HTTP/1.1\n\n", "GET", "/metrics"},
      {"GET / HTTP/1.1", "GET", "/"},
      {"GET /%7Emetrics HTTP/1.1\r\n\r\n", "GET", "/%7Emetrics"},
      {"GET ?x HTTP/1.1\r\n\r\n", "GET", ""},
  };
  for (const Accepted& c : cases) {
    const auto request = parse_request_head(c.head);
    ASSERT_TRUE(request.has_value()) << c.head;
    EXPECT_EQ(request->method, c.method) << c.head;
    EXPECT_EQ(request->path, c.path) << c.head;
    // Views into the head, not copies.
    EXPECT_GE(request->path.data(), c.head.data());
    EXPECT_LE(request->path.data() + request->path.size(), c.head.data() + c.head.size());
  }
}

struct Refused {
  std::string head;
  int status;
  std::string_view reason;
};

TEST(ParseRequestHead, RefusesWithTheStatusToAnswer) {
  const Refused cases[] = {
      {"garbage\r\n\r\n", 400, "malformed request line"},
      {"", 400, "malformed request line"},
      {"GET /metrics\r\n\r\n", 400, "malformed request line"},
      {"GET  /metrics HTTP/1.1\r\n\r\n", 400, "malformed request line"},
      {" GET /metrics HTTP/1.1\r\n\r\n", 400, "malformed request line"},
      {"GET /metrics HTTP/1.1 extra\r\n\r\n", 400, "malformed request line"},
      {"GET /met\trics HTTP/1.1\r\n\r\n", 400, "malformed request line"},
      {std::string("GET /met\0rics HTTP/1.1\r\n\r\n", 26), 400, "malformed request line"},
      {"G(T /metrics HTTP/1.1\r\n\r\n", 400, "malformed request line"},
      {"GET /metrics HTTP/2.0\r\n\r\n", 505, "only HTTP/1.x"},
      {"GET /metrics HTTP/1.10\r\n\r\n", 505, "only HTTP/1.x"},
      {"GET /metrics http/1.1\r\n\r\n", 505, "only HTTP/1.x"},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "only GET and HEAD"},
      {"get /metrics HTTP/1.1\r\n\r\n", 405, "only GET and HEAD"},
  };
  for (const Refused& c : cases) {
    const auto request = parse_request_head(c.head);
    ASSERT_FALSE(request.has_value()) << c.head;
    EXPECT_EQ(request.error().status, c.status) << c.head;
    EXPECT_EQ(request.error().reason, c.reason) << c.head;
  }
}

}  // namespace
}  // namespace egressguard::metrics
