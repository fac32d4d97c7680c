#include "filter/logs/event_filter.h"

#include <cstring>

#include <arpa/inet.h>

namespace egressguard::logs {

namespace {

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Printable ASCII other than '"' and '\\': written verbatim inside a JSON string.
bool verbatim_in_json(std::string_view text) noexcept {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

// The value of a string field as bytes: the raw view when it has no escapes, else decoded into
// `scratch`. Empty optional-like: false when the field is not a string or does not decode.
bool string_bytes(const RawValue& value, std::string& scratch, std::string_view& out) {
  if (!value.is_string()) {
    return false;
  }
  if (!value.escaped) {
    out = value.raw;
    return true;
  }
  scratch.clear();
  if (!append_json_unescaped(scratch, value.raw)) {
    return false;
  }
  out = scratch;
  return true;
}

struct ParsedAddress {
  std::array<std::uint8_t, 16> bytes{};
  std::uint8_t family_bytes = 0;  // 4 or 16; 0 when not an address
};

ParsedAddress parse_address(std::string_view text) noexcept {
  ParsedAddress a;
  std::array<char, 64> buffer{};
  if (text.empty() || text.size() >= buffer.size()) {
    return a;
  }
  std::memcpy(buffer.data(), text.data(), text.size());
  if (inet_pton(AF_INET, buffer.data(), a.bytes.data()) == 1) {
    a.family_bytes = 4;
  } else if (inet_pton(AF_INET6, buffer.data(), a.bytes.data()) == 1) {
    a.family_bytes = 16;
  }
  return a;
}

}  // namespace

void append_name_key(std::string& out, std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  for (const char c : name) {
    out.push_back(lower(c));
  }
}

Result<EventFilter, std::string> EventFilter::compile(const FilterSpec& spec) {
  EventFilter f;
  f.spec_ = spec;
  if (spec.since_us && spec.until_us && *spec.since_us >= *spec.until_us) {
    return fail(std::string("--since must be before --until"));
  }
  auto exact_needles = [&](const std::vector<std::string>& values) {
    if (values.empty()) {
      return;
    }
    std::vector<Needle> alternatives;
    for (const std::string& v : values) {
      if (!verbatim_in_json(v)) {
        return;  // this value may be escaped in the line: no substring test for the field
      }
      alternatives.push_back(make_needle("\"" + v + "\"", false));
    }
    f.needles_.push_back(std::move(alternatives));
  };
  exact_needles(spec.groups);
  exact_needles(spec.categories);
  exact_needles(spec.actions);
  exact_needles(spec.types);

  std::vector<Needle> name_needles;
  bool name_needles_ok = true;
  for (const std::string& n : spec.names) {
    NamePattern p;
    std::string_view text = n;
    if (text.substr(0, 2) == "*.") {
      p.suffix = true;
      text.remove_prefix(2);
    } else if (text == "*") {
      p.suffix = true;
      text = {};
    }
    append_name_key(p.text, text);
    if (!p.suffix && p.text.empty()) {
      return fail("--name \"" + n + "\": empty name");
    }
    if (p.text.empty() || !verbatim_in_json(p.text)) {
      name_needles_ok = false;
    } else {
      name_needles.push_back(make_needle(p.suffix ? p.text : "\"" + p.text, true));
    }
    f.names_.push_back(std::move(p));
  }
  if (name_needles_ok && !name_needles.empty()) {
    f.needles_.push_back(std::move(name_needles));
  }

  std::vector<Needle> src_needles;
  bool src_needles_ok = true;
  for (const std::string& s : spec.srcs) {
    const std::size_t slash = s.find('/');
    const ParsedAddress a = parse_address(std::string_view(s).substr(0, slash));
    if (a.family_bytes == 0) {
      return fail("--src \"" + s + "\": not an IPv4 or IPv6 address or CIDR");
    }
    Cidr c;
    c.bytes = a.bytes;
    c.family_bytes = a.family_bytes;
    c.prefix = static_cast<std::uint8_t>(a.family_bytes * 8);
    if (slash != std::string::npos) {
      const std::string bits = s.substr(slash + 1);
      const unsigned max = a.family_bytes * 8U;
      unsigned prefix = 0;
      bool ok = !bits.empty() && bits.size() <= 3;
      for (const char ch : bits) {
        ok = ok && ch >= '0' && ch <= '9';
        prefix = prefix * 10 + static_cast<unsigned>(ch - '0');
      }
      if (!ok || prefix > max) {
        return fail("--src \"" + s + "\": prefix length must be 0.." + std::to_string(max));
      }
      c.prefix = static_cast<std::uint8_t>(prefix);
      src_needles_ok = false;
    } else {
      // The canonical text (RFC 5952 for IPv6), as inet_ntop writes it into events.
      std::array<char, INET6_ADDRSTRLEN> text{};
      inet_ntop(a.family_bytes == 4 ? AF_INET : AF_INET6, a.bytes.data(), text.data(),
                static_cast<socklen_t>(text.size()));
      src_needles.push_back(make_needle("\"" + std::string(text.data()) + "\"", false));
    }
    f.srcs_.push_back(c);
  }
  if (src_needles_ok && !src_needles.empty()) {
    f.needles_.push_back(std::move(src_needles));
  }
  return f;
}

bool EventFilter::empty() const noexcept {
  return !spec_.since_us && !spec_.until_us && spec_.groups.empty() && names_.empty() &&
         spec_.categories.empty() && srcs_.empty() && spec_.actions.empty() && spec_.types.empty();
}

EventFilter::Needle EventFilter::make_needle(std::string text, bool icase) {
  Needle n;
  if (icase) {
    for (char& c : text) {
      c = lower(c);
    }
  }
  n.text = std::move(text);
  n.icase = icase;
  const std::size_t len = n.text.size();
  const auto fill = static_cast<std::uint8_t>(len < 255 ? len : 255);
  n.shift.fill(fill);
  for (std::size_t k = 0; k + 1 < len; ++k) {
    const auto distance = static_cast<std::uint8_t>(len - 1 - k < 255 ? len - 1 - k : 255);
    const auto c = static_cast<unsigned char>(n.text[k]);
    n.shift[c] = distance;
    if (icase && c >= 'a' && c <= 'z') {
      n.shift[c - 'a' + 'A'] = distance;
    }
  }
  return n;
}

bool EventFilter::contains(std::string_view hay, const Needle& needle) noexcept {
  const std::string& n = needle.text;
  if (n.empty()) {
    return true;
  }
  if (!needle.icase) {
    return memmem(hay.data(), hay.size(), n.data(), n.size()) != nullptr;
  }
  if (hay.size() < n.size()) {
    return false;
  }
  // Horspool, ASCII case-insensitive (the needle is lower case).
  const std::size_t last = n.size() - 1;
  const char tail = n[last];
  std::size_t i = 0;
  while (i + last < hay.size()) {
    const char c = hay[i + last];
    if (lower(c) == tail) {
      std::size_t k = 0;
      while (k < last && lower(hay[i + k]) == n[k]) {
        ++k;
      }
      if (k == last) {
        return true;
      }
    }
    i += needle.shift[static_cast<unsigned char>(c)];
  }
  return false;
}

bool EventFilter::may_match(std::string_view line) const noexcept {
  if (needles_.empty() || std::memchr(line.data(), '\\', line.size()) != nullptr) {
    return true;  // an escape anywhere: a value may be spelt differently, parse to compare
  }
  for (const std::vector<Needle>& alternatives : needles_) {
    bool any = false;
    for (const Needle& n : alternatives) {
      if (contains(line, n)) {
        any = true;
        break;
      }
    }
    if (!any) {
      return false;
    }
  }
  return true;
}

bool EventFilter::string_in(const RawValue& value,
                            const std::vector<std::string>& wanted) noexcept {
  std::string_view bytes;
  if (!string_bytes(value, scratch_, bytes)) {
    return false;
  }
  for (const std::string& w : wanted) {
    if (bytes == w) {
      return true;
    }
  }
  return false;
}

bool EventFilter::name_matches(const RawValue& value) noexcept {
  std::string_view bytes;
  if (!string_bytes(value, scratch_, bytes)) {
    return false;  // null for unnamed flows
  }
  name_key_.clear();
  append_name_key(name_key_, bytes);
  const std::string_view key = name_key_;
  for (const NamePattern& p : names_) {
    if (!p.suffix) {
      if (key == p.text) {
        return true;
      }
      continue;
    }
    if (p.text.empty() || key == p.text) {
      return true;
    }
    if (key.size() > p.text.size() && key.ends_with(p.text) &&
        key[key.size() - p.text.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

bool EventFilter::src_matches(const RawValue& value) noexcept {
  std::string_view bytes;
  if (!string_bytes(value, scratch_, bytes)) {
    return false;
  }
  const ParsedAddress a = parse_address(bytes);
  for (const Cidr& c : srcs_) {
    if (a.family_bytes != c.family_bytes) {
      continue;
    }
    const unsigned full = c.prefix / 8U;
    const unsigned rest = c.prefix % 8U;
    if (std::memcmp(a.bytes.data(), c.bytes.data(), full) != 0) {
      continue;
    }
    if (rest != 0) {
      const auto mask = static_cast<std::uint8_t>(0xffU << (8U - rest));
      if (((a.bytes[full] ^ c.bytes[full]) & mask) != 0) {
        continue;
      }
    }
    return true;
  }
  return false;
}

bool EventFilter::matches(const EventLine& e) noexcept {
  if (spec_.since_us && e.ts_us < *spec_.since_us) {
    return false;
  }
  if (spec_.until_us && e.ts_us >= *spec_.until_us) {
    return false;
  }
  if (!spec_.groups.empty() && !string_in(e.group, spec_.groups)) {
    return false;
  }
  if (!spec_.actions.empty() && !string_in(e.action, spec_.actions)) {
    return false;
  }
  if (!spec_.types.empty() && !string_in(e.event_type, spec_.types)) {
    return false;
  }
  if (!spec_.categories.empty() && !string_in(e.category, spec_.categories)) {
    return false;
  }
  if (!names_.empty() && !name_matches(e.name)) {
    return false;
  }
  if (!srcs_.empty() && !src_matches(e.src_ip)) {
    return false;
  }
  return true;
}

}  // namespace egressguard::logs
