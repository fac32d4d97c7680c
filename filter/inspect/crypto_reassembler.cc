#include "filter/inspect/crypto_reassembler.h"

#include "base/byte_reader.h"

namespace egressguard::inspect {
namespace {

constexpr std::uint8_t kHandshakeClientHello = 1;
constexpr std::uint32_t kChloTag = 0x43484c4fU;  // "CHLO" as read big-endian
// A CHLO carries a few dozen tags; more is not a real client.
constexpr std::uint32_t kMaxChloTags = 128;

std::uint32_t le32(ByteSpan b) noexcept {
  return std::uint32_t{b[0]} | std::uint32_t{b[1]} << 8 | std::uint32_t{b[2]} << 16 |
         std::uint32_t{b[3]} << 24;
}

}  // namespace

Result<std::size_t, CryptoLengthError> crypto_message_length(ByteSpan prefix,
                                                             CryptoMessage kind) noexcept {
  ByteReader r(prefix);
  if (kind == CryptoMessage::TlsClientHello) {
    const std::uint8_t type = r.u8();
    if (r.ok() && type != kHandshakeClientHello) {
      return fail(CryptoLengthError::BadStart);
    }
    const std::uint32_t length = r.u24();
    if (!r.ok()) {
      return fail(CryptoLengthError::NeedMore);
    }
    return std::size_t{4} + length;
  }
  const std::uint32_t tag = r.u32();
  if (r.ok() && tag != kChloTag) {
    return fail(CryptoLengthError::BadStart);
  }
  const ByteSpan count_bytes = r.take(2);
  r.skip(2);
  if (!r.ok()) {
    return fail(CryptoLengthError::NeedMore);
  }
  const std::uint32_t count = std::uint32_t{count_bytes[0]} | std::uint32_t{count_bytes[1]} << 8;
  if (count == 0 || count > kMaxChloTags) {
    return fail(CryptoLengthError::BadStart);
  }
  r.skip(std::size_t{count - 1} * 8 + 4);  // to the last entry's end offset
  const ByteSpan last_end = r.take(4);
  if (!r.ok()) {
    return fail(CryptoLengthError::NeedMore);
  }
  return std::size_t{8} + std::size_t{count} * 8 + le32(last_end);
}

WriteOutcome feed_crypto_chunks(ReassemblyPool& pool, std::uint32_t buffer,
                                std::span<const parse::QuicCryptoChunk> chunks) noexcept {
  WriteOutcome all;
  for (const parse::QuicCryptoChunk& chunk : chunks) {
    if (chunk.data.empty()) {
      continue;
    }
    if (chunk.offset >= pool.buffer_bytes()) {
      all.truncated = true;
      continue;
    }
    const WriteOutcome w = pool.write(buffer, static_cast<std::uint32_t>(chunk.offset), chunk.data);
    all.added |= w.added;
    all.overlap |= w.overlap;
    all.conflict |= w.conflict;
    all.out_of_order |= w.out_of_order;
    all.truncated |= w.truncated;
    all.refused |= w.refused;
  }
  all.duplicate = !all.added;
  return all;
}

}  // namespace egressguard::inspect
