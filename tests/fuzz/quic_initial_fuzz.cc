// libFuzzer target for decrypt_client_initial, its frame walk, and the Google QUIC CHLO reader.
// Fuzzed bytes cannot pass AES-GCM authentication, so the frame walk is also fed directly.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "filter/parse/quic_initial.h"

namespace {

// Every chunk must lie inside `within` (the scratch or the input).
void check_chunks(const egressguard::parse::QuicInitialInfo& info, const std::uint8_t* begin,
                  std::size_t size) {
  if (info.chunk_count > info.chunks.size()) {
    std::abort();
  }
  for (const auto& chunk : info.crypto_chunks()) {
    if (!chunk.data.empty() &&
        (chunk.data.data() < begin || chunk.data.data() + chunk.data.size() > begin + size)) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::parse;
  const egressguard::ByteSpan input(data, size);
  static std::array<std::uint8_t, kQuicScratchSize> scratch{};

  const auto initial = decrypt_client_initial(input, {}, scratch);
  if (initial.has_value()) {
    check_chunks(*initial, scratch.data(), scratch.size());
  }
  // Key DCID taken from the first bytes of the input.
  if (size > 8) {
    const auto keyed = decrypt_client_initial(input.subspan(8), input.first(8), scratch);
    if (keyed.has_value()) {
      check_chunks(*keyed, scratch.data(), scratch.size());
    }
  }
  static_cast<void>(looks_like_quic_long_header(input));

  for (const QuicFraming framing : {QuicFraming::Ietf, QuicFraming::Google}) {
    QuicInitialInfo info;
    const auto frames = parse_initial_frames(input, framing, info);
    static_cast<void>(frames);
    check_chunks(info, data, size);
  }

  const auto sni = gquic_chlo_sni(input, scratch);
  if (sni.has_value()) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(sni->data());  // NOLINT
    const bool in_input = p >= data && p + sni->size() <= data + size;
    const bool in_scratch =
        p >= scratch.data() && p + sni->size() <= scratch.data() + scratch.size();
    if (!sni->empty() && !in_input && !in_scratch) {
      std::abort();
    }
  }
  static_cast<void>(gquic_chlo_message_sni(input));
  return 0;
}
