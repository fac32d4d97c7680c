// Overload (issue 7, item 3): a flood of new TCP flows, each a SYN and the first half of a TLS
// ClientHello (the bytes a scanner or an attacker sends to make the inspector buffer and wait),
// through one Inspector with its default bounds. The flow table must stay within max_flows, the
// reassembly buffers within reassembly_memory, every eviction must be counted, and real
// ClientHellos for a blocked name arriving after the flood must still be decided.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "filter/inspect/inspector.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace egressguard::inspect {
namespace {

using test::Bytes;

constexpr auto kEth = parse::LinkType::Ethernet;
constexpr const char* kServer = "192.0.2.10";
constexpr std::uint32_t kIsn = 5000;  // SYN seq; stream byte 0 is at kIsn + 1

// Counts observations instead of keeping them (a million of them would not fit a test).
class CountingSink : public ObservationSink {
 public:
  void on_observation(const Observation& o) override {
    ++observations;
    if ((o.flags & kFlagTruncated) != 0) {
      ++truncated;
    }
    if (!o.name.empty()) {
      last_name = std::string(o.name);
      last_decision = o.decision;
    }
  }
  std::uint64_t observations = 0;
  std::uint64_t truncated = 0;
  std::string last_name;
  Decision last_decision;
};

// Flow i: a gov-managed client (10.1.0.0/16 blocks tiktok), distinct address and port.
std::string flood_client(std::uint32_t i) {
  return "10.1." + std::to_string((i >> 8) & 0xff) + "." + std::to_string(i & 0xff);
}
std::uint16_t flood_port(std::uint32_t i) {
  return static_cast<std::uint16_t>(1024 + (i >> 16));
}

class FlowFlood : public ::testing::Test {
 protected:
  FlowFlood() : inspector_(policy_.store(), InspectConfig{}, &sink_) {}

  Decision feed(const Bytes& frame) {
    meta_.ts_us += 1;  // a million flows in about 2 s of packet time: nothing expires
    return inspector_.inspect_frame(kEth, frame, meta_);
  }
  // A complete handshake from a fresh client after the flood: SYN, then `stream` in segments
  // split at `split` (0: one segment). Returns the decision of the last segment.
  Decision handshake(const std::string& client, std::uint16_t port, const Bytes& stream,
                     std::size_t split) {
    feed(test::tcp_frame(client, port, kServer, 443, kIsn, {}, parse::kTcpSyn, 0));
    if (split == 0) {
      return feed(test::tcp_frame(client, port, kServer, 443, kIsn + 1, stream));
    }
    const Bytes first(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(split));
    const Bytes rest(stream.begin() + static_cast<std::ptrdiff_t>(split), stream.end());
    const Decision d = feed(test::tcp_frame(client, port, kServer, 443, kIsn + 1, first));
    EXPECT_FALSE(d.enforced_block()) << "decided before the SNI arrived";
    return feed(test::tcp_frame(client, port, kServer, 443,
                                kIsn + 1 + static_cast<std::uint32_t>(split), rest));
  }

  test::TestPolicy policy_;
  CountingSink sink_;
  Inspector inspector_;
  PacketMeta meta_{1000000, "eth0"};
};

TEST_F(FlowFlood, MillionHalfClientHellosStayWithinBoundsAndRealOnesAreStillDecided) {
  constexpr std::uint32_t kFlows = 1U << 20;
  const InspectConfig& config = inspector_.config();
  ASSERT_LT(config.max_flows, kFlows) << "the flood must overflow the table";
  // Post-quantum-sized ClientHellos (padding) take two segments, like Chrome's; the flood sends
  // the first half of one.
  const Bytes hello = test::tls_stream("www.example.org");
  const Bytes half(hello.begin(), hello.begin() + static_cast<std::ptrdiff_t>(hello.size() / 2));

  std::uint64_t table_bytes_when_full = 0;
  std::uint64_t peak_memory = 0;
  for (std::uint32_t i = 0; i < kFlows; ++i) {
    const std::string client = flood_client(i);
    const std::uint16_t port = flood_port(i);
    feed(test::tcp_frame(client, port, kServer, 443, kIsn, {}, parse::kTcpSyn, 0));
    const Decision d = feed(test::tcp_frame(client, port, kServer, 443, kIsn + 1, half));
    ASSERT_FALSE(d.enforced_block()) << "flow " << i;
    if (i == config.max_flows - 1) {
      table_bytes_when_full =
          inspector_.memory_bytes() - inspector_.stats().reassembly_bytes_reserved;
    }
    if ((i & 0xffff) == 0xffff) {
      ASSERT_LE(inspector_.flow_count(), config.max_flows) << "after " << i + 1 << " flows";
      ASSERT_LE(inspector_.stats().reassembly_bytes_reserved, config.reassembly_memory);
      ASSERT_LE(inspector_.stats().reassembly_bytes_in_use, config.reassembly_memory);
      peak_memory = std::max(peak_memory, inspector_.memory_bytes());
    }
  }
  const InspectStats& s = inspector_.stats();
  EXPECT_EQ(inspector_.flow_count(), config.max_flows);
  EXPECT_EQ(s.active_flows, config.max_flows);
  EXPECT_EQ(s.flows_created, kFlows);
  EXPECT_EQ(s.flows_evicted, kFlows - config.max_flows);
  EXPECT_EQ(s.flows_expired, 0U);
  EXPECT_EQ(s.packets, 2ULL * kFlows);
  // The table stopped growing once full: everything after that is the reassembly pool, bounded.
  ASSERT_GT(table_bytes_when_full, 0U);
  EXPECT_LE(peak_memory, table_bytes_when_full + config.reassembly_memory);
  EXPECT_EQ(inspector_.memory_bytes() - s.reassembly_bytes_reserved, table_bytes_when_full);
  // The pool ran dry: flows refused a buffer were counted and reported truncated, not kept.
  EXPECT_GT(s.reassembly_drops, 0U);
  EXPECT_EQ(sink_.truncated, s.reassembly_drops);
  EXPECT_EQ(s.names[static_cast<std::size_t>(AppProto::Tls)], 0U)
      << "half a ClientHello has no SNI";
  std::printf(
      "flood of %u flows: table %u flows (%.1f MB), reassembly %.1f of %.1f MB reserved, "
      "%llu evicted, %llu buffers taken back or refused\n",
      kFlows, inspector_.flow_count(), static_cast<double>(table_bytes_when_full) / 1e6,
      static_cast<double>(s.reassembly_bytes_reserved) / 1e6,
      static_cast<double>(config.reassembly_memory) / 1e6,
      static_cast<unsigned long long>(s.flows_evicted),
      static_cast<unsigned long long>(s.reassembly_drops));

  // After the flood: a complete ClientHello in one segment for a blocked name is blocked, one for
  // an allowed name is allowed with its name.
  const std::uint64_t evicted_before = s.flows_evicted;
  const Decision blocked = handshake("10.1.250.1", 50000, test::tls_stream("www.tiktok.com"), 0);
  EXPECT_TRUE(blocked.enforced_block());
  EXPECT_EQ(sink_.last_name, "www.tiktok.com");
  const Decision allowed = handshake("10.1.250.2", 50000, test::tls_stream("www.example.com"), 0);
  EXPECT_EQ(allowed.verdict, Verdict::Allow);
  EXPECT_EQ(sink_.last_name, "www.example.com");
  EXPECT_EQ(inspector_.flow_count(), config.max_flows);
  EXPECT_EQ(inspector_.stats().flows_evicted, evicted_before + 2);
}

TEST_F(FlowFlood, ClientHelloSplitOverTwoSegmentsIsStillDecidedAfterTheFlood) {
  // The flood fills every reassembly buffer with half ClientHellos that never complete. A new
  // flow that needs a buffer then takes the one held longest (steal_buffer): before that, it
  // got none and was decided without a name, so the flood let split ClientHellos through.
  constexpr std::uint32_t kFlows = 1U << 16;
  const Bytes hello = test::tls_stream("www.example.org");
  const Bytes half(hello.begin(), hello.begin() + static_cast<std::ptrdiff_t>(hello.size() / 2));
  for (std::uint32_t i = 0; i < kFlows; ++i) {
    feed(
        test::tcp_frame(flood_client(i), flood_port(i), kServer, 443, kIsn, {}, parse::kTcpSyn, 0));
    feed(test::tcp_frame(flood_client(i), flood_port(i), kServer, 443, kIsn + 1, half));
  }
  ASSERT_GT(inspector_.stats().reassembly_drops, 0U) << "the flood did not exhaust the pool";
  // A real ClientHello that needs a buffer (two segments, the SNI in the second half).
  const Bytes tiktok = test::tls_stream("www.tiktok.com");
  const Decision d = handshake("10.1.251.1", 50001, tiktok, 40);
  EXPECT_TRUE(d.enforced_block()) << "a half-ClientHello flood makes split ClientHellos pass";
  EXPECT_EQ(sink_.last_name, "www.tiktok.com");
}

}  // namespace
}  // namespace egressguard::inspect
