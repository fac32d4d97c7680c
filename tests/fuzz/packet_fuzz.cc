// libFuzzer target for decode_packet: the first byte picks the link type, the rest is the frame.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "filter/parse/packet.h"

namespace {

// Every view the decoder returns must lie inside the frame.
void check_inside(egressguard::ByteSpan part, egressguard::ByteSpan frame) {
  if (!part.empty() &&
      (part.data() < frame.data() || part.data() + part.size() > frame.data() + frame.size())) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::parse;
  if (size == 0) {
    return 0;
  }
  const auto link = static_cast<LinkType>(data[0] % 7);
  const egressguard::ByteSpan frame(data + 1, size - 1);
  const auto packet = decode_packet(link, frame);
  if (!packet.has_value()) {
    static_cast<void>(describe(packet.error()));
    return 0;
  }
  check_inside(packet->payload, frame);
  if (packet->tunnel_depth > kMaxTunnelDepth || packet->l3_offset > frame.size() ||
      packet->l4_offset > frame.size()) {
    std::abort();
  }
  if (packet->src.family != 4 && packet->src.family != 6) {
    std::abort();
  }
  return 0;
}
