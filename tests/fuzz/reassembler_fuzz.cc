// libFuzzer target for the bounded stream reassembly (ReassemblyPool) and the QUIC CRYPTO
// helpers (crypto_message_length, feed_crypto_chunks), checked against a model: the in-order
// bytes of a buffer are exactly the first bytes written at each offset of its window, and the
// pool never holds more than its memory bound.
// Input: a program of operations, one per step: opcode byte, then its operands.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <vector>

#include "base/byte_reader.h"
#include "filter/inspect/crypto_reassembler.h"
#include "filter/inspect/stream_reassembler.h"

namespace {

using namespace egressguard;
using inspect::kNoBuffer;
using inspect::ReassemblyPool;

constexpr std::uint32_t kBufferBytes = 64;
constexpr std::size_t kBuffers = 3;

// What a buffer should hold: absolute stream offset -> first byte stored there.
struct Model {
  std::uint32_t id = kNoBuffer;
  std::uint64_t base = 0;
  std::map<std::uint64_t, std::uint8_t> bytes;
};

void check(const ReassemblyPool& pool, const Model& m) {
  if (m.id == kNoBuffer) {
    return;
  }
  const ByteSpan in_order = pool.contiguous(m.id);
  if (in_order.size() > kBufferBytes) {
    std::abort();
  }
  std::size_t expected = 0;
  for (auto it = m.bytes.find(m.base); it != m.bytes.end() && it->first == m.base + expected;
       ++it, ++expected) {
    if (expected < in_order.size() && in_order[expected] != it->second) {
      std::abort();  // first bytes win
    }
  }
  if (in_order.size() != expected) {
    std::abort();
  }
  if (pool.full(m.id) != (expected == kBufferBytes)) {
    std::abort();
  }
  const bool beyond = !m.bytes.empty() && m.bytes.rbegin()->first >= m.base + expected;
  if (pool.has_hole(m.id) != beyond) {
    std::abort();
  }
}

void write(ReassemblyPool& pool, Model& m, std::uint32_t offset, ByteSpan bytes) {
  const inspect::WriteOutcome out = pool.write(m.id, offset, bytes);
  if (out.refused) {
    return;
  }
  // Offsets are mod 2^32: a byte before the window (already consumed) is far "ahead" of it.
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::uint32_t rel =
        offset + static_cast<std::uint32_t>(i) - static_cast<std::uint32_t>(m.base);
    if (rel < kBufferBytes) {
      m.bytes.emplace(m.base + rel, bytes[i]);  // keeps an existing byte
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ByteReader program(ByteSpan(data, size));
  // Room for two buffers at most: the third acquire must fail until one is released.
  ReassemblyPool pool(kBufferBytes, 2 * (kBufferBytes + sizeof(inspect::ReassemblyState)));
  std::array<Model, kBuffers> models{};
  while (program.ok() && !program.rest().empty()) {
    const std::uint8_t op = program.u8();
    Model& m = models[(op >> 4) % kBuffers];
    switch (op & 0x0f) {
      case 0:  // acquire
        if (m.id == kNoBuffer) {
          m = Model{};
          m.id = pool.acquire();
        }
        break;
      case 1:  // release
        if (m.id != kNoBuffer) {
          pool.release(m.id);
          m = Model{};
        }
        break;
      case 2:
      case 3: {  // write: u8 offset (small, so writes overlap), u8 length, bytes
        const std::uint32_t offset = program.u8();
        const ByteSpan bytes = program.take(program.u8() % 80);
        if (m.id != kNoBuffer && program.ok()) {
          write(pool, m, static_cast<std::uint32_t>(m.base) + offset - 16, bytes);
        }
        break;
      }
      case 4: {  // consume: u8 count (at most the in-order bytes)
        const std::uint32_t n = program.u8();
        if (m.id != kNoBuffer) {
          const auto have = static_cast<std::uint32_t>(pool.contiguous(m.id).size());
          const std::uint32_t take = have == 0 ? 0 : n % (have + 1);
          pool.consume(m.id, take);
          for (std::uint32_t i = 0; i < take; ++i) {
            m.bytes.erase(m.base + i);
          }
          m.base += take;
        }
        break;
      }
      case 5: {  // message length of the stream so far, both kinds
        if (m.id != kNoBuffer) {
          const ByteSpan prefix = pool.contiguous(m.id);
          for (const auto kind :
               {inspect::CryptoMessage::TlsClientHello, inspect::CryptoMessage::GoogleChlo}) {
            const auto length = inspect::crypto_message_length(prefix, kind);
            if (!length && length.error() == inspect::CryptoLengthError::NeedMore &&
                prefix.size() >= 4096) {
              std::abort();  // any header is complete well within 4 KiB
            }
          }
        }
        break;
      }
      case 6: {  // CRYPTO chunks into a fresh buffer: u8 count, each u16 offset, u8 length, bytes
        std::array<parse::QuicCryptoChunk, 4> chunks{};
        const std::size_t count = program.u8() % (chunks.size() + 1);
        for (std::size_t i = 0; i < count; ++i) {
          chunks[i].offset = program.u16();
          chunks[i].data = program.take(program.u8() % 80);
        }
        if (m.id == kNoBuffer || !program.ok()) {
          break;
        }
        pool.release(m.id);
        m = Model{};
        m.id = pool.acquire();
        if (m.id == kNoBuffer) {
          break;
        }
        const auto out = inspect::feed_crypto_chunks(
            pool, m.id, std::span<const parse::QuicCryptoChunk>(chunks.data(), count));
        // The chunks in order, first bytes winning; a refused chunk stores nothing, so the
        // pool's in-order bytes are a prefix-consistent subset of these.
        std::map<std::uint64_t, std::uint8_t> expected;
        for (std::size_t i = 0; i < count; ++i) {
          for (std::size_t j = 0; j < chunks[i].data.size(); ++j) {
            if (chunks[i].offset + j < kBufferBytes) {
              expected.emplace(chunks[i].offset + j, chunks[i].data[j]);
            } else if (!out.truncated) {
              std::abort();  // bytes beyond the window are reported
            }
          }
        }
        const ByteSpan in_order = pool.contiguous(m.id);
        for (std::size_t i = 0; i < in_order.size(); ++i) {
          const auto it = expected.find(i);
          if (it == expected.end() || (!out.refused && it->second != in_order[i])) {
            std::abort();
          }
        }
        // The model cannot tell which chunks were refused: start the buffer afresh.
        pool.release(m.id);
        m = Model{};
        break;
      }
      default:
        break;
    }
    for (const Model& each : models) {
      check(pool, each);
    }
    if (pool.bytes_reserved() > 2 * (kBufferBytes + sizeof(inspect::ReassemblyState))) {
      std::abort();
    }
  }
  return 0;
}
