// libFuzzer target for parse_http_request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filter/parse/http_host.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::parse;
  const egressguard::ByteSpan stream(data, size);
  static_cast<void>(looks_like_http_request(stream));
  const auto request = parse_http_request(stream);
  if (!request.has_value()) {
    return 0;
  }
  const std::string_view whole = egressguard::as_chars(stream);
  for (const std::string_view part :
       {request->method, request->target, request->host, request->host_name}) {
    if (!part.empty() &&
        (part.data() < whole.data() || part.data() + part.size() > whole.data() + whole.size())) {
      std::abort();
    }
  }
  if (request->host.empty() || request->method.empty()) {
    std::abort();
  }
  return 0;
}
