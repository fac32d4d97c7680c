// libFuzzer target for parse_socks_request.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "filter/parse/socks.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::parse;
  const egressguard::ByteSpan stream(data, size);
  const bool looks = looks_like_socks(stream);
  const auto request = parse_socks_request(stream);
  if (!request.has_value()) {
    if (looks != (request.error() != SocksError::NotSocks)) {
      std::abort();
    }
    return 0;
  }
  // The handshake lies within the stream, the views too, and shorter prefixes wait for more.
  if (!looks || request->handshake_size == 0 || request->handshake_size > size) {
    std::abort();
  }
  const std::string_view whole = egressguard::as_chars(stream);
  const std::string_view domain = request->domain;
  if (!domain.empty() && (domain.data() < whole.data() ||
                          domain.data() + domain.size() > whole.data() + request->handshake_size)) {
    std::abort();
  }
  if ((request->address_type == SocksAddressType::Domain) == domain.empty()) {
    std::abort();
  }
  const auto shorter = parse_socks_request(stream.first(request->handshake_size - 1));
  if (shorter.has_value() || shorter.error() != SocksError::NeedMore) {
    std::abort();
  }
  return 0;
}
