// DnsProxy: the DNS proxy datapath (DESIGN section 6). Boost.Asio UDP and TCP listeners on every
// `[dns] listen` address, `workers` threads each with its own io_context and its own
// SO_REUSEPORT sockets (the kernel spreads clients over them; nothing is shared between workers
// but the policy snapshot and the event sink). DnsProxyCore decides; this moves bytes: forwards
// to the upstreams (UDP, TCP when the answer is truncated, a timeout per try, failover in
// order, SERVFAIL when every upstream failed or the query's time ran out), answers clients over
// UDP and TCP (length-prefixed, pipelined, idle timeout, connection cap).
//
// UDP hot path, per worker: datagrams are read in batches (recvmmsg) and what a batch produces
// is sent in batches (sendmmsg); queries go upstream over a small pool of connected sockets per
// upstream (random ID, random socket, sockets retired and re-opened on new ports), answers are
// matched by (socket, ID) in a fixed-size table. No socket is opened per query.
//
// Bounds: at most max_pending forwarded queries per worker (beyond: SERVFAIL, counted), at most
// max_tcp_connections client connections (beyond: closed at once, counted), at most
// max_tcp_pipeline queries and answers queued per connection (beyond: the connection is not read
// until some are sent). There is no other queue.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "filter/datapath/dnsproxy/dns_proxy_config.h"
#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/inspect/policy.h"

namespace egressguard::dnsproxy {

class DnsProxy {
 public:
  // Binds every listener (port 0: one port chosen by the kernel, the same for UDP, TCP and every
  // worker). Fails with a message naming the address when a socket cannot be bound.
  static Result<std::unique_ptr<DnsProxy>, std::string> open(const DnsProxyConfig& config,
                                                             inspect::PolicyStore& store,
                                                             DnsEventSink* events = nullptr,
                                                             AnswerAddressHook* hook = nullptr);
  ~DnsProxy();
  DnsProxy(const DnsProxy&) = delete;
  DnsProxy& operator=(const DnsProxy&) = delete;

  // Starts the worker threads.
  void start();
  // Stops the workers (queries in flight are abandoned) and joins them. Idempotent.
  void stop();

  // The addresses actually bound, in `listen` order (ports resolved).
  const std::vector<Endpoint>& endpoints() const noexcept;
  // The counters summed over workers.
  DnsProxyCounters counters() const;
  // The decision latency histograms summed over workers (any thread; each worker writes its own).
  DnsLatencyCounts latency() const;

  struct Impl;

 private:
  explicit DnsProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace egressguard::dnsproxy
