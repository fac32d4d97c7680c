#include "filter/datapath/nfqueue/nfqueue_datapath.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

#include "filter/datapath/nfqueue/verdict.h"
#include "filter/inspect/inspector.h"
#include "filter/parse/packet.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

namespace egressguard::nfqueue {

static_assert(kNfAccept == NF_ACCEPT && kNfDrop == NF_DROP);

namespace {

std::uint64_t now_us() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000U +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

std::string errno_text(int error) {
  return std::strerror(error);
}

}  // namespace

// One queue: its netlink socket, its Inspector and its pending verdicts. Used by one thread.
class NfqueueWorker {
 public:
  NfqueueWorker(std::uint16_t queue, const NfqueueConfig& config, const inspect::PolicyStore& store,
                const inspect::InspectConfig& inspect_config, inspect::ObservationSink* sink)
      : queue_(queue), config_(config), store_(store), inspector_(store, inspect_config, sink) {
    pending_.reserve(config_.batch);
    buffer_.resize(std::size_t{256} << 10);  // a GSO packet is up to 64 KB, plus attributes
  }
  ~NfqueueWorker() {
    if (qh_ != nullptr) {
      nfq_destroy_queue(qh_);
    }
    if (h_ != nullptr) {
      nfq_close(h_);
    }
  }
  NfqueueWorker(const NfqueueWorker&) = delete;
  NfqueueWorker& operator=(const NfqueueWorker&) = delete;

  Result<void, std::string> bind() {
    const std::string what = "nfqueue: queue " + std::to_string(queue_) + ": ";
    h_ = nfq_open();
    if (h_ == nullptr) {
      return fail(what + "cannot open a netfilter queue socket: " + errno_text(errno) +
                  " (needs CAP_NET_ADMIN)");
    }
    qh_ = nfq_create_queue(h_, queue_, &NfqueueWorker::on_packet, this);
    if (qh_ == nullptr) {
      return fail(what + "cannot bind: " + errno_text(errno) +
                  " (is another process bound to it?)");
    }
    if (nfq_set_mode(qh_, NFQNL_COPY_PACKET, 0xffff) < 0) {
      return fail(what + "cannot set copy mode: " + errno_text(errno));
    }
    if (nfq_set_queue_maxlen(qh_, config_.queue_maxlen) < 0) {
      return fail(what + "cannot set the queue length: " + errno_text(errno));
    }
    std::uint32_t flags = NFQA_CFG_F_GSO;
    if (config_.fail_open) {
      flags |= NFQA_CFG_F_FAIL_OPEN;
    }
    const std::uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
    if (nfq_set_queue_flags(qh_, mask, flags) < 0) {
      return fail(what + "cannot set the queue flags (fail-open, GSO): " + errno_text(errno));
    }
    nfnl_rcvbufsiz(nfq_nfnlh(h_), config_.socket_buffer);
    fd_ = nfq_fd(h_);
    const int on = 1;
    // Overflow is counted, not fatal: recv keeps working after the kernel dropped messages.
    setsockopt(fd_, SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof on);
    return {};
  }

  void run(const std::stop_token& stop) {
    std::uint64_t last_expire = now_us();
    std::uint64_t last_publish = 0;
    std::uint64_t refresh_seen = refresh_requests_.load(std::memory_order_relaxed);
    while (!stop.stop_requested()) {
      pollfd pfd{fd_, POLLIN, 0};
      const int ready = poll(&pfd, 1, 100);
      batch_ts_ = now_us();
      if (const std::uint64_t r = refresh_requests_.load(std::memory_order_relaxed);
          r != refresh_seen) {
        refresh_seen = r;
        inspector_.refresh_policy();
      }
      if (ready > 0) {
        read_batch();
      }
      if (batch_ts_ - last_expire >= 1000000U) {
        last_expire = batch_ts_;
        inspector_.expire(batch_ts_);
      }
      if (batch_ts_ - last_publish >= kPublishEveryUs) {
        last_publish = batch_ts_;
        publish_stats(false);
      }
    }
    inspector_.flush();
    publish_stats(true);
  }

  // The last copy of the Inspector's counters the worker published.
  inspect::InspectStats inspect_stats() const {
    const std::lock_guard<std::mutex> lock(published_mutex_);
    return published_;
  }

  void request_refresh() noexcept { refresh_requests_.fetch_add(1, std::memory_order_relaxed); }

  void add_stats(NfqueueStats& out) const noexcept {
    out.packets += packets_.load(std::memory_order_relaxed);
    out.allowed += allowed_.load(std::memory_order_relaxed);
    out.dropped += dropped_.load(std::memory_order_relaxed);
    out.rejected += rejected_.load(std::memory_order_relaxed);
    out.undecided += undecided_.load(std::memory_order_relaxed);
    out.decode_errors += decode_errors_.load(std::memory_order_relaxed);
    out.verdict_batches += verdict_batches_.load(std::memory_order_relaxed);
    out.enobufs += enobufs_.load(std::memory_order_relaxed);
    out.verdict_errors += verdict_errors_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr std::uint64_t kPublishEveryUs = 100'000;

  // Copies the Inspector's counters for inspect_stats(). A reader holding the lock makes the
  // worker skip this round (it never waits), except for the final copy at stop.
  void publish_stats(bool wait) {
    std::unique_lock<std::mutex> lock(published_mutex_, std::defer_lock);
    if (wait) {
      lock.lock();
    } else if (!lock.try_lock()) {
      return;
    }
    published_ = inspector_.stats();
  }

  static void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // Reads up to `batch` packets without blocking, then sends their verdicts.
  void read_batch() noexcept {
    snapshot_ = store_.current();
    pending_.clear();
    while (pending_.size() < config_.batch) {
      const ssize_t n = recv(fd_, buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (n < 0) {
        if (errno == ENOBUFS) {
          bump(enobufs_);
          continue;
        }
        break;  // EAGAIN: drained
      }
      nfq_handle_packet(h_, buffer_.data(), static_cast<int>(n));
    }
    send_verdicts();
  }

  static int on_packet(nfq_q_handle* /*qh*/, nfgenmsg* /*msg*/, nfq_data* data, void* self) {
    static_cast<NfqueueWorker*>(self)->handle(data);
    return 0;
  }

  void handle(nfq_data* data) noexcept {
    const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(data);
    if (header == nullptr) {
      return;
    }
    bump(packets_);
    const std::uint32_t id = ntohl(header->packet_id);
    const std::uint32_t old_mark = nfq_get_nfmark(data);
    unsigned char* bytes = nullptr;
    const int length = nfq_get_payload(data, &bytes);
    auto decoded = length > 0
                       ? parse::decode_packet(parse::LinkType::Raw,
                                              ByteSpan(bytes, static_cast<std::size_t>(length)))
                       : fail(parse::DecodeError::Truncated);
    if (!decoded) {
      bump(decode_errors_);
      bump(undecided_);
      pending_.push_back({id, make_verdict(FlowState::Undecided, old_mark)});
      return;
    }
    parse::PacketView& packet = *decoded;
    if (const nfqnl_msg_packet_hw* hw = nfq_get_packet_hw(data);
        hw != nullptr && ntohs(hw->hw_addrlen) == packet.src_mac.size()) {
      std::memcpy(packet.src_mac.data(), hw->hw_addr, packet.src_mac.size());
      packet.has_mac = true;
    }
    inspect::PacketMeta meta;
    meta.ts_us = batch_ts_;
    meta.interface = interface_name(nfq_get_indev(data));
    const inspect::Decision decision = inspector_.inspect_packet(packet, meta);
    const inspect::Flow* flow = inspector_.find_flow(packet);
    inspect::EnforceAction action = inspect::EnforceAction::Reject;
    if (snapshot_ && decision.group < snapshot_->groups().size()) {
      action = snapshot_->groups()[decision.group].spec.enforce_action;
    }
    const FlowState state = flow_state(decision, flow != nullptr && flow->done, action);
    switch (state) {
      case FlowState::Undecided:
        bump(undecided_);
        break;
      case FlowState::Allowed:
        bump(allowed_);
        break;
      case FlowState::Dropped:
        bump(dropped_);
        break;
      case FlowState::Rejected:
        bump(rejected_);
        break;
    }
    pending_.push_back({id, make_verdict(state, old_mark)});
  }

  void send_verdicts() noexcept {
    for_each_run(pending_, [this](const VerdictRun& run) {
      const int rc = run.count == 1 ? nfq_set_verdict2(qh_, run.last_id, run.verdict.verdict,
                                                       run.verdict.mark, 0, nullptr)
                                    : nfq_set_verdict_batch2(qh_, run.last_id, run.verdict.verdict,
                                                             run.verdict.mark);
      bump(verdict_batches_);
      if (rc < 0) {
        bump(verdict_errors_);
      }
    });
    pending_.clear();
  }

  // The ingress interface's name, cached per index (one if_indextoname per new interface).
  std::string_view interface_name(std::uint32_t index) noexcept {
    if (index == 0) {
      return {};
    }
    for (const auto& [i, name] : interfaces_) {
      if (i == index) {
        return name;
      }
    }
    if (interfaces_.size() >= 256) {
      return {};
    }
    std::array<char, IF_NAMESIZE> name{};
    if (if_indextoname(index, name.data()) == nullptr) {
      return {};
    }
    interfaces_.emplace_back(index, std::string(name.data()));
    return interfaces_.back().second;
  }

  std::uint16_t queue_;
  NfqueueConfig config_;
  const inspect::PolicyStore& store_;
  inspect::Inspector inspector_;
  std::shared_ptr<const inspect::PolicySnapshot> snapshot_;
  nfq_handle* h_ = nullptr;
  nfq_q_handle* qh_ = nullptr;
  int fd_ = -1;
  std::uint64_t batch_ts_ = 0;
  std::vector<PendingVerdict> pending_;
  std::vector<char> buffer_;
  std::vector<std::pair<std::uint32_t, std::string>> interfaces_;
  std::atomic<std::uint64_t> refresh_requests_{0};
  mutable std::mutex published_mutex_;
  inspect::InspectStats published_;  // guarded by published_mutex_

  std::atomic<std::uint64_t> packets_{0}, allowed_{0}, dropped_{0}, rejected_{0}, undecided_{0},
      decode_errors_{0}, verdict_batches_{0}, enobufs_{0}, verdict_errors_{0};
};

Result<std::unique_ptr<NfqueueDatapath>, std::string> NfqueueDatapath::open(
    const NfqueueConfig& config, const inspect::PolicyStore& store,
    const inspect::InspectConfig& inspect_config, inspect::ObservationSink* sink) {
  if (config.queues.empty()) {
    return fail(std::string("nfqueue: no queue configured"));
  }
  std::unique_ptr<NfqueueDatapath> datapath(new NfqueueDatapath());
  for (std::size_t i = 0; i < config.queues.size(); ++i) {
    inspect::InspectConfig worker_config = inspect_config;
    worker_config.worker_id = static_cast<std::uint16_t>(i + 1);
    auto worker =
        std::make_unique<NfqueueWorker>(config.queues[i], config, store, worker_config, sink);
    auto bound = worker->bind();
    if (!bound) {
      return fail(bound.error());
    }
    datapath->workers_.push_back(std::move(worker));
  }
  return datapath;
}

NfqueueDatapath::~NfqueueDatapath() {
  stop();
}

void NfqueueDatapath::start() {
  if (!threads_.empty()) {
    return;
  }
  for (auto& worker : workers_) {
    NfqueueWorker* w = worker.get();
    threads_.emplace_back([w](const std::stop_token& stop) { w->run(stop); });
  }
}

void NfqueueDatapath::stop() {
  for (auto& thread : threads_) {
    thread.request_stop();
  }
  threads_.clear();  // joins
}

void NfqueueDatapath::refresh_policy() noexcept {
  for (auto& worker : workers_) {
    worker->request_refresh();
  }
}

void add_inspect_stats(inspect::InspectStats& into, const inspect::InspectStats& from) noexcept {
  std::size_t i = 0;
  std::array<std::uint64_t*, 128> fields{};
  // for_each_counter names every field once; walk both in the same order.
  inspect::for_each_counter(into, [&](std::string_view, const std::uint64_t& value) {
    if (i < fields.size()) {
      fields[i++] = const_cast<std::uint64_t*>(&value);  // NOLINT: `into` is ours to change
    }
  });
  std::size_t j = 0;
  inspect::for_each_counter(from, [&](std::string_view, std::uint64_t value) {
    if (j < i) {
      *fields[j++] += value;
    }
  });
}

inspect::InspectStats NfqueueDatapath::inspect_stats() const {
  inspect::InspectStats out;
  for (const auto& worker : workers_) {
    add_inspect_stats(out, worker->inspect_stats());
  }
  return out;
}

NfqueueStats NfqueueDatapath::stats() const noexcept {
  NfqueueStats out;
  for (const auto& worker : workers_) {
    worker->add_stats(out);
  }
  return out;
}

}  // namespace egressguard::nfqueue
