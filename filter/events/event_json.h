// The event schema (docs/events.md): one JSON object per line, the same for every datapath,
// with field names close to Suricata EVE / ECS. Names from the network are escaped
// (base/json.h), so no name can break a line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "filter/inspect/observation.h"

namespace egressguard::events {

struct EventContext {
  std::string_view sensor;    // this gateway's name
  std::string_view datapath;  // "pcap", "nfqueue", "dnsproxy"
};

// "block" (the policy blocks it: enforced, or would-block in monitor mode), "name" (an allowed
// name, logged with --all / log_allowed), "unnamed_flow" (a TLS/QUIC flow without a usable name).
std::string_view event_type(const inspect::Observation& observation) noexcept;

// Appends one event (no trailing newline).
void append_event_json(std::string& out, const inspect::Observation& observation,
                       const EventContext& context);

// RFC 3339 UTC with microseconds: 2026-11-29T09:34:16.123456Z
void append_timestamp(std::string& out, std::uint64_t ts_us);

}  // namespace egressguard::events
