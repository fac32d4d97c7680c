#include "filter/events/events_config.h"

#include <array>
#include <cctype>
#include <charconv>
#include <limits>

namespace egressguard::events {

namespace {

// Leading decimal digits of `text` (at least one), the rest in `unit`.
Result<std::uint64_t, std::string> leading_number(std::string_view text, std::string_view& unit,
                                                  std::string_view example) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return fail(std::string("the number is too large"));
  }
  if (ec != std::errc() || end == text.data()) {
    return fail("expected a number followed by a unit such as \"" + std::string(example) + "\"");
  }
  unit = text.substr(static_cast<std::size_t>(end - text.data()));
  return value;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Result<std::uint64_t, std::string> scaled(std::uint64_t value, std::uint64_t factor) {
  if (factor != 0 && value > std::numeric_limits<std::uint64_t>::max() / factor) {
    return fail(std::string("the number is too large"));
  }
  return value * factor;
}

}  // namespace

Result<std::uint64_t, std::string> parse_size(std::string_view text) {
  std::string_view unit_text;
  auto value = leading_number(text, unit_text, "100MB");
  if (!value) {
    return fail(std::move(value).error());
  }
  std::string unit = lower(unit_text);
  if (unit.size() == 3 && unit.substr(1) == "ib") {
    unit.resize(1);
  } else if (unit.size() == 2 && unit[1] == 'b') {
    unit.resize(1);
  }
  std::uint64_t factor = 0;
  if (unit.empty() || unit == "b") {
    factor = 1;
  } else if (unit == "k") {
    factor = 1ULL << 10;
  } else if (unit == "m") {
    factor = 1ULL << 20;
  } else if (unit == "g") {
    factor = 1ULL << 30;
  } else if (unit == "t") {
    factor = 1ULL << 40;
  } else {
    return fail("unknown unit \"" + std::string(unit_text) + "\": expected B, K, M, G or T");
  }
  return scaled(*value, factor);
}

Result<std::uint64_t, std::string> parse_duration_ms(std::string_view text) {
  std::string_view unit_text;
  auto value = leading_number(text, unit_text, "10s");
  if (!value) {
    return fail(std::move(value).error());
  }
  const std::string unit = lower(unit_text);
  std::uint64_t factor = 0;
  if (unit == "ms") {
    factor = 1;
  } else if (unit == "s" || (unit.empty() && *value == 0)) {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60'000;
  } else if (unit == "h") {
    factor = 3'600'000;
  } else if (unit.empty()) {
    return fail(std::string("a unit is required: ms, s, m or h"));
  } else {
    return fail("unknown unit \"" + std::string(unit_text) + "\": expected ms, s, m or h");
  }
  return scaled(*value, factor);
}

Result<std::uint8_t, std::string> parse_facility(std::string_view text) {
  static constexpr std::array<std::string_view, 16> kNames = {
      "kern", "user", "mail",     "daemon", "auth", "syslog",   "lpr",     "news",
      "uucp", "cron", "authpriv", "ftp",    "ntp",  "security", "console", "solaris-cron"};
  const std::string name = lower(text);
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (name == kNames[i]) {
      return static_cast<std::uint8_t>(i);
    }
  }
  if (name.size() == 6 && name.compare(0, 5, "local") == 0 && name[5] >= '0' && name[5] <= '7') {
    return static_cast<std::uint8_t>(16 + (name[5] - '0'));
  }
  return fail(
      std::string("expected a syslog facility name: kern, user, mail, daemon, auth, "
                  "syslog, lpr, news, uucp, cron, authpriv, ftp or local0..local7"));
}

Result<SyslogOutputConfig, std::string> parse_syslog_address(std::string_view text) {
  SyslogOutputConfig out;
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return fail(std::string("missing ']' after an IPv6 address"));
    }
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return fail(std::string("a port is required: write \"[::1]:514\""));
    }
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return fail(std::string("a port is required: write \"host:514\""));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return fail(std::string("an IPv6 address needs brackets: write \"[::1]:514\""));
    }
  }
  if (host.empty()) {
    return fail(std::string("the host is empty"));
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    return fail("port \"" + std::string(port) + "\" is not a number in 1..65535");
  }
  out.host = std::string(host);
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

Result<void, std::string> check_app_name(std::string_view text) {
  if (text.empty() || text.size() > 48) {
    return fail(std::string("must be 1..48 characters (RFC 5424 APP-NAME)"));
  }
  for (const char c : text) {
    if (c < 33 || c > 126) {
      return fail(std::string("must be printable US-ASCII without spaces (RFC 5424 APP-NAME)"));
    }
  }
  return {};
}

}  // namespace egressguard::events
