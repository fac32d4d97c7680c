#include "filter/inspect/flow_table.h"

#include <set>

#include <gtest/gtest.h>

#include "filter/inspect/observation.h"

namespace egressguard::inspect {
namespace {

parse::IpAddress v4(std::uint32_t host_order) {
  return parse::IpAddress::v4(host_order);
}

TEST(FlowKey, BothDirectionsGiveOneKey) {
  bool forward = false;
  bool backward = false;
  const FlowKey k1 = make_flow_key(v4(0x0a000001), 40000, v4(0xc0000201), 443, 6, forward);
  const FlowKey k2 = make_flow_key(v4(0xc0000201), 443, v4(0x0a000001), 40000, 6, backward);
  EXPECT_EQ(k1, k2);
  EXPECT_NE(forward, backward);
  // Same addresses, ports differ: the port orders the endpoints.
  const FlowKey k3 = make_flow_key(v4(0x0a000001), 2000, v4(0x0a000001), 1000, 17, forward);
  EXPECT_EQ(k3.port_a, 1000);
  EXPECT_FALSE(forward);
}

TEST(FlowTable, InsertFindRemoveAndLru) {
  FlowTable table(4, 42);
  std::vector<std::uint32_t> index;
  std::vector<FlowKey> keys;
  for (std::uint32_t i = 0; i < 4; ++i) {
    bool a = false;
    keys.push_back(make_flow_key(v4(0x0a000001 + i), 1000, v4(0xc0000201), 53, 17, a));
    index.push_back(table.insert(keys[i], table.hash(keys[i])));
    ASSERT_NE(index[i], kNoFlow);
  }
  EXPECT_TRUE(table.full());
  bool a = false;
  const FlowKey extra = make_flow_key(v4(0x0a0000ff), 1000, v4(0xc0000201), 53, 17, a);
  EXPECT_EQ(table.insert(extra, table.hash(extra)), kNoFlow);
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(table.find(keys[i], table.hash(keys[i])), index[i]);
  }
  EXPECT_EQ(table.oldest(), index[0]);
  table.touch(index[0]);
  EXPECT_EQ(table.oldest(), index[1]);
  table.remove(index[1]);
  EXPECT_EQ(table.find(keys[1], table.hash(keys[1])), kNoFlow);
  EXPECT_EQ(table.oldest(), index[2]);
  EXPECT_EQ(table.size(), 3U);
  const std::uint32_t reused = table.insert(extra, table.hash(extra));
  EXPECT_EQ(reused, index[1]);  // the freed entry
  EXPECT_EQ(table.find(extra, table.hash(extra)), reused);
}

TEST(FlowTable, ManyFlowsInFewBucketsStayFindable) {
  FlowTable table(3000, 7);
  std::vector<FlowKey> keys;
  for (std::uint32_t i = 0; i < 3000; ++i) {
    bool a = false;
    keys.push_back(
        make_flow_key(v4(0x0a000000 + i), static_cast<std::uint16_t>(i), v4(1), 80, 6, a));
    ASSERT_NE(table.insert(keys.back(), table.hash(keys.back())), kNoFlow);
  }
  for (std::uint32_t i = 0; i < 3000; i += 2) {
    table.remove(table.find(keys[i], table.hash(keys[i])));
  }
  for (std::uint32_t i = 0; i < 3000; ++i) {
    EXPECT_EQ(table.find(keys[i], table.hash(keys[i])) != kNoFlow, i % 2 == 1);
  }
  EXPECT_LE(table.memory_bytes(), 4096 * sizeof(std::uint32_t) + 3000 * sizeof(Flow));
}

TEST(FlowFlags, NamesEveryFlagOnce) {
  std::set<std::string_view> names;
  for (std::size_t bit = 0; bit < kFlowFlagCount; ++bit) {
    const std::string_view name = describe(static_cast<FlowFlag>(1U << bit));
    EXPECT_FALSE(name.empty());
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kFlowFlagCount);
  EXPECT_EQ(flags_to_string(kFlagSplit | kFlagEch | kFlagGap), "split,ech,gap");
  EXPECT_EQ(flags_to_string(0), "");
  EXPECT_EQ(describe(AppProto::Quic), "quic");
}

}  // namespace
}  // namespace egressguard::inspect
