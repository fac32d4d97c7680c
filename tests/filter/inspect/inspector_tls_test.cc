// TLS ClientHello reassembly through the whole Inspector: table-driven evasion cases.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/inspect/inspector.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace egressguard::inspect {
namespace {

using test::Bytes;

constexpr std::uint32_t kIsn = 1000;         // SYN seq; stream byte 0 is at kIsn + 1
constexpr const char* kClient = "10.1.0.5";  // group gov: blocks tiktok
constexpr const char* kServer = "192.0.2.10";
constexpr const char* kSni = "vcs-va.tiktokv.com";

// One client segment: `length` stream bytes from `offset`, or `bytes` when set.
struct Segment {
  std::size_t offset = 0;
  std::size_t length = 0;  // 0: to the end of the stream
  Bytes bytes;             // explicit content (a conflicting retransmission)
};

struct TlsCase {
  const char* description;
  std::size_t max_record = 16384;  // TLS record fragment size
  bool syn = true;
  // Each entry a list of segments; built from the stream at run time.
  std::vector<Segment> segments;
  bool expect_name = true;
  std::uint32_t flags_set = 0;    // must be set on the observation
  std::uint32_t flags_clear = 0;  // must not be set
};

std::vector<Segment> one_byte_segments(std::size_t count) {
  std::vector<Segment> out;
  for (std::size_t i = 0; i < count; ++i) {
    out.push_back({i, 1, {}});
  }
  return out;
}

Bytes stream_part(const Bytes& stream, const Segment& s) {
  if (!s.bytes.empty()) {
    return s.bytes;
  }
  const std::size_t end =
      s.length == 0 ? stream.size() : std::min(stream.size(), s.offset + s.length);
  return Bytes(stream.begin() + static_cast<std::ptrdiff_t>(s.offset),
               stream.begin() + static_cast<std::ptrdiff_t>(end));
}

class TlsEvasion : public ::testing::TestWithParam<TlsCase> {};

TEST_P(TlsEvasion, FindsTheSniOrReportsWhyNot) {
  const TlsCase& c = GetParam();
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  const Bytes stream = test::tls_stream(kSni, c.max_record);
  PacketMeta meta{1000000, "eth0"};

  if (c.syn) {
    inspector.inspect_frame(
        parse::LinkType::Ethernet,
        test::tcp_frame(kClient, 40000, kServer, 443, kIsn, {}, parse::kTcpSyn, 0), meta);
  }
  std::vector<Segment> segments = c.segments;
  if (segments.size() == 1 && segments[0].length == 1) {
    segments = one_byte_segments(stream.size());
  }
  Decision last;
  for (const Segment& s : segments) {
    const Bytes part = stream_part(stream, s);
    meta.ts_us += 1000;
    last = inspector.inspect_frame(
        parse::LinkType::Ethernet,
        test::tcp_frame(kClient, 40000, kServer, 443,
                        kIsn + 1 + static_cast<std::uint32_t>(s.offset), part),
        meta);
  }
  if (c.expect_name) {
    ASSERT_EQ(sink.seen.size(), 1U);
    const test::Seen& seen = sink.seen[0];
    EXPECT_EQ(seen.name, kSni);
    EXPECT_EQ(seen.app, AppProto::Tls);
    EXPECT_EQ(seen.alpn, "h2,http/1.1");
    EXPECT_EQ(seen.src, kClient);
    EXPECT_EQ(seen.dport, 443);
    EXPECT_EQ(seen.decision.verdict, Verdict::Block);
    EXPECT_EQ(seen.decision.group, policy.group("gov"));
    EXPECT_EQ(seen.flags & c.flags_set, c.flags_set) << flags_to_string(seen.flags);
    EXPECT_EQ(seen.flags & c.flags_clear, 0U) << flags_to_string(seen.flags);
    EXPECT_EQ(last.verdict, Verdict::Block);
    EXPECT_EQ(inspector.stats().names[static_cast<std::size_t>(AppProto::Tls)], 1U);
    // The flow keeps its decision: a later data packet is blocked without parsing.
    const Decision later = inspector.inspect_frame(
        parse::LinkType::Ethernet,
        test::tcp_frame(kClient, 40000, kServer, 443,
                        kIsn + 1 + static_cast<std::uint32_t>(stream.size()),
                        test::bytes_of("application data")),
        meta);
    EXPECT_EQ(later.verdict, Verdict::Block);
  } else {
    EXPECT_TRUE(sink.seen.empty());
    EXPECT_EQ(last.verdict, Verdict::Allow);
    EXPECT_EQ(last.reason.kind, ReasonKind::NoName);
    // The flow ends (RST): it is reported once, without a name.
    inspector.inspect_frame(parse::LinkType::Ethernet,
                            test::tcp_frame(kServer, 443, kClient, 40000, 5000, {}, parse::kTcpRst),
                            meta);
    ASSERT_EQ(sink.seen.size(), 1U);
    EXPECT_TRUE(sink.seen[0].name.empty());
    EXPECT_EQ(sink.seen[0].app, AppProto::Tls);
    EXPECT_EQ(sink.seen[0].flags & c.flags_set, c.flags_set) << flags_to_string(sink.seen[0].flags);
    EXPECT_EQ(inspector.stats().unnamed_flows, 1U);
  }
  EXPECT_EQ(inspector.stats().reassembly_bytes_in_use, 0U);
}

Bytes corrupted(const Bytes& stream, std::size_t offset, std::size_t length) {
  Bytes out(stream.begin() + static_cast<std::ptrdiff_t>(offset),
            stream.begin() + static_cast<std::ptrdiff_t>(offset + length));
  for (auto& b : out) {
    b = static_cast<std::uint8_t>(b ^ 0x5a);
  }
  return out;
}

// The stream of tls_stream(kSni) is about 200 bytes; the SNI sits at about offset 80-110.
const Bytes kStream = test::tls_stream(kSni);

INSTANTIATE_TEST_SUITE_P(
    Cases, TlsEvasion,
    ::testing::Values(
        TlsCase{"one_segment",
                16384,
                true,
                {{0, 0, {}}},
                true,
                0,
                kFlagSplit | kFlagRecordFragmented | kFlagOutOfOrder | kFlagMidStream},
        TlsCase{"two_segments",
                16384,
                true,
                {{0, 60, {}}, {60, 0, {}}},
                true,
                kFlagSplit,
                kFlagOutOfOrder | kFlagOverlap},
        TlsCase{"one_byte_segments", 16384, true, {{0, 1, {}}}, true, kFlagSplit, kFlagOverlap},
        TlsCase{"out_of_order",
                16384,
                true,
                {{60, 0, {}}, {0, 60, {}}},
                true,
                kFlagSplit | kFlagOutOfOrder,
                kFlagOverlap},
        TlsCase{"three_reversed",
                16384,
                true,
                {{120, 0, {}}, {60, 60, {}}, {0, 60, {}}},
                true,
                kFlagSplit | kFlagOutOfOrder,
                0},
        TlsCase{"conflicting_retransmission_first_wins",
                16384,
                true,
                {{0, 100, {}}, {50, 0, corrupted(kStream, 50, 50)}, {100, 0, {}}},
                true,
                kFlagSplit | kFlagOverlap,
                0},
        TlsCase{"overlapping_segments",
                16384,
                true,
                {{0, 100, {}}, {50, 0, {}}},
                true,
                kFlagSplit | kFlagOverlap,
                0},
        TlsCase{"duplicated_segment",
                16384,
                true,
                {{0, 60, {}}, {0, 60, {}}, {60, 0, {}}},
                true,
                kFlagSplit | kFlagRetransmit,
                kFlagOverlap},
        TlsCase{"several_records", 40, true, {{0, 0, {}}}, true, kFlagRecordFragmented, kFlagSplit},
        TlsCase{"records_and_segments",
                40,
                true,
                {{0, 30, {}}, {30, 77, {}}, {107, 0, {}}},
                true,
                kFlagRecordFragmented | kFlagSplit,
                0},
        TlsCase{"syn_missing",
                16384,
                false,
                {{0, 60, {}}, {60, 0, {}}},
                true,
                kFlagMidStream | kFlagSplit,
                0},
        TlsCase{"gap_never_filled",
                16384,
                true,
                {{0, 60, {}}, {100, 0, {}}},
                false,
                kFlagGap | kFlagOutOfOrder,
                0}),
    [](const ::testing::TestParamInfo<TlsCase>& param) {
      return std::string(param.param.description);
    });

TEST(TlsInspection, NoSniIsReportedOnceWithoutName) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  test::ClientHelloSpec spec;
  spec.ech = true;
  const Bytes stream = test::tls_records(test::client_hello(spec));
  const Decision d = inspector.inspect_frame(
      parse::LinkType::Ethernet, test::tcp_frame(kClient, 40001, kServer, 443, 1, stream), {5, ""});
  EXPECT_EQ(d.verdict, Verdict::Allow);
  EXPECT_EQ(d.reason.kind, ReasonKind::NoName);
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_TRUE(sink.seen[0].name.empty());
  EXPECT_EQ(sink.seen[0].flags & (kFlagNoSni | kFlagEch), kFlagNoSni | kFlagEch);
  EXPECT_EQ(inspector.stats().unnamed_flows, 1U);
}

TEST(TlsInspection, IpLiteralSniIsFlagged) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  inspector.inspect_frame(
      parse::LinkType::Ethernet,
      test::tcp_frame(kClient, 40002, kServer, 443, 1, test::tls_stream("192.0.2.10")), {5, ""});
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_NE(sink.seen[0].flags & kFlagIpLiteral, 0U);
}

TEST(TlsInspection, NonTlsStreamIsDecidedWithoutName) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  Inspector inspector(policy.store(), InspectConfig{}, &sink);
  const Bytes ssh = test::bytes_of("SSH-2.0-OpenSSH_9.2\r\n");
  const Decision d = inspector.inspect_frame(
      parse::LinkType::Ethernet, test::tcp_frame(kClient, 40003, kServer, 22, 1, ssh), {5, ""});
  EXPECT_EQ(d.reason.kind, ReasonKind::NoName);
  EXPECT_TRUE(sink.seen.empty());
  EXPECT_EQ(inspector.stats().reassembly_bytes_in_use, 0U);
  // TLS on a non-TLS port is still found: dispatch is by content.
  inspector.inspect_frame(parse::LinkType::Ethernet,
                          test::tcp_frame(kClient, 40004, kServer, 8443, 1, test::tls_stream(kSni)),
                          {6, ""});
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].name, kSni);
}

TEST(TlsInspection, GapFlowIsReportedWhenItExpires) {
  test::TestPolicy policy;
  test::RecordingSink sink;
  InspectConfig config;
  config.flow_idle_timeout_s = 10;
  Inspector inspector(policy.store(), config, &sink);
  const Bytes stream = test::tls_stream(kSni);
  const Bytes tail(stream.begin() + 50, stream.end());
  inspector.inspect_frame(
      parse::LinkType::Ethernet,
      test::tcp_frame(kClient, 40005, kServer, 443, kIsn, {}, parse::kTcpSyn, 0),
      {1000000, "eth0"});
  inspector.inspect_frame(parse::LinkType::Ethernet,
                          test::tcp_frame(kClient, 40005, kServer, 443, kIsn + 51, tail),
                          {1000001, "eth0"});
  EXPECT_TRUE(sink.seen.empty());
  EXPECT_GT(inspector.stats().reassembly_bytes_in_use, 0U);
  inspector.expire(20000000);
  EXPECT_EQ(inspector.flow_count(), 0U);
  EXPECT_EQ(inspector.stats().flows_expired, 1U);
  EXPECT_EQ(inspector.stats().reassembly_bytes_in_use, 0U);
  ASSERT_EQ(sink.seen.size(), 1U);
  EXPECT_EQ(sink.seen[0].app, AppProto::Tls);
  EXPECT_NE(sink.seen[0].flags & kFlagGap, 0U);
  EXPECT_EQ(sink.seen[0].interface, "eth0");
}

}  // namespace
}  // namespace egressguard::inspect
