// libFuzzer target for assemble_client_hello + parse_client_hello, and parse_client_hello on the
// raw input (the QUIC CRYPTO path).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "filter/parse/tls_client_hello.h"

namespace {

bool inside(egressguard::ByteSpan part, egressguard::ByteSpan whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check(egressguard::ByteSpan handshake) {
  using namespace egressguard::parse;
  const auto info = parse_client_hello(handshake);
  if (!info.has_value()) {
    return;
  }
  if (!inside(egressguard::as_bytes(info->sni), handshake) || !inside(info->alpn, handshake)) {
    std::abort();
  }
  static_cast<void>(alpn_offers(info->alpn, "h2"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::parse;
  static std::array<std::uint8_t, kClientHelloScratchSize> scratch{};
  const egressguard::ByteSpan stream(data, size);
  static_cast<void>(looks_like_tls(stream));
  const auto message = assemble_client_hello(stream, scratch);
  if (message.has_value()) {
    const egressguard::ByteSpan scratch_view(scratch.data(), scratch.size());
    if (!inside(*message, stream) && !inside(*message, scratch_view)) {
      std::abort();
    }
    check(*message);
  }
  check(stream);
  return 0;
}
