// AtomicSharedPtr: publication of immutable snapshots (lists, policy, GeoIP) to packet threads.
#pragma once

#include <memory>
#include <mutex>

namespace egressguard {

// A shared_ptr that threads load and store atomically: what std::atomic<std::shared_ptr<T>>
// promises. libstdc++ 12's std::atomic<std::shared_ptr> releases its internal lock with relaxed
// order after load(), a data race with the next store() under the C++ memory model that TSan
// reports; this wrapper takes a small mutex held only to copy or swap one pointer (never while a
// snapshot is built, and the old snapshot is released outside it), so a reader waits at most
// for a pointer swap. TODO(base): back to std::atomic<std::shared_ptr> once libstdc++ has
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

}  // namespace egressguard
