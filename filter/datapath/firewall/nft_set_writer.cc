#include "filter/datapath/firewall/nft_set_writer.h"

#include <algorithm>
#include <bit>
#include <tuple>
#include <utility>

#include <nftables/libnftables.h>

#include "filter/datapath/firewall/ruleset.h"

namespace egressguard::firewall {

namespace {

std::uint64_t load(const std::atomic<std::uint64_t>& counter) noexcept {
  return counter.load(std::memory_order_relaxed);
}

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

class LibnftablesBackend : public NftBackend {
 public:
  explicit LibnftablesBackend(nft_ctx* ctx) : ctx_(ctx) {}
  ~LibnftablesBackend() override { nft_ctx_free(ctx_); }
  LibnftablesBackend(const LibnftablesBackend&) = delete;
  LibnftablesBackend& operator=(const LibnftablesBackend&) = delete;

  Result<void, std::string> run(const std::string& commands) override {
    const int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
    if (rc == 0) {
      return {};
    }
    const char* error = nft_ctx_get_error_buffer(ctx_);
    return fail(trimmed(error != nullptr && *error != '\0' ? error : "nft failed"));
  }

  bool table_exists() override {
    const std::string list = "list table inet " + std::string(kTable);
    // Terse: the sets' elements are not printed.
    const unsigned flags = nft_ctx_output_get_flags(ctx_);
    nft_ctx_output_set_flags(ctx_, flags | NFT_CTX_OUTPUT_TERSE);
    const bool exists = nft_run_cmd_from_buffer(ctx_, list.c_str()) == 0;
    nft_ctx_output_set_flags(ctx_, flags);
    nft_ctx_get_output_buffer(ctx_);  // discards the listing
    nft_ctx_get_error_buffer(ctx_);
    return exists;
  }

 private:
  nft_ctx* ctx_;
};

}  // namespace

std::string_view set_name(AddressSet set, bool v4) noexcept {
  if (set == AddressSet::Doh) {
    return v4 ? "doh_v4" : "doh_v6";
  }
  return v4 ? "learned_v4" : "learned_v6";
}

Result<std::unique_ptr<NftBackend>, std::string> open_libnftables_backend() {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr) {
    return fail(std::string("firewall: libnftables: nft_ctx_new failed"));
  }
  if (nft_ctx_buffer_output(ctx) != 0 || nft_ctx_buffer_error(ctx) != 0) {
    nft_ctx_free(ctx);
    return fail(std::string("firewall: libnftables: cannot buffer output"));
  }
  return std::unique_ptr<NftBackend>(std::make_unique<LibnftablesBackend>(ctx));
}

void NftSetWriterCounters::for_each(
    const std::function<void(std::string_view, std::uint64_t)>& fn) const {
#define EGRESSGUARD_NFT_SET_EACH(name) fn(#name, name);
  EGRESSGUARD_NFT_SET_COUNTERS(EGRESSGUARD_NFT_SET_EACH)
#undef EGRESSGUARD_NFT_SET_EACH
}

NftSetWriter::NftSetWriter(std::unique_ptr<NftBackend> backend, NftSetWriterOptions options)
    : backend_(std::move(backend)), options_(std::move(options)) {
  options_.queue_capacity = std::max<std::size_t>(options_.queue_capacity, 1);
  options_.batch_max = std::max<std::size_t>(options_.batch_max, 1);
  queue_.resize(options_.queue_capacity);
  const std::size_t buckets =
      std::bit_ceil(std::max<std::size_t>(options_.recent_slots / kWays, 1));
  recent_.resize(buckets * kWays);
  bucket_mask_ = buckets - 1;
  batch_.reserve(options_.batch_max);
}

NftSetWriter::~NftSetWriter() {
  stop();
}

void NftSetWriter::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!thread_.joinable() && !stopping_) {
    thread_ = std::thread([this] { run(); });
  }
}

void NftSetWriter::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::int64_t NftSetWriter::now_ms() const {
  const auto now = options_.now ? options_.now() : std::chrono::steady_clock::now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
}

std::size_t NftSetWriter::bucket_of(AddressSet set,
                                    const parse::IpAddress& address) const noexcept {
  const std::uint64_t h = address.hash() * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(set);
  return static_cast<std::size_t>(h >> 20) & bucket_mask_;
}

NftSetWriter::Slot* NftSetWriter::find_recent(std::size_t bucket, AddressSet set,
                                              const parse::IpAddress& address) noexcept {
  Slot* slots = &recent_[bucket * kWays];
  for (std::size_t i = 0; i < kWays; ++i) {
    if (slots[i].expires_ms != 0 && slots[i].set == set && slots[i].address == address) {
      return &slots[i];
    }
  }
  return nullptr;
}

void NftSetWriter::remember(std::size_t bucket, AddressSet set, const parse::IpAddress& address,
                            std::int64_t expires_ms) noexcept {
  // The slot that expires first (an empty or expired one if any) makes room.
  Slot* slots = &recent_[bucket * kWays];
  Slot* victim = &slots[0];
  for (std::size_t i = 1; i < kWays; ++i) {
    if (slots[i].expires_ms < victim->expires_ms) {
      victim = &slots[i];
    }
  }
  *victim = Slot{address, set, expires_ms};
}

void NftSetWriter::forget(const Element& element) noexcept {
  Slot* slot = find_recent(bucket_of(element.set, element.address), element.set, element.address);
  if (slot != nullptr) {
    slot->expires_ms = 0;
  }
}

NftSetWriter::AddResult NftSetWriter::add(AddressSet set, const parse::IpAddress& address,
                                          std::uint32_t timeout_s) noexcept {
  if ((!address.is_v4() && !address.is_v6()) || timeout_s == 0) {
    bump(dropped_);
    return AddResult::Dropped;
  }
  const std::int64_t now = now_ms();
  const std::size_t bucket = bucket_of(set, address);
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot* slot = find_recent(bucket, set, address);
    if (slot != nullptr && slot->expires_ms > now) {
      bump(deduplicated_);
      return AddResult::Recent;
    }
    if (size_ == queue_.size()) {
      bump(dropped_);
      return AddResult::Dropped;
    }
    queue_[(head_ + size_) % queue_.size()] = Element{address, timeout_s, set};
    ++size_;
    wake = size_ >= options_.batch_max;
    // In the set from the next flush until timeout_s later: until then re-adding is a no-op.
    const std::int64_t expires =
        now + static_cast<std::int64_t>(timeout_s) * 1000 + options_.flush_interval.count();
    if (slot != nullptr) {
      slot->expires_ms = expires;
    } else {
      remember(bucket, set, address, expires);
    }
  }
  bump(enqueued_);
  if (wake) {
    wake_.notify_one();
  }
  return AddResult::Queued;
}

void NftSetWriter::forget_recent() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Slot& slot : recent_) {
    slot.expires_ms = 0;
  }
}

std::size_t NftSetWriter::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_;
}

NftSetWriterCounters NftSetWriter::counters() const noexcept {
  NftSetWriterCounters c;
#define EGRESSGUARD_NFT_SET_COPY(name) c.name = load(name##_);
  EGRESSGUARD_NFT_SET_COUNTERS(EGRESSGUARD_NFT_SET_COPY)
#undef EGRESSGUARD_NFT_SET_COPY
  return c;
}

std::size_t NftSetWriter::flush_batch() {
  std::lock_guard<std::mutex> backend_lock(backend_mutex_);
  batch_.clear();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::size_t n = std::min(size_, options_.batch_max);
    for (std::size_t i = 0; i < n; ++i) {
      batch_.push_back(queue_[head_]);
      head_ = (head_ + 1) % queue_.size();
    }
    size_ -= n;
  }
  if (batch_.empty()) {
    return 0;
  }
  const auto lost = [&] {
    bump(lost_, batch_.size());
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Element& element : batch_) {
      forget(element);  // may be queued again by a later answer
    }
  };
  const std::int64_t now = now_ms();
  if (now < skip_until_ms_) {
    bump(table_missing_);
    lost();
    return batch_.size();
  }

  // One `add element` per set, all in one transaction (each element with its own timeout).
  std::stable_sort(batch_.begin(), batch_.end(), [](const Element& a, const Element& b) {
    return std::tuple(a.set, a.address.family) < std::tuple(b.set, b.address.family);
  });
  commands_.clear();
  std::array<char, parse::IpAddress::kMaxTextSize> text{};
  for (std::size_t i = 0; i < batch_.size(); ++i) {
    const Element& e = batch_[i];
    const bool first =
        i == 0 || batch_[i - 1].set != e.set || batch_[i - 1].address.family != e.address.family;
    if (first) {
      commands_ += i == 0 ? "" : " }\n";
      commands_ += "add element inet ";
      commands_ += kTable;
      commands_ += ' ';
      commands_ += set_name(e.set, e.address.is_v4());
      commands_ += " { ";
    } else {
      commands_ += ", ";
    }
    commands_.append(text.data(), e.address.to_chars(text.data()));
    commands_ += " timeout ";
    commands_ += std::to_string(e.timeout_s);
    commands_ += 's';
  }
  commands_ += " }\n";

  bump(batches_);
  auto result = backend_->run(commands_);
  if (result) {
    bump(added_, batch_.size());
    missing_logged_ = false;
    return batch_.size();
  }
  lost();
  if (!backend_->table_exists()) {
    bump(table_missing_);
    skip_until_ms_ =
        now + std::chrono::duration_cast<std::chrono::milliseconds>(options_.missing_table_backoff)
                  .count();
    if (!missing_logged_ && options_.log) {
      missing_logged_ = true;
      options_.log("firewall: table inet " + std::string(kTable) +
                   " does not exist (run `egressguard firewall apply`): learned and DoH "
                   "addresses are not installed until it does");
    }
    return batch_.size();
  }
  const std::uint64_t errors = nft_errors_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (options_.log && (errors <= 10 || errors % 1000 == 0)) {
    options_.log("firewall: adding " + std::to_string(batch_.size()) +
                 " set elements failed (error " + std::to_string(errors) + "): " + result.error());
  }
  return batch_.size();
}

void NftSetWriter::run() {
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, options_.flush_interval,
                     [&] { return stopping_ || size_ >= options_.batch_max; });
      stopping = stopping_;
    }
    while (flush_batch() == options_.batch_max) {
    }
    if (stopping) {
      while (flush_batch() != 0) {
      }
      return;
    }
  }
}

}  // namespace egressguard::firewall
