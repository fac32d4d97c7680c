// HTTP/1.x request parsing at the start of a TCP stream (RFC 9112 sections 3 and 5): the request
// line and the Host header, as soon as they are complete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::parse {

enum class HttpParseError : std::uint8_t {
  NeedMore,    // not an error: neither the Host line nor the end of the headers arrived yet
  NotHttp,     // not an HTTP/1.x request line (TLS, HTTP/2 preface, binary ...)
  NoHost,      // headers complete without Host, and the target names no authority
  BadRequest,  // an HTTP/1.x request with a malformed header line
  TooLarge,    // no answer within kMaxHttpHeaderBytes
};

// A snake_case label for counters, e.g. "http_no_host".
std::string_view describe(HttpParseError error) noexcept;

// Bytes of request line and headers examined before giving up with TooLarge.
inline constexpr std::size_t kMaxHttpHeaderBytes = std::size_t{16} * 1024;

// Views into the stream given to parse_http_request: valid only while that buffer is.
struct HttpRequestInfo {
  std::string_view method;  // as sent (methods are case-sensitive)
  std::string_view target;  // origin-form "/x", absolute-form "http://h/x", authority "h:443"
  // The first Host header's value without surrounding whitespace, verbatim (may carry ":port",
  // be an IP literal or "[v6]"). Without a Host header: the authority of a CONNECT or
  // absolute-form target.
  std::string_view host;
  std::string_view host_name;  // `host` without ":port" and without IPv6 brackets
  // The authority of an absolute-form or CONNECT target (a proxy connects there, whatever Host
  // says); empty for origin-form.
  std::string_view target_authority;
  bool is_connect = false;
  bool host_from_header = false;   // false when `host` came from the target
  std::uint8_t version_minor = 1;  // HTTP/1.x
};

// Parses the start of a client's TCP stream. Returns as soon as the Host line is complete,
// without waiting for the rest of the header block; NeedMore until then (or until the empty
// line ending the headers). Lines may end with CRLF or a bare LF.
Result<HttpRequestInfo, HttpParseError> parse_http_request(ByteSpan stream) noexcept;

// A cheap check for dispatching on any port: an upper-case method token followed by a space
// (e.g. "GET ", "PROPFIND "). Needs the method and the space present.
bool looks_like_http_request(ByteSpan stream) noexcept;

// `host` without ":port" and without IPv6 brackets: "a.b:80" -> "a.b", "[::1]:8080" -> "::1".
// A value with several colons and no brackets (a bare IPv6 literal) is returned whole.
std::string_view http_host_name(std::string_view host) noexcept;

}  // namespace egressguard::parse
