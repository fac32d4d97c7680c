#include "filter/events/event_aggregator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/events/test_helpers.h"

namespace egressguard::events {
namespace {

using testing::at;

struct Emitted {
  std::string json;
  std::uint64_t events;
};

class AggregatorTest : public ::testing::Test {
 protected:
  std::vector<Emitted> out;
  EventAggregator aggregator{10'000'000, 100, [this](const EventLine& line) {
                               out.push_back({std::string(line.json), line.events});
                             }};
};

TEST_F(AggregatorTest, FoldsRepeatsWithinTheWindowIntoOneLineWithCountAndTimes) {
  aggregator.add("k", R"({"name":"a"})", EventKind::Block, at(0), at(0));
  aggregator.add("k", R"({"name":"a","other":1})", EventKind::Block, at(3), at(3));
  aggregator.add("k", R"({"name":"a"})", EventKind::Block, at(9), at(9));
  EXPECT_TRUE(out.empty());  // held until the window ends
  EXPECT_EQ(aggregator.next_deadline(), at(10));
  aggregator.expire(at(10));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].json, R"({"name":"a","count":3,"first_timestamp":"2026-11-29T09:00:00.000000Z",)"
                         R"("last_timestamp":"2026-11-29T09:00:09.000000Z"})");
  EXPECT_EQ(out[0].events, 3U);
  EXPECT_EQ(aggregator.merged(), 2U);
}

TEST_F(AggregatorTest, StartsANewWindowAfterTheOldOneEnds) {
  aggregator.add("k", "{}", EventKind::Block, at(0), at(0));
  aggregator.add("k", "{}", EventKind::Block, at(10), at(10));  // window [0,10) ended
  aggregator.add("k", "{}", EventKind::Block, at(19), at(19));
  aggregator.flush_all();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[0].events, 1U);
  EXPECT_EQ(out[1].events, 2U);
}

TEST_F(AggregatorTest, KeepsDifferentKeysApartInFirstSeenOrder) {
  aggregator.add("b", R"({"k":"b"})", EventKind::Block, at(0), at(0));
  aggregator.add("a", R"({"k":"a"})", EventKind::Name, at(1), at(1));
  aggregator.add("b", R"({"k":"b"})", EventKind::Block, at(2), at(2));
  aggregator.expire(at(10));
  ASSERT_EQ(out.size(), 1U);  // "a" runs until 11
  EXPECT_EQ(out[0].events, 2U);
  aggregator.expire(at(11));
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(out[1].json.substr(0, 17), R"({"k":"a","count":)");
}

TEST(EventAggregator, EmitsTheOldestEarlyWhenFull) {
  std::vector<std::uint64_t> counts;
  EventAggregator aggregator(10'000'000, 2,
                             [&](const EventLine& line) { counts.push_back(line.events); });
  aggregator.add("a", "{}", EventKind::Block, at(0), at(0));
  aggregator.add("a", "{}", EventKind::Block, at(0), at(0));
  aggregator.add("b", "{}", EventKind::Block, at(1), at(1));
  aggregator.add("c", "{}", EventKind::Block, at(2), at(2));  // "a" goes out early
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(aggregator.open_windows(), 2U);
  aggregator.flush_all();
  EXPECT_EQ(counts, (std::vector<std::uint64_t>{2, 1, 1}));
}

}  // namespace
}  // namespace egressguard::events
