// Inspector: the inspection core (DESIGN sections 1 and 5). Takes frames or decoded packets,
// keeps a bounded flow table, reassembles what it must (TCP client streams, QUIC CRYPTO data),
// extracts names (DNS qname, TLS SNI, QUIC SNI, HTTP Host), asks the policy, caches each flow's
// decision and reports Observations.
//
// One Inspector per worker thread (shared-nothing); not thread-safe. Every packet method is
// noexcept and, once the flow table and reassembly pool are warmed up, allocation-free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_span.h"
#include "domains/name.h"
#include "filter/inspect/flow_table.h"
#include "filter/inspect/inspect_config.h"
#include "filter/inspect/observation.h"
#include "filter/inspect/policy.h"
#include "filter/inspect/stats.h"
#include "filter/inspect/stream_reassembler.h"
#include "filter/parse/dns.h"
#include "filter/parse/http_host.h"
#include "filter/parse/packet.h"

namespace egressguard::inspect {

class Inspector {
 public:
  // `store` and `sink` (nullable) must outlive the Inspector.
  Inspector(const PolicyStore& store, const InspectConfig& config, ObservationSink* sink);
  ~Inspector();
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // Decodes `frame` and inspects it. Frames that do not decode are counted and allowed with the
  // default group's no-name decision.
  Decision inspect_frame(parse::LinkType link, ByteSpan frame, const PacketMeta& meta) noexcept;
  // Inspects a decoded packet. The returned Decision is the flow's: cached once the flow is
  // decided (later packets return it without parsing); decide_unnamed() of the client's group
  // until a name shows up. A DNS packet gets the decision of the query it carries.
  Decision inspect_packet(const parse::PacketView& packet, const PacketMeta& meta) noexcept;
  // Removes flows idle for longer than flow_idle_timeout_s at `now_us` (packet time), and picks
  // up a new policy snapshot. Undecided TLS/QUIC flows are reported as unnamed.
  void expire(std::uint64_t now_us) noexcept;
  // Ends every flow now (end of a capture, shutdown): undecided TLS/QUIC flows are reported as
  // unnamed, buffers are freed, the table is empty afterwards. Not counted as expiry.
  void flush() noexcept;
  // Loads the PolicyStore's current snapshot now (otherwise every policy_refresh_packets
  // packets). Flows already decided keep their decision.
  void refresh_policy() noexcept;

  const InspectStats& stats() const noexcept { return stats_; }
  const InspectConfig& config() const noexcept { return config_; }
  std::uint32_t flow_count() const noexcept { return flows_.size(); }
  // Flow table plus reassembly buffers allocated so far.
  std::uint64_t memory_bytes() const noexcept;
  // The flow `packet` belongs to, or nullptr (for tests and explain).
  const Flow* find_flow(const parse::PacketView& packet) const noexcept;

 private:
  struct PacketContext;
  struct FragmentEntry {
    parse::IpAddress src, dst;
    std::uint32_t id = 0;
    std::uint8_t proto = 0;
    bool used = false;
    std::uint32_t flow = kNoFlow;
    std::uint64_t flow_id = 0;
  };
  static constexpr std::size_t kFragmentSlots = 1024;
  static constexpr std::size_t kMaxInterfaces = 64;

  Decision process(const parse::PacketView& packet, const PacketMeta& meta) noexcept;
  Decision unnamed_for_source(const parse::PacketView& packet, const PacketMeta& meta) noexcept;
  Decision later_fragment(const parse::PacketView& packet, const PacketMeta& meta) noexcept;
  std::size_t fragment_slot(const parse::IpAddress& src, const parse::IpAddress& dst,
                            std::uint32_t id, std::uint8_t proto) const noexcept;
  std::uint32_t create_flow(const parse::PacketView& packet, const PacketMeta& meta,
                            const FlowKey& key, std::uint32_t hash, bool src_is_a) noexcept;
  enum class DropReason : std::uint8_t { Expired, Evicted, Flushed };
  void drop_flow(std::uint32_t index, std::uint64_t now_us, DropReason why) noexcept;
  void reset_flow(Flow& flow) noexcept;
  void sync_group(Flow& flow, const PacketContext& ctx) noexcept;
  std::uint8_t intern_interface(std::string_view name) noexcept;

  Decision handle_tcp(Flow& flow, const PacketContext& ctx) noexcept;
  Decision handle_udp(Flow& flow, const PacketContext& ctx) noexcept;
  void tcp_client_data(Flow& flow, const PacketContext& ctx) noexcept;
  bool worth_parsing(Flow& flow, ByteSpan stream, std::size_t before) noexcept;
  // Parses the client stream from its first unconsumed byte; returns bytes consumed (DNS).
  std::uint32_t parse_stream(Flow& flow, ByteSpan stream, bool buffered,
                             const PacketContext& ctx) noexcept;
  void parse_tls_stream(Flow& flow, ByteSpan stream, bool buffered,
                        const PacketContext& ctx) noexcept;
  // Both return the bytes of a proxy handshake (HTTP CONNECT request, SOCKS handshake) once the
  // tunnel it opens starts (the flow is then dispatched again on the tunnelled bytes), else 0.
  std::uint32_t parse_http_stream(Flow& flow, ByteSpan stream, bool buffered,
                                  const PacketContext& ctx) noexcept;
  std::uint32_t parse_socks_stream(Flow& flow, ByteSpan stream, const PacketContext& ctx) noexcept;
  // A CONNECT request was decided: waits for the end of its header block.
  std::uint32_t connect_tunnel(Flow& flow, ByteSpan stream, const PacketContext& ctx) noexcept;
  void enter_tunnel(Flow& flow) noexcept;
  // An HTTP request over TCP or UDP: decides the authority a proxy would use (when it differs
  // from Host) and the Host. False when a name blocked the flow.
  bool decide_http_request(Flow& flow, const parse::HttpRequestInfo& request, std::uint32_t extra,
                           const PacketContext& ctx) noexcept;
  // A UDP datagram holding an HTTP request (SSDP, HTTPU); false when it is not one.
  bool udp_http_request(Flow& flow, const PacketContext& ctx) noexcept;
  std::uint32_t parse_dns_stream(Flow& flow, ByteSpan stream, const PacketContext& ctx) noexcept;
  void dns_message(Flow& flow, ByteSpan message, const PacketContext& ctx) noexcept;
  // Keeps the packet's DNS decision (a block wins) and the flow's.
  void note_dns_decision(Flow& flow, const Decision& decision) noexcept;
  void quic_datagram(Flow& flow, const PacketContext& ctx) noexcept;
  void quic_crypto_ready(Flow& flow, const PacketContext& ctx, bool google) noexcept;
  void note_buffer_write(Flow& flow, const WriteOutcome& w) noexcept;
  void client_hello_ready(Flow& flow, AppProto app, ByteSpan handshake, std::uint32_t extra,
                          const PacketContext& ctx) noexcept;

  // A name was found: decide, observe, and (except DNS) cache the decision.
  Decision decide_named(Flow& flow, AppProto app, std::string_view raw_name,
                        std::string_view decide_name, std::uint32_t extra_flags,
                        std::string_view alpn, std::uint16_t qtype,
                        const PacketContext* ctx) noexcept;
  // A name that ends inspection only when it blocks (a proxy's destination; the tunnelled stream
  // still has its own name to decide): decides and observes it; false when it blocked the flow.
  bool decide_passing_name(Flow& flow, AppProto app, std::string_view raw_name,
                           std::string_view decide_name, std::uint32_t extra_flags,
                           const PacketContext& ctx) noexcept;
  // The flow ends or gives up without a name: cache decide_unnamed; TLS/QUIC are observed.
  void finish_unnamed(Flow& flow, AppProto app, std::string_view alpn, const PacketContext* ctx,
                      std::uint64_t now_us) noexcept;
  void release_buffer(Flow& flow) noexcept;
  std::uint32_t acquire_buffer(Flow& flow) noexcept;
  // The pool is exhausted: ends the flow that has held its buffer longest (decided without a
  // name, truncated, counted in reassembly_drops) and frees that buffer. False when none holds
  // one. Without this a flood of half ClientHellos would leave no buffer for real ones.
  bool steal_buffer() noexcept;
  void count_decision(const Decision& decision) noexcept;
  void observe(const Flow& flow, AppProto app, std::string_view name, std::string_view alpn,
               std::uint16_t qtype, const Decision& decision, const PacketContext* ctx,
               std::uint64_t now_us) noexcept;
  std::string_view format_alpn(ByteSpan alpn) noexcept;

  const PolicyStore& store_;
  InspectConfig config_;
  ObservationSink* sink_;
  std::shared_ptr<const PolicySnapshot> snapshot_holder_;
  const PolicySnapshot* snapshot_ = nullptr;
  std::uint32_t snapshot_version_ = 0;
  Decision default_unnamed_;
  std::uint32_t packets_since_refresh_ = 0;

  FlowTable flows_;
  ReassemblyPool pool_;
  InspectStats stats_;
  std::uint64_t next_flow_id_ = 0;
  std::uint64_t idle_timeout_us_;
  std::uint64_t last_ts_us_ = 0;  // latest packet time seen

  std::vector<FragmentEntry> fragments_;
  std::vector<std::string> interfaces_;  // index 0: unknown
  std::uint8_t last_interface_ = 0;

  // Per-packet result of DNS packets (several queries: a block wins).
  Decision dns_decision_;
  bool dns_decided_ = false;

  std::vector<std::uint8_t> tls_scratch_;
  std::vector<std::uint8_t> quic_scratch_;
  parse::DnsNameBuffer dns_name_{};
  std::array<char, 256> alpn_text_{};

  // Buffer holders, oldest first (a ring of 2 x the pool's capacity, allocated once; entries
  // whose flow no longer holds that buffer are skipped, and dropped when the ring is full).
  struct BufferOwner {
    Flow* flow = nullptr;  // flow chunks never move
    std::uint64_t flow_id = 0;
    std::uint32_t buffer = kNoBuffer;
  };
  std::vector<BufferOwner> owners_;
  std::size_t owners_head_ = 0;
  std::size_t owners_size_ = 0;
};

}  // namespace egressguard::inspect
