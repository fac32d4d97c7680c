#include "filter/logs/event_line.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace egressguard::logs {

namespace {

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;

// True when some byte of `word` is 0.
constexpr bool has_zero_byte(std::uint64_t word) noexcept {
  return ((word - kOnes) & ~word & kHighs) != 0;
}

// True when one of the 8 bytes needs a closer look inside a JSON string: '"', '\\' or a control
// byte (< 0x20, which JSON forbids raw).
bool needs_attention(std::uint64_t word) noexcept {
  const bool control = ((word - kOnes * 0x20U) & ~word & kHighs) != 0;
  return control || has_zero_byte(word ^ (kOnes * 0x22U)) || has_zero_byte(word ^ (kOnes * 0x5cU));
}

bool is_hex(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

unsigned hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return static_cast<unsigned>(c - '0');
  }
  if (c >= 'a' && c <= 'f') {
    return static_cast<unsigned>(c - 'a' + 10);
  }
  return static_cast<unsigned>(c - 'A' + 10);
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// A cursor over one line. Every read is checked against `end`; running out of bytes inside a
// construct is LineError::Truncated.
class Scanner {
 public:
  explicit Scanner(std::string_view text) noexcept
      : p_(text.data()), end_(text.data() + text.size()) {}

  LineError error() const noexcept { return error_; }
  bool at_end() const noexcept { return p_ == end_; }
  char peek() const noexcept { return *p_; }
  void advance() noexcept { ++p_; }

  void skip_ws() noexcept {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\r' || *p_ == '\n')) {
      ++p_;
    }
  }

  // Each reader below starts at its construct's first byte and returns false (error() says why)
  // or true with `out` filled and the cursor after the construct.

  // At the opening quote. On success `out` holds the body between the quotes.
  bool string(RawValue& out) noexcept {
    ++p_;  // the quote
    const char* start = p_;
    bool escaped = false;
    for (;;) {
      skip_plain_16();
      while (end_ - p_ >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p_, sizeof word);
        if (needs_attention(word)) {
          break;
        }
        p_ += 8;
      }
      if (p_ == end_) {
        return set(LineError::Truncated);
      }
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.kind = RawValue::Kind::String;
        out.raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
        out.escaped = escaped;
        ++p_;
        return true;
      }
      if (c < 0x20) {
        return set(LineError::BadString);
      }
      if (c == '\\') {
        escaped = true;
        ++p_;
        if (p_ == end_) {
          return set(LineError::Truncated);
        }
        switch (*p_) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            ++p_;
            break;
          case 'u':
            ++p_;
            for (int i = 0; i < 4; ++i) {
              if (p_ == end_) {
                return set(LineError::Truncated);
              }
              if (!is_hex(*p_)) {
                return set(LineError::BadString);
              }
              ++p_;
            }
            break;
          default:
            return set(LineError::BadString);
        }
        continue;
      }
      ++p_;
    }
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?  (RFC 8259 section 6)
  bool number(RawValue& out) noexcept {
    const char* start = p_;
    if (*p_ == '-') {
      ++p_;
    }
    if (p_ == end_) {
      return set(LineError::Truncated);
    }
    if (*p_ == '0') {
      ++p_;
    } else if (is_digit(*p_)) {
      while (p_ != end_ && is_digit(*p_)) {
        ++p_;
      }
    } else {
      return set(LineError::BadValue);
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) {
        return false;
      }
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) {
        ++p_;
      }
      if (!digits()) {
        return false;
      }
    }
    out.kind = RawValue::Kind::Number;
    out.raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  bool literal(std::string_view word, RawValue::Kind kind, RawValue& out) noexcept {
    const auto left = static_cast<std::size_t>(end_ - p_);
    const std::size_t n = left < word.size() ? left : word.size();
    if (std::memcmp(p_, word.data(), n) != 0) {
      return set(LineError::BadValue);
    }
    if (n < word.size()) {
      return set(LineError::Truncated);
    }
    out.kind = kind;
    out.raw = std::string_view(p_, word.size());
    p_ += word.size();
    return true;
  }

  // Any JSON value; containers are validated and skipped.
  bool value(RawValue& out, int depth) noexcept {
    if (p_ == end_) {
      return set(LineError::Truncated);
    }
    switch (*p_) {
      case '"':
        return string(out);
      case '{':
      case '[':
        return container(out, depth + 1);
      case 't':
        return literal("true", RawValue::Kind::Bool, out);
      case 'f':
        return literal("false", RawValue::Kind::Bool, out);
      case 'n':
        return literal("null", RawValue::Kind::Null, out);
      default:
        if (*p_ == '-' || is_digit(*p_)) {
          return number(out);
        }
        return set(LineError::BadValue);
    }
  }

  // An object or array nested inside the event, at its opening bracket.
  bool container(RawValue& out, int depth) noexcept {
    if (depth > kMaxDepth) {
      return set(LineError::TooDeep);
    }
    const char* start = p_;
    const bool object = *p_ == '{';
    const char close = object ? '}' : ']';
    ++p_;
    skip_ws();
    if (p_ == end_) {
      return set(LineError::Truncated);
    }
    if (*p_ != close) {
      for (;;) {
        RawValue ignored;
        if (object) {
          if (*p_ != '"') {
            return set(LineError::BadValue);
          }
          if (!string(ignored) || !colon()) {
            return false;
          }
        }
        if (!value(ignored, depth)) {
          return false;
        }
        skip_ws();
        if (p_ == end_) {
          return set(LineError::Truncated);
        }
        if (*p_ == close) {
          break;
        }
        if (*p_ != ',') {
          return set(LineError::BadValue);
        }
        ++p_;
        skip_ws();
        if (p_ == end_) {
          return set(LineError::Truncated);
        }
      }
    }
    ++p_;  // the closing bracket
    out.kind = object ? RawValue::Kind::Object : RawValue::Kind::Array;
    out.raw = std::string_view(start, static_cast<std::size_t>(p_ - start));
    return true;
  }

  // White space, ':' and white space after a key.
  bool colon() noexcept {
    skip_ws();
    if (p_ == end_) {
      return set(LineError::Truncated);
    }
    if (*p_ != ':') {
      return set(LineError::BadValue);
    }
    ++p_;
    skip_ws();
    return true;
  }

 private:
  // Moves over plain string bytes 16 at a time, stopping at the first '"', '\\' or control
  // byte (or fewer than 16 bytes before the end). Event strings are short: one step is typical.
  void skip_plain_16() noexcept {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    const __m128i control_max = _mm_set1_epi8(0x1f);
    while (end_ - p_ >= 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_));
      const __m128i special =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                       _mm_cmpeq_epi8(_mm_max_epu8(v, control_max), control_max));  // v <= 0x1f
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(special));
      if (mask != 0) {
        p_ += __builtin_ctz(mask);
        return;
      }
      p_ += 16;
    }
#endif
  }

  // Records the first failure; always false, so `return set(...)` fails the caller.
  bool set(LineError value) noexcept {
    error_ = value;
    return false;
  }

  bool digits() noexcept {
    if (p_ == end_) {
      return set(LineError::Truncated);
    }
    if (!is_digit(*p_)) {
      return set(LineError::BadValue);
    }
    while (p_ != end_ && is_digit(*p_)) {
      ++p_;
    }
    return true;
  }

  const char* p_;
  const char* end_;
  LineError error_ = LineError::Empty;
};

// The EventLine member a top-level key fills, or nullptr for keys `logs` does not use.
RawValue* field_for(std::string_view key, EventLine& e) noexcept {
  switch (key.size()) {
    case 4:
      if (key == "name") {
        return &e.name;
      }
      if (key == "rule") {
        return &e.rule;
      }
      if (key == "list") {
        return &e.list;
      }
      if (key == "line") {
        return &e.line;
      }
      return nullptr;
    case 5:
      if (key == "group") {
        return &e.group;
      }
      if (key == "count") {
        return &e.count;
      }
      return nullptr;
    case 6:
      if (key == "src_ip") {
        return &e.src_ip;
      }
      if (key == "action") {
        return &e.action;
      }
      if (key == "sensor") {
        return &e.sensor;
      }
      return nullptr;
    case 7:
      return key == "dest_ip" ? &e.dest_ip : nullptr;
    case 8:
      if (key == "category") {
        return &e.category;
      }
      if (key == "datapath") {
        return &e.datapath;
      }
      return nullptr;
    case 9:
      return key == "timestamp" ? &e.timestamp : nullptr;
    case 10:
      return key == "event_type" ? &e.event_type : nullptr;
    default:
      return nullptr;
  }
}

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out.push_back(static_cast<char>(code));
  } else if (code < 0x800) {
    out.push_back(static_cast<char>(0xc0U | (code >> 6)));
    out.push_back(static_cast<char>(0x80U | (code & 0x3fU)));
  } else if (code < 0x10000) {
    out.push_back(static_cast<char>(0xe0U | (code >> 12)));
    out.push_back(static_cast<char>(0x80U | ((code >> 6) & 0x3fU)));
    out.push_back(static_cast<char>(0x80U | (code & 0x3fU)));
  } else {
    out.push_back(static_cast<char>(0xf0U | (code >> 18)));
    out.push_back(static_cast<char>(0x80U | ((code >> 12) & 0x3fU)));
    out.push_back(static_cast<char>(0x80U | ((code >> 6) & 0x3fU)));
    out.push_back(static_cast<char>(0x80U | (code & 0x3fU)));
  }
}

// Two-digit field at `p` (checked by the caller to be in bounds).
bool two_digits(const char* p, unsigned& out) noexcept {
  if (!is_digit(p[0]) || !is_digit(p[1])) {
    return false;
  }
  out = static_cast<unsigned>((p[0] - '0') * 10 + (p[1] - '0'));
  return true;
}

unsigned days_in_month(std::int64_t year, unsigned month) noexcept {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

std::string_view to_string(LineError error) noexcept {
  switch (error) {
    case LineError::Empty:
      return "empty line";
    case LineError::NotObject:
      return "not a JSON object";
    case LineError::Truncated:
      return "truncated JSON";
    case LineError::BadString:
      return "bad JSON string";
    case LineError::BadValue:
      return "bad JSON value";
    case LineError::TrailingBytes:
      return "bytes after the JSON object";
    case LineError::TooDeep:
      return "JSON nested too deeply";
    case LineError::MissingTimestamp:
      return "no \"timestamp\" string";
    case LineError::BadTimestamp:
      return "\"timestamp\" is not RFC 3339";
  }
  return "malformed";
}

bool parse_event_line(std::string_view line, EventLine& e, LineError& error) noexcept {
  e = EventLine{};
  Scanner s(line);
  auto failed = [&](LineError why) {
    error = why;
    return false;
  };
  s.skip_ws();
  if (s.at_end()) {
    return failed(LineError::Empty);
  }
  if (s.peek() != '{') {
    return failed(LineError::NotObject);
  }
  s.advance();
  s.skip_ws();
  if (s.at_end()) {
    return failed(LineError::Truncated);
  }
  if (s.peek() == '}') {
    s.advance();
  } else {
    RawValue ignored;
    for (;;) {
      if (s.peek() != '"') {
        return failed(LineError::BadValue);
      }
      RawValue key;
      if (!s.string(key) || !s.colon()) {
        return failed(s.error());
      }
      // Straight into the field (no copy): the parse runs on every line of gigabytes.
      RawValue* field = key.escaped ? nullptr : field_for(key.raw, e);
      if (field == nullptr || field->kind != RawValue::Kind::Absent) {
        field = &ignored;
      }
      if (!s.value(*field, 0)) {
        return failed(s.error());
      }
      s.skip_ws();
      if (s.at_end()) {
        return failed(LineError::Truncated);
      }
      if (s.peek() == '}') {
        s.advance();
        break;
      }
      if (s.peek() != ',') {
        return failed(LineError::BadValue);
      }
      s.advance();
      s.skip_ws();
      if (s.at_end()) {
        return failed(LineError::Truncated);
      }
    }
  }
  s.skip_ws();
  if (!s.at_end()) {
    return failed(LineError::TrailingBytes);
  }
  if (!e.timestamp.is_string()) {
    return failed(LineError::MissingTimestamp);
  }
  if (e.timestamp.escaped) {
    return failed(LineError::BadTimestamp);
  }
  auto ts = parse_rfc3339_us(e.timestamp.raw);
  if (!ts) {
    return failed(ts.error());
  }
  e.ts_us = *ts;
  return true;
}

Result<EventLine, LineError> parse_event_line(std::string_view line) noexcept {
  EventLine e;
  LineError error = LineError::Empty;
  if (!parse_event_line(line, e, error)) {
    return fail(error);
  }
  return e;
}

bool append_json_unescaped(std::string& out, std::string_view raw) {
  std::size_t i = 0;
  while (i < raw.size()) {
    const std::size_t slash = raw.find('\\', i);
    if (slash == std::string_view::npos) {
      out.append(raw.substr(i));
      return true;
    }
    out.append(raw.substr(i, slash - i));
    i = slash + 1;
    if (i >= raw.size()) {
      return false;
    }
    const char c = raw[i++];
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out.push_back(c);
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        auto hex4 = [&](std::uint32_t& code) {
          if (raw.size() - i < 4) {
            return false;
          }
          code = 0;
          for (int k = 0; k < 4; ++k) {
            if (!is_hex(raw[i])) {
              return false;
            }
            code = code * 16 + hex_value(raw[i++]);
          }
          return true;
        };
        std::uint32_t code = 0;
        if (!hex4(code)) {
          return false;
        }
        if (code <= 0xff) {
          out.push_back(static_cast<char>(code));  // the byte, read as Latin-1 (base/json.h)
        } else if (code >= 0xd800 && code <= 0xdbff && raw.size() - i >= 6 && raw[i] == '\\' &&
                   raw[i + 1] == 'u') {
          const std::size_t save = i;
          i += 2;
          std::uint32_t low = 0;
          if (hex4(low) && low >= 0xdc00 && low <= 0xdfff) {
            append_utf8(out, 0x10000U + ((code - 0xd800U) << 10) + (low - 0xdc00U));
          } else {
            i = save;
            append_utf8(out, 0xfffd);
          }
        } else if (code >= 0xd800 && code <= 0xdfff) {
          append_utf8(out, 0xfffd);  // a lone surrogate
        } else {
          append_utf8(out, code);
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<unsigned>(year - era * 400);                            // [0, 399]
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

Result<std::int64_t, LineError> parse_rfc3339_us(std::string_view t) noexcept {
  // YYYY-MM-DDTHH:MM:SS is 19 bytes; a zone designator follows (at least 'Z').
  if (t.size() < 20) {
    return fail(LineError::BadTimestamp);
  }
  const char* p = t.data();
  unsigned y_hi = 0;
  unsigned y_lo = 0;
  unsigned month = 0;
  unsigned day = 0;
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  if (!two_digits(p, y_hi) || !two_digits(p + 2, y_lo) || p[4] != '-' ||
      !two_digits(p + 5, month) || p[7] != '-' || !two_digits(p + 8, day) ||
      (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || !two_digits(p + 11, hour) || p[13] != ':' ||
      !two_digits(p + 14, minute) || p[16] != ':' || !two_digits(p + 17, second)) {
    return fail(LineError::BadTimestamp);
  }
  const std::int64_t year = y_hi * 100 + y_lo;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60) {
    return fail(LineError::BadTimestamp);
  }
  std::size_t i = 19;
  std::int64_t micros = 0;
  if (t[i] == '.') {
    ++i;
    std::size_t digits = 0;
    while (i < t.size() && is_digit(t[i])) {
      if (digits < 6) {
        micros = micros * 10 + (t[i] - '0');
      }
      ++digits;
      ++i;
    }
    if (digits == 0) {
      return fail(LineError::BadTimestamp);
    }
    for (; digits < 6; ++digits) {
      micros *= 10;
    }
  }
  std::int64_t offset_s = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    unsigned oh = 0;
    unsigned om = 0;
    if (!two_digits(p + i + 1, oh) || !two_digits(p + i + 4, om) || oh > 23 || om > 59) {
      return fail(LineError::BadTimestamp);
    }
    offset_s = (t[i] == '+' ? 1 : -1) * static_cast<std::int64_t>(oh * 3600 + om * 60);
    i += 6;
  } else {
    return fail(LineError::BadTimestamp);
  }
  if (i != t.size()) {
    return fail(LineError::BadTimestamp);
  }
  const std::int64_t seconds = days_from_civil(year, month, day) * 86400 +
                               static_cast<std::int64_t>(hour * 3600 + minute * 60 + second) -
                               offset_s;
  return seconds * 1000000 + micros;
}

std::uint64_t raw_uint(const RawValue& value, std::uint64_t fallback) noexcept {
  if (value.kind != RawValue::Kind::Number || value.raw.empty()) {
    return fallback;
  }
  std::uint64_t n = 0;
  for (const char c : value.raw) {
    if (!is_digit(c)) {
      return fallback;
    }
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) {
      return fallback;
    }
    n = n * 10 + digit;
  }
  return n;
}

}  // namespace egressguard::logs
