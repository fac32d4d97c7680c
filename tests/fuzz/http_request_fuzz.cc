// libFuzzer target: the metrics server's request-head parser (filter/metrics/http_request.h).
// Any bytes give a GET/HEAD request whose path is a view into the input without a space,
// control byte or '?', or a refusal with status 400, 405 or 505 and a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filter/metrics/http_request.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes as text.
  const std::string_view head(reinterpret_cast<const char*>(data), size);
  const auto request = egressguard::metrics::parse_request_head(head);
  if (!request) {
    const int status = request.error().status;
    if ((status != 400 && status != 405 && status != 505) || request.error().reason.empty()) {
      std::abort();
    }
    return 0;
  }
  if (request->method != "GET" && request->method != "HEAD") {
    std::abort();
  }
  const std::string_view path = request->path;
  if (path.data() < head.data() || path.data() + path.size() > head.data() + head.size()) {
    std::abort();  // a view into the input
  }
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '?') {
      std::abort();
    }
  }
  return 0;
}
