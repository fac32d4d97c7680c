#include "filter/inspect/stream_reassembler.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/inspect/crypto_reassembler.h"

namespace egressguard::inspect {
namespace {

struct Write {
  std::uint32_t offset;
  std::string bytes;
};

struct ReassemblyCase {
  const char* description;
  std::vector<Write> writes;
  std::string contiguous;  // expected in-order prefix after all writes
  bool hole;
  // Outcome of the last write.
  bool added, duplicate, overlap, conflict, out_of_order, truncated;
};

class Reassembly : public ::testing::TestWithParam<ReassemblyCase> {};

TEST_P(Reassembly, KeepsFirstBytesAndReportsHowTheyCame) {
  const ReassemblyCase& c = GetParam();
  ReassemblyPool pool(16, 1 << 20);
  const std::uint32_t id = pool.acquire();
  ASSERT_NE(id, kNoBuffer);
  WriteOutcome last;
  for (const Write& w : c.writes) {
    last = pool.write(id, w.offset, as_bytes(w.bytes));
  }
  EXPECT_EQ(std::string(as_chars(pool.contiguous(id))), c.contiguous);
  EXPECT_EQ(pool.has_hole(id), c.hole);
  EXPECT_EQ(last.added, c.added);
  EXPECT_EQ(last.duplicate, c.duplicate);
  EXPECT_EQ(last.overlap, c.overlap);
  EXPECT_EQ(last.conflict, c.conflict);
  EXPECT_EQ(last.out_of_order, c.out_of_order);
  EXPECT_EQ(last.truncated, c.truncated);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Reassembly,
    ::testing::Values(ReassemblyCase{"in_order",
                                     {{0, "abc"}, {3, "def"}},
                                     "abcdef",
                                     false,
                                     true,
                                     false,
                                     false,
                                     false,
                                     false,
                                     false},
                      ReassemblyCase{
                          "ahead", {{3, "def"}}, "", true, true, false, false, false, true, false},
                      ReassemblyCase{"hole_filled",
                                     {{3, "def"}, {0, "abc"}},
                                     "abcdef",
                                     false,
                                     true,
                                     false,
                                     false,
                                     false,
                                     false,
                                     false},
                      ReassemblyCase{"duplicate",
                                     {{0, "abc"}, {0, "abc"}},
                                     "abc",
                                     false,
                                     false,
                                     true,
                                     false,
                                     false,
                                     false,
                                     false},
                      ReassemblyCase{"conflict_first_wins",
                                     {{0, "abc"}, {0, "xyz"}},
                                     "abc",
                                     false,
                                     false,
                                     true,
                                     true,
                                     true,
                                     false,
                                     false},
                      ReassemblyCase{"partial_overlap",
                                     {{0, "abc"}, {2, "cde"}},
                                     "abcde",
                                     false,
                                     true,
                                     false,
                                     true,
                                     false,
                                     false,
                                     false},
                      ReassemblyCase{"bridges_two_ranges",
                                     {{0, "ab"}, {4, "ef"}, {1, "bcde"}},
                                     "abcdef",
                                     false,
                                     true,
                                     false,
                                     true,
                                     false,
                                     false,
                                     false},
                      ReassemblyCase{"one_byte_each",
                                     {{0, "a"}, {1, "b"}, {2, "c"}},
                                     "abc",
                                     false,
                                     true,
                                     false,
                                     false,
                                     false,
                                     false,
                                     false},
                      ReassemblyCase{"beyond_window",
                                     {{0, "abc"}, {20, "x"}},
                                     "abc",
                                     false,
                                     false,
                                     false,
                                     false,
                                     false,
                                     false,
                                     true},
                      ReassemblyCase{"clipped_at_window",
                                     {{10, "0123456789"}},
                                     "",
                                     true,
                                     true,
                                     false,
                                     false,
                                     false,
                                     true,
                                     true}),
    [](const ::testing::TestParamInfo<ReassemblyCase>& param) {
      return std::string(param.param.description);
    });

TEST(ReassemblyPool, RefusesMoreHolesThanItTracks) {
  ReassemblyPool pool(1024, 1 << 20);
  const std::uint32_t id = pool.acquire();
  for (std::uint32_t i = 0; i < kMaxPendingRanges; ++i) {
    EXPECT_FALSE(pool.write(id, 10 + i * 10, as_bytes("x")).refused);
  }
  EXPECT_TRUE(pool.write(id, 500, as_bytes("x")).refused);
  // Filling next to an existing range needs no new one.
  EXPECT_FALSE(pool.write(id, 11, as_bytes("y")).refused);
}

TEST(ReassemblyPool, ConsumeSlidesTheWindow) {
  ReassemblyPool pool(8, 1 << 20);
  const std::uint32_t id = pool.acquire();
  static_cast<void>(pool.write(id, 0, as_bytes("abcdef")));
  static_cast<void>(pool.write(id, 7, as_bytes("h")));
  pool.consume(id, 4);
  EXPECT_EQ(std::string(as_chars(pool.contiguous(id))), "ef");
  EXPECT_EQ(pool.state(id).base, 4U);
  static_cast<void>(pool.write(id, 6, as_bytes("g")));
  EXPECT_EQ(std::string(as_chars(pool.contiguous(id))), "efgh");
  // Offsets before the window were consumed already.
  EXPECT_TRUE(pool.write(id, 0, as_bytes("abcd")).duplicate);
  // The window now reaches stream offset 12.
  EXPECT_FALSE(pool.write(id, 8, as_bytes("ijkl")).truncated);
  EXPECT_TRUE(pool.full(id));
}

TEST(ReassemblyPool, SequenceNumbersWrap) {
  ReassemblyPool pool(16, 1 << 20);
  const std::uint32_t id = pool.acquire();
  pool.state(id).base = 0xfffffffeU;
  static_cast<void>(pool.write(id, 0xfffffffeU, as_bytes("ab")));
  static_cast<void>(pool.write(id, 0, as_bytes("cd")));
  EXPECT_EQ(std::string(as_chars(pool.contiguous(id))), "abcd");
}

TEST(ReassemblyPool, NeverHandsOutMoreThanTheMemoryBound) {
  const std::uint64_t block = 1000 + sizeof(ReassemblyState);
  ReassemblyPool pool(1000, 3 * block + 10);
  EXPECT_EQ(pool.capacity(), 3U);
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(pool.acquire());
  }
  EXPECT_NE(ids[2], kNoBuffer);
  EXPECT_EQ(ids[3], kNoBuffer);
  EXPECT_EQ(ids[4], kNoBuffer);
  EXPECT_EQ(pool.bytes_in_use(), 3 * block);
  EXPECT_LE(pool.bytes_reserved(), 3 * block);
  pool.release(ids[1]);
  EXPECT_EQ(pool.acquire(), ids[1]);
  EXPECT_EQ(pool.state(ids[1]).range_count, 0U);  // cleared on reuse
}

// ---- QUIC CRYPTO ----

TEST(CryptoReassembler, MessageLengthFromHeaders) {
  const std::uint8_t hello[] = {1, 0, 1, 0};
  EXPECT_EQ(*crypto_message_length(hello, CryptoMessage::TlsClientHello), 4U + 256U);
  EXPECT_EQ(crypto_message_length(ByteSpan(hello, 3), CryptoMessage::TlsClientHello).error(),
            CryptoLengthError::NeedMore);
  const std::uint8_t server_hello[] = {2, 0, 0, 4};
  EXPECT_EQ(crypto_message_length(server_hello, CryptoMessage::TlsClientHello).error(),
            CryptoLengthError::BadStart);
  // CHLO with 2 tags; the last value ends at 9.
  const std::uint8_t chlo[] = {'C', 'H', 'L', 'O', 2,   0,   0,   0, 'S', 'N', 'I', 0,
                               5,   0,   0,   0,   'V', 'E', 'R', 0, 9,   0,   0,   0};
  EXPECT_EQ(*crypto_message_length(chlo, CryptoMessage::GoogleChlo), 8U + 16U + 9U);
  EXPECT_EQ(crypto_message_length(ByteSpan(chlo, 20), CryptoMessage::GoogleChlo).error(),
            CryptoLengthError::NeedMore);
}

TEST(CryptoReassembler, FeedsChunksOutOfOrder) {
  ReassemblyPool pool(64, 1 << 20);
  const std::uint32_t id = pool.acquire();
  const std::string text = "0123456789";
  const parse::QuicCryptoChunk chunks[] = {
      {5, as_bytes(std::string_view(text).substr(5))},
      {0, as_bytes(std::string_view(text).substr(0, 6))},
      {100, as_bytes("far")},
  };
  const WriteOutcome w = feed_crypto_chunks(pool, id, chunks);
  EXPECT_TRUE(w.added);
  EXPECT_TRUE(w.truncated);
  EXPECT_EQ(std::string(as_chars(pool.contiguous(id))), text);
}

}  // namespace
}  // namespace egressguard::inspect
