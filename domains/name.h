// Domain name normalisation: one fast, lenient form for names seen on the network (qname, SNI,
// Host) and one strict form, with IDN conversion, for names read from lists.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace egressguard::domains {

// Scratch for one normalised name: 253 bytes of text fit with room to spare.
using NameBuffer = std::array<char, 256>;
// RFC 1035 section 2.3.4: 255 bytes on the wire = 253 characters in text form, no root dot.
constexpr std::size_t kMaxNameLength = 253;
constexpr std::size_t kMaxLabelLength = 63;
static_assert(kMaxNameLength < std::tuple_size_v<NameBuffer>);

enum class NameError : std::uint8_t {
  Empty,         // nothing left after removing the trailing dot
  TooLong,       // more than kMaxNameLength bytes
  EmptyLabel,    // "a..b", ".a"
  LabelTooLong,  // a label of more than kMaxLabelLength bytes
  BadCharacter,  // control byte, space, DEL or non-ASCII byte
};

// A short English phrase, e.g. "label longer than 63 bytes".
std::string_view describe(NameError error) noexcept;

// Hot path, for names from the network. Lower-cases ASCII letters, strips ONE trailing dot,
// checks the total length (<= 253) and label lengths (1..63). Lenient about characters: only
// bytes that can never be part of a name we match (< 0x21, 0x7f, >= 0x80) are rejected; '_', '*'
// and other punctuation pass through (they simply match no rule).
// The result is a view into `out`: valid while `out` is and until it is reused.
Result<std::string_view, NameError> normalize_name(std::string_view in, NameBuffer& out) noexcept;

// Load path, for names read from lists and configuration. Strict: labels of letters, digits,
// '-' and '_' (for _dns-sd style names), no label starting or ending with '-'; UTF-8 names
// (IDN) are converted to punycode A-labels with libidn2 (IDNA2008, non-transitional); one
// trailing dot is removed; ASCII is lower-cased. The error is a full sentence naming the input,
// e.g. `invalid domain "exa mple.com": label contains a space`.
Result<std::string, std::string> normalize_rule_name(std::string_view in);

// `in` with bytes outside printable ASCII written as \xNN and '"', '\' escaped: for quoting
// untrusted names inside messages.
std::string escape_for_message(std::string_view in);

}  // namespace egressguard::domains
