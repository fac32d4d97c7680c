#include "filter/parse/http_host.h"

#include <algorithm>

namespace egressguard::parse {
namespace {

constexpr std::size_t kMaxMethodSize = 32;

// RFC 9110 section 5.6.2.
bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_ctl(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// The authority of an absolute-form target, "scheme://[userinfo@]authority[/?#...]".
std::string_view absolute_form_authority(std::string_view target) noexcept {
  const std::size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return {};
  }
  for (std::size_t i = 0; i < scheme_end; ++i) {
    const char c = target[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && !(i != 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
      return {};
    }
  }
  std::string_view rest = target.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    rest.remove_prefix(at + 1);
  }
  return rest;
}

// One line of the stream: its text without the line ending; `complete` false when the stream
// ends before the LF.
struct Line {
  std::string_view text;
  bool complete = false;
  std::size_t next = 0;  // offset after the line ending
};

Line next_line(std::string_view data, std::size_t from) noexcept {
  Line line;
  const std::size_t lf = data.find('\n', from);
  if (lf == std::string_view::npos) {
    line.text = data.substr(from);
    if (!line.text.empty() && line.text.back() == '\r') {
      line.text.remove_suffix(1);  // the LF may come next
    }
    return line;
  }
  line.complete = true;
  line.next = lf + 1;
  std::size_t end = lf;
  if (end > from && data[end - 1] == '\r') {
    --end;
  }
  line.text = data.substr(from, end - from);
  return line;
}

// Checks what is present of a request line; `complete` says whether its LF has arrived.
// Returns NeedMore when the prefix is consistent so far.
HttpParseError check_request_line(std::string_view line, bool complete,
                                  HttpRequestInfo& info) noexcept {
  const std::size_t sp1 = line.find(' ');
  const std::string_view method = line.substr(0, sp1);
  if (method.size() > kMaxMethodSize || !std::all_of(method.begin(), method.end(), is_tchar)) {
    return HttpParseError::NotHttp;
  }
  if (sp1 == std::string_view::npos) {
    return complete || method.size() == kMaxMethodSize ? HttpParseError::NotHttp
                                                       : HttpParseError::NeedMore;
  }
  if (method.empty()) {
    return HttpParseError::NotHttp;
  }
  const std::string_view after = line.substr(sp1 + 1);
  const std::size_t sp2 = after.find(' ');
  const std::string_view target = after.substr(0, sp2);
  if (std::any_of(target.begin(), target.end(), is_ctl)) {
    return HttpParseError::NotHttp;
  }
  if (sp2 == std::string_view::npos) {
    return complete ? HttpParseError::NotHttp : HttpParseError::NeedMore;  // HTTP/0.9 or more
  }
  const std::string_view version = after.substr(sp2 + 1);
  constexpr std::string_view kVersion = "HTTP/1.";
  const std::size_t compared = std::min(version.size(), kVersion.size());
  if (target.empty() || version.substr(0, compared) != kVersion.substr(0, compared)) {
    return HttpParseError::NotHttp;
  }
  if (!complete) {
    return version.size() > kVersion.size() + 1 ? HttpParseError::NotHttp
                                                : HttpParseError::NeedMore;
  }
  if (version.size() != kVersion.size() + 1 || version.back() < '0' || version.back() > '9') {
    return HttpParseError::NotHttp;
  }
  info.method = method;
  info.target = target;
  info.version_minor = static_cast<std::uint8_t>(version.back() - '0');
  info.is_connect = method == "CONNECT";
  if (info.is_connect) {
    info.target_authority = target;
  } else {
    info.target_authority = absolute_form_authority(target);
  }
  return HttpParseError::NeedMore;  // meaning: request line fine
}

}  // namespace

std::string_view describe(HttpParseError error) noexcept {
  switch (error) {
    case HttpParseError::NeedMore:
      return "http_need_more";
    case HttpParseError::NotHttp:
      return "http_not_http";
    case HttpParseError::NoHost:
      return "http_no_host";
    case HttpParseError::BadRequest:
      return "http_bad_request";
    case HttpParseError::TooLarge:
      return "http_too_large";
  }
  return "http_unknown_error";
}

std::string_view http_host_name(std::string_view host) noexcept {
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close == std::string_view::npos) {
      return host.substr(1);
    }
    return host.substr(1, close - 1);
  }
  const std::size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    return host.substr(0, colon);
  }
  return host;
}

Result<HttpRequestInfo, HttpParseError> parse_http_request(ByteSpan stream) noexcept {
  const bool capped = stream.size() > kMaxHttpHeaderBytes;
  const std::string_view data =
      as_chars(stream.first(std::min(stream.size(), kMaxHttpHeaderBytes)));
  const HttpParseError incomplete = capped ? HttpParseError::TooLarge : HttpParseError::NeedMore;
  HttpRequestInfo info;

  const Line request_line = next_line(data, 0);
  const HttpParseError line_error =
      check_request_line(request_line.text, request_line.complete, info);
  if (line_error != HttpParseError::NeedMore) {
    return fail(line_error);
  }
  if (!request_line.complete) {
    return fail(incomplete);
  }
  for (std::size_t at = request_line.next;;) {
    const Line line = next_line(data, at);
    if (!line.complete) {
      return fail(incomplete);
    }
    at = line.next;
    if (line.text.empty()) {
      break;  // end of the header block
    }
    if (line.text.front() == ' ' || line.text.front() == '\t') {
      continue;  // obs-fold continuation (RFC 9112 section 5.2) of a header before Host
    }
    const std::size_t colon = line.text.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return fail(HttpParseError::BadRequest);
    }
    const std::string_view name = line.text.substr(0, colon);
    // No whitespace between field name and colon (RFC 9112 section 5.1).
    if (!std::all_of(name.begin(), name.end(), is_tchar)) {
      return fail(HttpParseError::BadRequest);
    }
    if (iequals(name, "host")) {
      const std::string_view value = trim_ows(line.text.substr(colon + 1));
      if (std::any_of(value.begin(), value.end(), is_ctl)) {
        return fail(HttpParseError::BadRequest);
      }
      if (value.empty()) {
        break;  // "Host:" with no value (RFC 9110 section 7.2): only the target can name one
      }
      info.host = value;
      info.host_name = http_host_name(value);
      info.host_from_header = true;
      return info;
    }
  }
  if (info.target_authority.empty()) {
    return fail(HttpParseError::NoHost);
  }
  info.host = info.target_authority;
  info.host_name = http_host_name(info.host);
  return info;
}

bool looks_like_http_request(ByteSpan stream) noexcept {
  const std::string_view data = as_chars(stream.first(std::min(stream.size(), kMaxMethodSize + 1)));
  const std::size_t sp = data.find(' ');
  if (sp == std::string_view::npos || sp < 3) {
    return false;
  }
  return std::all_of(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(sp),
                     [](char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; });
}

}  // namespace egressguard::parse
