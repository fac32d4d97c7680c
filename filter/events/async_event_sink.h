// AsyncEventSink: block events of the DNS proxy's worker threads, written as JSON lines
// (docs/events.md) by one writer thread. Workers format the line and queue it; the queue is
// bounded (`capacity` lines): when the writer falls behind, events are dropped and counted,
// never waited for. close() (and the destructor) writes out everything queued.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/result.h"
#include "filter/datapath/dnsproxy/dns_proxy_core.h"

namespace egressguard::events {

class AsyncEventSink : public dnsproxy::DnsEventSink {
 public:
  // `path` "-" is stdout; otherwise the file is opened for appending.
  static Result<std::unique_ptr<AsyncEventSink>, std::string> open(const std::string& path,
                                                                   std::string sensor,
                                                                   std::string datapath,
                                                                   std::size_t capacity = 65536);
  ~AsyncEventSink() override;
  AsyncEventSink(const AsyncEventSink&) = delete;
  AsyncEventSink& operator=(const AsyncEventSink&) = delete;

  bool on_dns_block(const inspect::Observation& observation,
                    const dnsproxy::DnsBlockInfo& info) noexcept override;

  // Writes everything queued, stops the writer, closes the file. Idempotent.
  void close();

  std::uint64_t written() const;
  std::uint64_t dropped() const;
  std::uint64_t write_errors() const;

 private:
  AsyncEventSink() = default;
  void run();

  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  std::string sensor_;
  std::string datapath_;
  std::size_t capacity_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  bool closed_ = false;
  std::uint64_t written_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t write_errors_ = 0;
  std::thread writer_;
};

// The DNS proxy's extra event fields, appended to a line from append_event_json (which must end
// with '}'): "dns_answer", "ede" (when sent), "block_cause", "cname_target" (when a CNAME
// target decided).
void append_dns_fields(std::string& line, const dnsproxy::DnsBlockInfo& info);

}  // namespace egressguard::events
