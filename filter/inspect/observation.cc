#include "filter/inspect/observation.h"

namespace egressguard::inspect {

std::string_view describe(AppProto app) noexcept {
  switch (app) {
    case AppProto::None:
      return "none";
    case AppProto::Dns:
      return "dns";
    case AppProto::Tls:
      return "tls";
    case AppProto::Quic:
      return "quic";
    case AppProto::Http:
      return "http";
    case AppProto::Ip:
      return "ip";
    case AppProto::Socks:
      return "socks";
  }
  return "none";
}

std::string_view describe(FlowFlag flag) noexcept {
  switch (flag) {
    case kFlagSplit:
      return "split";
    case kFlagOutOfOrder:
      return "out_of_order";
    case kFlagOverlap:
      return "overlap";
    case kFlagRetransmit:
      return "retransmit";
    case kFlagRecordFragmented:
      return "record_fragmented";
    case kFlagEch:
      return "ech";
    case kFlagEsni:
      return "esni";
    case kFlagNoSni:
      return "no_sni";
    case kFlagIpLiteral:
      return "ip_literal";
    case kFlagIpFragment:
      return "ip_fragment";
    case kFlagQuicMultiPacket:
      return "quic_multi_packet";
    case kFlagTruncated:
      return "truncated";
    case kFlagOddBytes:
      return "odd_bytes";
    case kFlagGap:
      return "gap";
    case kFlagMidStream:
      return "mid_stream";
    case kFlagDecryptFailed:
      return "decrypt_failed";
    case kFlagTunnel:
      return "tunnel";
    case kFlagMalformed:
      return "malformed";
  }
  return {};
}

std::size_t flag_names(std::uint32_t flags,
                       std::array<std::string_view, kFlowFlagCount>& out) noexcept {
  std::size_t count = 0;
  for (std::size_t bit = 0; bit < kFlowFlagCount; ++bit) {
    const auto flag = static_cast<FlowFlag>(1U << bit);
    if ((flags & flag) != 0) {
      out[count++] = describe(flag);
    }
  }
  return count;
}

std::string flags_to_string(std::uint32_t flags) {
  std::array<std::string_view, kFlowFlagCount> names;
  const std::size_t count = flag_names(flags, names);
  std::string out;
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) {
      out += ',';
    }
    out += names[i];
  }
  return out;
}

}  // namespace egressguard::inspect
