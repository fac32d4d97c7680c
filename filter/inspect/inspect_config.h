// InspectConfig: the bounds of one Inspector (one per worker thread). Every limit here caps memory
// or work per flow so that crafted traffic cannot make the core grow or spin.
#pragma once

#include <cstdint>

namespace egressguard::inspect {

struct InspectConfig {
  // Flows tracked at once; when full the least recently used flow is evicted (flows_evicted).
  // Flow entries are allocated lazily in chunks, so an idle gateway does not pay for the bound.
  std::uint32_t max_flows = 262144;
  // A flow without packets for this long is expired (flows_expired).
  std::uint32_t flow_idle_timeout_s = 120;
  // Client bytes buffered per flow to find a name (TLS ClientHello, HTTP headers, DNS over TCP
  // message, QUIC CRYPTO stream). Post-quantum ClientHellos need a few KB.
  std::uint32_t stream_bytes = 16384;
  // All reassembly buffers together. When exhausted, the flow that has held its buffer longest
  // gives it up (flagged truncated, counted in reassembly_drops, decided without a name), so a
  // flood of incomplete ClientHellos cannot starve new flows; nothing grows beyond this.
  std::uint64_t reassembly_memory = std::uint64_t{64} << 20;
  // Client packets carrying payload examined per flow before it is decided without a name.
  // DNS flows are never capped: every query is a name.
  std::uint32_t max_packets_per_flow_inspected = 32;
  // Put into the high 16 bits of flow ids so that ids from several workers do not collide.
  std::uint16_t worker_id = 0;
  // The policy snapshot is reloaded from the PolicyStore every this many packets (and on
  // refresh_policy() / expire()). Loading an atomic shared_ptr per packet costs an atomic op.
  std::uint32_t policy_refresh_packets = 256;
};

}  // namespace egressguard::inspect
