#include "filter/events/file_output.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/time.h>

#include "tests/filter/events/test_helpers.h"

namespace egressguard::events {
namespace {

using testing::at;
using testing::list_dir;
using testing::read_lines;
using testing::TempDir;

std::string event(int i) {
  return R"({"timestamp":"x","event_type":"block","n":)" + std::to_string(i) +
         R"(,"pad":"0123456789012345678901234567890123456789"})";
}

std::unique_ptr<FileOutput> open_output(FileOutputOptions options, std::uint64_t now) {
  options.background = false;
  auto out = FileOutput::open(std::move(options), now);
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error());
  return out ? std::move(*out) : nullptr;
}

// Every line of the current and rotated files, oldest file first.
std::vector<std::string> all_lines(const std::string& path) {
  std::vector<std::string> lines;
  auto rotated = FileOutput::rotated_files(path);
  for (auto it = rotated.rbegin(); it != rotated.rend(); ++it) {
    auto part = read_lines(*it);
    lines.insert(lines.end(), part.begin(), part.end());
  }
  auto current = read_lines(path);
  lines.insert(lines.end(), current.begin(), current.end());
  return lines;
}

TEST(FileOutput, AppendsWholeLinesAndCountsThem) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  auto out = open_output(o, at(0));
  for (int i = 0; i < 3; ++i) {
    const std::string line = event(i);
    out->write(EventLine{line, 1, EventKind::Block}, at(i));
  }
  out->write(EventLine{event(3), 5, EventKind::Block}, at(3));  // an aggregated line of 5
  out->close(at(4));
  const auto lines = read_lines(o.path);
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0], event(0));
  EXPECT_EQ(out->counters().written, 8U);
  EXPECT_EQ(out->counters().lines_written, 4U);
  EXPECT_EQ(out->counters().dropped_write_error, 0U);
}

TEST(FileOutput, RotatesBySizeWithoutLosingOrSplittingLines) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.rotate_size = 1000;  // about 12 lines per file
  o.buffer_bytes = 300;  // several writes per file
  auto out = open_output(o, at(0));
  for (int i = 0; i < 100; ++i) {
    out->write(EventLine{event(i), 1, EventKind::Block}, at(i));
  }
  out->close(at(100));
  const auto rotated = FileOutput::rotated_files(o.path);
  EXPECT_GE(rotated.size(), 7U);
  EXPECT_EQ(out->counters().rotations, rotated.size());
  for (const auto& file : rotated) {
    EXPECT_LE(std::filesystem::file_size(file), 1000U) << file;
  }
  const auto lines = all_lines(o.path);
  ASSERT_EQ(lines.size(), 100U);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(lines[static_cast<std::size_t>(i)], event(i));
  }
  EXPECT_EQ(out->counters().written, 100U);
}

TEST(FileOutput, NamesRotatedFilesByRotationTimeAndAvoidsCollisions) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  auto out = open_output(o, at(0));
  out->write(EventLine{event(0), 1, EventKind::Block}, at(12));
  out->rotate(at(12));
  out->write(EventLine{event(1), 1, EventKind::Block}, at(12));
  out->rotate(at(12));  // same second
  out->rotate(at(13));  // empty file: nothing to rotate
  out->close(at(14));
  EXPECT_EQ(list_dir(dir.path()),
            (std::vector<std::string>{"events.json", "events.json.20261129T090012Z",
                                      "events.json.20261129T090012Z-1"}));
  EXPECT_EQ(FileOutput::rotated_files(o.path).front(),
            dir.file("events.json.20261129T090012Z-1"));  // newest first
}

TEST(FileOutput, RotatesDailyAtUtcMidnight) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.rotate_daily = true;
  const std::uint64_t before_midnight = at(15 * 3600 - 1);  // 2026-11-29T23:59:59Z
  const std::uint64_t after_midnight = at(15 * 3600);       // 2026-11-30T00:00:00Z
  auto out = open_output(o, at(0));
  out->write(EventLine{event(0), 1, EventKind::Block}, at(0));
  out->write(EventLine{event(1), 1, EventKind::Block}, before_midnight);
  EXPECT_EQ(out->counters().rotations, 0U);
  out->write(EventLine{event(2), 1, EventKind::Block}, after_midnight);
  out->write(EventLine{event(3), 1, EventKind::Block}, after_midnight + 3'600'000'000ULL);
  out->close(after_midnight);
  EXPECT_EQ(out->counters().rotations, 1U);
  EXPECT_EQ(read_lines(dir.file("events.json.20261130T000000Z")),
            (std::vector<std::string>{event(0), event(1)}));
  EXPECT_EQ(read_lines(o.path), (std::vector<std::string>{event(2), event(3)}));
}

TEST(FileOutput, RotatesAtMidnightEvenWhenTheFileWasOpenedYesterday) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.rotate_daily = true;
  {
    auto out = open_output(o, at(0));
    out->write(EventLine{event(0), 1, EventKind::Block}, at(0));
    out->close(at(0));
  }
  auto out = open_output(o, at(0));  // a restart the same day appends
  out->write(EventLine{event(1), 1, EventKind::Block}, at(86400));
  out->close(at(86400));
  EXPECT_EQ(read_lines(dir.file("events.json.20261130T090000Z")),
            (std::vector<std::string>{event(0)}));
  EXPECT_EQ(read_lines(o.path), (std::vector<std::string>{event(1)}));
}

TEST(FileOutput, RotatesAFileLeftFromAnEarlierDayAtTheFirstEvent) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.rotate_daily = true;
  std::ofstream(o.path) << event(0) << "\n";
  const timeval yesterday[2] = {{static_cast<time_t>(at(0) / 1'000'000U), 0},
                                {static_cast<time_t>(at(0) / 1'000'000U), 0}};
  ASSERT_EQ(::utimes(o.path.c_str(), yesterday), 0);
  auto out = open_output(o, at(86400));  // restarted the next day
  out->write(EventLine{event(1), 1, EventKind::Block}, at(86400));
  out->close(at(86400));
  EXPECT_EQ(read_lines(dir.file("events.json.20261130T090000Z")),
            (std::vector<std::string>{event(0)}));
  EXPECT_EQ(read_lines(o.path), (std::vector<std::string>{event(1)}));
}

TEST(FileOutput, CompressedRotatedFilesAreReadableGzip) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.rotate_size = 2000;
  o.compress = true;
  auto out = open_output(o, at(0));
  for (int i = 0; i < 60; ++i) {
    out->write(EventLine{event(i), 1, EventKind::Block}, at(i));
  }
  out->close(at(60));
  const auto rotated = FileOutput::rotated_files(o.path);
  ASSERT_GE(rotated.size(), 2U);
  for (const auto& file : rotated) {
    EXPECT_EQ(file.substr(file.size() - 3), ".gz") << file;
  }
  for (const auto& name : list_dir(dir.path())) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  }
  const auto lines = all_lines(o.path);
  ASSERT_EQ(lines.size(), 60U);
  EXPECT_EQ(lines[0], event(0));
  EXPECT_EQ(lines[59], event(59));
}

TEST(FileOutput, CompressesRotatedFilesInTheBackground) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.rotate_size = 2000;
  o.compress = true;
  o.background = true;
  auto opened = FileOutput::open(o, at(0));
  ASSERT_TRUE(opened.has_value());
  auto& out = *opened;
  for (int i = 0; i < 200; ++i) {
    out->write(EventLine{event(i), 1, EventKind::Block}, at(i));
  }
  out->close(at(200));  // waits for the compression
  for (const auto& file : FileOutput::rotated_files(o.path)) {
    EXPECT_EQ(file.substr(file.size() - 3), ".gz") << file;
  }
  EXPECT_EQ(all_lines(o.path).size(), 200U);
}

TEST(FileOutput, KeepsOnlyTheNewestRotatedFilesByCount) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.keep = 2;
  auto out = open_output(o, at(0));
  for (int i = 0; i < 5; ++i) {
    out->write(EventLine{event(i), 1, EventKind::Block}, at(i));
    out->rotate(at(i));
  }
  out->close(at(10));
  EXPECT_EQ(list_dir(dir.path()),
            (std::vector<std::string>{"events.json", "events.json.20261129T090003Z",
                                      "events.json.20261129T090004Z"}));
  EXPECT_EQ(read_lines(dir.file("events.json.20261129T090004Z")),
            (std::vector<std::string>{event(4)}));
}

TEST(FileOutput, DeletesRotatedFilesOlderThanMaxAge) {
  TempDir dir;
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.max_age_days = 7;
  auto out = open_output(o, at(0));
  for (int d = 0; d < 10; ++d) {
    out->write(EventLine{event(d), 1, EventKind::Block}, at(d * 86400));
    out->rotate(at(d * 86400));
  }
  out->close(at(9 * 86400));
  // On day 9, rotations of day 2..9 are at most 7 days old; day 0 and 1 are gone.
  const auto rotated = FileOutput::rotated_files(o.path);
  ASSERT_EQ(rotated.size(), 8U);
  EXPECT_EQ(rotated.back(), dir.file("events.json.20261201T090000Z"));
}

TEST(FileOutput, RetentionAtOpenLeavesOtherFilesAlone) {
  TempDir dir;
  for (const char* name : {"events.json.20261101T000000Z", "events.json.20261102T000000Z.gz",
                           "events.json.notes", "other.json.20261101T000000Z"}) {
    std::ofstream(dir.file(name)) << "{}\n";
  }
  FileOutputOptions o;
  o.path = dir.file("events.json");
  o.keep = 1;
  auto out = open_output(o, at(0));
  out->close(at(0));
  EXPECT_EQ(list_dir(dir.path()),
            (std::vector<std::string>{"events.json", "events.json.20261102T000000Z.gz",
                                      "events.json.notes", "other.json.20261101T000000Z"}));
}

TEST(FileOutput, CountsLinesLostOnAFullDiskAndKeepsGoing) {
  if (!std::filesystem::exists("/dev/full")) {
    GTEST_SKIP() << "/dev/full is absent";
  }
  FileOutputOptions o;
  o.path = "/dev/full";
  auto out = open_output(o, at(0));
  ASSERT_NE(out, nullptr);
  for (int i = 0; i < 10; ++i) {
    out->write(EventLine{event(i), i == 0 ? 3U : 1U, EventKind::Block}, at(i));
  }
  out->flush(at(10));
  out->write(EventLine{event(10), 1, EventKind::Block}, at(11));
  out->close(at(12));
  EXPECT_EQ(out->counters().written, 0U);
  EXPECT_EQ(out->counters().dropped_write_error, 13U);
  EXPECT_EQ(out->last_error(), "No space left on device");
}

TEST(FileOutput, ReportsAnUnwritableDirectory) {
  auto out = FileOutput::open(FileOutputOptions{"/nonexistent-dir/events.json"}, at(0));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error(),
            "/nonexistent-dir/events.json: cannot open for events: No such file or directory");
}

}  // namespace
}  // namespace egressguard::events
