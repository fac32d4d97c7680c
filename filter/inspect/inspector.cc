#include "filter/inspect/inspector.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <random>

#include "base/byte_reader.h"
#include "filter/inspect/crypto_reassembler.h"
#include "filter/parse/http_host.h"
#include "filter/parse/quic_initial.h"
#include "filter/parse/socks.h"
#include "filter/parse/tls_client_hello.h"

namespace egressguard::inspect {

struct Inspector::PacketContext {
  const parse::PacketView& packet;
  const PacketMeta& meta;
  bool from_client = true;
};

namespace {

constexpr std::uint16_t kPortDns = 53;
constexpr std::uint16_t kPortMdns = 5353;
constexpr std::uint16_t kPortLlmnr = 5355;
// Questions read from one DNS message; real queries have 1, mDNS a handful.
constexpr std::uint16_t kMaxDnsQuestions = 32;
// An HTTP method token is at most this long before its space ("PROPPATCH", "MKCALENDAR" ...).
constexpr std::size_t kMaxMethodLength = 16;
// Proxy handshakes followed into their tunnel per flow (a chain of proxies); a deeper one is
// decided as a plain request, or left unparsed.
constexpr std::uint8_t kMaxTunnelDepth = 3;
// DNS on a port DNS does not use: at most this many questions (RFC 1035 allows several; servers
// answer one) and this size (an EDNS query with padding, RFC 8467, stays far below).
constexpr std::uint16_t kMaxHeuristicQuestions = 4;
constexpr std::size_t kMaxHeuristicDnsBytes = 4096;
constexpr std::uint16_t kDnsTypeOpt = 41;  // RFC 6891

bool is_server_port(std::uint16_t port) noexcept {
  return port == 53 || port == 80 || port == 443 || port == 853;
}

bool is_udp_dns_port(std::uint16_t port) noexcept {
  return port == kPortDns || port == kPortMdns || port == kPortLlmnr;
}

std::uint64_t random_seed() noexcept {
  try {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
  } catch (...) {
    return 0x9e3779b97f4a7c15ULL;
  }
}

// True for a dotted IPv4 literal or anything with a ':' (an IPv6 literal once ports and
// brackets are gone). Names we match never contain ':'.
bool is_ip_literal(std::string_view name) noexcept {
  if (name.find(':') != std::string_view::npos) {
    return true;
  }
  int dots = 0;
  std::size_t digits = 0;
  for (const char c : name) {
    if (c == '.') {
      if (digits == 0) {
        return false;
      }
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9') {
      if (++digits > 3) {
        return false;
      }
    } else {
      return false;
    }
  }
  return dots == 3 && digits != 0;
}

bool has_odd_bytes(std::string_view name) noexcept {
  return std::any_of(name.begin(), name.end(), [](char c) {
    return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-' || c == '_');
  });
}

// A NetBIOS name in the first-level encoding of RFC 1001 section 14.1 (32 letters 'A'..'P', one
// label): NetBIOS Name Service (UDP 137) speaks the DNS format but its names are not domains.
bool is_netbios_name(std::string_view name) noexcept {
  constexpr std::size_t kEncodedLength = 32;
  return name.size() == kEncodedLength &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= 'A' && c <= 'P'; });
}

// A plain DNS query in a UDP datagram on a port DNS does not use (DNS over UDP/443 slips past
// port-based DNS redirection). Strict, so that QUIC and other UDP protocols are not taken for
// it: QR=0, opcode QUERY, 1..4 questions, no answer or authority records, at most one additional
// record which must be an OPT RR (RFC 6891 section 6.1.2), each question a non-root name with a
// type and a known class, and nothing after the last record.
bool looks_like_dns_query(ByteSpan datagram, parse::DnsNameBuffer& scratch) noexcept {
  if (datagram.size() > kMaxHeuristicDnsBytes) {
    return false;
  }
  ByteReader r(datagram);
  r.skip(2);  // ID
  const std::uint16_t flags = r.u16();
  const std::uint16_t questions = r.u16();
  const std::uint16_t answers = r.u16();
  const std::uint16_t authority = r.u16();
  const std::uint16_t additional = r.u16();
  if (!r.ok() || (flags & 0xf800U) != 0 || questions == 0 || questions > kMaxHeuristicQuestions ||
      answers != 0 || authority != 0 || additional > 1) {
    return false;
  }
  std::size_t offset = r.position();
  for (std::uint16_t q = 0; q < questions; ++q) {
    std::uint8_t labels = 0;
    const auto name = parse::read_dns_name(datagram, offset, scratch, nullptr, &labels);
    if (!name || labels == 0 || is_netbios_name(*name)) {
      return false;
    }
    ByteReader fields(datagram.subspan(offset));
    const std::uint16_t qtype = fields.u16();
    const auto qclass = static_cast<std::uint16_t>(fields.u16() & 0x7fffU);  // mDNS QU bit
    if (!fields.ok() || qtype == 0 ||
        (qclass != 1 && qclass != 3 && qclass != 4 && qclass != 255)) {
      return false;
    }
    offset += 4;
  }
  if (additional == 1) {
    ByteReader opt(datagram.subspan(offset));
    const std::uint8_t root = opt.u8();
    const std::uint16_t type = opt.u16();
    opt.skip(2 + 4);  // requestor's UDP payload size, extended RCODE and flags
    opt.skip(opt.u16());
    if (!opt.ok() || root != 0 || type != kDnsTypeOpt) {
      return false;
    }
    offset += opt.position();
  }
  return offset == datagram.size();
}

// parse_client_hello; for a ClientHello broken after a well-formed server_name, the salvaged
// name with kFlagMalformed added to `extra` (the caller still counts the parse error).
Result<parse::ClientHelloInfo, parse::TlsParseError> read_client_hello(
    ByteSpan message, std::uint32_t& extra) noexcept {
  auto hello = parse::parse_client_hello(message);
  if (hello || (hello.error() != parse::TlsParseError::BadExtension &&
                hello.error() != parse::TlsParseError::BadLength)) {
    return hello;
  }
  auto salvaged = parse::salvage_client_hello_sni(message);
  if (!salvaged) {
    return hello;
  }
  extra |= kFlagMalformed;
  return salvaged;
}

// Offset just past the empty line that ends an HTTP header block starting at `stream` (CRLF or
// bare LF line ends), or 0 when it has not arrived.
std::size_t http_header_end(ByteSpan stream) noexcept {
  for (std::size_t i = 0; i < stream.size(); ++i) {
    if (stream[i] != '\n') {
      continue;
    }
    if (i + 1 < stream.size() && stream[i + 1] == '\n') {
      return i + 2;
    }
    if (i + 2 < stream.size() && stream[i + 1] == '\r' && stream[i + 2] == '\n') {
      return i + 3;
    }
  }
  return 0;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

std::uint32_t name_flags(std::string_view name) noexcept {
  std::uint32_t flags = has_odd_bytes(name) ? std::uint32_t{kFlagOddBytes} : 0U;
  if (is_ip_literal(name)) {
    flags |= kFlagIpLiteral;
  }
  return flags;
}

// The start of the stream could still become an HTTP request line: upper-case letters only.
bool may_become_http(ByteSpan stream) noexcept {
  if (stream.size() > kMaxMethodLength) {
    return false;
  }
  return std::all_of(stream.begin(), stream.end(),
                     [](std::uint8_t c) { return c >= 'A' && c <= 'Z'; });
}

// The first TLS record holds less than the whole ClientHello.
bool record_fragmented(ByteSpan stream) noexcept {
  ByteReader r(stream);
  r.skip(3);
  const std::uint16_t record_length = r.u16();
  r.skip(1);
  const std::uint32_t handshake_length = r.u24();
  return r.ok() && std::uint32_t{record_length} < handshake_length + 4;
}

// A lower bound of the stream length that holds the whole ClientHello: its first record header,
// handshake header and body (more records add more headers). Past the available bytes: +1.
std::uint32_t tls_bytes_needed(ByteSpan stream) noexcept {
  ByteReader r(stream);
  r.skip(5);
  r.skip(1);
  const std::uint32_t handshake_length = r.u24();
  if (!r.ok()) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(stream.size() + 1, 9));
  }
  return std::max(5 + 4 + handshake_length, static_cast<std::uint32_t>(stream.size() + 1));
}

}  // namespace

Inspector::Inspector(const PolicyStore& store, const InspectConfig& config, ObservationSink* sink)
    : store_(store),
      config_(config),
      sink_(sink),
      flows_(config.max_flows, random_seed()),
      pool_(config.stream_bytes, config.reassembly_memory),
      idle_timeout_us_(std::uint64_t{config.flow_idle_timeout_s} * 1000000U),
      fragments_(kFragmentSlots),
      tls_scratch_(std::max<std::size_t>(parse::kClientHelloScratchSize, config.stream_bytes)),
      quic_scratch_(std::size_t{1} << 16) {
  if (config_.policy_refresh_packets == 0) {
    config_.policy_refresh_packets = 1;
  }
  interfaces_.reserve(kMaxInterfaces);
  interfaces_.emplace_back();
  owners_.resize(std::max<std::size_t>(2, 2 * std::size_t{pool_.capacity()}));
  refresh_policy();
}

Inspector::~Inspector() = default;

void Inspector::refresh_policy() noexcept {
  packets_since_refresh_ = 0;
  std::shared_ptr<const PolicySnapshot> current = store_.current();
  if (current == nullptr || current.get() == snapshot_) {
    return;
  }
  snapshot_holder_ = std::move(current);
  snapshot_ = snapshot_holder_.get();
  snapshot_version_ = static_cast<std::uint32_t>(snapshot_->version());
  default_unnamed_ = snapshot_->decide_unnamed(snapshot_->resolve_group(SourceIdentity{}));
  ++stats_.policy_refreshes;
}

std::uint64_t Inspector::memory_bytes() const noexcept {
  return flows_.memory_bytes() + pool_.bytes_reserved() +
         fragments_.size() * sizeof(FragmentEntry) + tls_scratch_.size() + quic_scratch_.size();
}

const Flow* Inspector::find_flow(const parse::PacketView& packet) const noexcept {
  bool src_is_a = false;
  const FlowKey key =
      make_flow_key(packet.src, packet.sport, packet.dst, packet.dport, packet.l4, src_is_a);
  const std::uint32_t index = flows_.find(key, flows_.hash(key));
  return index == kNoFlow ? nullptr : &flows_.at(index);
}

Decision Inspector::inspect_frame(parse::LinkType link, ByteSpan frame,
                                  const PacketMeta& meta) noexcept {
  ++stats_.packets;
  stats_.bytes += frame.size();
  const auto decoded = parse::decode_packet(link, frame);
  if (!decoded) {
    const auto error = static_cast<std::size_t>(decoded.error());
    if (error < kDecodeErrorCount) {
      ++stats_.decode_errors[error];
    }
    if (decoded.error() == parse::DecodeError::NotIp) {
      ++stats_.non_ip;
    }
    if (++packets_since_refresh_ >= config_.policy_refresh_packets) {
      refresh_policy();
    }
    return default_unnamed_;
  }
  return process(*decoded, meta);
}

Decision Inspector::inspect_packet(const parse::PacketView& packet,
                                   const PacketMeta& meta) noexcept {
  ++stats_.packets;
  stats_.bytes += packet.ip_total_len;
  return process(packet, meta);
}

Decision Inspector::process(const parse::PacketView& packet, const PacketMeta& meta) noexcept {
  last_ts_us_ = std::max(last_ts_us_, meta.ts_us);
  if (++packets_since_refresh_ >= config_.policy_refresh_packets) {
    refresh_policy();
  }
  Decision result;
  dns_decided_ = false;
  if (packet.l4 != parse::kIpProtoTcp && packet.l4 != parse::kIpProtoUdp) {
    ++stats_.non_tcp_udp;
    result = unnamed_for_source(packet, meta);
  } else if (packet.is_fragment && !packet.first_fragment) {
    result = later_fragment(packet, meta);
  } else {
    bool src_is_a = false;
    const FlowKey key =
        make_flow_key(packet.src, packet.sport, packet.dst, packet.dport, packet.l4, src_is_a);
    const std::uint32_t hash = flows_.hash(key);
    std::uint32_t index = flows_.find(key, hash);
    if (index == kNoFlow) {
      index = create_flow(packet, meta, key, hash, src_is_a);
      if (index == kNoFlow) {
        return unnamed_for_source(packet, meta);
      }
    } else {
      flows_.touch(index);
    }
    Flow& flow = flows_.at(index);
    flow.last_seen_us = std::max(flow.last_seen_us, meta.ts_us);
    if (packet.is_fragment) {
      flow.flags |= kFlagIpFragment;
      FragmentEntry& slot =
          fragments_[fragment_slot(packet.src, packet.dst, packet.frag_id, packet.l4)];
      slot = FragmentEntry{packet.src, packet.dst, packet.frag_id, packet.l4,
                           true,       index,      flow.flow_id};
    }
    const PacketContext ctx{packet, meta, src_is_a == flow.client_is_a};
    result = packet.l4 == parse::kIpProtoTcp ? handle_tcp(flow, ctx) : handle_udp(flow, ctx);
  }
  if (result.verdict == Verdict::Block) {
    ++stats_.packets_blocked;
  }
  return result;
}

Decision Inspector::unnamed_for_source(const parse::PacketView& packet,
                                       const PacketMeta& meta) noexcept {
  SourceIdentity source;
  source.ip = packet.src;
  source.interface = meta.interface;
  source.mac = packet.has_mac ? &packet.src_mac : nullptr;
  if (packet.has_vlan) {
    source.vlan = packet.vlan;
  }
  return snapshot_->decide_unnamed(snapshot_->resolve_group(source));
}

std::size_t Inspector::fragment_slot(const parse::IpAddress& src, const parse::IpAddress& dst,
                                     std::uint32_t id, std::uint8_t proto) const noexcept {
  const std::uint64_t h = (src.hash() * 31 + dst.hash()) ^ (std::uint64_t{id} << 8 | proto);
  return static_cast<std::size_t>((h ^ (h >> 29)) * 0x9e3779b97f4a7c15ULL >> 54) % kFragmentSlots;
}

Decision Inspector::later_fragment(const parse::PacketView& packet,
                                   const PacketMeta& meta) noexcept {
  const FragmentEntry& slot =
      fragments_[fragment_slot(packet.src, packet.dst, packet.frag_id, packet.l4)];
  if (slot.used && slot.id == packet.frag_id && slot.proto == packet.l4 && slot.src == packet.src &&
      slot.dst == packet.dst) {
    Flow& flow = flows_.at(slot.flow);
    if (flow.in_use && flow.flow_id == slot.flow_id) {
      ++stats_.fragments_attributed;
      flow.flags |= kFlagIpFragment;
      flow.last_seen_us = std::max(flow.last_seen_us, meta.ts_us);
      flows_.touch(slot.flow);
      return flow.decision;
    }
  }
  ++stats_.fragments_unattributed;
  return unnamed_for_source(packet, meta);
}

std::uint8_t Inspector::intern_interface(std::string_view name) noexcept {
  if (name.empty()) {
    return 0;
  }
  if (last_interface_ != 0 && interfaces_[last_interface_] == name) {
    return last_interface_;
  }
  for (std::size_t i = 1; i < interfaces_.size(); ++i) {
    if (interfaces_[i] == name) {
      last_interface_ = static_cast<std::uint8_t>(i);
      return last_interface_;
    }
  }
  if (interfaces_.size() >= kMaxInterfaces) {
    return 0;
  }
  try {
    interfaces_.emplace_back(name);  // once per interface name: warm-up only
  } catch (...) {
    return 0;
  }
  last_interface_ = static_cast<std::uint8_t>(interfaces_.size() - 1);
  return last_interface_;
}

std::uint32_t Inspector::create_flow(const parse::PacketView& packet, const PacketMeta& meta,
                                     const FlowKey& key, std::uint32_t hash,
                                     bool src_is_a) noexcept {
  // Cheap incremental expiry: a couple of idle flows per new one.
  for (int i = 0; i < 2; ++i) {
    const std::uint32_t oldest = flows_.oldest();
    if (oldest == kNoFlow || flows_.at(oldest).last_seen_us + idle_timeout_us_ >= meta.ts_us) {
      break;
    }
    drop_flow(oldest, meta.ts_us, DropReason::Expired);
  }
  if (flows_.full()) {
    drop_flow(flows_.oldest(), meta.ts_us, DropReason::Evicted);
  }
  std::uint32_t index = flows_.insert(key, hash);
  if (index == kNoFlow && flows_.oldest() != kNoFlow) {
    // Allocation failed: reuse the least recently used entry.
    drop_flow(flows_.oldest(), meta.ts_us, DropReason::Evicted);
    index = flows_.insert(key, hash);
  }
  if (index == kNoFlow) {
    return kNoFlow;
  }
  Flow& flow = flows_.at(index);
  flow.flow_id = (std::uint64_t{config_.worker_id} << 48) | (++next_flow_id_ & 0xffffffffffffULL);
  flow.last_seen_us = meta.ts_us;

  // The initiator: the SYN's sender; the receiver of a SYN-ACK; otherwise the sender, unless
  // it sends from a well-known server port to an ephemeral one (capture started mid-flow).
  bool client_is_src = true;
  const bool syn = (packet.tcp_flags & parse::kTcpSyn) != 0;
  const bool ack = (packet.tcp_flags & parse::kTcpAck) != 0;
  if (packet.l4 == parse::kIpProtoTcp && syn) {
    client_is_src = !ack;
  } else if (is_server_port(packet.sport) && !is_server_port(packet.dport) &&
             packet.dport >= 1024) {
    client_is_src = false;
  }
  flow.client_is_a = client_is_src == src_is_a;
  flow.has_vlan = packet.has_vlan;
  flow.vlan = packet.vlan;
  flow.interface = intern_interface(meta.interface);

  SourceIdentity source;
  source.ip = client_is_src ? packet.src : packet.dst;
  source.interface = meta.interface;
  source.mac = client_is_src && packet.has_mac ? &packet.src_mac : nullptr;
  if (packet.has_vlan) {
    source.vlan = packet.vlan;
  }
  flow.group = snapshot_->resolve_group(source);
  flow.policy_version = snapshot_version_;
  flow.decision = snapshot_->decide_unnamed(flow.group);

  ++stats_.flows_created;
  stats_.active_flows = flows_.size();
  if (sink_ != nullptr) {
    sink_->on_flow_new(flow.group);
  }
  return index;
}

void Inspector::sync_group(Flow& flow, const PacketContext& ctx) noexcept {
  if (flow.policy_version == snapshot_version_ && flow.group < snapshot_->groups().size()) {
    return;
  }
  SourceIdentity source;
  source.ip = flow.client_is_a ? flow.key.a : flow.key.b;
  source.interface = ctx.meta.interface;
  source.mac = ctx.from_client && ctx.packet.has_mac ? &ctx.packet.src_mac : nullptr;
  if (flow.has_vlan) {
    source.vlan = flow.vlan;
  }
  flow.group = snapshot_->resolve_group(source);
  flow.policy_version = snapshot_version_;
  flow.decision = snapshot_->decide_unnamed(flow.group);
}

void Inspector::drop_flow(std::uint32_t index, std::uint64_t now_us, DropReason why) noexcept {
  Flow& flow = flows_.at(index);
  if (!flow.done) {
    if (flow.app == AppProto::None && flow.buffer != kNoBuffer &&
        flow.key.proto == parse::kIpProtoTcp) {
      const std::uint16_t server_port = flow.client_is_a ? flow.key.port_b : flow.key.port_a;
      if (server_port == 443 || server_port == 853) {
        flow.app = AppProto::Tls;  // only later segments arrived: judge by the port
      }
    }
    if (flow.buffer != kNoBuffer && pool_.has_hole(flow.buffer)) {
      flow.flags |= kFlagGap;
    }
    if (flow.app == AppProto::Tls || flow.app == AppProto::Quic) {
      finish_unnamed(flow, flow.app, {}, nullptr, now_us);
    }
  }
  release_buffer(flow);
  flows_.remove(index);
  if (why == DropReason::Evicted) {
    ++stats_.flows_evicted;
  } else if (why == DropReason::Expired) {
    ++stats_.flows_expired;
  }
  stats_.active_flows = flows_.size();
}

void Inspector::expire(std::uint64_t now_us) noexcept {
  refresh_policy();
  while (true) {
    const std::uint32_t oldest = flows_.oldest();
    if (oldest == kNoFlow || flows_.at(oldest).last_seen_us + idle_timeout_us_ >= now_us) {
      break;
    }
    drop_flow(oldest, now_us, DropReason::Expired);
  }
}

void Inspector::flush() noexcept {
  while (flows_.oldest() != kNoFlow) {
    drop_flow(flows_.oldest(), last_ts_us_, DropReason::Flushed);
  }
}

void Inspector::reset_flow(Flow& flow) noexcept {
  release_buffer(flow);
  flow.done = false;
  flow.named = false;
  flow.closed = false;
  flow.has_isn = false;
  flow.flags = 0;
  flow.app = AppProto::None;
  flow.packets_inspected = 0;
  flow.stream_next = 0;
  flow.tunnel_depth = 0;
  flow.connect_pending = false;
  flow.flow_id = (std::uint64_t{config_.worker_id} << 48) | (++next_flow_id_ & 0xffffffffffffULL);
  flow.decision = snapshot_->decide_unnamed(flow.group);
  ++stats_.flows_created;
}

std::uint32_t Inspector::acquire_buffer(Flow& flow) noexcept {
  assert(flow.buffer == kNoBuffer);
  flow.buffer = pool_.acquire();
  if (flow.buffer == kNoBuffer && steal_buffer()) {
    flow.buffer = pool_.acquire();
  }
  if (flow.buffer == kNoBuffer) {
    ++stats_.reassembly_drops;
    flow.flags |= kFlagTruncated;
  } else {
    if (owners_size_ == owners_.size()) {
      // Full: keep only the entries whose flow still holds that buffer (at most the pool's
      // capacity, half the ring), in order.
      std::size_t kept = 0;
      for (std::size_t i = 0; i < owners_size_; ++i) {
        const BufferOwner o = owners_[(owners_head_ + i) % owners_.size()];
        if (o.flow->in_use && o.flow->flow_id == o.flow_id && o.flow->buffer == o.buffer) {
          owners_[(owners_head_ + kept++) % owners_.size()] = o;
        }
      }
      owners_size_ = kept;
    }
    owners_[(owners_head_ + owners_size_++) % owners_.size()] =
        BufferOwner{&flow, flow.flow_id, flow.buffer};
  }
  stats_.reassembly_bytes_in_use = pool_.bytes_in_use();
  stats_.reassembly_bytes_reserved = pool_.bytes_reserved();
  return flow.buffer;
}

bool Inspector::steal_buffer() noexcept {
  while (owners_size_ > 0) {
    const BufferOwner o = owners_[owners_head_];
    owners_head_ = (owners_head_ + 1) % owners_.size();
    --owners_size_;
    Flow& victim = *o.flow;
    if (!victim.in_use || victim.flow_id != o.flow_id || victim.buffer != o.buffer) {
      continue;  // that flow released this buffer already
    }
    ++stats_.reassembly_drops;
    if (!victim.done) {
      victim.flags |= kFlagTruncated;
      finish_unnamed(victim, victim.app, {}, nullptr, last_ts_us_);
    }
    release_buffer(victim);
    return true;
  }
  return false;
}

void Inspector::release_buffer(Flow& flow) noexcept {
  if (flow.buffer != kNoBuffer) {
    pool_.release(flow.buffer);
    flow.buffer = kNoBuffer;
    stats_.reassembly_bytes_in_use = pool_.bytes_in_use();
  }
}

void Inspector::count_decision(const Decision& decision) noexcept {
  if (decision.verdict == Verdict::Block) {
    ++stats_.decisions_block;
  } else {
    ++stats_.decisions_allow;
  }
}

// ---- TCP ----

Decision Inspector::handle_tcp(Flow& flow, const PacketContext& ctx) noexcept {
  const parse::PacketView& p = ctx.packet;
  const bool syn = (p.tcp_flags & parse::kTcpSyn) != 0;
  const bool ack = (p.tcp_flags & parse::kTcpAck) != 0;
  if (syn && !ack && ctx.from_client) {
    const std::uint32_t isn = p.tcp_seq + 1;
    if (flow.closed && flow.has_isn && isn != flow.tcp_isn) {
      reset_flow(flow);  // the 5-tuple is reused by a new connection
    }
    if (!flow.done && flow.buffer == kNoBuffer && flow.stream_next == 0) {
      flow.tcp_isn = isn;
      flow.has_isn = true;
    }
  } else if (syn && ack && !ctx.from_client && !flow.has_isn) {
    flow.tcp_isn = p.tcp_ack;  // the SYN-ACK acknowledges the client's SYN
    flow.has_isn = true;
  }
  if ((p.tcp_flags & (parse::kTcpFin | parse::kTcpRst)) != 0) {
    flow.closed = true;
  }
  if (flow.done) {
    return flow.decision;
  }
  if (ctx.from_client && !p.payload.empty()) {
    sync_group(flow, ctx);
    tcp_client_data(flow, ctx);
  }
  if (!flow.done && flow.closed && ((p.tcp_flags & parse::kTcpRst) != 0 || ctx.from_client)) {
    if (flow.buffer != kNoBuffer && pool_.has_hole(flow.buffer)) {
      flow.flags |= kFlagGap;
    }
    finish_unnamed(flow, flow.app, {}, &ctx, ctx.meta.ts_us);
  }
  if (flow.app == AppProto::Dns && dns_decided_) {
    dns_decided_ = false;
    return dns_decision_;
  }
  return flow.decision;
}

void Inspector::tcp_client_data(Flow& flow, const PacketContext& ctx) noexcept {
  const parse::PacketView& p = ctx.packet;
  if (!flow.has_isn) {
    flow.tcp_isn = p.tcp_seq;
    flow.has_isn = true;
    flow.flags |= kFlagMidStream;
  }
  bool progress = false;  // the in-order stream grew
  // Data on a SYN (TCP Fast Open) starts after the SYN's sequence number.
  const std::uint32_t first_byte = p.tcp_seq + ((p.tcp_flags & parse::kTcpSyn) != 0 ? 1U : 0U);
  const std::uint32_t offset = first_byte - flow.tcp_isn;
  ByteSpan data = p.payload;

  if (flow.buffer == kNoBuffer) {
    const auto delta = static_cast<std::int32_t>(offset - flow.stream_next);
    if (delta < 0) {
      const auto old = static_cast<std::size_t>(-static_cast<std::int64_t>(delta));
      if (old >= data.size()) {
        flow.flags |= kFlagRetransmit;  // bytes already parsed (in place, not kept)
        data = {};
      } else {
        flow.flags |= kFlagOverlap;
        data = data.subspan(old);
      }
    }
    if (delta <= 0 && !data.empty()) {
      // In order and nothing buffered: parse in place, copy only what is still needed.
      progress = true;
      const std::uint32_t consumed = parse_stream(flow, data, false, ctx);
      if (flow.done) {
        return;
      }
      flow.stream_next += consumed;
      data = data.subspan(consumed);
      if (!data.empty()) {
        if (acquire_buffer(flow) == kNoBuffer) {
          finish_unnamed(flow, flow.app, {}, &ctx, ctx.meta.ts_us);
          return;
        }
        pool_.state(flow.buffer).base = flow.stream_next;
        const WriteOutcome w = pool_.write(flow.buffer, flow.stream_next, data);
        pool_.state(flow.buffer).packets = 1;
        if (flow.app == AppProto::Tls) {
          pool_.state(flow.buffer).need = tls_bytes_needed(data);
        }
        if (w.truncated) {
          flow.flags |= kFlagTruncated;
        }
      }
    } else if (delta > 0) {
      if (acquire_buffer(flow) == kNoBuffer) {
        finish_unnamed(flow, flow.app, {}, &ctx, ctx.meta.ts_us);
        return;
      }
      pool_.state(flow.buffer).base = flow.stream_next;
      const WriteOutcome w = pool_.write(flow.buffer, offset, data);
      flow.flags |= kFlagOutOfOrder;
      if (w.truncated) {
        flow.flags |= kFlagTruncated;
      }
      if (w.added) {
        pool_.state(flow.buffer).packets = 1;
      }
    }
  } else {
    const std::size_t before = pool_.contiguous(flow.buffer).size();
    const WriteOutcome w = pool_.write(flow.buffer, offset, data);
    if (w.out_of_order) {
      flow.flags |= kFlagOutOfOrder;
    }
    if (w.overlap || w.conflict) {
      flow.flags |= kFlagOverlap;
    } else if (w.duplicate && !w.truncated && !w.refused) {
      flow.flags |= kFlagRetransmit;
    }
    note_buffer_write(flow, w);
    const ByteSpan stream = pool_.contiguous(flow.buffer);
    progress = stream.size() > before;
    if (progress && worth_parsing(flow, stream, before)) {
      const std::uint32_t consumed = parse_stream(flow, stream, true, ctx);
      if (flow.done) {
        return;
      }
      if (consumed > 0) {
        pool_.consume(flow.buffer, consumed);
        flow.stream_next += consumed;
        if (pool_.state(flow.buffer).range_count == 0) {
          release_buffer(flow);
        }
      }
    }
  }
  if (flow.done) {
    return;
  }
  if (flow.buffer != kNoBuffer && pool_.full(flow.buffer)) {
    flow.flags |= kFlagTruncated;  // the window is full and the parser still wants more
    finish_unnamed(flow, flow.app, {}, &ctx, ctx.meta.ts_us);
    return;
  }
  // Packets that add in-order bytes are bounded by stream_bytes; the others (holes, repeats)
  // by max_packets_per_flow_inspected.
  if (!progress && flow.packets_inspected < 0xffff) {
    ++flow.packets_inspected;
  }
  if (flow.app != AppProto::Dns &&
      flow.packets_inspected >= config_.max_packets_per_flow_inspected) {
    if (flow.buffer != kNoBuffer && pool_.has_hole(flow.buffer)) {
      flow.flags |= kFlagGap;
    }
    finish_unnamed(flow, flow.app, {}, &ctx, ctx.meta.ts_us);
  }
}

bool Inspector::worth_parsing(Flow& flow, ByteSpan stream, std::size_t before) noexcept {
  // 1-byte segments must not make every packet re-parse the whole prefix (quadratic work):
  // TLS waits for the length its headers promise, HTTP for a new line end.
  switch (flow.app) {
    case AppProto::Tls:
      return stream.size() >= pool_.state(flow.buffer).need;
    case AppProto::Http: {
      const ByteSpan added = stream.subspan(before);
      return std::find(added.begin(), added.end(), std::uint8_t{'\n'}) != added.end();
    }
    default:
      return true;
  }
}

std::uint32_t Inspector::parse_stream(Flow& flow, ByteSpan whole, bool buffered,
                                      const PacketContext& ctx) noexcept {
  // Bytes taken by proxy handshakes: the tunnelled stream after them is dispatched again.
  std::uint32_t consumed = 0;
  while (!flow.done) {
    const ByteSpan stream = whole.subspan(consumed);
    if (flow.app == AppProto::None) {
      const parse::PacketView& p = ctx.packet;
      if (flow.tunnel_depth == 0 && (p.sport == kPortDns || p.dport == kPortDns)) {
        flow.app = AppProto::Dns;
      } else if (parse::looks_like_tls(stream)) {
        flow.app = AppProto::Tls;
      } else if (parse::looks_like_http_request(stream)) {
        flow.app = AppProto::Http;
      } else if (may_become_http(stream)) {
        return consumed;  // also: nothing yet
      } else if (flow.tunnel_depth < kMaxTunnelDepth && parse::looks_like_socks(stream)) {
        flow.app = AppProto::Socks;
      } else {
        finish_unnamed(flow, AppProto::None, {}, &ctx, ctx.meta.ts_us);
        return consumed;
      }
    }
    std::uint32_t tunnel = 0;
    switch (flow.app) {
      case AppProto::Tls:
        parse_tls_stream(flow, stream, buffered, ctx);
        return consumed;
      case AppProto::Http:
        tunnel = parse_http_stream(flow, stream, buffered, ctx);
        break;
      case AppProto::Socks:
        tunnel = parse_socks_stream(flow, stream, ctx);
        break;
      case AppProto::Dns:
        return consumed + parse_dns_stream(flow, stream, ctx);
      default:
        return consumed;
    }
    if (tunnel == 0) {
      return consumed;
    }
    consumed += tunnel;
  }
  return consumed;
}

void Inspector::enter_tunnel(Flow& flow) noexcept {
  flow.app = AppProto::None;
  flow.connect_pending = false;
  flow.flags |= kFlagTunnel;
  ++flow.tunnel_depth;
  ++stats_.tunnels;
  if (flow.buffer != kNoBuffer) {
    pool_.state(flow.buffer).packets = 1;  // the tunnelled bytes so far came with this packet
  }
}

std::uint32_t Inspector::parse_socks_stream(Flow& flow, ByteSpan stream,
                                            const PacketContext& ctx) noexcept {
  const auto request = parse::parse_socks_request(stream);
  if (!request) {
    switch (request.error()) {
      case parse::SocksError::NeedMore:
        return 0;
      case parse::SocksError::NotSocks:
        finish_unnamed(flow, AppProto::None, {}, &ctx, ctx.meta.ts_us);
        return 0;
      default:
        ++stats_.socks_parse_errors;
        finish_unnamed(flow, AppProto::Socks, {}, &ctx, ctx.meta.ts_us);
        return 0;
    }
  }
  if (request->command != parse::SocksCommand::Connect) {
    // BIND and UDP ASSOCIATE carry no outgoing stream to inspect here; their address is not a
    // destination the client connects to.
    finish_unnamed(flow, AppProto::Socks, {}, &ctx, ctx.meta.ts_us);
    return 0;
  }
  if (request->address_type == parse::SocksAddressType::Domain &&
      !decide_passing_name(flow, AppProto::Socks, request->domain, request->domain,
                           name_flags(request->domain), ctx)) {
    return 0;
  }
  enter_tunnel(flow);
  if (request->port == kPortDns) {
    flow.app = AppProto::Dns;  // length-prefixed DNS over TCP through the proxy
  }
  return static_cast<std::uint32_t>(request->handshake_size);
}

std::uint32_t Inspector::connect_tunnel(Flow& flow, ByteSpan stream,
                                        const PacketContext& ctx) noexcept {
  const std::size_t end =
      http_header_end(stream.first(std::min(stream.size(), parse::kMaxHttpHeaderBytes)));
  if (end == 0) {
    if (stream.size() > parse::kMaxHttpHeaderBytes) {
      flow.flags |= kFlagTruncated;
      finish_unnamed(flow, AppProto::Http, {}, &ctx, ctx.meta.ts_us);
    }
    return 0;
  }
  enter_tunnel(flow);
  return static_cast<std::uint32_t>(end);
}

void Inspector::parse_tls_stream(Flow& flow, ByteSpan stream, bool buffered,
                                 const PacketContext& ctx) noexcept {
  const auto handshake = parse::assemble_client_hello(stream, tls_scratch_);
  if (!handshake) {
    switch (handshake.error()) {
      case parse::TlsParseError::NeedMore:
        if (flow.buffer != kNoBuffer) {
          pool_.state(flow.buffer).need = tls_bytes_needed(stream);
        }
        return;
      case parse::TlsParseError::NotTls:
        finish_unnamed(flow, AppProto::None, {}, &ctx, ctx.meta.ts_us);
        return;
      case parse::TlsParseError::TooLarge:
        flow.flags |= kFlagTruncated;
        break;
      default:
        ++stats_.tls_parse_errors;
        break;
    }
    finish_unnamed(flow, AppProto::Tls, {}, &ctx, ctx.meta.ts_us);
    return;
  }
  std::uint32_t extra = 0;
  if (record_fragmented(stream)) {
    extra |= kFlagRecordFragmented;
  }
  if (buffered && flow.buffer != kNoBuffer && pool_.state(flow.buffer).packets > 1) {
    extra |= kFlagSplit;
  }
  client_hello_ready(flow, AppProto::Tls, *handshake, extra, ctx);
}

std::uint32_t Inspector::parse_http_stream(Flow& flow, ByteSpan stream, bool buffered,
                                           const PacketContext& ctx) noexcept {
  if (flow.connect_pending) {
    return connect_tunnel(flow, stream, ctx);
  }
  const auto request = parse::parse_http_request(stream);
  if (!request) {
    switch (request.error()) {
      case parse::HttpParseError::NeedMore:
        return 0;
      case parse::HttpParseError::NotHttp:
        finish_unnamed(flow, AppProto::None, {}, &ctx, ctx.meta.ts_us);
        return 0;
      case parse::HttpParseError::TooLarge:
        flow.flags |= kFlagTruncated;
        break;
      case parse::HttpParseError::NoHost:
        break;
      default:
        ++stats_.http_parse_errors;
        break;
    }
    finish_unnamed(flow, AppProto::Http, {}, &ctx, ctx.meta.ts_us);
    return 0;
  }
  std::uint32_t extra = 0;
  if (buffered && flow.buffer != kNoBuffer && pool_.state(flow.buffer).packets > 1) {
    extra |= kFlagSplit;
  }
  if (!request->is_connect || flow.tunnel_depth >= kMaxTunnelDepth) {
    decide_http_request(flow, *request, extra, ctx);
    return 0;
  }
  // CONNECT (RFC 9110 section 9.3.6): the authority is a name to decide; once the proxy answers,
  // the stream after the header block is the tunnel's, whose own name (SNI, Host) is decided too.
  flow.app = AppProto::Http;
  const std::string_view authority = parse::http_host_name(request->target_authority);
  if (!decide_passing_name(flow, AppProto::Http, request->target_authority, authority,
                           extra | name_flags(authority), ctx)) {
    return 0;
  }
  if (request->host_from_header && !iequals(request->host_name, authority) &&
      !decide_passing_name(flow, AppProto::Http, request->host, request->host_name,
                           extra | name_flags(request->host_name), ctx)) {
    return 0;
  }
  flow.connect_pending = true;
  return connect_tunnel(flow, stream, ctx);
}

bool Inspector::decide_http_request(Flow& flow, const parse::HttpRequestInfo& request,
                                    std::uint32_t extra, const PacketContext& ctx) noexcept {
  // An absolute-form target names the host a proxy forwards to, whatever Host says (RFC 9112
  // section 3.2.2): decide it as well when it differs.
  if (request.host_from_header && !request.target_authority.empty()) {
    const std::string_view authority = parse::http_host_name(request.target_authority);
    if (!iequals(authority, request.host_name) &&
        !decide_passing_name(flow, AppProto::Http, request.target_authority, authority,
                             extra | name_flags(authority), ctx)) {
      return false;
    }
  }
  const Decision decision = decide_named(flow, AppProto::Http, request.host, request.host_name,
                                         extra | name_flags(request.host_name), {}, 0, &ctx);
  return decision.verdict != Verdict::Block;
}

std::uint32_t Inspector::parse_dns_stream(Flow& flow, ByteSpan stream,
                                          const PacketContext& ctx) noexcept {
  ByteReader reader(stream);
  while (const auto message = parse::next_tcp_dns_message(reader)) {
    dns_message(flow, *message, ctx);
  }
  const auto consumed = static_cast<std::uint32_t>(reader.position());
  // A message longer than the window can never complete.
  ByteReader rest(stream.subspan(consumed));
  const std::uint16_t length = rest.u16();
  if (rest.ok() && std::uint32_t{length} + 2 > pool_.buffer_bytes()) {
    flow.flags |= kFlagTruncated;
    ++stats_.dns_parse_errors;
    finish_unnamed(flow, AppProto::Dns, {}, &ctx, ctx.meta.ts_us);
  }
  return consumed;
}

void Inspector::dns_message(Flow& flow, ByteSpan message, const PacketContext& ctx) noexcept {
  const auto parsed = parse::parse_dns_message(message, dns_name_);
  if (!parsed) {
    ++stats_.dns_parse_errors;
    return;
  }
  if (parsed->qr) {
    return;  // responses repeat the question; the query is what is decided
  }
  flow.app = AppProto::Dns;
  std::uint32_t extra = parsed->name_has_odd_bytes ? std::uint32_t{kFlagOddBytes} : 0U;
  if (is_ip_literal(parsed->qname)) {
    extra |= kFlagIpLiteral;
  }
  const Decision decision = decide_named(flow, AppProto::Dns, parsed->qname, parsed->qname, extra,
                                         {}, parsed->qtype, &ctx);
  note_dns_decision(flow, decision);
  // Further questions (mDNS asks several at once): each one is a name too.
  std::size_t offset = parsed->question_end;
  const std::uint16_t questions = std::min<std::uint16_t>(parsed->qdcount, kMaxDnsQuestions);
  for (std::uint16_t q = 1; q < questions; ++q) {
    bool odd = false;
    const auto name = parse::read_dns_name(message, offset, dns_name_, &odd);
    ByteReader r(message.subspan(std::min(offset, message.size())));
    const std::uint16_t qtype = r.u16();
    r.skip(2);
    if (!name || !r.ok()) {
      ++stats_.dns_parse_errors;
      break;
    }
    offset += 4;
    std::uint32_t more = odd ? std::uint32_t{kFlagOddBytes} : 0U;
    if (is_ip_literal(*name)) {
      more |= kFlagIpLiteral;
    }
    note_dns_decision(flow, decide_named(flow, AppProto::Dns, *name, *name, more, {}, qtype, &ctx));
  }
}

void Inspector::note_dns_decision(Flow& flow, const Decision& decision) noexcept {
  if (!dns_decided_ || decision.verdict == Verdict::Block) {
    dns_decision_ = decision;
    dns_decided_ = true;
  }
  // UDP: the flow answers like its last query packet. TCP: one blocked query taints the
  // connection (a dropped segment is retransmitted with the same bytes, already consumed here).
  if (flow.key.proto == parse::kIpProtoUdp) {
    flow.decision = dns_decision_;
  } else if (flow.decision.verdict != Verdict::Block) {
    flow.decision = decision;
  }
}

// ---- UDP ----

Decision Inspector::handle_udp(Flow& flow, const PacketContext& ctx) noexcept {
  const parse::PacketView& p = ctx.packet;
  // DNS on another port is recognised by its first query (below) and followed like port 53.
  if (is_udp_dns_port(p.sport) || is_udp_dns_port(p.dport) || flow.app == AppProto::Dns) {
    if (!p.payload.empty()) {
      sync_group(flow, ctx);
      dns_message(flow, p.payload, ctx);
      if (dns_decided_) {
        dns_decided_ = false;
        return dns_decision_;
      }
    }
    return flow.decision;
  }
  if (flow.done || !ctx.from_client || p.payload.empty()) {
    return flow.decision;
  }
  sync_group(flow, ctx);
  ++flow.packets_inspected;
  if (flow.app == AppProto::None) {
    if (parse::looks_like_http_request(p.payload) && udp_http_request(flow, ctx)) {
      return flow.decision;
    }
    if (looks_like_dns_query(p.payload, dns_name_)) {
      dns_message(flow, p.payload, ctx);
      if (dns_decided_) {
        dns_decided_ = false;
        return dns_decision_;
      }
      return flow.decision;
    }
  }
  quic_datagram(flow, ctx);
  if (!flow.done && flow.packets_inspected >= config_.max_packets_per_flow_inspected) {
    if (flow.buffer != kNoBuffer && pool_.has_hole(flow.buffer)) {
      flow.flags |= kFlagGap;
    }
    finish_unnamed(flow, flow.app, {}, &ctx, ctx.meta.ts_us);
  }
  return flow.decision;
}

bool Inspector::udp_http_request(Flow& flow, const PacketContext& ctx) noexcept {
  // HTTP over UDP (SSDP M-SEARCH / NOTIFY, HTTPU): one request per datagram, so an incomplete
  // one never completes.
  const auto request = parse::parse_http_request(ctx.packet.payload);
  if (!request) {
    if (request.error() == parse::HttpParseError::NotHttp) {
      return false;
    }
    if (request.error() == parse::HttpParseError::BadRequest) {
      ++stats_.http_parse_errors;
    }
    finish_unnamed(flow, AppProto::Http, {}, &ctx, ctx.meta.ts_us);
    return true;
  }
  flow.app = AppProto::Http;
  decide_http_request(flow, *request, 0, ctx);
  return true;
}

void Inspector::quic_datagram(Flow& flow, const PacketContext& ctx) noexcept {
  const ByteSpan datagram = ctx.packet.payload;
  ByteSpan key;
  if (flow.buffer != kNoBuffer) {
    const ReassemblyState& s = pool_.state(flow.buffer);
    key = ByteSpan(s.key.data(), s.key_len);
  }
  const auto initial = parse::decrypt_client_initial(datagram, key, quic_scratch_);
  if (!initial) {
    const parse::QuicError error = initial.error();
    if (error == parse::QuicError::GquicPlaintext || error == parse::QuicError::NotQuic ||
        error == parse::QuicError::ShortHeader || error == parse::QuicError::UnsupportedVersion) {
      // Google QUIC up to Q046 sends its CHLO in plaintext, older versions behind the gQUIC
      // public header (which is not an IETF long header).
      const auto sni = parse::gquic_chlo_sni(datagram);
      if (sni) {
        const std::uint32_t extra = has_odd_bytes(*sni) ? std::uint32_t{kFlagOddBytes} : 0U;
        decide_named(flow, AppProto::Quic, *sni, *sni, extra, {}, 0, &ctx);
        return;
      }
      if (sni.error() == parse::QuicError::NoSni) {
        flow.flags |= kFlagNoSni;
        finish_unnamed(flow, AppProto::Quic, {}, &ctx, ctx.meta.ts_us);
        return;
      }
      if (error == parse::QuicError::GquicPlaintext || sni.error() == parse::QuicError::NoChlo) {
        flow.app = AppProto::Quic;  // gQUIC, but not the CHLO packet: wait for it
        return;
      }
    }
    switch (error) {
      case parse::QuicError::GquicPlaintext:
        return;
      case parse::QuicError::DecryptFailed:
      case parse::QuicError::BadFrame:
      case parse::QuicError::TooManyChunks:
      case parse::QuicError::ScratchTooSmall:
      case parse::QuicError::CryptoUnavailable:
        flow.app = AppProto::Quic;
        flow.flags |= kFlagDecryptFailed;
        ++stats_.quic_decrypt_failures;
        return;
      case parse::QuicError::NotInitial:
      case parse::QuicError::VersionNegotiation:
      case parse::QuicError::Truncated:
      case parse::QuicError::BadLength:
        if (flow.app == AppProto::None && parse::looks_like_quic_long_header(datagram)) {
          flow.app = AppProto::Quic;
        }
        return;
      default:
        if (flow.app == AppProto::None) {
          // No Initial we can read on the first client datagram: not inspectable. An unknown
          // QUIC version is still reported as an unnamed QUIC flow.
          finish_unnamed(
              flow, parse::looks_like_quic_long_header(datagram) ? AppProto::Quic : AppProto::None,
              {}, &ctx, ctx.meta.ts_us);
        }
        return;
    }
  }
  flow.app = AppProto::Quic;
  const bool google = initial->protection.handshake == parse::QuicHandshake::GoogleChlo;
  const auto chunks = initial->crypto_chunks();
  if (chunks.empty()) {
    return;
  }
  if (flow.buffer == kNoBuffer) {
    if (acquire_buffer(flow) == kNoBuffer) {
      finish_unnamed(flow, AppProto::Quic, {}, &ctx, ctx.meta.ts_us);
      return;
    }
    ReassemblyState& s = pool_.state(flow.buffer);
    s.key_len = static_cast<std::uint8_t>(std::min(initial->key_dcid.size(), kMaxKeyBytes));
    std::copy_n(initial->key_dcid.begin(), s.key_len, s.key.begin());
  }
  const std::size_t before = pool_.contiguous(flow.buffer).size();
  const WriteOutcome w = feed_crypto_chunks(pool_, flow.buffer, chunks);
  if (w.conflict) {
    flow.flags |= kFlagOverlap;
  }
  note_buffer_write(flow, w);
  if (pool_.contiguous(flow.buffer).size() > before) {
    quic_crypto_ready(flow, ctx, google);
  }
}

void Inspector::quic_crypto_ready(Flow& flow, const PacketContext& ctx, bool google) noexcept {
  const ByteSpan prefix = pool_.contiguous(flow.buffer);
  const auto length = crypto_message_length(
      prefix, google ? CryptoMessage::GoogleChlo : CryptoMessage::TlsClientHello);
  if (!length) {
    if (length.error() == CryptoLengthError::BadStart) {
      ++stats_.tls_parse_errors;
      finish_unnamed(flow, AppProto::Quic, {}, &ctx, ctx.meta.ts_us);
    }
    return;
  }
  if (*length > pool_.buffer_bytes()) {
    flow.flags |= kFlagTruncated;
    finish_unnamed(flow, AppProto::Quic, {}, &ctx, ctx.meta.ts_us);
    return;
  }
  if (prefix.size() < *length) {
    return;
  }
  std::uint32_t extra =
      pool_.state(flow.buffer).packets > 1 ? std::uint32_t{kFlagQuicMultiPacket} : 0U;
  const ByteSpan message = prefix.first(*length);
  if (google) {
    const auto sni = parse::gquic_chlo_message_sni(message);
    if (!sni) {
      flow.flags |= extra | kFlagNoSni;
      finish_unnamed(flow, AppProto::Quic, {}, &ctx, ctx.meta.ts_us);
      return;
    }
    if (has_odd_bytes(*sni)) {
      extra |= kFlagOddBytes;
    }
    decide_named(flow, AppProto::Quic, *sni, *sni, extra, {}, 0, &ctx);
    return;
  }
  client_hello_ready(flow, AppProto::Quic, message, extra, ctx);
}

// What every write into a flow's reassembly buffer (TCP stream or QUIC CRYPTO) leaves behind:
// bound hits flag the flow, refusals are counted, accepted writes count as packets.
void Inspector::note_buffer_write(Flow& flow, const WriteOutcome& w) noexcept {
  if (w.truncated) {
    flow.flags |= kFlagTruncated;
  }
  if (w.refused) {
    ++stats_.reassembly_drops;
    flow.flags |= kFlagTruncated;
  }
  if (w.added) {
    ++pool_.state(flow.buffer).packets;
  }
}

// A complete ClientHello (TLS over TCP, or QUIC CRYPTO data): flags, then the name decides.
void Inspector::client_hello_ready(Flow& flow, AppProto app, ByteSpan handshake,
                                   std::uint32_t extra, const PacketContext& ctx) noexcept {
  const auto hello = read_client_hello(handshake, extra);
  if (!hello || (extra & kFlagMalformed) != 0) {
    ++stats_.tls_parse_errors;
  }
  if (!hello) {
    flow.flags |= extra;
    finish_unnamed(flow, app, {}, &ctx, ctx.meta.ts_us);
    return;
  }
  if (hello->has_ech) {
    extra |= kFlagEch;
  }
  if (hello->has_esni) {
    extra |= kFlagEsni;
  }
  const std::string_view alpn = format_alpn(hello->alpn);
  if (hello->sni.empty()) {
    flow.flags |= extra | kFlagNoSni;
    finish_unnamed(flow, app, alpn, &ctx, ctx.meta.ts_us);
    return;
  }
  if (hello->sni_odd_bytes) {
    extra |= kFlagOddBytes;
  }
  if (is_ip_literal(hello->sni)) {
    extra |= kFlagIpLiteral;
  }
  decide_named(flow, app, hello->sni, hello->sni, extra, alpn, 0, &ctx);
}

// ---- decisions and observations ----

Decision Inspector::decide_named(Flow& flow, AppProto app, std::string_view raw_name,
                                 std::string_view decide_name, std::uint32_t extra_flags,
                                 std::string_view alpn, std::uint16_t qtype,
                                 const PacketContext* ctx) noexcept {
  Decision decision = snapshot_->decide_raw_name(decide_name, flow.group);
  if ((extra_flags & kFlagIpLiteral) != 0 && app != AppProto::Dns &&
      decision.reason.kind != ReasonKind::Rule) {
    // An IP literal is no name: the destination's GeoIP/ASN rules decide.
    decision = snapshot_->decide_address(flow.client_is_a ? flow.key.b : flow.key.a, flow.group);
  }
  ++stats_.names[static_cast<std::size_t>(app)];
  count_decision(decision);
  flow.named = true;
  flow.app = app;
  if (app == AppProto::Dns) {
    // Per-query flags: the flow's own (fragments, reassembly) plus this name's.
    const std::uint32_t saved = flow.flags;
    flow.flags |= extra_flags;
    observe(flow, app, raw_name, alpn, qtype, decision, ctx, ctx != nullptr ? ctx->meta.ts_us : 0);
    flow.flags = saved;
    return decision;
  }
  flow.flags |= extra_flags;
  flow.decision = decision;
  flow.done = true;
  observe(flow, app, raw_name, alpn, qtype, decision, ctx, ctx != nullptr ? ctx->meta.ts_us : 0);
  release_buffer(flow);  // after observe: the name may be a view into the buffer
  return decision;
}

bool Inspector::decide_passing_name(Flow& flow, AppProto app, std::string_view raw_name,
                                    std::string_view decide_name, std::uint32_t extra_flags,
                                    const PacketContext& ctx) noexcept {
  const Decision decision = snapshot_->decide_raw_name(decide_name, flow.group);
  ++stats_.names[static_cast<std::size_t>(app)];
  count_decision(decision);
  flow.named = true;
  flow.decision = decision;  // until a later name decides
  if (decision.verdict == Verdict::Block) {
    flow.app = app;
    flow.flags |= extra_flags;
    flow.done = true;
    observe(flow, app, raw_name, {}, 0, decision, &ctx, ctx.meta.ts_us);
    release_buffer(flow);  // after observe: the name may be a view into the buffer
    return false;
  }
  // The flags describe this name only: the tunnelled name gets its own.
  const std::uint32_t saved = flow.flags;
  flow.flags |= extra_flags;
  observe(flow, app, raw_name, {}, 0, decision, &ctx, ctx.meta.ts_us);
  flow.flags = saved;
  return true;
}

void Inspector::finish_unnamed(Flow& flow, AppProto app, std::string_view alpn,
                               const PacketContext* ctx, std::uint64_t now_us) noexcept {
  flow.done = true;
  if (flow.app == AppProto::None) {
    flow.app = app;
  }
  if (!flow.named) {
    // No name: the destination's GeoIP/ASN rules decide (decide_address).
    flow.decision = snapshot_->decide_address(flow.client_is_a ? flow.key.b : flow.key.a,
                                              flow.group < snapshot_->groups().size()
                                                  ? flow.group
                                                  : snapshot_->resolve_group(SourceIdentity{}));
    count_decision(flow.decision);
    if (app == AppProto::Tls || app == AppProto::Quic) {
      ++stats_.unnamed_flows;
      observe(flow, app, {}, alpn, 0, flow.decision, ctx, now_us);
    } else if (is_address_rule(flow.decision.reason.kind)) {
      observe(flow, app, {}, alpn, 0, flow.decision, ctx, now_us);
    }
  }
  release_buffer(flow);
}

std::string_view Inspector::format_alpn(ByteSpan alpn) noexcept {
  std::size_t used = 0;
  ByteReader r(alpn);
  while (!r.empty()) {
    const ByteSpan protocol = r.take(r.u8());
    if (!r.ok()) {
      break;
    }
    if (used + protocol.size() + 1 > alpn_text_.size()) {
      break;
    }
    if (used != 0) {
      alpn_text_[used++] = ',';
    }
    std::memcpy(alpn_text_.data() + used, protocol.data(), protocol.size());
    used += protocol.size();
  }
  return {alpn_text_.data(), used};
}

void Inspector::observe(const Flow& flow, AppProto app, std::string_view name,
                        std::string_view alpn, std::uint16_t qtype, const Decision& decision,
                        const PacketContext* ctx, std::uint64_t now_us) noexcept {
  if (sink_ == nullptr) {
    return;
  }
  Observation o;
  o.ts_us = now_us;
  if (flow.client_is_a) {
    o.src = flow.key.a;
    o.sport = flow.key.port_a;
    o.dst = flow.key.b;
    o.dport = flow.key.port_b;
  } else {
    o.src = flow.key.b;
    o.sport = flow.key.port_b;
    o.dst = flow.key.a;
    o.dport = flow.key.port_a;
  }
  o.l4 = flow.key.proto;
  o.app = app;
  o.name = name;
  o.alpn = alpn;
  o.dns_qtype = qtype;
  o.decision = decision;
  o.policy = snapshot_;
  o.flags = flow.flags;
  o.flow_id = flow.flow_id;
  o.interface =
      ctx != nullptr ? ctx->meta.interface : std::string_view(interfaces_[flow.interface]);
  if (flow.has_vlan) {
    o.vlan = flow.vlan;
  }
  sink_->on_observation(o);
}

}  // namespace egressguard::inspect
