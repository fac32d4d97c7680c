#include "filter/events/syslog_output.h"

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

#include "tests/filter/events/test_helpers.h"

namespace egressguard::events {
namespace {

using testing::at;

// A loopback socket bound to an ephemeral port.
struct Listener {
  int fd = -1;
  std::uint16_t port = 0;
  explicit Listener(int type) {
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    if (type == SOCK_STREAM) {
      ::listen(fd, 4);
    }
  }
  ~Listener() { ::close(fd); }
};

// Reads from `fd` until `want` bytes arrived or 3 s passed.
std::string read_some(int fd, std::size_t want) {
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    char buffer[65536];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    got.append(buffer, static_cast<std::size_t>(n));
  }
  return got;
}

SyslogOutputOptions options_for(SyslogProtocol protocol, std::uint16_t port) {
  SyslogOutputOptions o;
  o.config.host = "127.0.0.1";
  o.config.port = port;
  o.config.protocol = protocol;
  o.config.facility = 16;
  o.config.app_name = "egressguard";
  o.hostname = "gw-example";
  o.close_timeout_ms = 500;
  return o;
}

TEST(SyslogFormat, WritesAnRfc5424HeaderWithTheJsonAsMessage) {
  struct Case {
    EventKind kind;
    std::uint8_t facility;
    const char* sensor;
    const char* expected;
  };
  const Case cases[] = {
      {EventKind::Block, 16, "gw-example",
       "<132>1 2026-11-29T09:00:01.000000Z gw-example egressguard 42 block - {\"a\":1}"},
      {EventKind::Name, 3, "gw",
       "<30>1 2026-11-29T09:00:01.000000Z gw egressguard 42 name - {\"a\":1}"},
      {EventKind::UnnamedFlow, 23, "gw room 1",
       "<189>1 2026-11-29T09:00:01.000000Z gw_room_1 egressguard 42 unnamed_flow - {\"a\":1}"},
      {EventKind::Block, 16, "",
       "<132>1 2026-11-29T09:00:01.000000Z - egressguard 42 block - {\"a\":1}"},
  };
  for (const Case& c : cases) {
    SyslogOutputOptions o;
    o.config.facility = c.facility;
    o.hostname = c.sensor;
    std::string out;
    SyslogOutput::format(out, o, 42, EventLine{"{\"a\":1}", 1, c.kind}, at(1));
    EXPECT_EQ(out, c.expected);
  }
}

TEST(SyslogOutput, SendsOneDatagramPerEventOverUdp) {
  Listener receiver(SOCK_DGRAM);
  auto out = SyslogOutput::open(options_for(SyslogProtocol::Udp, receiver.port));
  ASSERT_TRUE(out.has_value()) << out.error();
  (*out)->write(EventLine{R"({"n":1})", 1, EventKind::Block}, at(0));
  (*out)->write(EventLine{R"({"n":2})", 4, EventKind::Block}, at(0));
  (*out)->flush(at(0));
  const std::string first = read_some(receiver.fd, 1);
  const std::string second = read_some(receiver.fd, 1);
  EXPECT_EQ(first.substr(first.size() - 8), R"( {"n":1})");
  EXPECT_EQ(second.substr(second.size() - 8), R"( {"n":2})");
  EXPECT_EQ((*out)->counters().written, 5U);
}

TEST(SyslogOutput, FramesByOctetCountingOverTcp) {
  Listener server(SOCK_STREAM);
  auto out = SyslogOutput::open(options_for(SyslogProtocol::Tcp, server.port));
  ASSERT_TRUE(out.has_value()) << out.error();
  const std::string hostile = R"({"name":"a\"b\nc\u00ff"})";
  (*out)->write(EventLine{hostile, 1, EventKind::Block}, at(0));
  (*out)->flush(at(0));
  const int conn = ::accept(server.fd, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  for (int i = 0; i < 20 && (*out)->counters().written == 0; ++i) {
    (*out)->flush(at(0));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string message;
  SyslogOutput::format(message, options_for(SyslogProtocol::Tcp, server.port), ::getpid(),
                       EventLine{hostile, 1, EventKind::Block}, at(0));
  const std::string expected = std::to_string(message.size()) + " " + message;
  EXPECT_EQ(read_some(conn, expected.size()), expected);
  EXPECT_EQ((*out)->counters().written, 1U);
  ::close(conn);
}

TEST(SyslogOutput, BuffersWhileTheReceiverIsAwayAndReconnects) {
  std::uint16_t port = 0;
  {
    Listener probe(SOCK_STREAM);  // a port nobody listens on once closed
    port = probe.port;
  }
  auto out = SyslogOutput::open(options_for(SyslogProtocol::Tcp, port));
  ASSERT_TRUE(out.has_value());
  std::uint64_t now = at(0);
  for (int i = 0; i < 3; ++i) {
    (*out)->write(EventLine{"{\"n\":" + std::to_string(i) + "}", 1, EventKind::Block}, now);
    (*out)->flush(now);  // connection refused: backoff
  }
  EXPECT_FALSE((*out)->connected());
  EXPECT_EQ((*out)->last_error(), "connect: Connection refused");
  EXPECT_EQ((*out)->counters().written, 0U);
  // The receiver comes back (same port); after the backoff the buffered events go out.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::listen(fd, 4);
  for (int i = 0; i < 100 && (*out)->counters().written < 3; ++i) {
    now += 1'000'000;
    (*out)->flush(now);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ((*out)->counters().written, 3U);
  const int conn = ::accept(fd, nullptr, nullptr);
  const std::string got = read_some(conn, 1);
  EXPECT_NE(got.find(R"( {"n":0})"), std::string::npos);
  EXPECT_NE(got.find(R"( {"n":2})"), std::string::npos);
  ::close(conn);
  ::close(fd);
}

TEST(SyslogOutput, DropsAndCountsBeyondItsBufferWhileDisconnected) {
  std::uint16_t port = 0;
  {
    Listener probe(SOCK_STREAM);
    port = probe.port;
  }
  auto o = options_for(SyslogProtocol::Tcp, port);
  o.max_pending_bytes = 1000;
  auto out = SyslogOutput::open(o);
  ASSERT_TRUE(out.has_value());
  const std::string line(200, 'x');
  for (int i = 0; i < 10; ++i) {
    (*out)->write(EventLine{line, 1, EventKind::Block}, at(0));
  }
  EXPECT_EQ((*out)->counters().dropped_write_error, 7U);  // 3 frames of ~275 bytes fit
  (*out)->close(at(0));  // still nobody there: the rest is lost, counted, within the timeout
  EXPECT_EQ((*out)->counters().dropped_write_error, 10U);
}

TEST(SyslogOutput, ReportsAnUnresolvableHost) {
  auto o = options_for(SyslogProtocol::Udp, 514);
  o.config.host = "no-such-host.invalid";
  auto out = SyslogOutput::open(o);
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().rfind("syslog udp no-such-host.invalid:514: cannot resolve: ", 0), 0U)
      << out.error();
}

}  // namespace
}  // namespace egressguard::events
