// EventOutput: one destination of the event pipeline (event_pipeline.h): a JSON lines file with
// rotation (file_output.h), stdout, or a syslog receiver (syslog_output.h). Outputs are driven by
// the pipeline's single writer thread only; their counters may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace egressguard::events {

// Microseconds since the Unix epoch (UTC). Injectable so that tests can cross midnight.
using ClockUs = std::uint64_t (*)(void* context);

// What an event is, for syslog severity and MSGID.
enum class EventKind : std::uint8_t { Block, Name, UnnamedFlow };
std::string_view describe(EventKind kind) noexcept;  // "block", "name", "unnamed_flow"

// One line handed to the outputs.
struct EventLine {
  std::string_view json;     // one JSON object, no newline
  std::uint64_t events = 1;  // how many accepted events it stands for (aggregation "count")
  EventKind kind = EventKind::Block;
};

// Counted in events (an aggregated line of "count": 5 counts 5) and in lines.
struct OutputCounters {
  std::uint64_t written = 0;              // events the destination took
  std::uint64_t dropped_write_error = 0;  // events lost: disk full, receiver gone, buffer full
  std::uint64_t lines_written = 0;
  std::uint64_t rotations = 0;  // files only
};

class EventOutput {
 public:
  virtual ~EventOutput() = default;
  // "file", "stdout", "syslog"...: used in stats names (events_<name>_written).
  virtual std::string_view name() const noexcept = 0;
  // Takes one line; may buffer it. Failures are counted, never thrown.
  virtual void write(const EventLine& line, std::uint64_t now_us) = 0;
  // End of a batch: push what is buffered out, do timed work (reconnects).
  virtual void flush(std::uint64_t now_us) = 0;
  // Last flush (bounded in time), then release the destination. Idempotent.
  virtual void close(std::uint64_t now_us) = 0;
  // The reason of the last failure ("No space left on device"); empty when none. Writer thread.
  virtual std::string last_error() const = 0;

  OutputCounters counters() const noexcept {
    return {written_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
            lines_written_.load(std::memory_order_relaxed),
            rotations_.load(std::memory_order_relaxed)};
  }

 protected:
  void count_written(std::uint64_t events) noexcept {
    written_.fetch_add(events, std::memory_order_relaxed);
    lines_written_.fetch_add(1, std::memory_order_relaxed);
  }
  void count_dropped(std::uint64_t events) noexcept {
    dropped_.fetch_add(events, std::memory_order_relaxed);
  }
  void count_rotation() noexcept { rotations_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> lines_written_{0};
  std::atomic<std::uint64_t> rotations_{0};
};

// The system clock (ClockUs; `context` unused).
std::uint64_t system_clock_us(void* context) noexcept;

struct Clock {
  ClockUs fn = system_clock_us;
  void* context = nullptr;
  std::uint64_t now() const noexcept { return fn(context); }
};

}  // namespace egressguard::events
