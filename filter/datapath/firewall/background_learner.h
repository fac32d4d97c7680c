// BackgroundLearner: resolves names off the DNS path (upstream_resolver.h, the proxy's own
// upstreams) and gives their addresses to LearnedAddresses:
//   - DoH: the names of `doh_category` — exact block rules, and the bare name of each suffix
//     block rule (`*.dns.google` -> dns.google; subdomains cannot be enumerated, they are learned
//     only when some client resolves them) — at start(), on refresh_doh() (reload) and every
//     doh_timeout/2, so that their addresses stay in doh_v4/doh_v6 (timeout doh_timeout). A
//     refresh that lost addresses because the nft table was missing is retried after
//     missing_table_retry.
//   - Blocked names (learn_ips only): when an enforced group's query is answered as blocked,
//     the proxy's event sink (LearningEventSink) hands the name here; it is resolved once per
//     name_ttl (deduplicated), at most blocked_per_second on average (token bucket), with at
//     most blocked_queue names waiting (beyond: dropped, counted), so that the addresses are in
//     learned_v4/v6 before the device tries them by IP.
// `workers` threads resolve at once (bounded concurrency); nothing here blocks a caller.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "filter/datapath/dnsproxy/dns_proxy_config.h"
#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/datapath/firewall/learned_addresses.h"
#include "filter/datapath/firewall/upstream_resolver.h"
#include "filter/inspect/policy.h"

namespace egressguard::firewall {

// The names of `category` a background task can resolve: exact block rules and the bare names of
// suffix block rules, deduplicated, at most `max` (the first `max` of the matcher's order),
// sorted.
std::vector<std::string> category_names(const inspect::PolicySnapshot& policy,
                                        std::string_view category, std::size_t max);

struct BackgroundLearnerOptions {
  std::vector<dnsproxy::Endpoint> upstreams;
  std::chrono::milliseconds timeout{1000};  // per try
  std::size_t workers = 2;                  // names resolved at once
  std::size_t max_doh_names = 1024;
  bool learn_blocked = false;  // resolve names blocked for enforced groups (learn_ips)
  std::size_t blocked_queue = 256;
  double blocked_per_second = 10;
  double blocked_burst = 20;
  std::chrono::seconds name_ttl{1800};  // a blocked name is resolved again after this
  std::size_t max_recent_names = 4096;
  std::chrono::seconds missing_table_retry{30};
  std::function<void(std::string_view)> log;  // may be empty
  // Resolves one name; empty = resolve_addresses(upstreams, name, timeout). Tests inject one.
  std::function<Result<ResolvedName, std::string>(std::string_view)> resolve;
  // Counter of batches lost to a missing table (NftSetWriter::counters().table_missing); empty =
  // never retry early.
  std::function<std::uint64_t()> missing_table_count;
};

#define EGRESSGUARD_BACKGROUND_COUNTERS(X)                                       \
  X(doh_refreshes)        /* DoH refresh rounds started */                       \
  X(doh_names)            /* DoH names resolved */                               \
  X(doh_resolved)         /* addresses of DoH names queued for doh_v4/v6 */      \
  X(blocked_names)        /* blocked names resolved in the background */         \
  X(blocked_learned)      /* their addresses queued for learned (or doh) sets */ \
  X(blocked_recent)       /* blocked names skipped: resolved within name_ttl */  \
  X(blocked_rate_limited) /* blocked names skipped: over blocked_per_second */   \
  X(blocked_dropped)      /* blocked names dropped: queue or name table full */  \
  X(resolve_failures)     /* names no upstream answered */

struct BackgroundCounters {
#define EGRESSGUARD_BACKGROUND_FIELD(name) std::uint64_t name = 0;
  EGRESSGUARD_BACKGROUND_COUNTERS(EGRESSGUARD_BACKGROUND_FIELD)
#undef EGRESSGUARD_BACKGROUND_FIELD
  void for_each(const std::function<void(std::string_view, std::uint64_t)>& fn) const;
};

class BackgroundLearner {
 public:
  // `store` and `learned` must outlive this.
  BackgroundLearner(inspect::PolicyStore& store, LearnedAddresses& learned,
                    BackgroundLearnerOptions options);
  ~BackgroundLearner();
  BackgroundLearner(const BackgroundLearner&) = delete;
  BackgroundLearner& operator=(const BackgroundLearner&) = delete;

  // Starts the workers; the first DoH refresh begins at once.
  void start();
  // Abandons queued names, waits for the names being resolved, joins. Idempotent.
  void stop();

  // Schedules a DoH refresh now (after a reload: the category may have new names).
  void refresh_doh() noexcept;
  // A name answered as blocked for an enforced group. Any thread; never waits. True when queued.
  bool learn_blocked_name(std::string_view name) noexcept;

  // Blocks until no name is queued or being resolved (tests), at most `limit`.
  bool wait_idle(std::chrono::milliseconds limit);

  BackgroundCounters counters() const noexcept;

 private:
  struct Job {
    std::string name;
    bool doh = false;
  };
  void run();
  void resolve_job(const Job& job);
  Result<ResolvedName, std::string> resolve(std::string_view name);

  inspect::PolicyStore& store_;
  LearnedAddresses& learned_;
  BackgroundLearnerOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Job> jobs_;
  std::size_t blocked_waiting_ = 0;
  std::size_t busy_ = 0;
  bool stopping_ = false;
  bool doh_due_ = true;
  std::chrono::steady_clock::time_point next_doh_;
  std::chrono::steady_clock::time_point last_doh_;
  std::uint64_t missing_at_refresh_ = 0;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> recent_names_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point tokens_at_;
  std::vector<std::thread> threads_;

#define EGRESSGUARD_BACKGROUND_ATOMIC(name) std::atomic<std::uint64_t> name##_{0};
  EGRESSGUARD_BACKGROUND_COUNTERS(EGRESSGUARD_BACKGROUND_ATOMIC)
#undef EGRESSGUARD_BACKGROUND_ATOMIC
};

// Forwards the proxy's block events to `inner` (may be null) and hands names blocked by a list
// rule for an enforced group to `learner` (background resolution).
class LearningEventSink : public dnsproxy::DnsEventSink {
 public:
  LearningEventSink(dnsproxy::DnsEventSink* inner, BackgroundLearner& learner)
      : inner_(inner), learner_(learner) {}
  bool on_dns_block(const inspect::Observation& observation,
                    const dnsproxy::DnsBlockInfo& info) noexcept override;

 private:
  dnsproxy::DnsEventSink* inner_;
  BackgroundLearner& learner_;
};

}  // namespace egressguard::firewall
