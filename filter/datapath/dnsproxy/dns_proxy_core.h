// DnsProxyCore: what the DNS proxy does with one query and one upstream answer, without any
// socket — so that every behaviour is testable by feeding bytes. The Asio server (dns_proxy.h)
// moves the bytes; this decides: answer now (blocked, anti-bypass, malformed), forward, or drop;
// then inspects the upstream's answer (CNAME chain, answer addresses, ECH) before it goes back.
//
// Order for a query from a client in group G (policy snapshot S, taken once per query):
//   1. parse (parse/dns.h): no header -> drop; QR set -> drop; other opcode -> NOTIMP;
//      malformed -> FORMERR
//   2. anti-bypass names, when G enforces and has anti_bypass (on by default)
//   3. S.decide_raw_name(qname, G): enforced block -> made-up answer; monitor -> event, forward
//   4. forward; the answer is checked against S and G (the same snapshot) before the client
//      sees it. There is no answer cache, so no group can see another group's answer.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_span.h"
#include "base/result.h"
#include "filter/datapath/dnsproxy/answer_builder.h"
#include "filter/datapath/dnsproxy/dns_proxy_config.h"
#include "filter/inspect/observation.h"
#include "filter/inspect/policy.h"

namespace egressguard::dnsproxy {

// Counters of one worker. Atomics (relaxed) only so that `stats` can read them from another
// thread; each worker writes its own, so they are never contended.
#define EGRESSGUARD_DNSPROXY_COUNTERS(X)                                                    \
  X(queries_udp)          /* queries received over UDP */                                   \
  X(queries_tcp)          /* queries received over TCP */                                   \
  X(blocked_list)         /* answered as blocked: a list rule matched the qname */          \
  X(blocked_cname)        /* answered as blocked: a CNAME target in the answer matched */   \
  X(blocked_anti_bypass)  /* answered by the anti-bypass names */                           \
  X(blocked_address)      /* answered as blocked: the answer-address hook said so */        \
  X(monitor_would_block)  /* monitor-mode group: would have been blocked, forwarded */      \
  X(forwarded)            /* queries sent upstream */                                       \
  X(answered_upstream)    /* upstream answers relayed to the client */                      \
  X(upstream_timeouts)    /* tries that timed out */                                        \
  X(upstream_errors)      /* tries that failed: socket error, bad or mismatched answer */   \
  X(upstream_tcp_retries) /* TC=1 from upstream over UDP: retried over TCP */               \
  X(servfail)             /* SERVFAIL sent: every upstream failed or the query timed out */ \
  X(formerr)              /* FORMERR sent for a malformed query */                          \
  X(notimp)               /* NOTIMP sent for an opcode other than QUERY */                  \
  X(dropped_malformed)    /* datagrams without a readable header, or responses: dropped */  \
  X(pending_overflow)     /* max_pending forwarded queries in flight: answered SERVFAIL */  \
  X(truncated_to_client)  /* answer larger than the client's UDP size: sent with TC=1 */    \
  X(ech_stripped)         /* answers whose HTTPS/SVCB ech parameter was removed */          \
  X(ech_strip_failures)   /* answers with ech that could not be rewritten: SERVFAIL */      \
  X(answer_failures)      /* made-up answers ldns could not build (header-only sent) */     \
  X(tcp_connections)      /* client TCP connections accepted */                             \
  X(tcp_refused)          /* client TCP connections closed at once: max_tcp_connections */  \
  X(tcp_idle_closed)      /* client TCP connections closed after tcp_idle_timeout */        \
  X(events_dropped)       /* block events the event sink refused (queue full) */

struct DnsProxyStats {
#define EGRESSGUARD_DNSPROXY_FIELD(name) std::atomic<std::uint64_t> name{0};
  EGRESSGUARD_DNSPROXY_COUNTERS(EGRESSGUARD_DNSPROXY_FIELD)
#undef EGRESSGUARD_DNSPROXY_FIELD
};

// A plain copy of the counters (summed over workers), for reports and tests.
struct DnsProxyCounters {
#define EGRESSGUARD_DNSPROXY_FIELD(name) std::uint64_t name = 0;
  EGRESSGUARD_DNSPROXY_COUNTERS(EGRESSGUARD_DNSPROXY_FIELD)
#undef EGRESSGUARD_DNSPROXY_FIELD

  void add(const DnsProxyStats& stats) noexcept;
  // Calls fn(name, value) for every counter, in declaration order.
  void for_each(const std::function<void(std::string_view, std::uint64_t)>& fn) const;
};

inline void bump(std::atomic<std::uint64_t>& counter) noexcept {
  counter.fetch_add(1, std::memory_order_relaxed);
}

// Why a query was answered as blocked.
enum class BlockCause : std::uint8_t { List, Cname, AntiBypass, Address };
// "list" | "cname" | "anti_bypass" | "address"
std::string_view describe(BlockCause cause) noexcept;

// What a block event carries besides the Observation.
struct DnsBlockInfo {
  BlockCause cause = BlockCause::List;
  std::string_view cname_target;  // the blocked CNAME target (cause Cname); raw from the wire
  std::string_view answer;        // "nxdomain" | "null" | "refused" | "nodata" | "forwarded"
  std::uint16_t ede = 0;          // the Extended DNS Error info-code sent (0: none)
};

// Receives the proxy's decisions on worker threads: must be thread-safe and must not block (the
// app's event pipeline queues them for a writer thread). The Observation is built on the
// worker's stack: no allocation before a call; its views are valid during the call only.
class DnsEventSink {
 public:
  virtual ~DnsEventSink() = default;
  // A blocked query (enforced, or would-block in a monitor group). Returns false when the event
  // was dropped.
  virtual bool on_dns_block(const inspect::Observation& observation,
                            const DnsBlockInfo& info) noexcept = 0;
  // A query the proxy let through: its upstream answer was relayed (or SERVFAIL sent when no
  // upstream answered), once per query. `decision` is the question's allow; when an answer
  // address is in one of the group's flag_countries it is that address's decision (reason
  // GeoFlag, `dst` the address). Queries reported by on_dns_block are not reported again. For
  // counting: the default does nothing, and no event is formatted for it.
  virtual void on_dns_allow(const inspect::Observation& observation) noexcept {
    static_cast<void>(observation);
  }
  // An allowed answer that deserves an event: an address in one of the group's flag_countries
  // (action allow, reason geo_flag, `dst` the address; `info`: cause Address, answer
  // "forwarded"). Comes before on_dns_allow of the same query. The default hands it to
  // on_dns_block, so that a sink writing block events writes this one too (its event_type
  // follows the decision: "name").
  virtual bool on_dns_flag(const inspect::Observation& observation,
                           const DnsBlockInfo& info) noexcept {
    return on_dns_block(observation, info);
  }
};

// What the GeoIP hook sees for each A/AAAA record of an answer that is about to be allowed.
struct AnswerAddressContext {
  const inspect::PolicySnapshot* policy = nullptr;
  std::uint32_t group = 0;
  std::string_view qname;  // the client's question
  std::string_view owner;  // the record's owner name
  // The CNAME targets seen before this record in the answer section, in wire order (at most
  // kMaxHookCnames; raw from the wire). Filled only when a hook is installed.
  std::span<const std::string> cnames;
};
inline constexpr std::size_t kMaxHookCnames = 8;

// Answer addresses go through this hook (the app's GeoAnswerHook: GeoIP/ASN/IP-list rules, then
// the firewall's learned sets). Called on worker threads; must be thread-safe and must not
// block. The proxy calls decide_answer_address for every A/AAAA address of an answer until one
// is blocked.
class AnswerAddressHook {
 public:
  virtual ~AnswerAddressHook() = default;
  // Old form, kept for hooks that only say yes or no: Block answers the query as blocked (EDE 17
  // Filtered).
  virtual inspect::Verdict on_answer_address(const AnswerAddressContext& context,
                                             const parse::IpAddress& address) noexcept {
    static_cast<void>(context);
    static_cast<void>(address);
    return inspect::Verdict::Allow;
  }
  // The decision for one answer address, with its reason (geo_country, geo_asn, ip_list,
  // geo_flag): an enforced block answers the query as blocked (EDE 17) and the block event
  // carries the reason, the rule and the address (dest_ip, dest_country, dest_asn); a block in
  // a monitor group is reported as would-block and the answer relayed; an allow with reason
  // GeoFlag is relayed and reported (DnsEventSink::on_dns_flag). The default maps
  // on_answer_address: Block -> an enforced block without a reason (no_rule).
  virtual inspect::Decision decide_answer_address(const AnswerAddressContext& context,
                                                  const parse::IpAddress& address) noexcept {
    inspect::Decision decision;
    decision.group = context.group;
    if (on_answer_address(context, address) == inspect::Verdict::Block) {
      decision.verdict = inspect::Verdict::Block;
      decision.mode = inspect::Mode::Enforce;
    }
    return decision;
  }
};

// How one query ended, for the decision latency histogram.
enum class LatencyOutcome : std::uint8_t {
  Answered,  // an answer went to the client: made up (blocked, FORMERR ...) or an upstream's
  Servfail,  // SERVFAIL: no upstream answered in time, or max_pending was reached
  Dropped,   // no answer: an unreadable datagram, or the TCP client was gone
};
inline constexpr std::size_t kLatencyOutcomeCount = 3;
// "answered" | "servfail" | "dropped"
std::string_view describe(LatencyOutcome outcome) noexcept;

// Decision latency bounds in nanoseconds (10 us .. 2.5 s): the same as the inline datapath's
// (metrics::latency_buckets_ns), so that the two series of
// egressguard_decision_latency_seconds compare bucket by bucket.
inline constexpr std::array<std::uint64_t, 17> kLatencyBoundsNs = {
    10'000,      25'000,      50'000,      100'000,       250'000,      500'000,
    1'000'000,   2'500'000,   5'000'000,   10'000'000,    25'000'000,   50'000'000,
    100'000'000, 250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000};

// A plain copy of latency histograms (summed over workers): per outcome, per bucket (not
// cumulative; the last is +Inf), the sum in nanoseconds.
struct DnsLatencyCounts {
  struct Series {
    std::array<std::uint64_t, kLatencyBoundsNs.size() + 1> buckets{};
    std::uint64_t sum_ns = 0;
    std::uint64_t count() const noexcept;
  };
  std::array<Series, kLatencyOutcomeCount> by_outcome{};
};

// One worker's decision latency: time from a query's receipt (the recvmmsg batch or the TCP
// read that brought it) to its answer being handed to the kernel. Written by its worker thread
// only, so an observation is a relaxed load and store of one bucket and of the sum (no
// read-modify-write, no lock, no allocation); any thread may read it (add_to).
class DnsLatency {
 public:
  void observe(LatencyOutcome outcome, std::uint64_t nanoseconds) noexcept {
    Histogram& h = by_outcome_[static_cast<std::size_t>(outcome)];
    std::size_t i = 0;
    while (i < kLatencyBoundsNs.size() && nanoseconds > kLatencyBoundsNs[i]) {
      ++i;
    }
    h.buckets[i].store(h.buckets[i].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    h.sum_ns.store(h.sum_ns.load(std::memory_order_relaxed) + nanoseconds,
                   std::memory_order_relaxed);
  }
  void add_to(DnsLatencyCounts& out) const noexcept;

 private:
  struct Histogram {
    std::array<std::atomic<std::uint64_t>, kLatencyBoundsNs.size() + 1> buckets{};
    std::atomic<std::uint64_t> sum_ns{0};
  };
  std::array<Histogram, kLatencyOutcomeCount> by_outcome_{};
};

// The client of one query, as the server saw it.
struct ClientInfo {
  parse::IpAddress ip;
  std::uint16_t port = 0;
  parse::IpAddress local;  // the listening address (may be the wildcard)
  std::uint16_t local_port = 0;
  bool tcp = false;
};

// A query on its way upstream: what the worker needs to forward it and to finish it.
struct PendingQuery {
  std::vector<std::uint8_t> query;  // the client's bytes; the worker may change the ID
  std::uint16_t client_id = 0;
  std::string qname;  // raw dotted, as the client sent it
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
  bool edns = false;
  bool edns_do = false;
  std::size_t max_udp_answer = 512;
  std::uint32_t group = 0;
  std::shared_ptr<const inspect::PolicySnapshot> policy;
  ClientInfo client;
  inspect::Decision decision;  // the question's (an allow, or a monitor group's would-block)
};

struct QueryOutcome {
  enum class Kind : std::uint8_t { Answer, Forward, Drop };
  Kind kind = Kind::Drop;
  std::vector<std::uint8_t> answer;  // Kind::Answer
};

// Why an upstream answer was not used (the worker then tries the next upstream).
enum class ResponseError : std::uint8_t {
  Malformed,  // does not parse
  Mismatch,   // not an answer to this question
  Truncated,  // TC=1: retry over TCP
};

// Anti-bypass names (DESIGN section 6), answered for enforced groups (mode enforce, at least one
// blocked category) with anti_bypass = true:
// the Firefox canary use-application-dns.net and iCloud Private Relay's mask.icloud.com /
// mask-h2.icloud.com -> NXDOMAIN; DDR's _dns.resolver.arpa (RFC 9462) -> NODATA.
struct AntiBypassName {
  std::string_view name;
  std::uint8_t rcode;  // kRcodeNxDomain or kRcodeNoError (NODATA)
  std::string_view why;
};
const std::array<AntiBypassName, 4>& anti_bypass_names() noexcept;

class DnsProxyCore {
 public:
  DnsProxyCore(DnsProxyConfig config, inspect::PolicyStore& store, DnsEventSink* events = nullptr,
               AnswerAddressHook* hook = nullptr);

  // Decides what to do with one query. Kind::Forward fills `pending`.
  QueryOutcome on_query(ByteSpan query, const ClientInfo& client, PendingQuery& pending,
                        DnsProxyStats& stats) const;

  // Inspects the upstream's answer to `pending` and returns what the client gets (ID restored,
  // blocked when a CNAME target or an address says so, ech stripped for the group, cut to TC=1
  // when too large for a UDP client).
  Result<std::vector<std::uint8_t>, ResponseError> on_response(const PendingQuery& pending,
                                                               ByteSpan response,
                                                               DnsProxyStats& stats) const;

  // SERVFAIL (EDE 22 with EDNS) for a query whose upstreams all failed or that timed out. An
  // allowed question is reported to DnsEventSink::on_dns_allow.
  std::vector<std::uint8_t> servfail(const PendingQuery& pending, DnsProxyStats& stats) const;

  const DnsProxyConfig& config() const noexcept { return config_; }
  inspect::PolicyStore& store() const noexcept { return store_; }

 private:
  std::vector<std::uint8_t> answer_or_header(ByteSpan query, const AnswerOptions& options,
                                             std::uint8_t fallback_rcode,
                                             DnsProxyStats& stats) const;
  std::vector<std::uint8_t> servfail_answer(const PendingQuery& pending, DnsProxyStats& stats,
                                            bool report) const;
  // The event's Observation; `dest` (an answer address) replaces the listener as destination.
  inspect::Observation observation(const ClientInfo& client, std::string_view qname,
                                   std::uint16_t qtype, const inspect::Decision& decision,
                                   const inspect::PolicySnapshot& policy,
                                   const parse::IpAddress* dest) const noexcept;
  void emit(const ClientInfo& client, std::string_view qname, std::uint16_t qtype,
            const inspect::Decision& decision, const inspect::PolicySnapshot& policy,
            const DnsBlockInfo& info, DnsProxyStats& stats,
            const parse::IpAddress* dest = nullptr) const;
  void report_allow(const PendingQuery& pending, const inspect::Decision& decision,
                    const parse::IpAddress* dest) const noexcept;

  DnsProxyConfig config_;
  inspect::PolicyStore& store_;
  DnsEventSink* events_;
  AnswerAddressHook* hook_;
  mutable std::atomic<std::uint64_t> next_event_id_{1};
};

}  // namespace egressguard::dnsproxy
