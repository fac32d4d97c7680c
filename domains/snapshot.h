// A snapshot: every list loaded and compiled into one matcher, published atomically. Readers
// take the current snapshot once per batch (a pointer copy) and use it without locks; reload
// builds a new one off the hot path and swaps it in, or keeps the old one when the build fails.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "domains/list_loader.h"
#include "domains/matcher.h"
#include "domains/rule.h"

namespace egressguard::domains {

struct ListInfo {
  std::string path;
  std::string category;
  std::uint32_t id = 0;
  std::size_t rules = 0;
  std::size_t skipped_invalid = 0;
  std::size_t skipped_unsupported = 0;
  ListFormat format = ListFormat::Plain;
};

struct Snapshot {
  std::vector<ListInfo> lists;  // indexed by list id
  Matcher matcher;
  std::uint64_t version = 0;  // set by SnapshotStore::reload; 0 = the initial empty snapshot
};

// One list to load into a snapshot; its list id is its index in the sources vector.
struct ListSource {
  std::string path;
  std::string category;
  ListOptions options;
};

// Loads every list and compiles them. Collects the errors of ALL lists (each
// `path:line: what: why`) and refuses the whole snapshot if there is any.
Result<Snapshot, std::vector<std::string>> build_snapshot(const std::vector<ListSource>& sources);

// A shared_ptr that threads load and store atomically: what std::atomic<std::shared_ptr<T>>
// promises. libstdc++ 12's std::atomic<std::shared_ptr> releases its internal lock with relaxed
// order after load(), a data race with the next store() under the C++ memory model that TSan
// reports; this wrapper takes a small mutex held only to copy or swap one pointer (never while a
// snapshot is built, and the old snapshot is released outside it), so a reader waits at most
// for a pointer swap. TODO(domains): back to std::atomic<std::shared_ptr> once libstdc++ has
// the fix (a release unlock in load()).
template <typename T>
class AtomicSharedPtr {
 public:
  explicit AtomicSharedPtr(std::shared_ptr<T> initial) : ptr_(std::move(initial)) {}

  std::shared_ptr<T> load() const noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    return ptr_;
  }

  void store(std::shared_ptr<T> next) noexcept {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      ptr_.swap(next);
    }
    // `next` now holds the old pointer: the last reference to a snapshot is dropped here.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<T> ptr_;
};

class SnapshotStore {
 public:
  // Starts with an empty snapshot (version 0): current() is never null.
  SnapshotStore();

  std::shared_ptr<const Snapshot> current() const noexcept;

  // Runs `build` (outside any reader's path; reloads are serialised), stamps the result with the
  // next version and publishes it. On failure the old snapshot stays live, reload_failures()
  // grows and the errors are returned. An exception from `build` counts as a failure too.
  Result<std::uint64_t, std::vector<std::string>> reload(
      const std::function<Result<Snapshot, std::vector<std::string>>()>& build);

  std::uint64_t reloads() const noexcept { return reloads_.load(std::memory_order_relaxed); }
  std::uint64_t reload_failures() const noexcept {
    return reload_failures_.load(std::memory_order_relaxed);
  }

 private:
  AtomicSharedPtr<const Snapshot> current_;
  std::mutex reload_mutex_;  // serialises reload(); readers never take it
  std::uint64_t next_version_ = 1;
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::uint64_t> reload_failures_{0};
};

}  // namespace egressguard::domains
