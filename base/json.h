// Minimal JSON writing for events and CLI output. Strings from the network (qname, SNI, Host)
// go through append_json_string, which always yields one valid JSON string on one line: quotes,
// backslashes and control characters are escaped, and every byte >= 0x80 is written as \u00XX
// (the byte read as Latin-1), so arbitrary bytes can never break a JSON line or its UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace egressguard {

inline void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

inline std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

// True when the name is plain printable ASCII (nothing to escape).
inline bool is_plain_ascii(std::string_view text) noexcept {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace egressguard
