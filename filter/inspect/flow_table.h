// FlowTable: a bounded table of flows keyed by the canonical 5-tuple (both directions of a
// connection map to one flow; VLAN is not part of the key). Entries come from a pool grown
// lazily in chunks up to max_flows and recycled through a free list, chained in a fixed bucket
// array, and kept on an intrusive LRU list for idle expiry and eviction. Once warmed up, no
// operation allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "filter/inspect/observation.h"
#include "filter/inspect/policy.h"
#include "filter/inspect/stream_reassembler.h"
#include "filter/parse/ip_address.h"

namespace egressguard::inspect {

inline constexpr std::uint32_t kNoFlow = 0xffffffffU;

// Endpoints ordered so that (a, port_a) <= (b, port_b): one key for both directions.
struct FlowKey {
  parse::IpAddress a, b;
  std::uint16_t port_a = 0, port_b = 0;
  std::uint8_t proto = 0;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

// The canonical key of a packet; `src_is_a` tells which side sent it.
FlowKey make_flow_key(const parse::IpAddress& src, std::uint16_t sport, const parse::IpAddress& dst,
                      std::uint16_t dport, std::uint8_t proto, bool& src_is_a) noexcept;

// Everything the Inspector keeps per flow (about 140 bytes).
struct Flow {
  FlowKey key;
  std::uint32_t hash = 0;
  std::uint32_t hash_next = kNoFlow;  // bucket chain, or free list when unused
  std::uint32_t lru_prev = kNoFlow;   // towards the most recently used
  std::uint32_t lru_next = kNoFlow;   // towards the least recently used
  std::uint64_t last_seen_us = 0;
  std::uint64_t flow_id = 0;

  Decision decision;                 // cached once `done`
  std::uint32_t flags = 0;           // FlowFlag bits
  std::uint32_t group = 0;           // the client's group in the snapshot of `policy_version`
  std::uint32_t policy_version = 0;  // low 32 bits of PolicySnapshot::version()
  std::uint32_t buffer = kNoBuffer;  // ReassemblyPool buffer while reassembling
  std::uint32_t tcp_isn = 0;         // client's first stream byte (SYN seq + 1, or first data seq)
  std::uint32_t stream_next = 0;     // stream offset of the first byte not consumed (DNS over TCP)
  std::uint16_t packets_inspected = 0;  // client payload packets looked at while undecided
  std::uint16_t vlan = 0;
  AppProto app = AppProto::None;
  std::uint8_t interface = 0;  // index into the Inspector's interface names; 0 = unknown
  // Proxy handshakes (SOCKS, HTTP CONNECT) passed; the stream from stream_next is the tunnel's.
  std::uint8_t tunnel_depth = 0;
  bool connect_pending = false;  // CONNECT decided; waiting for the end of its header block
  bool client_is_a = true;       // the initiator is key.a
  bool has_isn = false;
  bool done = false;   // decided: later packets get `decision` without parsing
  bool named = false;  // a name was seen
  bool has_vlan = false;
  bool closed = false;  // FIN or RST seen
  bool in_use = false;
};

class FlowTable {
 public:
  // `seed` randomises bucket placement (hash flooding).
  FlowTable(std::uint32_t max_flows, std::uint64_t seed);

  std::uint32_t hash(const FlowKey& key) const noexcept;
  // Index of the flow with `key`, or kNoFlow.
  std::uint32_t find(const FlowKey& key, std::uint32_t hash) const noexcept;
  // A new, most recently used flow; kNoFlow when full (evict first) or allocation failed.
  std::uint32_t insert(const FlowKey& key, std::uint32_t hash) noexcept;
  void remove(std::uint32_t index) noexcept;
  // Marks the flow most recently used.
  void touch(std::uint32_t index) noexcept;
  // The least recently used flow, or kNoFlow when empty.
  std::uint32_t oldest() const noexcept { return lru_tail_; }

  Flow& at(std::uint32_t index) noexcept {
    return chunks_[index >> kChunkShift][index & kChunkMask];
  }
  const Flow& at(std::uint32_t index) const noexcept {
    return chunks_[index >> kChunkShift][index & kChunkMask];
  }
  std::uint32_t size() const noexcept { return size_; }
  std::uint32_t max_flows() const noexcept { return max_flows_; }
  bool full() const noexcept { return size_ >= max_flows_; }
  // Bytes held: buckets plus the flow chunks allocated so far.
  std::uint64_t memory_bytes() const noexcept;

 private:
  static constexpr std::uint32_t kChunkShift = 10;
  static constexpr std::uint32_t kChunkSize = 1U << kChunkShift;
  static constexpr std::uint32_t kChunkMask = kChunkSize - 1;

  bool grow() noexcept;
  void lru_unlink(std::uint32_t index) noexcept;
  void lru_push_front(std::uint32_t index) noexcept;

  std::uint32_t max_flows_;
  std::uint64_t seed_;
  std::uint32_t mask_ = 0;
  std::vector<std::uint32_t> buckets_;
  std::vector<std::unique_ptr<Flow[]>> chunks_;
  std::uint32_t allocated_ = 0;
  std::uint32_t free_head_ = kNoFlow;
  std::uint32_t size_ = 0;
  std::uint32_t lru_head_ = kNoFlow;
  std::uint32_t lru_tail_ = kNoFlow;
};

}  // namespace egressguard::inspect
