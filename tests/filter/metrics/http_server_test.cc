#include "filter/metrics/http_server.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filter/metrics/metrics_server.h"
#include "tests/filter/metrics/prometheus_text_helpers.h"

namespace egressguard::metrics {
namespace {

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` and reads until the server closes (or 3 s pass).
std::string http_exchange(std::uint16_t port, const std::string& request) {
  const int fd = connect_loopback(port);
  if (fd < 0) {
    return "";
  }
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      break;  // the server may close early (oversized request): read what it answered
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) <= 0) {
      break;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

int status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.1 ", 0) != 0 || answer.size() < 12) {
    return -1;
  }
  return std::stoi(answer.substr(9, 3));
}

std::string body_of(const std::string& answer) {
  const std::size_t end = answer.find("\r\n\r\n");
  return end == std::string::npos ? "" : answer.substr(end + 4);
}

class MetricsEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.counter("egressguard_demo_total", "Demo", {{"group", "gov \"managed\""}}).inc(5);
    auto address = parse_listen("127.0.0.1:0", false);
    ASSERT_TRUE(address) << address.error();
    HttpServerOptions options;
    options.max_request_bytes = 1024;
    options.max_connections = 4;
    options.timeout = std::chrono::milliseconds(300);
    auto server = open_metrics_server(
        *address, registry_,
        [this] { return health_.load() ? std::string() : std::string("no policy loaded"); },
        options);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
    server_->start();
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  Registry registry_;
  std::atomic<bool> health_{true};
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(MetricsEndpoint, ServesMetricsThatParse) {
  const std::string answer = http_exchange(port_, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(status_of(answer), 200) << answer;
  EXPECT_NE(answer.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos);
  const std::string body = body_of(answer);
  EXPECT_NE(answer.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  auto parsed = testing::parse_prometheus_text(body);
  ASSERT_TRUE(parsed) << parsed.error() << "\n" << body;
  EXPECT_EQ(parsed->value("egressguard_demo_total", {{"group", "gov \"managed\""}}), 5);
  // The endpoint's own counters are part of the scrape.
  EXPECT_GE(parsed->value("egressguard_metrics_requests_total"), 0);
}

TEST_F(MetricsEndpoint, AnswersByPathAndMethod) {
  const struct {
    const char* request;
    int status;
    const char* body_part;
  } cases[] = {
      {"GET /healthz HTTP/1.1\r\n\r\n", 200, "ok"},
      {"GET /metrics?x=1 HTTP/1.0\r\n\r\n", 200, "egressguard_demo_total"},
      {"GET /nothing HTTP/1.1\r\n\r\n", 404, "not found"},
      {"GET / HTTP/1.1\r\n\r\n", 404, "/metrics"},
      {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "GET"},
      {"GET /metrics HTTP/2.0\r\n\r\n", 505, ""},
      {"garbage\r\n\r\n", 400, ""},
      {"GET /healthz HTTP/1.1\n\n", 200, "ok"},  // bare line feeds
  };
  for (const auto& c : cases) {
    const std::string answer = http_exchange(port_, c.request);
    EXPECT_EQ(status_of(answer), c.status) << c.request << "\n" << answer;
    EXPECT_NE(body_of(answer).find(c.body_part), std::string::npos) << c.request;
  }
  const std::string head = http_exchange(port_, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_of(head), 200);
  EXPECT_EQ(body_of(head), "");
  EXPECT_EQ(head.find("Content-Length: 0\r\n"), std::string::npos);  // the GET's length
}

TEST_F(MetricsEndpoint, HealthzIs503WhenNotReady) {
  health_ = false;
  const std::string answer = http_exchange(port_, "GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(status_of(answer), 503);
  EXPECT_NE(body_of(answer).find("no policy loaded"), std::string::npos);
}

TEST_F(MetricsEndpoint, RejectsAnOversizedRequest) {
  std::string request = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n";
  const std::string answer = http_exchange(port_, request);
  EXPECT_EQ(status_of(answer), 431) << answer;
  EXPECT_EQ(server_->stats().too_large, 1U);
  // The server still answers afterwards.
  EXPECT_EQ(status_of(http_exchange(port_, "GET /healthz HTTP/1.1\r\n\r\n")), 200);
}

TEST_F(MetricsEndpoint, ClosesIdleConnectionsAndCapsTheirNumber) {
  // Four silent connections fill the cap; the fifth is closed at once.
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connect_loopback(port_));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const int extra = connect_loopback(port_);
  ASSERT_GE(extra, 0);
  pollfd p{extra, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  char byte = 0;
  EXPECT_EQ(::recv(extra, &byte, 1, 0), 0);  // closed without an answer
  ::close(extra);
  EXPECT_GE(server_->stats().refused, 1U);
  // The timeout (300 ms) closes the silent ones; then requests are served again.
  for (int fd : idle) {
    pollfd q{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&q, 1, 3000), 1);
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);
    ::close(fd);
  }
  EXPECT_EQ(server_->stats().timeouts, 4U);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(status_of(http_exchange(port_, "GET /healthz HTTP/1.1\r\n\r\n")), 200);
}

TEST(MetricsListen, ParsesAddressesAndRefusesRemoteByDefault) {
  const struct {
    const char* text;
    bool allow_remote;
    bool ok;
    const char* normalised_or_error;
  } cases[] = {
      {"127.0.0.1:9477", false, true, "127.0.0.1:9477"},
      {"127.0.0.2:80", false, true, "127.0.0.2:80"},
      {"[::1]:9100", false, true, "[::1]:9100"},
      {"::1", false, true, "[::1]:9477"},
      {"127.0.0.1", false, true, "127.0.0.1:9477"},
      {"0.0.0.0:9477", false, false, "is not a loopback address"},
      {"192.0.2.1:9477", false, false, "set allow_remote = true"},
      {"[::]:9477", false, false, "is not a loopback address"},
      {"0.0.0.0:9477", true, true, "0.0.0.0:9477"},
      {"[2001:db8::1]:9477", true, true, "[2001:db8::1]:9477"},
      {"localhost:9477", false, false, "is not an IP address"},
      {"127.0.0.1:70000", false, false, "invalid port"},
      {"127.0.0.1:", false, false, "empty port"},
      {"[::1", false, false, "missing ']'"},
      {"[::1]x", false, false, "expected ':'"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_listen(c.text, c.allow_remote);
    ASSERT_EQ(parsed.has_value(), c.ok) << c.text;
    if (c.ok) {
      EXPECT_EQ(parsed->to_string(), c.normalised_or_error);
    } else {
      EXPECT_NE(parsed.error().find(c.normalised_or_error), std::string::npos) << parsed.error();
    }
  }
}

TEST(MetricsServerOpen, RefusesANonLoopbackAddressWithoutAllowRemote) {
  Registry registry;
  ListenAddress address;
  address.ip = "0.0.0.0";
  address.port = 0;
  address.loopback = false;
  auto server = open_metrics_server(
      address, registry, [] { return std::string(); }, {}, false);
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().find("not a loopback address"), std::string::npos);
}

TEST(MetricsServerOpen, ReportsAPortInUse) {
  Registry registry;
  auto address = parse_listen("127.0.0.1:0", false);
  ASSERT_TRUE(address);
  auto first = open_metrics_server(*address, registry, [] { return std::string(); });
  ASSERT_TRUE(first);
  address->port = (*first)->port();
  auto second = open_metrics_server(*address, registry, [] { return std::string(); });
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("cannot listen"), std::string::npos) << second.error();
}

}  // namespace
}  // namespace egressguard::metrics
