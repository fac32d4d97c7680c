#include "filter/datapath/dnsproxy/dns_message.h"

#include <cstring>

#include "base/byte_reader.h"

namespace egressguard::dnsproxy {

namespace {

using parse::DnsParseError;

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// The fixed part of a resource record after its owner name (RFC 1035 section 4.1.3).
struct RecordHead {
  std::uint16_t type = 0;
  std::uint16_t rclass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata_offset = 0;
  std::uint16_t rdlength = 0;
};

// Reads one record at `offset` (owner name into `owner`), moves `offset` past it.
Result<RecordHead, DnsParseError> read_record(ByteSpan message, std::size_t& offset,
                                              parse::DnsNameBuffer& owner,
                                              std::string_view* owner_name) noexcept {
  auto name = parse::read_dns_name(message, offset, owner);
  if (!name) {
    return fail(name.error());
  }
  if (owner_name != nullptr) {
    *owner_name = *name;
  }
  ByteReader r(message.subspan(offset));
  RecordHead head;
  head.type = r.u16();
  head.rclass = r.u16();
  head.ttl = r.u32();
  head.rdlength = r.u16();
  r.skip(head.rdlength);
  if (!r.ok()) {
    return fail(DnsParseError::Truncated);
  }
  head.rdata_offset = offset + 10;
  offset = head.rdata_offset + head.rdlength;
  return head;
}

}  // namespace

std::string_view describe(QueryError error) noexcept {
  switch (error) {
    case QueryError::NoHeader:
      return "no_header";
    case QueryError::NotQuery:
      return "not_query";
    case QueryError::Malformed:
      return "malformed";
    case QueryError::NotImplemented:
      return "not_implemented";
  }
  return "unknown";
}

bool same_name(std::string_view a, std::string_view b) noexcept {
  if (!a.empty() && a.back() == '.') {
    a.remove_suffix(1);
  }
  if (!b.empty() && b.back() == '.') {
    b.remove_suffix(1);
  }
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

Result<QueryInfo, QueryError> parse_query(ByteSpan query, parse::DnsNameBuffer& qname) noexcept {
  if (query.size() < kDnsHeaderSize) {
    return fail(QueryError::NoHeader);
  }
  if ((query[2] & 0x80U) != 0) {
    return fail(QueryError::NotQuery);
  }
  const auto opcode = static_cast<std::uint8_t>((query[2] >> 3) & 0x0fU);
  if (opcode != 0) {
    return fail(QueryError::NotImplemented);
  }
  auto message = parse::parse_dns_message(query, qname);
  if (!message || message->qdcount != 1) {
    return fail(QueryError::Malformed);
  }
  QueryInfo info;
  info.message = *message;
  std::size_t offset = message->question_end;
  parse::DnsNameBuffer owner{};
  const std::uint32_t records =
      std::uint32_t{message->ancount} + message->nscount + message->arcount;
  for (std::uint32_t i = 0; i < records; ++i) {
    std::string_view owner_name;
    auto head = read_record(query, offset, owner, &owner_name);
    if (!head) {
      return fail(QueryError::Malformed);
    }
    if (head->type == kTypeOpt) {
      // RFC 6891 section 6.1.1: one OPT, owner root, in the additional section.
      const bool in_additional = i >= std::uint32_t{message->ancount} + message->nscount;
      if (info.edns || !owner_name.empty() || !in_additional) {
        return fail(QueryError::Malformed);
      }
      info.edns = true;
      info.edns_udp_size = head->rclass;
      info.edns_do = (head->ttl & 0x8000U) != 0;
    }
  }
  if (offset != query.size()) {
    return fail(QueryError::Malformed);  // trailing bytes
  }
  return info;
}

Result<ResponseScan, parse::DnsParseError> scan_response(ByteSpan response,
                                                         parse::DnsNameBuffer& qname,
                                                         ResponseVisitor* visitor) noexcept {
  auto message = parse::parse_dns_message(response, qname);
  if (!message) {
    return fail(message.error());
  }
  ResponseScan scan;
  scan.header = *message;
  scan.answers = message->ancount;
  std::size_t offset = message->question_end;
  parse::DnsNameBuffer scratch{};
  for (std::uint16_t i = 1; i < message->qdcount; ++i) {
    auto name = parse::read_dns_name(response, offset, scratch);
    if (!name || response.size() - offset < 4) {
      return fail(DnsParseError::Truncated);
    }
    offset += 4;
  }
  parse::DnsNameBuffer owner{};
  const std::uint32_t records =
      std::uint32_t{message->ancount} + message->nscount + message->arcount;
  for (std::uint32_t i = 0; i < records; ++i) {
    std::string_view owner_name;
    auto head = read_record(response, offset, owner, &owner_name);
    if (!head) {
      return fail(head.error());
    }
    const ByteSpan rdata = response.subspan(head->rdata_offset, head->rdlength);
    const bool in_answer = i < message->ancount;
    if (head->type == kTypeHttps || head->type == kTypeSvcb) {
      std::size_t at = head->rdata_offset + 2;
      auto target = parse::read_dns_name(response, at, scratch);
      if (!target || at > head->rdata_offset + head->rdlength) {
        return fail(DnsParseError::BadName);
      }
      const ByteSpan params = response.subspan(at, head->rdata_offset + head->rdlength - at);
      if (params_have_ech(params)) {
        scan.has_ech = true;
      }
    }
    if (!in_answer || visitor == nullptr || head->rclass != 1) {
      continue;
    }
    if (head->type == kTypeCname) {
      std::size_t at = head->rdata_offset;
      auto target = parse::read_dns_name(response, at, scratch);
      if (!target) {
        return fail(target.error());
      }
      visitor->on_cname(owner_name, *target);
    } else if ((head->type == kTypeA && head->rdlength == 4) ||
               (head->type == kTypeAaaa && head->rdlength == 16)) {
      visitor->on_address(owner_name, parse::IpAddress::from_bytes(rdata));
    }
  }
  if (offset != response.size()) {
    return fail(DnsParseError::Truncated);
  }
  return scan;
}

bool params_have_ech(ByteSpan params) noexcept {
  ByteReader r(params);
  while (r.ok() && !r.empty()) {
    const std::uint16_t key = r.u16();
    const std::uint16_t length = r.u16();
    r.skip(length);
    if (r.ok() && key == kSvcParamEch) {
      return true;
    }
  }
  return false;
}

Result<std::size_t, parse::DnsParseError> strip_ech_params(ByteSpan params,
                                                           std::uint8_t* out) noexcept {
  ByteReader r(params);
  std::size_t written = 0;
  while (!r.empty()) {
    const std::size_t start = r.position();
    const std::uint16_t key = r.u16();
    const std::uint16_t length = r.u16();
    r.skip(length);
    if (!r.ok()) {
      return fail(parse::DnsParseError::Truncated);
    }
    if (key == kSvcParamEch) {
      continue;
    }
    const std::size_t size = r.position() - start;
    std::memcpy(out + written, params.data() + start, size);
    written += size;
  }
  return written;
}

}  // namespace egressguard::dnsproxy
