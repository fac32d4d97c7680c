#include "filter/datapath/firewall/nft_set_writer.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/datapath/firewall/firewall_test_helpers.h"

namespace egressguard::firewall {
namespace {

using testing::FakeBackend;
using Clock = std::chrono::steady_clock;

parse::IpAddress ip(const char* text) {
  return *parse::IpAddress::parse(text);
}

class WriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<NftSetWriter> writer(NftSetWriterOptions options = {}) {
    options.now = [this] { return now_; };
    options.log = [this](std::string_view message) { logs_.emplace_back(message); };
    return std::make_unique<NftSetWriter>(std::make_unique<FakeBackend>(state_),
                                          std::move(options));
  }
  std::vector<std::string> commands() {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->commands;
  }

  std::shared_ptr<FakeBackend::State> state_ = std::make_shared<FakeBackend::State>();
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
  std::vector<std::string> logs_;
};

TEST(SetName, NamesTheRulesetsSets) {
  EXPECT_EQ(set_name(AddressSet::Learned, true), "learned_v4");
  EXPECT_EQ(set_name(AddressSet::Learned, false), "learned_v6");
  EXPECT_EQ(set_name(AddressSet::Doh, true), "doh_v4");
  EXPECT_EQ(set_name(AddressSet::Doh, false), "doh_v6");
}

TEST_F(WriterTest, SendsOneTransactionWithOneAddElementPerSet) {
  auto w = writer();
  using R = NftSetWriter::AddResult;
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Queued);
  EXPECT_EQ(w->add(AddressSet::Doh, ip("192.0.2.53"), 86400), R::Queued);
  EXPECT_EQ(w->add(AddressSet::Learned, ip("2001:db8:100::10"), 3600), R::Queued);
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.20"), 60), R::Queued);
  EXPECT_EQ(w->flush_batch(), 4U);
  ASSERT_EQ(commands().size(), 1U);
  EXPECT_EQ(commands()[0],
            "add element inet egressguard learned_v4 { 198.51.100.10 timeout 3600s, "
            "198.51.100.20 timeout 60s }\n"
            "add element inet egressguard learned_v6 { 2001:db8:100::10 timeout 3600s }\n"
            "add element inet egressguard doh_v4 { 192.0.2.53 timeout 86400s }\n");
  const NftSetWriterCounters c = w->counters();
  EXPECT_EQ(c.enqueued, 4U);
  EXPECT_EQ(c.added, 4U);
  EXPECT_EQ(c.batches, 1U);
  EXPECT_EQ(w->flush_batch(), 0U);  // nothing queued: no transaction
  EXPECT_EQ(commands().size(), 1U);
}

TEST_F(WriterTest, RecentAddressIsNotQueuedAgainUntilTheKernelLetItExpire) {
  auto w = writer();
  using R = NftSetWriter::AddResult;
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Queued);
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Recent);
  // The same address for another set is another element.
  EXPECT_EQ(w->add(AddressSet::Doh, ip("198.51.100.10"), 3600), R::Queued);
  w->flush_batch();
  now_ += std::chrono::seconds(3600);
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Recent);
  now_ += std::chrono::milliseconds(201);  // timeout + one flush interval
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Queued);
  EXPECT_EQ(w->counters().deduplicated, 2U);
}

TEST_F(WriterTest, ForgetRecentLetsTheNextAnswerAddAgain) {
  auto w = writer();
  using R = NftSetWriter::AddResult;
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Queued);
  w->forget_recent();
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Queued);
}

TEST_F(WriterTest, FullQueueDropsAndCountsWithoutWaiting) {
  NftSetWriterOptions options;
  options.queue_capacity = 4;
  auto w = writer(options);
  using R = NftSetWriter::AddResult;
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(
        w->add(AddressSet::Learned, parse::IpAddress::v4(0xc6336400U + std::uint32_t(i)), 3600),
        R::Queued);
  }
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.99"), 3600), R::Dropped);
  EXPECT_EQ(w->counters().dropped, 1U);
  EXPECT_EQ(w->queued(), 4U);
  // A dropped address was not remembered: it is queued once there is room.
  EXPECT_EQ(w->flush_batch(), 4U);
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.99"), 3600), R::Queued);
}

TEST_F(WriterTest, RefusesUnsetAddressesAndZeroTimeouts) {
  auto w = writer();
  using R = NftSetWriter::AddResult;
  EXPECT_EQ(w->add(AddressSet::Learned, parse::IpAddress{}, 3600), R::Dropped);
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 0), R::Dropped);
  EXPECT_EQ(w->queued(), 0U);
}

TEST_F(WriterTest, BatchMaxBoundsOneTransaction) {
  NftSetWriterOptions options;
  options.batch_max = 256;
  auto w = writer(options);
  for (std::uint32_t i = 0; i < 600; ++i) {
    ASSERT_EQ(w->add(AddressSet::Learned, parse::IpAddress::v4(0x0a000000U + i), 3600),
              NftSetWriter::AddResult::Queued);
  }
  EXPECT_EQ(w->flush_batch(), 256U);
  EXPECT_EQ(w->flush_batch(), 256U);
  EXPECT_EQ(w->flush_batch(), 88U);
  ASSERT_EQ(commands().size(), 3U);
  for (const std::string& c : commands()) {
    EXPECT_EQ(c.find("add element"), c.rfind("add element")) << "one set: one add element";
  }
  const std::string first = commands()[0];
  EXPECT_EQ(std::count(first.begin(), first.end(), ','), 255);
  EXPECT_EQ(w->counters().added, 600U);
}

TEST_F(WriterTest, MissingTableIsLoggedOnceCountedAndBackedOff) {
  state_->fail = true;
  state_->table = false;
  auto w = writer();
  using R = NftSetWriter::AddResult;
  w->add(AddressSet::Learned, ip("198.51.100.10"), 3600);
  EXPECT_EQ(w->flush_batch(), 1U);
  EXPECT_EQ(commands().size(), 1U);
  EXPECT_EQ(w->counters().table_missing, 1U);
  EXPECT_EQ(w->counters().nft_errors, 0U);
  EXPECT_EQ(w->counters().lost, 1U);
  ASSERT_EQ(logs_.size(), 1U);
  EXPECT_NE(logs_[0].find("does not exist"), std::string::npos) << logs_[0];
  // The lost address is not "recent": the next answer queues it again.
  EXPECT_EQ(w->add(AddressSet::Learned, ip("198.51.100.10"), 3600), R::Queued);
  // Within the backoff the kernel is not asked.
  w->flush_batch();
  EXPECT_EQ(commands().size(), 1U);
  EXPECT_EQ(w->counters().table_missing, 2U);
  // After it, asked again; still one log line.
  now_ += std::chrono::seconds(6);
  w->add(AddressSet::Learned, ip("198.51.100.10"), 3600);
  w->flush_batch();
  EXPECT_EQ(commands().size(), 2U);
  EXPECT_EQ(logs_.size(), 1U);
  // The table appears (firewall apply): addresses go in.
  state_->fail = false;
  state_->table = true;
  now_ += std::chrono::seconds(6);
  w->add(AddressSet::Learned, ip("198.51.100.10"), 3600);
  w->flush_batch();
  EXPECT_EQ(w->counters().added, 1U);
}

TEST_F(WriterTest, OtherFailuresCountNftErrors) {
  state_->fail = true;
  state_->table = true;
  auto w = writer();
  w->add(AddressSet::Learned, ip("198.51.100.10"), 3600);
  w->flush_batch();
  EXPECT_EQ(w->counters().nft_errors, 1U);
  EXPECT_EQ(w->counters().table_missing, 0U);
  ASSERT_EQ(logs_.size(), 1U);
  EXPECT_NE(logs_[0].find("No such file"), std::string::npos) << logs_[0];
}

TEST(NftSetWriterThread, FlushesWithinTheIntervalAndOnStop) {
  auto state = std::make_shared<FakeBackend::State>();
  NftSetWriterOptions options;
  options.flush_interval = std::chrono::milliseconds(20);
  NftSetWriter w(std::make_unique<FakeBackend>(state), options);
  w.start();
  w.add(AddressSet::Learned, ip("198.51.100.10"), 3600);
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (w.counters().added == 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(w.counters().added, 1U);
  w.stop();

  auto state2 = std::make_shared<FakeBackend::State>();
  options.flush_interval = std::chrono::seconds(60);
  NftSetWriter slow(std::make_unique<FakeBackend>(state2), options);
  slow.start();
  slow.add(AddressSet::Doh, ip("192.0.2.53"), 3600);
  slow.stop();  // sends what is queued
  EXPECT_EQ(slow.counters().added, 1U);
  ASSERT_EQ(state2->commands.size(), 1U);
}

TEST(NftSetWriterThread, ManyThreadsAddWhileTheWriterFlushes) {
  auto state = std::make_shared<FakeBackend::State>();
  NftSetWriterOptions options;
  options.flush_interval = std::chrono::milliseconds(1);
  options.queue_capacity = 100000;
  options.recent_slots = 65536;
  NftSetWriter w(std::make_unique<FakeBackend>(state), options);
  w.start();
  std::vector<std::thread> threads;
  for (std::uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&w, t] {
      for (std::uint32_t i = 0; i < 2000; ++i) {
        w.add(AddressSet::Learned, parse::IpAddress::v4(0x0a000000U + t * 100000U + i), 3600);
        w.add(AddressSet::Learned, parse::IpAddress::v4(0x0a000000U + t * 100000U), 3600);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  w.stop();
  const NftSetWriterCounters c = w.counters();
  // Every add is either queued or recognised as recent (a dedupe slot may be reused: then a
  // hot address is queued again, which is harmless).
  EXPECT_EQ(c.enqueued + c.deduplicated, 16000U);
  EXPECT_GE(c.deduplicated, 7900U);
  EXPECT_EQ(c.added, c.enqueued);
  EXPECT_EQ(c.dropped, 0U);
}

}  // namespace
}  // namespace egressguard::firewall
