// What the DNS proxy reads from the wire besides the first question (parse/dns.h): the query's
// EDNS OPT record (RFC 6891), and the records of an upstream answer — CNAME targets and A/AAAA
// addresses for answer inspection, and whether an HTTPS/SVCB record carries an `ech`
// SvcParam (RFC 9460 section 14.3.2). No allocation; names are decoded into caller buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"
#include "filter/parse/dns.h"
#include "filter/parse/ip_address.h"

namespace egressguard::dnsproxy {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeAaaa = 28;
inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kTypeSvcb = 64;
inline constexpr std::uint16_t kTypeHttps = 65;
inline constexpr std::uint16_t kSvcParamEch = 5;

inline constexpr std::uint8_t kRcodeNoError = 0;
inline constexpr std::uint8_t kRcodeFormErr = 1;
inline constexpr std::uint8_t kRcodeServFail = 2;
inline constexpr std::uint8_t kRcodeNxDomain = 3;
inline constexpr std::uint8_t kRcodeNotImp = 4;
inline constexpr std::uint8_t kRcodeRefused = 5;

inline constexpr std::size_t kDnsHeaderSize = 12;

// A query as the proxy needs it. `message.qname` is a view into the caller's DnsNameBuffer.
struct QueryInfo {
  parse::DnsMessage message;
  bool edns = false;                // the query carries an OPT record
  std::uint16_t edns_udp_size = 0;  // the client's advertised payload size (OPT CLASS)
  bool edns_do = false;
  // Largest UDP answer the client accepts: 512 without EDNS (RFC 1035), else max(512, OPT).
  std::size_t max_udp_answer() const noexcept {
    return edns && edns_udp_size > 512 ? edns_udp_size : 512;
  }
};

enum class QueryError : std::uint8_t {
  NoHeader,        // shorter than a header: nothing to answer, drop
  NotQuery,        // QR set: a response sent to the proxy, drop
  Malformed,       // header readable, the rest is not: FORMERR
  NotImplemented,  // opcode other than QUERY: NOTIMP
};
std::string_view describe(QueryError error) noexcept;

// Parses a query: exactly one question, every record after it well-formed, at most one OPT.
Result<QueryInfo, QueryError> parse_query(ByteSpan query, parse::DnsNameBuffer& qname) noexcept;

// Receives what scan_response finds in the answer section. Views are valid during the call.
class ResponseVisitor {
 public:
  virtual ~ResponseVisitor() = default;
  virtual void on_cname(std::string_view owner, std::string_view target) = 0;
  virtual void on_address(std::string_view owner, const parse::IpAddress& address) = 0;
};

struct ResponseScan {
  parse::DnsMessage header;  // qname is a view into the caller's buffer
  bool has_ech = false;      // an HTTPS/SVCB record (any section) has an ech SvcParam
  std::uint16_t answers = 0;
};

// Walks a whole response, checking its structure; calls `visitor` for each CNAME and A/AAAA
// record of the answer section. Fails on any malformed record.
Result<ResponseScan, parse::DnsParseError> scan_response(ByteSpan response,
                                                         parse::DnsNameBuffer& qname,
                                                         ResponseVisitor* visitor) noexcept;

// Case-insensitive (ASCII) comparison of dotted names; a trailing dot is ignored.
bool same_name(std::string_view a, std::string_view b) noexcept;

// Copies the SvcParams of one SVCB/HTTPS RDATA (RFC 9460 section 2.2: key, length, value, ...)
// into `out` without the `ech` key (5). `out` must hold params.size() bytes. Returns the new
// length, or nothing when the params are malformed (a length runs past the end).
Result<std::size_t, parse::DnsParseError> strip_ech_params(ByteSpan params,
                                                           std::uint8_t* out) noexcept;
// True when the SvcParams hold an `ech` key.
bool params_have_ech(ByteSpan params) noexcept;

}  // namespace egressguard::dnsproxy
