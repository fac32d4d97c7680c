#include "filter/datapath/firewall/background_learner.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "domains/rule.h"

namespace egressguard::firewall {

namespace {

using Clock = std::chrono::steady_clock;

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

std::vector<std::string> category_names(const inspect::PolicySnapshot& policy,
                                        std::string_view category, std::size_t max) {
  std::vector<std::string> names;
  std::uint32_t index = inspect::kNoIndex;
  for (std::size_t i = 0; i < policy.categories().size(); ++i) {
    if (policy.categories()[i].name == category) {
      index = static_cast<std::uint32_t>(i);
    }
  }
  if (index == inspect::kNoIndex) {
    return names;
  }
  const domains::Matcher& matcher = policy.domains().matcher;
  std::unordered_set<std::string_view> seen;
  for (std::size_t r = 0; r < matcher.size() && names.size() < max; ++r) {
    const domains::RuleInfo rule = matcher.rule_info(static_cast<std::uint32_t>(r));
    if (rule.action != domains::Action::Block || rule.kind == domains::RuleKind::Below ||
        rule.list >= policy.list_count() || policy.list_category(rule.list) != index) {
      continue;
    }
    if (seen.insert(rule.name).second) {
      names.emplace_back(rule.name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

void BackgroundCounters::for_each(
    const std::function<void(std::string_view, std::uint64_t)>& fn) const {
#define EGRESSGUARD_BACKGROUND_EACH(name) fn(#name, name);
  EGRESSGUARD_BACKGROUND_COUNTERS(EGRESSGUARD_BACKGROUND_EACH)
#undef EGRESSGUARD_BACKGROUND_EACH
}

BackgroundLearner::BackgroundLearner(inspect::PolicyStore& store, LearnedAddresses& learned,
                                     BackgroundLearnerOptions options)
    : store_(store), learned_(learned), options_(std::move(options)) {
  options_.workers = std::max<std::size_t>(options_.workers, 1);
  tokens_ = options_.blocked_burst;
  tokens_at_ = Clock::now();
}

BackgroundLearner::~BackgroundLearner() {
  stop();
}

void BackgroundLearner::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!threads_.empty() || stopping_) {
    return;
  }
  doh_due_ = true;
  for (std::size_t i = 0; i < options_.workers; ++i) {
    threads_.emplace_back([this] { run(); });
  }
}

void BackgroundLearner::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    jobs_.clear();
    blocked_waiting_ = 0;
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    t.join();
  }
  threads_.clear();
}

void BackgroundLearner::refresh_doh() noexcept {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    doh_due_ = true;
  }
  wake_.notify_one();
}

bool BackgroundLearner::learn_blocked_name(std::string_view name) noexcept {
  if (!options_.learn_blocked || name.empty()) {
    return false;
  }
  try {
    std::string key(name);
    std::transform(key.begin(), key.end(), key.begin(), [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (!key.empty() && key.back() == '.') {
      key.pop_back();
    }
    const Clock::time_point now = Clock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        return false;
      }
      auto found = recent_names_.find(key);
      if (found != recent_names_.end() && found->second > now) {
        bump(blocked_recent_);
        return false;
      }
      const double elapsed = std::chrono::duration<double>(now - tokens_at_).count();
      tokens_ = std::min(options_.blocked_burst, tokens_ + elapsed * options_.blocked_per_second);
      tokens_at_ = now;
      if (tokens_ < 1) {
        bump(blocked_rate_limited_);
        return false;
      }
      if (blocked_waiting_ >= options_.blocked_queue) {
        bump(blocked_dropped_);
        return false;
      }
      if (found == recent_names_.end() && recent_names_.size() >= options_.max_recent_names) {
        std::erase_if(recent_names_, [&](const auto& entry) { return entry.second <= now; });
        if (recent_names_.size() >= options_.max_recent_names) {
          bump(blocked_dropped_);
          return false;
        }
      }
      tokens_ -= 1;
      recent_names_[key] = now + options_.name_ttl;
      jobs_.push_back(Job{std::move(key), false});
      ++blocked_waiting_;
    }
    wake_.notify_one();
    return true;
  } catch (...) {
    bump(blocked_dropped_);
    return false;
  }
}

bool BackgroundLearner::wait_idle(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, limit, [&] { return jobs_.empty() && busy_ == 0 && !doh_due_; });
}

Result<ResolvedName, std::string> BackgroundLearner::resolve(std::string_view name) {
  if (options_.resolve) {
    return options_.resolve(name);
  }
  return resolve_addresses(options_.upstreams, name, options_.timeout);
}

void BackgroundLearner::resolve_job(const Job& job) {
  auto resolved = resolve(job.name);
  if (!resolved) {
    const std::uint64_t failures = resolve_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (options_.log && (failures <= 10 || failures % 1000 == 0)) {
      options_.log("firewall: background resolution failed: " + resolved.error());
    }
    return;
  }
  // The answer is judged like a relayed one: the name, then its CNAME chain.
  const std::shared_ptr<const inspect::PolicySnapshot> policy = store_.current();
  std::vector<std::string_view> names = {job.name};
  names.insert(names.end(), resolved->cnames.begin(), resolved->cnames.end());
  const AnswerTarget target = classify_names(*policy, names, learned_.config().doh_category);
  if (job.doh && target != AnswerTarget::Doh) {
    return;  // an enforced group's exception makes the name allowed: not a resolver to block
  }
  bump(job.doh ? doh_names_ : blocked_names_);
  std::uint64_t added = 0;
  for (const parse::IpAddress& address : resolved->addresses) {
    added += learned_.add(target, address) ? 1U : 0U;
  }
  bump(job.doh ? doh_resolved_ : blocked_learned_, added);
}

void BackgroundLearner::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    if (stopping_) {
      return;
    }
    const Clock::time_point now = Clock::now();
    // A refresh whose addresses were lost to a missing table is retried early.
    if (!doh_due_ && options_.missing_table_count &&
        options_.missing_table_count() != missing_at_refresh_ &&
        now >= last_doh_ + options_.missing_table_retry) {
      doh_due_ = true;
    }
    if (doh_due_ || now >= next_doh_) {
      doh_due_ = false;
      const std::chrono::seconds period(
          std::max<std::uint32_t>(learned_.config().doh_timeout_s / 2, 10));
      last_doh_ = now;
      next_doh_ = now + period;
      missing_at_refresh_ = options_.missing_table_count ? options_.missing_table_count() : 0;
      ++busy_;  // not idle while the names are collected
      lock.unlock();
      std::vector<std::string> names;
      try {
        names = category_names(*store_.current(), learned_.config().doh_category,
                               options_.max_doh_names);
      } catch (...) {
        names.clear();
      }
      bump(doh_refreshes_);
      lock.lock();
      --busy_;
      // Names of an earlier round still waiting are not queued twice.
      std::unordered_set<std::string_view> waiting;
      for (const Job& job : jobs_) {
        if (job.doh) {
          waiting.insert(job.name);
        }
      }
      for (std::string& name : names) {
        if (waiting.count(name) == 0) {
          jobs_.push_back(Job{std::move(name), true});
        }
      }
      wake_.notify_all();
      continue;
    }
    if (jobs_.empty()) {
      idle_.notify_all();
      const auto wait =
          options_.missing_table_count
              ? std::min<Clock::duration>(next_doh_ - now, options_.missing_table_retry)
              : next_doh_ - now;
      wake_.wait_for(lock, wait);
      continue;
    }
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    if (!job.doh) {
      --blocked_waiting_;
    }
    ++busy_;
    lock.unlock();
    try {
      resolve_job(job);
    } catch (...) {
      bump(resolve_failures_);
    }
    lock.lock();
    --busy_;
    if (jobs_.empty() && busy_ == 0) {
      idle_.notify_all();
    }
  }
}

BackgroundCounters BackgroundLearner::counters() const noexcept {
  BackgroundCounters c;
#define EGRESSGUARD_BACKGROUND_COPY(name) c.name = name##_.load(std::memory_order_relaxed);
  EGRESSGUARD_BACKGROUND_COUNTERS(EGRESSGUARD_BACKGROUND_COPY)
#undef EGRESSGUARD_BACKGROUND_COPY
  return c;
}

bool LearningEventSink::on_dns_block(const inspect::Observation& observation,
                                     const dnsproxy::DnsBlockInfo& info) noexcept {
  if (info.cause == dnsproxy::BlockCause::List && observation.decision.enforced_block()) {
    learner_.learn_blocked_name(observation.name);
  }
  return inner_ == nullptr || inner_->on_dns_block(observation, info);
}

}  // namespace egressguard::firewall
