// [events]: where the event pipeline (event_pipeline.h) writes and how it rotates, keeps,
// aggregates and forwards events. Parsed in filter/app/config.cc; the value parsers below are
// shared with it so that every message is the same.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace egressguard::events {

enum class SyslogProtocol : std::uint8_t { Udp, Tcp };

// [[events.syslog]]: one RFC 5424 syslog receiver.
struct SyslogOutputConfig {
  std::string host;  // name or address literal (IPv6 without brackets)
  std::uint16_t port = 514;
  SyslogProtocol protocol = SyslogProtocol::Udp;
  std::uint8_t facility = 16;  // local0
  std::string app_name = "egressguard";
};

struct EventsConfig {
  std::string path;  // JSON lines file; "-" = stdout; empty = none unless given on the command line
  bool log_allowed = false;
  std::string sensor;                     // sensor name in events; defaults to the host name
  std::uint32_t queue_capacity = 65536;   // events waiting for the writer; more are dropped
  std::uint64_t rotate_size = 0;          // bytes; 0 = no size rotation
  bool rotate_daily = false;              // rotate at UTC midnight
  std::uint32_t keep = 0;                 // rotated files kept; 0 = all
  std::uint32_t max_age_days = 0;         // rotated files older than this are deleted; 0 = never
  bool compress = false;                  // gzip rotated files
  std::uint32_t aggregate_window_ms = 0;  // 0 = every event on its own
  bool to_stdout = false;                 // `stdout = true`: also write every line to stdout
  std::vector<SyslogOutputConfig> syslog;
};

// "100MB", "64k", "1G", "4096" (bytes). K, M, G, T are powers of 1024, with an optional B or iB:
// "1MB" = "1MiB" = 1048576. Errors say why ("unknown unit \"MX\": expected B, K, M, G or T").
Result<std::uint64_t, std::string> parse_size(std::string_view text);

// "10s", "500ms", "2m", "1h", "0" -> milliseconds.
Result<std::uint64_t, std::string> parse_duration_ms(std::string_view text);

// "kern" .. "local7" (RFC 5424 section 6.2.1 names) -> facility number 0..23.
Result<std::uint8_t, std::string> parse_facility(std::string_view text);

// "host:port", "[v6]:port": the port is required.
Result<SyslogOutputConfig, std::string> parse_syslog_address(std::string_view text);

// RFC 5424 APP-NAME: 1..48 printable US-ASCII characters, no space.
Result<void, std::string> check_app_name(std::string_view text);

}  // namespace egressguard::events
