#include "filter/parse/dns.h"

namespace egressguard::parse {
namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxWireName = 255;  // RFC 1035 section 3.1
// Upper bound on compression jumps in one name. Strictly decreasing targets already stop loops;
// this caps the work on a crafted chain of pointers to pointers.
constexpr int kMaxJumps = 64;

static_assert(std::tuple_size_v<DnsNameBuffer> >= kMaxWireName - 2,
              "a 255-byte wire name is at most 253 dotted characters");

bool is_plain_name_byte(std::uint8_t c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '_';
}

}  // namespace

std::string_view describe(DnsParseError error) noexcept {
  switch (error) {
    case DnsParseError::Truncated:
      return "dns_truncated";
    case DnsParseError::BadHeader:
      return "dns_bad_header";
    case DnsParseError::NoQuestion:
      return "dns_no_question";
    case DnsParseError::BadName:
      return "dns_bad_qname";
    case DnsParseError::NameTooLong:
      return "dns_qname_too_long";
    case DnsParseError::PointerLoop:
      return "dns_pointer_loop";
    case DnsParseError::BadLabelType:
      return "dns_bad_label_type";
    case DnsParseError::BadPointer:
      return "dns_bad_pointer";
  }
  return "dns_unknown_error";
}

Result<std::string_view, DnsParseError> read_dns_name(ByteSpan message, std::size_t& offset,
                                                      DnsNameBuffer& out, bool* odd_bytes,
                                                      std::uint8_t* labels) noexcept {
  if (offset > message.size()) {
    return fail(DnsParseError::BadName);
  }
  ByteReader r(message);
  r.skip(offset);
  std::size_t segment_start = offset;  // where the current run of labels began
  std::size_t end_offset = 0;          // set at the first jump
  bool jumped = false;
  int jumps = 0;
  std::size_t wire_len = 1;  // the root label
  std::size_t written = 0;
  std::uint8_t label_count = 0;
  bool odd = false;
  for (;;) {
    const std::uint8_t len = r.u8();
    if (!r.ok()) {
      return fail(DnsParseError::BadName);
    }
    if (len == 0) {
      break;
    }
    const std::uint8_t type = len & 0xc0U;
    if (type == 0xc0U) {
      const std::size_t low = r.u8();
      if (!r.ok()) {
        return fail(DnsParseError::BadName);
      }
      const std::size_t target = ((len & 0x3fU) << 8U) | low;
      if (!jumped) {
        end_offset = r.position();
        jumped = true;
      }
      if (target < kHeaderSize) {
        return fail(DnsParseError::BadPointer);
      }
      if (target >= segment_start || ++jumps > kMaxJumps) {
        return fail(DnsParseError::PointerLoop);
      }
      segment_start = target;
      r = ByteReader(message);
      r.skip(target);
      continue;
    }
    if (type != 0) {
      return fail(DnsParseError::BadLabelType);
    }
    const ByteSpan label = r.take(len);
    if (!r.ok()) {
      return fail(DnsParseError::BadName);
    }
    wire_len += 1U + len;
    if (wire_len > kMaxWireName) {
      return fail(DnsParseError::NameTooLong);
    }
    if (written != 0) {
      out[written++] = '.';
    }
    for (const std::uint8_t c : label) {
      odd = odd || !is_plain_name_byte(c);
      out[written++] = static_cast<char>(c);
    }
    ++label_count;
  }
  offset = jumped ? end_offset : r.position();
  if (odd_bytes != nullptr) {
    *odd_bytes = odd;
  }
  if (labels != nullptr) {
    *labels = label_count;
  }
  return std::string_view(out.data(), written);
}

Result<DnsMessage, DnsParseError> parse_dns_message(ByteSpan message,
                                                    DnsNameBuffer& qname_out) noexcept {
  ByteReader r(message);
  DnsMessage m;
  m.id = r.u16();
  const std::uint16_t flags = r.u16();
  m.qdcount = r.u16();
  m.ancount = r.u16();
  m.nscount = r.u16();
  m.arcount = r.u16();
  if (!r.ok()) {
    return fail(DnsParseError::Truncated);
  }
  m.qr = (flags & 0x8000U) != 0;
  m.opcode = static_cast<std::uint8_t>((flags >> 11) & 0xfU);
  m.aa = (flags & 0x0400U) != 0;
  m.tc = (flags & 0x0200U) != 0;
  m.rd = (flags & 0x0100U) != 0;
  m.ra = (flags & 0x0080U) != 0;
  m.ad = (flags & 0x0020U) != 0;
  m.cd = (flags & 0x0010U) != 0;
  m.rcode = static_cast<std::uint8_t>(flags & 0xfU);
  // Opcodes 0 QUERY, 1 IQUERY, 2 STATUS, 4 NOTIFY, 5 UPDATE, 6 DSO; 3 and 7-15 are unassigned.
  if (m.opcode == 3 || m.opcode > 6) {
    return fail(DnsParseError::BadHeader);
  }
  if (m.qdcount == 0) {
    return fail(DnsParseError::NoQuestion);
  }
  std::size_t offset = kHeaderSize;
  if (offset >= message.size()) {
    return fail(DnsParseError::Truncated);
  }
  auto name = read_dns_name(message, offset, qname_out, &m.name_has_odd_bytes, &m.qname_labels);
  if (!name) {
    // A name cut by the end of the message is a truncated message.
    return fail(name.error() == DnsParseError::BadName ? DnsParseError::Truncated : name.error());
  }
  m.qname = *name;
  r = ByteReader(message);
  r.skip(offset);
  m.qtype = r.u16();
  m.qclass = r.u16();
  if (!r.ok()) {
    return fail(DnsParseError::Truncated);
  }
  m.question_end = r.position();
  return m;
}

std::optional<ByteSpan> next_tcp_dns_message(ByteReader& stream) noexcept {
  ByteReader probe = stream;
  const std::uint16_t length = probe.u16();
  const ByteSpan message = probe.take(length);
  if (!probe.ok()) {
    return std::nullopt;
  }
  stream = probe;
  return message;
}

}  // namespace egressguard::parse
