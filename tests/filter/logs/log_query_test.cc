// The query engine over several files: time order across current, rotated and .gz files;
// malformed lines counted, not fatal; counting for top and stats.
#include "filter/logs/log_query.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "filter/logs/event_stats.h"
#include "filter/logs/event_table.h"
#include "tests/filter/logs/log_files_test_helpers.h"

namespace egressguard::logs {
namespace {

using testing::event_at;
using testing::gzip_bytes;
using testing::TempDir;
using testing::write_file;

EventFilter no_filter() {
  auto f = EventFilter::compile({});
  EXPECT_TRUE(f.has_value());
  return std::move(*f);
}

std::string sensors_in_order(const std::vector<std::string>& files, EventFilter filter,
                             ReadSummary* summary_out = nullptr) {
  std::string got;
  ReadSummary summary = read_events_in_order(
      files, filter,
      [&](std::string_view, const EventLine& e) { got += std::string(e.sensor.raw) + " "; });
  if (summary_out != nullptr) {
    *summary_out = summary;
  }
  return got;
}

TEST(ReadEventsInOrder, MergesRotatedAndGzipFilesByTime) {
  TempDir dir;
  // Oldest in .2.gz, then .1, then the live file; .1 overlaps .2.gz (a sensor restarted).
  write_file(dir.file("events.json.2.gz"),
             gzip_bytes(event_at(1, "a") + event_at(3, "c") + event_at(5, "e")));
  write_file(dir.file("events.json.1"), event_at(2, "b") + event_at(4, "d") + event_at(6, "f"));
  write_file(dir.file("events.json"), event_at(7, "g") + event_at(8, "h"));
  // Arguments in any order: newest first here.
  ReadSummary summary;
  EXPECT_EQ(sensors_in_order(
                {dir.file("events.json"), dir.file("events.json.1"), dir.file("events.json.2.gz")},
                no_filter(), &summary),
            "a b c d e f g h ");
  EXPECT_EQ(summary.files.size(), 3U);
  EXPECT_EQ(summary.lines, 8U);
  EXPECT_EQ(summary.matched, 8U);
  EXPECT_EQ(summary.malformed, 0U);
  EXPECT_TRUE(summary.errors.empty());
  EXPECT_GT(summary.text_bytes, summary.file_bytes - 1);
}

TEST(ReadEventsInOrder, EqualTimesKeepArgumentOrder) {
  TempDir dir;
  write_file(dir.file("x.json"), event_at(1, "x1") + event_at(2, "x2"));
  write_file(dir.file("y.json"), event_at(1, "y1") + event_at(2, "y2"));
  EXPECT_EQ(sensors_in_order({dir.file("y.json"), dir.file("x.json")}, no_filter()),
            "y1 x1 y2 x2 ");
}

TEST(ReadEventsInOrder, CountsMalformedLinesAndReadsTheRest) {
  TempDir dir;
  const std::string live = event_at(1, "a") + "not json\n" + event_at(2, "b") + "\n" +
                           "{\"timestamp\":\"2026-11-29T09:00:09Z\",\"name\":\"\x1b[2J\"}\n" +
                           event_at(3, "c") + event_at(4, "d").substr(0, 60);  // being written
  write_file(dir.file("events.json"), live);
  ReadSummary summary;
  EXPECT_EQ(sensors_in_order({dir.file("events.json")}, no_filter(), &summary), "a b c ");
  EXPECT_EQ(summary.lines, 7U);
  EXPECT_EQ(summary.malformed, 3U);  // the empty line is not counted
  ASSERT_EQ(summary.first_malformed.size(), 3U);
  EXPECT_EQ(summary.first_malformed[0].file, dir.file("events.json"));
  EXPECT_EQ(summary.first_malformed[0].line, 2U);
  EXPECT_EQ(summary.first_malformed[0].why, "not a JSON object");
  EXPECT_EQ(summary.first_malformed[1].line, 5U);
  EXPECT_EQ(summary.first_malformed[1].why, "bad JSON string");
  EXPECT_EQ(summary.first_malformed[2].line, 7U);
  EXPECT_EQ(summary.first_malformed[2].why,
            "truncated JSON (last line, no newline: still being written?)");
}

TEST(ReadEventsInOrder, ReportsFirstFewMalformedOnly) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20; ++i) {
    text += "garbage\n";
  }
  write_file(dir.file("events.json"), text + event_at(1, "a"));
  ReadSummary summary;
  EXPECT_EQ(sensors_in_order({dir.file("events.json")}, no_filter(), &summary), "a ");
  EXPECT_EQ(summary.malformed, 20U);
  EXPECT_EQ(summary.first_malformed.size(), ReadSummary::kMaxMalformedReported);
}

TEST(ReadEventsInOrder, UnreadableFilesAreReportedAndOthersRead) {
  TempDir dir;
  write_file(dir.file("events.json"), event_at(1, "a"));
  std::string gz = gzip_bytes(event_at(2, "b") + event_at(3, "c"));
  write_file(dir.file("cut.gz"), gz.substr(0, gz.size() - 6));
  ReadSummary summary;
  const std::string got =
      sensors_in_order({dir.file("missing.json"), dir.file("events.json"), dir.file("cut.gz")},
                       no_filter(), &summary);
  EXPECT_EQ(got.substr(0, 2), "a ");
  ASSERT_EQ(summary.errors.size(), 2U);
  EXPECT_NE(summary.errors[0].find("missing.json"), std::string::npos);
  EXPECT_NE(summary.errors[1].find("cut.gz: gzip:"), std::string::npos) << summary.errors[1];
}

TEST(ReadEventsInOrder, AppliesTheFilter) {
  TempDir dir;
  write_file(dir.file("events.json"),
             event_at(1, "a", "byod") + event_at(2, "b") + event_at(3, "c", "byod", "x.org"));
  FilterSpec spec;
  spec.groups = {"gov-managed"};
  spec.names = {"*.TikTok.com"};
  auto f = EventFilter::compile(spec);
  ASSERT_TRUE(f.has_value());
  ReadSummary summary;
  EXPECT_EQ(sensors_in_order({dir.file("events.json")}, std::move(*f), &summary), "b ");
  EXPECT_EQ(summary.lines, 3U);
  EXPECT_EQ(summary.parsed, 1U);  // the other two were rejected by the substring pre-check
}

TEST(Counting, TopRespectsAggregatedCounts) {
  TempDir dir;
  std::string aggregated = event_at(2, "b", "gov-managed", "api.tiktok.com");
  aggregated.insert(aggregated.size() - 2, ",\"count\":7");
  write_file(dir.file("events.json"),
             event_at(1, "a") + aggregated + event_at(3, "c", "byod", "WWW.TIKTOK.COM.") +
                 "{\"timestamp\":\"2026-11-29T09:00:04Z\",\"name\":null,\"group\":\"kiosk\"}\n");
  EventFilter filter = no_filter();
  Tally names;
  Tally groups;
  Stats stats;
  std::string key;
  const ReadSummary summary =
      read_events({dir.file("events.json")}, filter, [&](std::string_view, const EventLine& e) {
        key.clear();
        append_count_key(key, e, TopField::Name);
        names.add(key, event_weight(e));
        key.clear();
        append_count_key(key, e, TopField::Group);
        groups.add(key, event_weight(e));
        stats.add(e);
      });
  EXPECT_EQ(summary.matched, 4U);
  using Rows = std::vector<std::pair<std::string, std::uint64_t>>;
  EXPECT_EQ(names.top(10), (Rows{{"api.tiktok.com", 7}, {"www.tiktok.com", 2}, {"(none)", 1}}));
  EXPECT_EQ(names.top(1), (Rows{{"api.tiktok.com", 7}}));
  EXPECT_EQ(groups.top(0), (Rows{{"gov-managed", 8}, {"byod", 1}, {"kiosk", 1}}));
  EXPECT_EQ(stats.lines, 4U);
  EXPECT_EQ(stats.events, 10U);
  EXPECT_EQ(stats.by_action.top(0), (Rows{{"block", 9}, {"(none)", 1}}));
  EXPECT_EQ(stats.by_datapath.top(0), (Rows{{"pcap", 9}, {"(none)", 1}}));
  EXPECT_EQ(stats.last_us - stats.first_us, 3 * 1000000 - 1);
}

TEST(EventTable, EscapesNamesForTheTerminal) {
  auto e = parse_event_line(
      R"({"timestamp":"2026-11-29T09:00:01Z","group":"gov-managed","src_ip":"10.8.0.10",)"
      R"("name":"evil\u001b[2J\u0007\u00ff\\.com","action":"block","category":null,"rule":null})");
  ASSERT_TRUE(e.has_value());
  std::string row;
  std::string scratch;
  append_table_row(row, *e, scratch);
  EXPECT_NE(row.find("evil\\x1b[2J\\x07\\xff\\\\.com"), std::string::npos) << row;
  for (const char c : row.substr(0, row.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20) << row;
    EXPECT_LT(static_cast<unsigned char>(c), 0x7f) << row;
  }
  EXPECT_EQ(row.back(), '\n');
}

TEST(EventTable, ShowsRuleListLineAndCount) {
  auto e = parse_event_line(
      R"({"timestamp":"2026-11-29T09:00:01Z","group":"gov-managed","src_ip":"10.8.0.10",)"
      R"("name":"www.tiktok.com","action":"block","category":"tiktok","rule":"*.tiktok.com",)"
      R"("list":"domains/catalogue/tiktok.txt","line":26,"count":4})");
  ASSERT_TRUE(e.has_value());
  std::string row;
  std::string scratch;
  append_table_row(row, *e, scratch);
  EXPECT_EQ(row,
            "2026-11-29T09:00:01Z        gov-managed    10.8.0.10       www.tiktok.com          "
            "         block  tiktok       *.tiktok.com domains/catalogue/tiktok.txt:26 (x4)\n");
  EXPECT_EQ(table_header().substr(0, 4), "TIME");
}

}  // namespace
}  // namespace egressguard::logs
