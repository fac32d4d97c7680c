// SyslogOutput: events to a syslog receiver as RFC 5424 messages, the JSON event as MSG:
//   <PRI>1 2026-11-29T09:40:12.518230Z gw-example egressguard 4242 block - {"timestamp":...}
// PRI = facility * 8 + severity (block 4 warning, unnamed_flow 5 notice, name 6 informational);
// HOSTNAME is the sensor name (characters outside RFC 5424's PRINTUSASCII become '_'); MSGID
// the event type; no structured data; MSG is the JSON line without a BOM (MSG-ANY: JSON lines
// are pure ASCII, every byte >= 0x80 of a name is escaped).
// UDP (RFC 5426): one datagram per event. TCP (RFC 6587 octet counting: "LEN SP MSG"):
// non-blocking connect; messages wait in a buffer bounded by `max_pending_bytes` while the
// receiver is away (beyond it they are dropped and counted); reconnect with exponential backoff
// (0.5 s doubling to 30 s); a message half-sent when a connection breaks is counted as lost.
// Never blocks the writer thread except in close(), for at most `close_timeout_ms`.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <sys/socket.h>

#include "base/result.h"
#include "filter/events/event_output.h"
#include "filter/events/events_config.h"

namespace egressguard::events {

struct SyslogOutputOptions {
  SyslogOutputConfig config;
  std::string hostname;  // RFC 5424 HOSTNAME: the sensor name
  std::size_t max_pending_bytes = 4U << 20;
  std::uint32_t close_timeout_ms = 2000;
};

class SyslogOutput : public EventOutput {
 public:
  // Resolves the receiver's address (a host name once, at startup).
  static Result<std::unique_ptr<SyslogOutput>, std::string> open(SyslogOutputOptions options);
  ~SyslogOutput() override;
  SyslogOutput(const SyslogOutput&) = delete;
  SyslogOutput& operator=(const SyslogOutput&) = delete;

  std::string_view name() const noexcept override { return "syslog"; }
  void write(const EventLine& line, std::uint64_t now_us) override;
  void flush(std::uint64_t now_us) override;
  void close(std::uint64_t now_us) override;
  std::string last_error() const override { return last_error_; }

  bool connected() const noexcept { return state_ == State::Connected; }

  // The RFC 5424 message for `line` (no framing), appended to `out`.
  static void format(std::string& out, const SyslogOutputOptions& options, int pid,
                     const EventLine& line, std::uint64_t now_us);

 private:
  enum class State : std::uint8_t { Disconnected, Connecting, Connected };
  SyslogOutput() = default;
  void connect_tcp(std::uint64_t now_us);
  void poll_tcp(std::uint64_t now_us);
  void send_pending(std::uint64_t now_us);
  void disconnect(std::uint64_t now_us, const std::string& why);

  SyslogOutputOptions options_;
  std::string hostname_;
  int pid_ = 0;
  sockaddr_storage address_{};
  socklen_t address_len_ = 0;
  int fd_ = -1;
  State state_ = State::Disconnected;
  std::uint64_t next_attempt_us_ = 0;
  std::uint64_t connect_started_us_ = 0;
  std::uint64_t backoff_us_ = 500'000;
  std::string message_;
  // TCP: framed messages not yet sent; `sent_` bytes of the first are on the wire already.
  std::string pending_;
  std::size_t sent_ = 0;
  struct Frame {
    std::size_t end = 0;  // offset in pending_ just after this frame
    std::uint64_t events = 0;
  };
  std::deque<Frame> frames_;
  std::string last_error_;
  bool closed_ = false;
};

}  // namespace egressguard::events
