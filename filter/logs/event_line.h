// One event line (docs/events.md: one flat JSON object per line) read without building a DOM:
// a single pass over the bytes records where each field of interest sits, validates the JSON
// lexically (strings, numbers, literals, nesting) and never allocates. The SOC's query engine
// (`egressguard logs`) runs it on every line of files that may hold hundreds of millions of
// events, so it must be fast, and on bytes that may be truncated or damaged, so it must never
// read out of bounds or crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace egressguard::logs {

// A top-level value as written in the line. Views into the line passed to parse_event_line.
struct RawValue {
  enum class Kind : std::uint8_t { Absent, Null, String, Number, Bool, Object, Array };
  Kind kind = Kind::Absent;
  // String: the bytes between the quotes, escapes NOT decoded; other kinds: the literal text.
  std::string_view raw;
  bool escaped = false;  // String: holds at least one backslash escape (decode before comparing)

  bool is_string() const noexcept { return kind == Kind::String; }
};

// The fields `egressguard logs` filters, sorts, counts and prints. Unknown fields are validated
// and skipped (docs/events.md: consumers must ignore fields they do not know). With duplicate
// keys the first one wins.
struct EventLine {
  std::int64_t ts_us = 0;  // `timestamp` as microseconds since the Unix epoch (UTC)
  RawValue timestamp;
  RawValue event_type;
  RawValue sensor;
  RawValue datapath;
  RawValue src_ip;
  RawValue dest_ip;
  RawValue group;
  RawValue name;
  RawValue action;
  RawValue category;
  RawValue rule;
  RawValue list;
  RawValue line;   // Number: the list line
  RawValue count;  // Number: how many identical events an aggregated event stands for
};

enum class LineError : std::uint8_t {
  Empty,             // nothing but white space
  NotObject,         // does not start with '{'
  Truncated,         // ended inside the object (a live file's last line being written)
  BadString,         // raw control byte, bad escape
  BadValue,          // not a JSON value, or a key that is not a string
  TrailingBytes,     // something after the closing '}'
  TooDeep,           // nested more than kMaxDepth
  MissingTimestamp,  // no "timestamp" string: not an event
  BadTimestamp,      // "timestamp" is not RFC 3339
};

std::string_view to_string(LineError error) noexcept;

// Nesting limit for values inside an event (the schema nests one level: `dns`, `flags`).
inline constexpr int kMaxDepth = 32;

// Parses one line (without its '\n'; a trailing '\r' is white space). The result's views point
// into `line`: valid only while the caller's buffer is.
Result<EventLine, LineError> parse_event_line(std::string_view line) noexcept;
// The same into `out` (no copy of the event: the query engine's loop); false with `error` set.
bool parse_event_line(std::string_view line, EventLine& out, LineError& error) noexcept;

// Decodes a JSON string body (RawValue::raw) and appends the bytes to `out`. \u00XX with XX <=
// 0xff yields the single byte XX: egressguard writes every byte of a network name outside
// printable ASCII that way (base/json.h), so this returns the name's original bytes. Larger code
// points (other writers) are appended as UTF-8, surrogate pairs combined. False on a bad escape;
// `out` then holds a prefix.
bool append_json_unescaped(std::string& out, std::string_view raw);

// Parses an RFC 3339 date-time ("2026-11-29T09:40:12.518230Z", any fraction length, 'Z' or
// +hh:mm / -hh:mm, 'T', 't' or ' ' between date and time) to microseconds since the epoch, UTC.
// Fractions beyond microseconds are truncated.
Result<std::int64_t, LineError> parse_rfc3339_us(std::string_view text) noexcept;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept;

// Parses a RawValue of kind Number as a non-negative integer; `fallback` when absent, null,
// negative, fractional or out of range.
std::uint64_t raw_uint(const RawValue& value, std::uint64_t fallback) noexcept;

}  // namespace egressguard::logs
