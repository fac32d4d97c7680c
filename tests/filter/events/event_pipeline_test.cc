#include "filter/events/event_pipeline.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "filter/events/file_output.h"
#include "tests/filter/events/test_helpers.h"

namespace egressguard::events {
namespace {

using testing::at;
using testing::read_lines;
using testing::TempDir;

// An output that records lines; can be told to stall (a slow disk) until released.
class RecordingOutput : public EventOutput {
 public:
  std::string_view name() const noexcept override { return "record"; }
  void write(const EventLine& line, std::uint64_t /*now_us*/) override {
    std::unique_lock<std::mutex> lock(mutex_);
    stalled_cv_.wait(lock, [this] { return !stall_; });
    lines_.emplace_back(line.json);
    count_written(line.events);
  }
  void flush(std::uint64_t /*now_us*/) override {}
  void close(std::uint64_t /*now_us*/) override { closed_ = true; }
  std::string last_error() const override { return {}; }

  void stall(bool on) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stall_ = on;
    }
    stalled_cv_.notify_all();
  }
  std::vector<std::string> lines() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  std::atomic<bool> closed_{false};

 private:
  std::mutex mutex_;
  std::condition_variable stalled_cv_;
  bool stall_ = false;
  std::vector<std::string> lines_;
};

std::unique_ptr<EventPipeline> pipeline_with(RecordingOutput*& output,
                                             EventPipelineOptions options) {
  auto owned = std::make_unique<RecordingOutput>();
  output = owned.get();
  std::vector<std::unique_ptr<EventOutput>> outputs;
  outputs.push_back(std::move(owned));
  return std::make_unique<EventPipeline>(std::move(outputs), std::move(options));
}

std::string event(int i) {
  return R"({"n":)" + std::to_string(i) + "}";
}

TEST(EventPipeline, WritesEverythingAcceptedOnClose) {
  RecordingOutput* out = nullptr;
  auto pipeline = pipeline_with(out, {});
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(pipeline->submit_json(event(i), {}, EventKind::Block, at(0)));
  }
  pipeline->close();
  EXPECT_TRUE(out->closed_);
  const auto lines = out->lines();
  ASSERT_EQ(lines.size(), 1000U);
  EXPECT_EQ(lines[999], event(999));
  const EventCounters c = pipeline->counters();
  EXPECT_EQ(c.accepted, 1000U);
  EXPECT_EQ(c.written, 1000U);
  EXPECT_EQ(c.dropped_queue_full, 0U);
  EXPECT_FALSE(pipeline->submit_json(event(0), {}, EventKind::Block, at(0)));  // closed
}

TEST(EventPipeline, DropsAndCountsWhenTheQueueIsFullWithoutBlocking) {
  RecordingOutput* out = nullptr;
  EventPipelineOptions options;
  options.queue_capacity = 100;
  auto pipeline = pipeline_with(out, options);
  out->stall(true);
  ASSERT_TRUE(pipeline->submit_json(event(-1), {}, EventKind::Block, at(0)));
  // Let the writer take that one and stall on it, then fill the queue behind it.
  while (pipeline->counters().accepted == 0) {
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int accepted = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    accepted += pipeline->submit_json(event(i), {}, EventKind::Block, at(0)) ? 1 : 0;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_EQ(accepted, 100);
  EXPECT_EQ(pipeline->counters().dropped_queue_full, 900U);
  out->stall(false);
  pipeline->close();
  EXPECT_EQ(out->lines().size(), 101U);
  EXPECT_EQ(pipeline->counters().written, 101U);
  EXPECT_EQ(pipeline->counters().accepted, 101U);
}

TEST(EventPipeline, ManyProducersLoseNothingTheyWereToldWasAccepted) {
  RecordingOutput* out = nullptr;
  EventPipelineOptions options;
  options.queue_capacity = 1 << 20;
  auto pipeline = pipeline_with(out, options);
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&pipeline, t] {
      for (int i = 0; i < 20000; ++i) {
        static_cast<void>(pipeline->submit_json(event(t * 100000 + i), {}, EventKind::Block, 0));
      }
    });
  }
  for (auto& p : producers) {
    p.join();
  }
  pipeline->close();
  EXPECT_EQ(pipeline->counters().accepted, 80000U);
  EXPECT_EQ(out->lines().size(), 80000U);
}

TEST(EventPipeline, AggregatesOnTheWriterClockAndFlushesOpenWindowsOnClose) {
  RecordingOutput* out = nullptr;
  testing::ManualClock clock;
  clock.now_us = at(0);
  EventPipelineOptions options;
  options.aggregate_window_us = 10'000'000;
  options.synchronous = true;  // deterministic: no thread
  options.clock = clock.clock();
  auto pipeline = pipeline_with(out, options);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pipeline->submit_json(R"({"name":"a"})", "a", EventKind::Block, at(i)));
  }
  ASSERT_TRUE(pipeline->submit_json(R"({"name":"b"})", "b", EventKind::Block, at(5)));
  ASSERT_TRUE(pipeline->submit_json(R"({"name":"a"})", "a", EventKind::Block, at(12)));
  pipeline->close();
  EXPECT_EQ(out->lines(),
            (std::vector<std::string>{
                R"({"name":"a","count":5,"first_timestamp":"2026-11-29T09:00:00.000000Z",)"
                R"("last_timestamp":"2026-11-29T09:00:04.000000Z"})",
                R"({"name":"b","count":1,"first_timestamp":"2026-11-29T09:00:05.000000Z",)"
                R"("last_timestamp":"2026-11-29T09:00:05.000000Z"})",
                R"({"name":"a","count":1,"first_timestamp":"2026-11-29T09:00:12.000000Z",)"
                R"("last_timestamp":"2026-11-29T09:00:12.000000Z"})"}));
  const EventCounters c = pipeline->counters();
  EXPECT_EQ(c.accepted, 7U);
  EXPECT_EQ(c.aggregated, 4U);
  EXPECT_EQ(c.written, 7U);  // counted in events: the lines stand for 5 + 1 + 1
}

TEST(EventPipeline, AsyncAggregationEmitsWhenTheWindowEnds) {
  RecordingOutput* out = nullptr;
  EventPipelineOptions options;
  options.aggregate_window_us = 200'000;
  auto pipeline = pipeline_with(out, options);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(pipeline->submit_json(R"({"name":"a"})", "a", EventKind::Block, at(0)));
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (out->lines().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(out->lines().size(), 1U);  // without close(): the window ran out
  EXPECT_NE(out->lines()[0].find(R"("count":50,)"), std::string::npos) << out->lines()[0];
  pipeline->close();
}

TEST(EventPipeline, ReportsWriteFailuresAtALimitedRate) {
  if (!std::filesystem::exists("/dev/full")) {
    GTEST_SKIP() << "/dev/full is absent";
  }
  EventsConfig config;
  config.path = "/dev/full";
  std::vector<std::string> logged;
  testing::ManualClock clock;
  clock.now_us = at(0);
  EventPipelineOptions options;
  options.synchronous = true;
  options.clock = clock.clock();
  options.log = [&](std::string_view message) { logged.emplace_back(message); };
  auto pipeline = EventPipeline::open(config, options);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  for (int i = 0; i < 30; ++i) {
    clock.now_us = at(i);  // a batch a second; one log line per 10 s
    ASSERT_TRUE((*pipeline)->submit_json(event(i), {}, EventKind::Block, at(i)));
  }
  (*pipeline)->close();
  const EventCounters c = (*pipeline)->counters();
  EXPECT_EQ(c.accepted, 30U);
  EXPECT_EQ(c.written, 0U);
  EXPECT_EQ(c.dropped_write_error, 30U);
  ASSERT_EQ(logged.size(), 4U);  // at 0 s, 10 s, 20 s and the rest at close
  EXPECT_EQ(logged[0],
            "events: 1 event(s) lost writing to file (1 in total): No space left on device");
  EXPECT_EQ(logged[1],
            "events: 10 event(s) lost writing to file (11 in total): No space left on device");
  EXPECT_EQ(logged[3],
            "events: 9 event(s) lost writing to file (30 in total): No space left on device");
}

TEST(EventPipeline, FileOutputThroughThePipelineRotatesAndKeepsEveryLine) {
  TempDir dir;
  EventsConfig config;
  config.path = dir.file("events.json");
  config.rotate_size = 4096;
  config.compress = true;
  EventPipelineOptions options;
  auto pipeline = EventPipeline::open(config, options);
  ASSERT_TRUE(pipeline.has_value()) << pipeline.error();
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE((*pipeline)->submit_json(event(i), {}, EventKind::Block, at(0)));
  }
  (*pipeline)->close();
  std::size_t lines = read_lines(config.path).size();
  for (const auto& file : FileOutput::rotated_files(config.path)) {
    lines += read_lines(file).size();
  }
  EXPECT_EQ(lines, 5000U);
  EXPECT_GT((*pipeline)->outputs()[0]->counters().rotations, 5U);
}

}  // namespace
}  // namespace egressguard::events
