// Bounded reassembly of a client's byte stream — a TCP stream from its initial sequence number,
// or the CRYPTO stream of QUIC Initial packets — until a name parser has what it needs.
//
// One fixed-size buffer per flow being reassembled, taken from a pool whose total size is capped
// (InspectConfig::reassembly_memory): buffers are allocated lazily in chunks up to the cap and
// reused through a free list, so a warmed-up pool never allocates. Segments may arrive out of
// order, overlap, repeat or be 1 byte long: a buffer keeps up to kMaxPendingRanges disjoint byte
// ranges and the first bytes stored for an offset win (later, different bytes are reported as a
// conflict — an evasion attempt — never stored).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/byte_span.h"

namespace egressguard::inspect {

inline constexpr std::uint32_t kNoBuffer = 0xffffffffU;
// Holes a buffer tracks at once; a segment that would need more ranges is refused. Real stacks
// leave one or two holes; more is a crafted or badly broken stream.
inline constexpr std::size_t kMaxPendingRanges = 8;
// QUIC connection IDs are at most 20 bytes (RFC 9000 section 17.2).
inline constexpr std::size_t kMaxKeyBytes = 20;

// [begin, end) relative to the window start.
struct ByteRange {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
};

// What a buffer holds besides its bytes.
struct ReassemblyState {
  std::uint32_t base = 0;     // stream offset (mod 2^32) of the first byte of the window
  std::uint32_t writes = 0;   // writes that stored new bytes
  std::uint32_t packets = 0;  // kept by the caller: packets (datagrams) that added bytes
  std::uint32_t need = 0;     // kept by the caller: in-order bytes needed before parsing again
  std::uint8_t range_count = 0;
  std::array<ByteRange, kMaxPendingRanges> ranges{};  // sorted, disjoint, never adjacent
  // QUIC: the client's original DCID, from which Initial keys derive (RFC 9001 section 5.2).
  std::uint8_t key_len = 0;
  std::array<std::uint8_t, kMaxKeyBytes> key{};
};

// The result of one write. Several fields can be true at once.
struct WriteOutcome {
  bool added = false;         // new bytes were stored
  bool duplicate = false;     // nothing new: every byte was already there (or already consumed)
  bool overlap = false;       // some bytes were already there and others new, or bytes differed
  bool conflict = false;      // an already stored byte differed from the new one (first wins)
  bool out_of_order = false;  // the write started beyond the in-order prefix (a hole before it)
  bool truncated = false;     // bytes beyond the window were dropped
  bool refused = false;       // too many pending ranges: nothing was stored
};

class ReassemblyPool {
 public:
  // Buffers of `buffer_bytes` each, at most `memory_limit` bytes of them (state included).
  ReassemblyPool(std::uint32_t buffer_bytes, std::uint64_t memory_limit);

  // A cleared buffer, or kNoBuffer when the memory bound is reached (or allocation failed).
  std::uint32_t acquire() noexcept;
  void release(std::uint32_t id) noexcept;

  // Stores `bytes` at stream offset `offset` (mod 2^32; offsets before the window count as
  // already consumed).
  WriteOutcome write(std::uint32_t id, std::uint32_t offset, ByteSpan bytes) noexcept;
  // The in-order bytes at the start of the window: a view into the buffer, valid until the next
  // write/consume/release of this buffer.
  ByteSpan contiguous(std::uint32_t id) const noexcept;
  // True when bytes are stored beyond a hole.
  bool has_hole(std::uint32_t id) const noexcept;
  // True when the in-order prefix fills the whole window.
  bool full(std::uint32_t id) const noexcept;
  // Drops the first `n` in-order bytes and slides the window (n <= contiguous().size()).
  void consume(std::uint32_t id, std::uint32_t n) noexcept;

  ReassemblyState& state(std::uint32_t id) noexcept { return states_[id]; }
  const ReassemblyState& state(std::uint32_t id) const noexcept { return states_[id]; }

  std::uint32_t buffer_bytes() const noexcept { return buffer_bytes_; }
  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint32_t in_use() const noexcept { return in_use_; }
  std::uint64_t bytes_in_use() const noexcept { return std::uint64_t{in_use_} * block_bytes(); }
  std::uint64_t bytes_reserved() const noexcept {
    return std::uint64_t{allocated_} * block_bytes();
  }

 private:
  std::uint64_t block_bytes() const noexcept {
    return std::uint64_t{buffer_bytes_} + sizeof(ReassemblyState);
  }
  std::uint8_t* data(std::uint32_t id) const noexcept;
  bool grow() noexcept;

  std::uint32_t buffer_bytes_;
  std::uint32_t capacity_;
  std::uint32_t chunk_buffers_;
  std::uint32_t allocated_ = 0;
  std::uint32_t in_use_ = 0;
  std::vector<std::unique_ptr<std::uint8_t[]>> chunks_;
  std::vector<ReassemblyState> states_;
  std::vector<std::uint32_t> free_;
};

}  // namespace egressguard::inspect
