// The request line of an HTTP/1.x request head, as the metrics server accepts it: method GET or
// HEAD, an origin-form target (its query string dropped), version HTTP/1.x. Header fields are not
// read. Parsing only: no allocation, the views point into the head.
#pragma once

#include <string_view>

#include "base/result.h"

namespace egressguard::metrics {

struct HttpRequest {
  std::string_view method;  // "GET" or "HEAD"
  std::string_view path;    // without the query string
};

// Why a head is refused: the status to answer and a one-line reason for the body.
struct HttpRequestError {
  int status = 400;  // 400 malformed request line, 405 other method, 505 not HTTP/1.x
  std::string_view reason;
};

// `head` is the bytes up to and including the empty line; its first line (ended by "\n" or
// "\r\n", or the whole head without one) is the request line "METHOD SP TARGET SP VERSION".
Result<HttpRequest, HttpRequestError> parse_request_head(std::string_view head) noexcept;

}  // namespace egressguard::metrics
