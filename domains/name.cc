#include "domains/name.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <idn2.h>

namespace egressguard::domains {
namespace {

constexpr char to_lower_ascii(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_rule_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A label shown in a message: escaped and cut to a readable length.
std::string quote_label(std::string_view label) {
  constexpr std::size_t kShown = 20;
  std::string text = escape_for_message(label.substr(0, kShown));
  if (label.size() > kShown) {
    text += "\u2026";
  }
  return "\"" + text + "\"";
}

// Why `c` is not allowed in a rule label.
std::string describe_bad_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (c == ' ') {
    return "label contains a space";
  }
  if (c == '\t') {
    return "label contains a tab";
  }
  if (c == '*') {
    return "label contains '*': a wildcard is only allowed as a leading \"*.\"";
  }
  if (byte < 0x20 || byte >= 0x7f) {
    std::array<char, 8> hex{};
    std::snprintf(hex.data(), hex.size(), "0x%02x", byte);
    return std::string("label contains byte ") + hex.data();
  }
  return std::string("label contains '") + c + "'";
}

// Converts UTF-8 labels to A-labels; ASCII-only names come back unchanged.
Result<std::string, std::string> to_ascii(std::string_view name) {
  bool ascii = true;
  for (const char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    return std::string(name);
  }
  // Label by label, so that ASCII labels (with '_' for instance) never meet IDNA's rules.
  std::string out;
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) {
      dot = name.size();
    }
    const std::string label(name.substr(start, dot - start));
    bool label_ascii = true;
    for (const char c : label) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        label_ascii = false;
      }
    }
    if (!out.empty() || start > 0) {
      out += '.';
    }
    if (label_ascii) {
      out += label;
    } else {
      // libidn2 reads a C string: an embedded NUL would cut the label short ("tik\0é" became
      // "tik"), so control bytes are refused before it sees the label (found by the bad-input
      // corpus, tests/data/bad/lists/plain-nul-idn.txt).
      for (const char c : label) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          return fail(describe_bad_char(c));
        }
      }
      char* converted = nullptr;
      const int rc =
          idn2_to_ascii_8z(label.c_str(), &converted, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
      const std::unique_ptr<char, decltype(&idn2_free)> owner(converted, &idn2_free);
      if (rc != IDN2_OK) {
        return fail("cannot convert label " + quote_label(label) +
                    " to punycode: " + idn2_strerror(rc));
      }
      out += converted;
    }
    start = dot + 1;
  }
  return out;
}

}  // namespace

std::string_view describe(NameError error) noexcept {
  switch (error) {
    case NameError::Empty:
      return "empty name";
    case NameError::TooLong:
      return "name longer than 253 bytes";
    case NameError::EmptyLabel:
      return "empty label";
    case NameError::LabelTooLong:
      return "label longer than 63 bytes";
    case NameError::BadCharacter:
      return "control, space or non-ASCII byte in name";
  }
  return "unknown name error";
}

Result<std::string_view, NameError> normalize_name(std::string_view in, NameBuffer& out) noexcept {
  if (!in.empty() && in.back() == '.') {
    in.remove_suffix(1);
  }
  if (in.empty()) {
    return fail(NameError::Empty);
  }
  if (in.size() > kMaxNameLength) {
    return fail(NameError::TooLong);
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    const auto byte = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) {
        return fail(NameError::EmptyLabel);
      }
      label = 0;
    } else {
      if (byte <= 0x20 || byte >= 0x7f) {
        return fail(NameError::BadCharacter);
      }
      if (++label > kMaxLabelLength) {
        return fail(NameError::LabelTooLong);
      }
    }
    out[i] = to_lower_ascii(c);
  }
  if (label == 0) {
    return fail(NameError::EmptyLabel);  // "a.." had one dot stripped and still ends in one
  }
  return std::string_view(out.data(), in.size());
}

Result<std::string, std::string> normalize_rule_name(std::string_view in) {
  const auto invalid = [in](std::string_view why) {
    return fail("invalid domain \"" + escape_for_message(in) + "\": " + std::string(why));
  };
  std::string_view name = in;
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty()) {
    return invalid("empty name");
  }
  // Far too long even before IDN conversion: do not hand it to libidn2.
  if (name.size() > 4 * kMaxNameLength) {
    return invalid("name is " + std::to_string(name.size()) + " bytes: a name is at most 253");
  }
  auto ascii = to_ascii(name);
  if (!ascii) {
    return invalid(ascii.error());
  }
  std::string out = std::move(*ascii);
  for (char& c : out) {
    c = to_lower_ascii(c);
  }
  if (out.size() > kMaxNameLength) {
    return invalid("name is " + std::to_string(out.size()) + " bytes: a name is at most 253");
  }
  std::size_t start = 0;
  while (true) {
    std::size_t dot = out.find('.', start);
    const bool last = dot == std::string::npos;
    if (last) {
      dot = out.size();
    }
    const std::string_view label(out.data() + start, dot - start);
    if (label.empty()) {
      return invalid(start == 0 ? "name starts with a dot" : "empty label (two dots in a row)");
    }
    if (label.size() > kMaxLabelLength) {
      return invalid("label " + quote_label(label) + " is " + std::to_string(label.size()) +
                     " bytes: a label is at most 63");
    }
    for (const char c : label) {
      if (!is_rule_char(c)) {
        return invalid(describe_bad_char(c));
      }
    }
    if (label.front() == '-') {
      return invalid("label " + quote_label(label) + " starts with a hyphen");
    }
    if (label.back() == '-') {
      return invalid("label " + quote_label(label) + " ends with a hyphen");
    }
    if (last) {
      break;
    }
    start = dot + 1;
  }
  return out;
}

std::string escape_for_message(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (const char c : in) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      std::array<char, 8> hex{};
      std::snprintf(hex.data(), hex.size(), "\\x%02x", byte);
      out += hex.data();
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace egressguard::domains
