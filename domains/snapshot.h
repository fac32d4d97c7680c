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

#include "base/atomic_shared_ptr.h"
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
