// libFuzzer target for the whole inspection path: bytes -> decode_packet -> Inspector, several
// frames per input so that flows, reassembly and QUIC CRYPTO state are exercised.
// Input: byte 0 picks the link type; then frames, each prefixed by a 2-byte big-endian length
// (a final frame without a complete prefix takes the rest). Small bounds make evictions and
// reassembly drops reachable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "filter/inspect/inspector.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace {

using namespace egressguard;

// Touches every byte of every view, so ASan catches a view that outlived its buffer.
class CheckingSink : public inspect::ObservationSink {
 public:
  void on_observation(const inspect::Observation& o) override {
    for (const char c : o.name) {
      sum_ += static_cast<unsigned char>(c);
    }
    for (const char c : o.alpn) {
      sum_ += static_cast<unsigned char>(c);
    }
    for (const char c : o.interface) {
      sum_ += static_cast<unsigned char>(c);
    }
    if (o.l4 != 6 && o.l4 != 17) {
      std::abort();
    }
  }
  unsigned sum_ = 0;
};

const test::TestPolicy& policy() {
  static const auto* const kPolicy = new test::TestPolicy();
  return *kPolicy;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  inspect::InspectConfig config;
  config.max_flows = 8;
  config.stream_bytes = 2048;
  config.reassembly_memory = 4 * (2048 + sizeof(inspect::ReassemblyState));
  config.max_packets_per_flow_inspected = 8;
  config.flow_idle_timeout_s = 1;
  CheckingSink sink;
  inspect::Inspector inspector(policy().store(), config, &sink);
  const auto link = static_cast<parse::LinkType>(data[0] % 7);
  ByteSpan rest(data + 1, size - 1);
  inspect::PacketMeta meta{1000000, "fuzz0"};
  while (!rest.empty()) {
    std::size_t length = rest.size();
    if (rest.size() >= 2) {
      length = std::min<std::size_t>(rest.size() - 2, std::size_t{rest[0]} << 8 | rest[1]);
      rest = rest.subspan(2);
    }
    // Copy: a frame must not be readable beyond its own bytes.
    const std::unique_ptr<std::uint8_t[]> frame(new std::uint8_t[length + 1]);
    std::copy_n(rest.begin(), length, frame.get());
    meta.ts_us += 300000;  // idle timeouts happen within an input
    static_cast<void>(inspector.inspect_frame(link, ByteSpan(frame.get(), length), meta));
    rest = rest.subspan(length);
    if (inspector.flow_count() > config.max_flows ||
        inspector.stats().reassembly_bytes_reserved > config.reassembly_memory) {
      std::abort();
    }
  }
  inspector.expire(meta.ts_us + 10000000);
  inspector.flush();
  if (inspector.stats().reassembly_bytes_in_use != 0 || inspector.flow_count() != 0) {
    std::abort();
  }
  return 0;
}
