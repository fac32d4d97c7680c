#include "filter/metrics/http_request.h"

namespace egressguard::metrics {

namespace {

bool is_token_char(char c) noexcept {
  // RFC 9110 tchar, enough for a method name.
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_visible(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;  // no controls, no space (obs-text bytes >= 0x80 are allowed)
}

}  // namespace

Result<HttpRequest, HttpRequestError> parse_request_head(std::string_view head) noexcept {
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return fail(HttpRequestError{400, "malformed request line"});
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (const char c : method) {
    if (!is_token_char(c)) {
      return fail(HttpRequestError{400, "malformed request line"});
    }
  }
  for (const char c : target) {
    if (!is_visible(c)) {
      return fail(HttpRequestError{400, "malformed request line"});
    }
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9') {
    return fail(HttpRequestError{505, "only HTTP/1.x"});
  }
  if (method != "GET" && method != "HEAD") {
    return fail(HttpRequestError{405, "only GET and HEAD"});
  }
  return HttpRequest{method, target.substr(0, target.find('?'))};
}

}  // namespace egressguard::metrics
