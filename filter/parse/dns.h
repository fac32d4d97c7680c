// DNS message parsing for the match path (RFC 1035 section 4): the header and the first
// question, names with compression pointers, and the length-prefixed framing of DNS over TCP.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/byte_reader.h"
#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::parse {

// A decoded name in dotted form: at most 253 characters (a 255-byte wire name, RFC 1035
// section 3.1), so 256 always fits.
using DnsNameBuffer = std::array<char, 256>;

enum class DnsParseError : std::uint8_t {
  Truncated,     // the message ends inside the header or the question
  BadHeader,     // reserved opcode
  NoQuestion,    // QDCOUNT is 0
  BadName,       // a name runs past the message
  NameTooLong,   // more than 255 bytes in wire form
  PointerLoop,   // a compression pointer that does not point strictly backwards
  BadLabelType,  // label type 0x40 / 0x80 (extended or obsolete bit-string labels)
  BadPointer,    // a compression pointer into the header
};

// A snake_case label for counters, e.g. "dns_bad_qname".
std::string_view describe(DnsParseError error) noexcept;

// The header and first question of a message. `qname` is a view into the caller's
// DnsNameBuffer: valid while that buffer is and until it is reused.
struct DnsMessage {
  std::uint16_t id = 0;
  bool qr = false;  // false: query, true: response
  std::uint8_t opcode = 0;
  std::uint8_t rcode = 0;
  bool aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  std::uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  // Dotted, no trailing dot, case kept; the root name "." is empty. Label bytes are copied
  // raw (no escaping): see name_has_odd_bytes.
  std::string_view qname;
  std::uint8_t qname_labels = 0;
  // A byte outside [0-9A-Za-z_-] in some label (including a '.' inside a label, which makes the
  // dotted form ambiguous). Loggers must escape; matchers may refuse.
  bool name_has_odd_bytes = false;
  std::uint16_t qtype = 0, qclass = 0;
  std::size_t question_end = 0;  // offset just after the first question
};

// Parses the header and the first question. Further questions (QDCOUNT > 1) start at
// `question_end`.
Result<DnsMessage, DnsParseError> parse_dns_message(ByteSpan message,
                                                    DnsNameBuffer& qname_out) noexcept;

// Reads the name at `offset` in `message` (answers, CNAME targets), following compression
// pointers: each must point strictly before the previous jump target (so no loops), never into
// the header. On success `offset` moves past the name as stored at that place, and the result is
// a view into `out`; on failure `offset` is unchanged. `odd_bytes`, when given, is set as
// DnsMessage::name_has_odd_bytes; `labels`, when given, receives the label count.
Result<std::string_view, DnsParseError> read_dns_name(ByteSpan message, std::size_t& offset,
                                                      DnsNameBuffer& out, bool* odd_bytes = nullptr,
                                                      std::uint8_t* labels = nullptr) noexcept;

// DNS over TCP (RFC 1035 section 4.2.2, RFC 7766): each message has a 2-byte length prefix and
// one segment may hold several. Returns the next complete message (a view into the stream) and
// advances `stream` past it, or nullopt (leaving `stream` as it was) when the stream does not yet
// hold a complete message.
std::optional<ByteSpan> next_tcp_dns_message(ByteReader& stream) noexcept;

}  // namespace egressguard::parse
