// The inline datapath's Inspector counters, summed over workers (NfqueueDatapath::inspect_stats).
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "filter/datapath/nfqueue/nfqueue_datapath.h"

namespace egressguard::nfqueue {
namespace {

std::vector<std::pair<std::string, std::uint64_t>> named(const inspect::InspectStats& s) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  inspect::for_each_counter(
      s, [&](std::string_view name, std::uint64_t value) { out.emplace_back(name, value); });
  return out;
}

TEST(AddInspectStats, AddsEveryCounterFieldByField) {
  inspect::InspectStats a;
  a.packets = 10;
  a.bytes = 1500;
  a.decode_errors[0] = 1;
  a.decode_errors[inspect::kDecodeErrorCount - 1] = 2;
  a.flows_created = 3;
  a.flows_evicted = 4;
  a.active_flows = 5;
  a.names[static_cast<std::size_t>(inspect::AppProto::Tls)] = 6;
  a.tls_parse_errors = 7;
  a.reassembly_drops = 8;
  a.policy_refreshes = 9;  // the last field
  inspect::InspectStats b;
  b.packets = 100;
  b.decode_errors[0] = 10;
  b.flows_evicted = 40;
  b.active_flows = 50;
  b.reassembly_drops = 80;
  b.policy_refreshes = 90;

  inspect::InspectStats sum;
  add_inspect_stats(sum, a);
  add_inspect_stats(sum, b);
  const auto got = named(sum);
  const auto left = named(a);
  const auto right = named(b);
  ASSERT_EQ(got.size(), left.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].second, left[i].second + right[i].second) << got[i].first;
  }
  EXPECT_EQ(sum.packets, 110U);
  EXPECT_EQ(sum.decode_errors[0], 11U);
  EXPECT_EQ(sum.flows_evicted, 44U);
  EXPECT_EQ(sum.reassembly_drops, 88U);
  EXPECT_EQ(sum.policy_refreshes, 99U);
  EXPECT_EQ(sum.names[static_cast<std::size_t>(inspect::AppProto::Tls)], 6U);
}

}  // namespace
}  // namespace egressguard::nfqueue
