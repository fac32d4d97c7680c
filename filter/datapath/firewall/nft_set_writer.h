// NftSetWriter: puts addresses into the ruleset's timeout sets (learned_v4/v6, doh_v4/v6 of
// table inet egressguard, ruleset.h) from the DNS proxy's worker threads without ever making them
// wait for the kernel. add() checks a small table of recently added addresses (a hot name does
// not re-add its addresses on every query) and appends to a bounded queue (full: dropped and
// counted); one writer thread sends the queue to the kernel in batches — every flush_interval or
// as soon as batch_max elements wait — each batch one nft transaction (`add element inet
// egressguard learned_v4 { 192.0.2.1 timeout 3600s, ... }`) through libnftables.
//
// When the table does not exist (`egressguard firewall apply` not run, or removed) a batch fails:
// it is counted (table_missing), logged once, and for missing_table_backoff further batches are
// dropped without asking the kernel. Other failures count nft_errors.
//
// Refresh: nft 1.0.6 (Debian 12) cannot renew the timeout of an element already in a set (`add
// element` leaves it as it is). An address is therefore remembered as "recent" for its timeout
// plus one flush interval and re-added only after the kernel has let it expire; a hot name's
// address can thus be missing for a moment once per timeout (until its next answer).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/result.h"
#include "filter/parse/ip_address.h"

namespace egressguard::firewall {

// The timeout sets the daemon fills.
enum class AddressSet : std::uint8_t { Learned, Doh };
// "learned_v4" | "learned_v6" | "doh_v4" | "doh_v6"
std::string_view set_name(AddressSet set, bool v4) noexcept;

// Runs nft commands for the writer thread (only it calls these): libnftables in the daemon, a
// fake in tests.
class NftBackend {
 public:
  virtual ~NftBackend() = default;
  // Runs `commands` (nft syntax, possibly several lines) as one transaction.
  virtual Result<void, std::string> run(const std::string& commands) = 0;
  // True when table inet egressguard exists.
  virtual bool table_exists() = 0;
};

// A libnftables context (nft_ctx_new) with output and errors buffered.
Result<std::unique_ptr<NftBackend>, std::string> open_libnftables_backend();

struct NftSetWriterOptions {
  std::size_t queue_capacity = 4096;  // elements waiting for the writer; beyond: dropped
  std::size_t batch_max = 256;        // elements per nft transaction
  std::chrono::milliseconds flush_interval{200};
  std::size_t recent_slots = 16384;  // dedupe table (4-way buckets; rounded up to a power of 2)
  std::chrono::seconds missing_table_backoff{5};
  // Warnings of the writer thread (missing table, nft errors); may be empty.
  std::function<void(std::string_view)> log;
  // The clock of the dedupe table; empty = std::chrono::steady_clock (tests set a fake one).
  std::function<std::chrono::steady_clock::time_point()> now;
};

#define EGRESSGUARD_NFT_SET_COUNTERS(X)                                                          \
  X(enqueued)      /* addresses queued for the kernel */                                         \
  X(deduplicated)  /* addresses skipped: added recently, still in the set */                     \
  X(dropped)       /* addresses dropped: the queue was full (the DNS path never waits) */        \
  X(added)         /* addresses the kernel accepted */                                           \
  X(batches)       /* nft transactions sent */                                                   \
  X(nft_errors)    /* transactions the kernel refused for another reason than a missing table */ \
  X(table_missing) /* batches not installed: table inet egressguard does not exist */            \
  X(lost)          /* addresses of failed or skipped batches */

// A plain copy of the counters.
struct NftSetWriterCounters {
#define EGRESSGUARD_NFT_SET_FIELD(name) std::uint64_t name = 0;
  EGRESSGUARD_NFT_SET_COUNTERS(EGRESSGUARD_NFT_SET_FIELD)
#undef EGRESSGUARD_NFT_SET_FIELD
  // Calls fn(name, value) for every counter, in declaration order.
  void for_each(const std::function<void(std::string_view, std::uint64_t)>& fn) const;
};

class NftSetWriter {
 public:
  enum class AddResult : std::uint8_t { Queued, Recent, Dropped };

  explicit NftSetWriter(std::unique_ptr<NftBackend> backend, NftSetWriterOptions options = {});
  ~NftSetWriter();
  NftSetWriter(const NftSetWriter&) = delete;
  NftSetWriter& operator=(const NftSetWriter&) = delete;

  // Starts the writer thread.
  void start();
  // Sends what is queued, then stops and joins the writer thread. Idempotent.
  void stop();

  // Any thread; never waits for the kernel (a mutex held for a table probe and a queue append,
  // never across a kernel call). An unset address, or a timeout of 0, is dropped.
  AddResult add(AddressSet set, const parse::IpAddress& address, std::uint32_t timeout_s) noexcept;

  // Forgets the recently added addresses, so that the next answers add them again (after
  // `firewall apply` replaced the table and emptied its sets; the daemon calls it on reload).
  void forget_recent() noexcept;

  // Sends at most batch_max queued elements as one transaction; returns how many were taken from
  // the queue. The writer thread calls it; tests call it directly (without start()).
  std::size_t flush_batch();

  std::size_t queued() const;
  NftSetWriterCounters counters() const noexcept;

 private:
  struct Element {
    parse::IpAddress address;
    std::uint32_t timeout_s = 0;
    AddressSet set = AddressSet::Learned;
  };
  // One dedupe slot: the address, its set and when it leaves the kernel's set. expires = 0:
  // empty.
  struct Slot {
    parse::IpAddress address;
    AddressSet set = AddressSet::Learned;
    std::int64_t expires_ms = 0;
  };
  static constexpr std::size_t kWays = 4;

  std::int64_t now_ms() const;
  Slot* find_recent(std::size_t bucket, AddressSet set, const parse::IpAddress& address) noexcept;
  void remember(std::size_t bucket, AddressSet set, const parse::IpAddress& address,
                std::int64_t expires_ms) noexcept;
  void forget(const Element& element) noexcept;
  std::size_t bucket_of(AddressSet set, const parse::IpAddress& address) const noexcept;
  void run();

  std::unique_ptr<NftBackend> backend_;
  NftSetWriterOptions options_;

  mutable std::mutex mutex_;  // queue_ and recent_
  std::condition_variable wake_;
  std::vector<Element> queue_;  // ring of queue_capacity
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::vector<Slot> recent_;  // buckets of kWays slots
  std::size_t bucket_mask_ = 0;
  bool stopping_ = false;

  std::mutex backend_mutex_;  // flush_batch from the thread or a test
  std::vector<Element> batch_;
  std::string commands_;
  std::int64_t skip_until_ms_ = 0;  // missing table: batches dropped until then
  bool missing_logged_ = false;
  std::thread thread_;

#define EGRESSGUARD_NFT_SET_ATOMIC(name) std::atomic<std::uint64_t> name##_{0};
  EGRESSGUARD_NFT_SET_COUNTERS(EGRESSGUARD_NFT_SET_ATOMIC)
#undef EGRESSGUARD_NFT_SET_ATOMIC
};

}  // namespace egressguard::firewall
