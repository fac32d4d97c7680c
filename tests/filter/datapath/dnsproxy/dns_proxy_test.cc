// The DNS proxy over real sockets on loopback: a fake upstream (UDP + TCP) in the test, clients
// bound to 127.0.0.8 (gov) and 127.0.0.30 (byod) so that the groups differ by source address.
#include "filter/datapath/dnsproxy/dns_proxy.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filter/datapath/dnsproxy/dns_message.h"
#include "tests/filter/datapath/dnsproxy/dns_test_helpers.h"

namespace egressguard::dnsproxy {
namespace {

using testing::make_query;
using testing::make_response;
using testing::parse_answer;
using Clock = std::chrono::steady_clock;

sockaddr_in v4(const char* ip, std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  return a;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in a{};
  socklen_t size = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size);
  return ntohs(a.sin_port);
}

bool read_exact(int fd, std::uint8_t* out, std::size_t size, int timeout_ms) {
  std::size_t got = 0;
  while (got < size) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) {
      return false;
    }
    const ssize_t n = ::recv(fd, out + got, size - got, 0);
    if (n <= 0) {
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// A fake upstream: answers "NAME 60 IN A 192.0.2.N" (N counts the queries it answered, 1..254
// and round again), or stays silent, or sets TC=1 over UDP.
class FakeUpstream {
 public:
  enum class Mode { Answer, Silent, TruncateUdp };
  explicit FakeUpstream(Mode mode) : mode_(mode) {
    udp_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    tcp_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = v4("127.0.0.1", 0);
    ::bind(udp_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    port_ = bound_port(udp_);
    a = v4("127.0.0.1", port_);
    const int one = 1;
    ::setsockopt(tcp_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    tcp_ok_ =
        ::bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && ::listen(tcp_, 16) == 0;
    thread_ = std::thread([this] { run(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
    ::close(udp_);
    ::close(tcp_);
  }
  Endpoint endpoint() const { return Endpoint{*parse::IpAddress::parse("127.0.0.1"), port_}; }
  bool tcp_ok() const { return tcp_ok_; }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }

 private:
  std::vector<std::uint8_t> answer(const std::vector<std::uint8_t>& query, bool truncate) {
    parse::DnsNameBuffer buffer{};
    auto m = parse::parse_dns_message(query, buffer);
    if (!m) {
      return {};
    }
    if (truncate) {
      return make_response(query, {}, 0, true);
    }
    const int n = ++answered_;
    return make_response(
        query, {std::string(m->qname) + ". 60 IN A 192.0.2." + std::to_string((n - 1) % 254 + 1)});
  }

  void run() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) {
        continue;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        std::vector<std::uint8_t> buffer(65535);
        sockaddr_in from{};
        socklen_t size = sizeof(from);
        const ssize_t n = ::recvfrom(udp_, buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &size);
        if (n > 0) {
          ++udp_queries_;
          buffer.resize(static_cast<std::size_t>(n));
          if (mode_ != Mode::Silent) {
            const auto reply = answer(buffer, mode_ == Mode::TruncateUdp);
            ::sendto(udp_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), size);
          }
        }
      }
      if ((fds[1].revents & POLLIN) != 0) {
        const int c = ::accept(tcp_, nullptr, nullptr);
        std::uint8_t length[2];
        if (c >= 0 && read_exact(c, length, 2, 1000)) {
          std::vector<std::uint8_t> query(static_cast<std::size_t>((length[0] << 8) | length[1]));
          if (read_exact(c, query.data(), query.size(), 1000)) {
            ++tcp_queries_;
            if (mode_ != Mode::Silent) {
              auto reply = answer(query, false);
              const std::uint8_t prefix[2] = {static_cast<std::uint8_t>(reply.size() >> 8),
                                              static_cast<std::uint8_t>(reply.size() & 0xff)};
              ::send(c, prefix, 2, MSG_NOSIGNAL);
              ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
            }
          }
        }
        if (c >= 0) {
          ::close(c);
        }
      }
    }
  }

  Mode mode_;
  int udp_ = -1;
  int tcp_ = -1;
  std::uint16_t port_ = 0;
  bool tcp_ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

std::vector<std::uint8_t> udp_query(const char* from, const Endpoint& proxy,
                                    const std::vector<std::uint8_t>& query, int timeout_ms = 3000) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in local = v4(from, 0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local));
  sockaddr_in to = v4(proxy.ip.to_string().c_str(), proxy.port);
  ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  std::vector<std::uint8_t> out(65535);
  pollfd p{fd, POLLIN, 0};
  ssize_t n = -1;
  if (::poll(&p, 1, timeout_ms) > 0) {
    n = ::recv(fd, out.data(), out.size(), 0);
  }
  ::close(fd);
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

int tcp_connect(const char* from, const Endpoint& proxy) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local = v4(from, 0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local));
  sockaddr_in to = v4(proxy.ip.to_string().c_str(), proxy.port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void tcp_send(int fd, const std::vector<std::uint8_t>& query) {
  std::vector<std::uint8_t> framed = {static_cast<std::uint8_t>(query.size() >> 8),
                                      static_cast<std::uint8_t>(query.size() & 0xff)};
  framed.insert(framed.end(), query.begin(), query.end());
  ::send(fd, framed.data(), framed.size(), MSG_NOSIGNAL);
}

std::vector<std::uint8_t> tcp_receive(int fd, int timeout_ms = 3000) {
  std::uint8_t length[2];
  if (!read_exact(fd, length, 2, timeout_ms)) {
    return {};
  }
  std::vector<std::uint8_t> out(static_cast<std::size_t>((length[0] << 8) | length[1]));
  if (!read_exact(fd, out.data(), out.size(), timeout_ms)) {
    return {};
  }
  return out;
}

constexpr const char* kGov = "127.0.0.8";
constexpr const char* kByod = "127.0.0.30";

class ProxyTest : public ::testing::Test {
 protected:
  ProxyTest() : store_(fixture_.build()) {}

  void start(std::vector<Endpoint> upstreams, std::uint32_t workers = 2) {
    config_.listen = {Endpoint{*parse::IpAddress::parse("127.0.0.1"), 0}};
    config_.upstreams = std::move(upstreams);
    config_.workers = workers;
    auto proxy = DnsProxy::open(config_, store_);
    ASSERT_TRUE(proxy.has_value()) << proxy.error();
    proxy_ = std::move(*proxy);
    proxy_->start();
    endpoint_ = proxy_->endpoints().front();
    ASSERT_NE(endpoint_.port, 0);
  }

  // The latency histogram of `outcome` once it has `count` observations (the worker observes
  // right after the answer is sent, so a client may see the answer a moment before); waits at
  // most 2 s.
  DnsLatencyCounts::Series latency(LatencyOutcome outcome, std::uint64_t count) {
    DnsLatencyCounts::Series series;
    for (int i = 0; i < 200; ++i) {
      series = proxy_->latency().by_outcome[static_cast<std::size_t>(outcome)];
      if (series.count() >= count) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return series;
  }

  std::string first_answer(const std::vector<std::uint8_t>& wire) {
    const auto a = parse_answer(wire);
    return a.answers.empty() ? "" : a.answers.front();
  }

  testing::PolicyFixture fixture_;
  inspect::PolicyStore store_;
  DnsProxyConfig config_;
  std::unique_ptr<DnsProxy> proxy_;
  Endpoint endpoint_;
};

TEST_F(ProxyTest, ForwardsForByodAndBlocksForGov) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  start({upstream.endpoint()});
  const auto allowed = udp_query(kByod, endpoint_, make_query({"www.tiktok.com", 1, 0x1111, true}));
  const auto a = parse_answer(allowed);
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.id, 0x1111) << "the client's ID, not the upstream one";
  EXPECT_EQ(a.rcode, kRcodeNoError);
  EXPECT_EQ(first_answer(allowed), "www.tiktok.com. 60 IN A 192.0.2.1");

  const auto blocked =
      parse_answer(udp_query(kGov, endpoint_, make_query({"www.tiktok.com", 1, 0x2222, true})));
  EXPECT_EQ(blocked.rcode, kRcodeNxDomain);
  EXPECT_EQ(blocked.ede, kEdeBlocked);
  EXPECT_EQ(upstream.udp_queries(), 1) << "a blocked query never reaches the upstream";
  const auto counters = proxy_->counters();
  EXPECT_EQ(counters.queries_udp, 2U);
  EXPECT_EQ(counters.blocked_list, 1U);
  EXPECT_EQ(counters.forwarded, 1U);
  EXPECT_EQ(counters.answered_upstream, 1U);
  // Both queries got an answer: one decision latency each, none of another outcome.
  const auto answered = latency(LatencyOutcome::Answered, 2);
  EXPECT_EQ(answered.count(), 2U);
  EXPECT_GT(answered.sum_ns, 0U);
  EXPECT_LT(answered.sum_ns, 2'000'000'000U);
  EXPECT_EQ(latency(LatencyOutcome::Servfail, 0).count(), 0U);
  EXPECT_EQ(latency(LatencyOutcome::Dropped, 0).count(), 0U);
}

TEST_F(ProxyTest, OneGroupsAnswerNeverReachesAnother) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  start({upstream.endpoint()});
  // byod resolves a name that is blocked for gov; gov asking next must not get byod's answer.
  EXPECT_EQ(first_answer(udp_query(kByod, endpoint_, make_query({"www.tiktok.com", 1, 1}))),
            "www.tiktok.com. 60 IN A 192.0.2.1");
  const auto gov = parse_answer(udp_query(kGov, endpoint_, make_query({"www.tiktok.com", 1, 2})));
  EXPECT_EQ(gov.rcode, kRcodeNxDomain);
  EXPECT_TRUE(gov.answers.empty());
  // An allowed name: each group's query goes upstream on its own (no shared cache).
  EXPECT_EQ(first_answer(udp_query(kGov, endpoint_, make_query({"www.example.org", 1, 3}))),
            "www.example.org. 60 IN A 192.0.2.2");
  EXPECT_EQ(first_answer(udp_query(kByod, endpoint_, make_query({"www.example.org", 1, 4}))),
            "www.example.org. 60 IN A 192.0.2.3");
  EXPECT_EQ(upstream.udp_queries(), 3);
}

TEST_F(ProxyTest, RetriesOverTcpWhenTheUpstreamTruncates) {
  FakeUpstream upstream(FakeUpstream::Mode::TruncateUdp);
  ASSERT_TRUE(upstream.tcp_ok());
  start({upstream.endpoint()});
  const auto a = parse_answer(udp_query(kByod, endpoint_, make_query({"big.example", 1, 5})));
  EXPECT_FALSE(a.tc);
  ASSERT_EQ(a.answers.size(), 1U);
  EXPECT_EQ(a.answers[0], "big.example. 60 IN A 192.0.2.1");
  EXPECT_EQ(upstream.udp_queries(), 1);
  EXPECT_EQ(upstream.tcp_queries(), 1);
  EXPECT_EQ(proxy_->counters().upstream_tcp_retries, 1U);
}

TEST_F(ProxyTest, FailsOverToTheNextUpstream) {
  FakeUpstream dead(FakeUpstream::Mode::Silent);
  FakeUpstream good(FakeUpstream::Mode::Answer);
  config_.upstream_timeout_ms = 200;
  config_.query_timeout_ms = 2000;
  start({dead.endpoint(), good.endpoint()});
  const auto began = Clock::now();
  const auto a = parse_answer(udp_query(kByod, endpoint_, make_query({"x.example", 1, 6})));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  ASSERT_EQ(a.answers.size(), 1U);
  EXPECT_EQ(a.answers[0], "x.example. 60 IN A 192.0.2.1");
  EXPECT_GE(ms, 150);
  EXPECT_LT(ms, 1500);
  EXPECT_EQ(dead.udp_queries(), 1);
  EXPECT_EQ(proxy_->counters().upstream_timeouts, 1U);
}

TEST_F(ProxyTest, FailsOverAtOnceWhenTheUpstreamPortIsClosed) {
  // A port nobody listens on: the kernel answers ICMP port unreachable, which the proxy's
  // connected upstream socket reports; the query moves on without waiting for the timeout.
  const int closed = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a = v4("127.0.0.1", 0);
  ASSERT_EQ(::bind(closed, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  const Endpoint dead{*parse::IpAddress::parse("127.0.0.1"), bound_port(closed)};
  ::close(closed);
  FakeUpstream good(FakeUpstream::Mode::Answer);
  config_.upstream_timeout_ms = 2000;
  config_.query_timeout_ms = 5000;
  start({dead, good.endpoint()}, 1);
  const auto began = Clock::now();
  const auto answer = parse_answer(udp_query(kByod, endpoint_, make_query({"x.example", 1, 9})));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  ASSERT_EQ(answer.answers.size(), 1U);
  EXPECT_EQ(answer.answers[0], "x.example. 60 IN A 192.0.2.1");
  EXPECT_LT(ms, 1000) << "failover on the ICMP error, not on the 2 s timeout";
  const auto counters = proxy_->counters();
  EXPECT_EQ(counters.upstream_errors, 1U);
  EXPECT_EQ(counters.upstream_timeouts, 0U);
}

// Bursts from several clients: queries are read in batches, forwarded in batches over the
// shared upstream sockets, and every answer must reach its own client with its own ID. Waves of
// 100 datagrams stay within the default socket buffers (about 200 small datagrams).
TEST_F(ProxyTest, BurstsOfConcurrentQueriesEachGetTheirOwnAnswer) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  start({upstream.endpoint()});
  constexpr int kClients = 4;
  constexpr int kWaves = 6;
  constexpr int kPerWave = 25;  // per client
  std::vector<int> fds;
  for (int c = 0; c < kClients; ++c) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local = v4(kByod, 0);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
    fds.push_back(fd);
  }
  sockaddr_in to = v4("127.0.0.1", endpoint_.port);
  int good = 0;
  int wrong = 0;
  std::vector<std::uint8_t> buffer(65535);
  for (int wave = 0; wave < kWaves; ++wave) {
    for (int i = 0; i < kPerWave; ++i) {
      for (int c = 0; c < kClients; ++c) {
        const auto id = static_cast<std::uint16_t>(c * 1000 + wave * kPerWave + i);
        const auto q = make_query({"q" + std::to_string(id) + ".example", 1, id});
        ::sendto(fds[static_cast<std::size_t>(c)], q.data(), q.size(), 0,
                 reinterpret_cast<sockaddr*>(&to), sizeof(to));
      }
    }
    for (int c = 0; c < kClients; ++c) {
      const int fd = fds[static_cast<std::size_t>(c)];
      for (int got = 0; got < kPerWave; ++got) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 3000) <= 0) {
          break;
        }
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        const auto a =
            parse_answer(ByteSpan(buffer.data(), n > 0 ? static_cast<std::size_t>(n) : 0));
        const bool mine = a.ok && a.id / 1000 == c && a.answers.size() == 1 &&
                          a.qname == "q" + std::to_string(a.id) + ".example.";
        ++(mine ? good : wrong);
      }
    }
  }
  for (const int fd : fds) {
    ::close(fd);
  }
  EXPECT_EQ(good, kClients * kWaves * kPerWave);
  EXPECT_EQ(wrong, 0);
  const auto counters = proxy_->counters();
  EXPECT_EQ(counters.answered_upstream, static_cast<std::uint64_t>(kClients * kWaves * kPerWave));
  EXPECT_EQ(counters.upstream_timeouts, 0U);
}

TEST_F(ProxyTest, ServfailWithinTheQueryTimeoutWhenEveryUpstreamIsDown) {
  FakeUpstream dead1(FakeUpstream::Mode::Silent);
  FakeUpstream dead2(FakeUpstream::Mode::Silent);
  config_.upstream_timeout_ms = 2000;  // longer than the query: the query timeout decides
  config_.query_timeout_ms = 400;
  start({dead1.endpoint(), dead2.endpoint()});
  const auto began = Clock::now();
  const auto a =
      parse_answer(udp_query(kByod, endpoint_, make_query({"x.example", 1, 7, true}), 3000));
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began).count();
  ASSERT_TRUE(a.ok);
  EXPECT_EQ(a.id, 7);
  EXPECT_EQ(a.rcode, kRcodeServFail);
  EXPECT_EQ(a.ede, kEdeNoReachableAuthority);
  EXPECT_GE(ms, 350);
  EXPECT_LT(ms, 1000);
  EXPECT_EQ(proxy_->counters().servfail, 1U);
  // Timed out: observed as servfail, with the query timeout's length.
  const auto servfail = latency(LatencyOutcome::Servfail, 1);
  EXPECT_EQ(servfail.count(), 1U);
  EXPECT_GE(servfail.sum_ns, 350'000'000U);
  EXPECT_LT(servfail.sum_ns, 1'000'000'000U);
  EXPECT_EQ(latency(LatencyOutcome::Answered, 0).count(), 0U);
}

TEST_F(ProxyTest, TcpAnswersPipelinedQueries) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  start({upstream.endpoint()});
  const int fd = tcp_connect(kGov, endpoint_);
  ASSERT_GE(fd, 0);
  // Three queries in one segment: a blocked one, two forwarded.
  std::vector<std::uint8_t> both;
  for (const auto& [name, id] : std::vector<std::pair<std::string, std::uint16_t>>{
           {"a.example", 0xa}, {"www.tiktok.com", 0xb}, {"c.example", 0xc}}) {
    const auto q = make_query({name, 1, id});
    both.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    both.push_back(static_cast<std::uint8_t>(q.size() & 0xff));
    both.insert(both.end(), q.begin(), q.end());
  }
  ::send(fd, both.data(), both.size(), MSG_NOSIGNAL);
  std::set<std::uint16_t> ids;
  for (int i = 0; i < 3; ++i) {
    const auto a = parse_answer(tcp_receive(fd));
    ASSERT_TRUE(a.ok) << i;
    ids.insert(a.id);
    EXPECT_EQ(a.rcode, a.id == 0xb ? kRcodeNxDomain : kRcodeNoError) << a.id;
  }
  EXPECT_EQ(ids, (std::set<std::uint16_t>{0xa, 0xb, 0xc}));
  ::close(fd);
  EXPECT_EQ(proxy_->counters().queries_tcp, 3U);
}

TEST_F(ProxyTest, TcpIdleConnectionsAreClosed) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  config_.tcp_idle_timeout_ms = 200;
  start({upstream.endpoint()});
  const int fd = tcp_connect(kByod, endpoint_);
  ASSERT_GE(fd, 0);
  tcp_send(fd, make_query({"a.example", 1, 1}));
  EXPECT_FALSE(tcp_receive(fd).empty());
  std::uint8_t byte = 0;
  pollfd p{fd, POLLIN, 0};
  ASSERT_GT(::poll(&p, 1, 2000), 0);
  EXPECT_EQ(::recv(fd, &byte, 1, 0), 0) << "closed by the proxy";
  ::close(fd);
  EXPECT_EQ(proxy_->counters().tcp_idle_closed, 1U);
}

TEST_F(ProxyTest, TcpConnectionsBeyondTheCapAreClosed) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  config_.max_tcp_connections = 1;
  start({upstream.endpoint()}, 1);
  const int first = tcp_connect(kByod, endpoint_);
  ASSERT_GE(first, 0);
  tcp_send(first, make_query({"a.example", 1, 1}));
  EXPECT_FALSE(tcp_receive(first).empty());
  const int second = tcp_connect(kByod, endpoint_);
  ASSERT_GE(second, 0);  // the kernel accepts; the proxy closes it at once
  tcp_send(second, make_query({"b.example", 1, 2}));
  EXPECT_TRUE(tcp_receive(second, 1000).empty());
  ::close(second);
  ::close(first);
  EXPECT_EQ(proxy_->counters().tcp_refused, 1U);
}

TEST_F(ProxyTest, MalformedDatagramsGetFormErrOrAreDropped) {
  FakeUpstream upstream(FakeUpstream::Mode::Answer);
  start({upstream.endpoint()});
  auto query = make_query({"a.example", 1, 0x5151});
  query.resize(20);
  const auto formerr = udp_query(kByod, endpoint_, query);
  ASSERT_EQ(formerr.size(), kDnsHeaderSize);
  EXPECT_EQ(formerr[3] & 0x0f, kRcodeFormErr);
  EXPECT_TRUE(udp_query(kByod, endpoint_, {1, 2, 3}, 300).empty());
  const auto counters = proxy_->counters();
  EXPECT_EQ(counters.formerr, 1U);
  EXPECT_EQ(counters.dropped_malformed, 1U);
  EXPECT_EQ(upstream.udp_queries(), 0);
  EXPECT_EQ(latency(LatencyOutcome::Answered, 1).count(), 1U) << "FORMERR is an answer";
  EXPECT_EQ(latency(LatencyOutcome::Dropped, 1).count(), 1U);
}

TEST_F(ProxyTest, OverflowOfPendingQueriesIsAnsweredServfail) {
  FakeUpstream dead(FakeUpstream::Mode::Silent);
  config_.max_pending = 1;
  config_.upstream_timeout_ms = 1000;
  config_.query_timeout_ms = 1000;
  start({dead.endpoint()}, 1);
  std::thread slow([&] { udp_query(kByod, endpoint_, make_query({"slow.example", 1, 1}), 2000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto a = parse_answer(udp_query(kByod, endpoint_, make_query({"x.example", 1, 2}), 500));
  slow.join();
  EXPECT_EQ(a.rcode, kRcodeServFail);
  EXPECT_EQ(proxy_->counters().pending_overflow, 1U);
}

}  // namespace
}  // namespace egressguard::dnsproxy
