#include "filter/metrics/registry.h"

#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/metrics/prometheus_text_helpers.h"

namespace egressguard::metrics {
namespace {

TEST(MetricsRegistry, ExposesTheGoldenText) {
  Registry registry;
  Counter& blocked = registry.counter("egressguard_test_total", "A test counter.",
                                      {{"group", "gov-managed"}, {"name", "a\"b\\c\nd"}});
  Counter& other = registry.counter("egressguard_test_total", "A test counter.",
                                    {{"group", "byod"}, {"name", "plain"}});
  Gauge& version = registry.gauge("egressguard_policy_version", "Help with \\ and\nnewline");
  Histogram& latency =
      registry.histogram("egressguard_latency_seconds", "Latency.", {1000, 1000000}, 1e9);
  registry.add_collector(
      [](Exposition& out) { out.counter("egressguard_collected_total", "C", 7); });
  blocked.inc();
  blocked.inc(2);
  other.inc();
  version.set(42);
  latency.observe(500);
  latency.observe(1000);  // on the bound: counted in le=1e-06
  latency.observe(2000);
  latency.observe(5000000);  // above every bound: +Inf only

  const std::string expected =
      "# HELP egressguard_test_total A test counter.\n"
      "# TYPE egressguard_test_total counter\n"
      "egressguard_test_total{group=\"gov-managed\",name=\"a\\\"b\\\\c\\nd\"} 3\n"
      "egressguard_test_total{group=\"byod\",name=\"plain\"} 1\n"
      "# HELP egressguard_policy_version Help with \\\\ and\\nnewline\n"
      "# TYPE egressguard_policy_version gauge\n"
      "egressguard_policy_version 42\n"
      "# HELP egressguard_latency_seconds Latency.\n"
      "# TYPE egressguard_latency_seconds histogram\n"
      "egressguard_latency_seconds_bucket{le=\"1e-06\"} 2\n"
      "egressguard_latency_seconds_bucket{le=\"0.001\"} 3\n"
      "egressguard_latency_seconds_bucket{le=\"+Inf\"} 4\n"
      "egressguard_latency_seconds_sum 0.0050035\n"
      "egressguard_latency_seconds_count 4\n"
      "# HELP egressguard_collected_total C\n"
      "# TYPE egressguard_collected_total counter\n"
      "egressguard_collected_total 7\n";
  const std::string text = registry.expose();
  EXPECT_EQ(text, expected);

  auto parsed = testing::parse_prometheus_text(text);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->value("egressguard_test_total", {{"name", "a\"b\\c\nd"}}), 3);
  EXPECT_EQ(parsed->help.at("egressguard_policy_version"), "Help with \\ and\nnewline");
}

TEST(MetricsRegistry, RefusesInvalidNamesAndDuplicates) {
  Registry registry;
  EXPECT_THROW(registry.counter("9bad", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "x", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "x", {{"bad:label", "v"}}), std::invalid_argument);
  registry.counter("ok_total", "x", {{"a", "1"}});
  EXPECT_THROW(registry.counter("ok_total", "x", {{"a", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok_total", "x", {{"a", "2"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "other help", {{"a", "2"}}), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("ok_total", "x", {{"a", "2"}}));
  EXPECT_THROW(registry.histogram("h", "x", {1}, 1, {{"le", "1"}}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {2, 2}, 1), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "x", {}, 1), std::invalid_argument);
}

TEST(MetricsRegistry, CollectorsWritingOneFamilyTwiceFailTheScrape) {
  Registry registry;
  registry.counter("dup_total", "x");
  registry.add_collector([](Exposition& out) { out.counter("dup_total", "x", 1); });
  EXPECT_THROW(registry.expose(), std::logic_error);
}

TEST(MetricsValueFormat, WritesIntegersSpecialValuesAndFractions) {
  const struct {
    double value;
    const char* text;
  } cases[] = {
      {0, "0"},
      {42, "42"},
      {-3, "-3"},
      {1e15, "1000000000000000"},
      {0.25, "0.25"},
      {1e-06, "1e-06"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::nan(""), "NaN"},
      {1e300, "1e+300"},
  };
  for (const auto& c : cases) {
    std::string out;
    append_value(out, c.value);
    EXPECT_EQ(out, c.text) << c.text;
  }
}

TEST(MetricsEscaping, EscapesLabelValuesAndHelp) {
  const struct {
    const char* in;
    const char* label;
    const char* help;
  } cases[] = {
      {"plain", "plain", "plain"},
      {"quo\"te", "quo\\\"te", "quo\"te"},
      {"back\\slash", "back\\\\slash", "back\\\\slash"},
      {"new\nline", "new\\nline", "new\\nline"},
      {"tab\there", "tab\there", "tab\there"},
      {"utf8 \xc3\xa6", "utf8 \xc3\xa6", "utf8 \xc3\xa6"},
  };
  for (const auto& c : cases) {
    std::string label;
    append_label_value(label, c.in);
    EXPECT_EQ(label, c.label);
    std::string help;
    append_help(help, c.in);
    EXPECT_EQ(help, c.help);
  }
}

TEST(MetricsNames, ValidatesMetricAndLabelNames) {
  EXPECT_TRUE(valid_metric_name("egressguard_x_total"));
  EXPECT_TRUE(valid_metric_name("ns:sub_x"));
  EXPECT_TRUE(valid_metric_name("_x"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("1x"));
  EXPECT_FALSE(valid_metric_name("x y"));
  EXPECT_TRUE(valid_label_name("group"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name(""));
}

TEST(MetricsCounter, CountsEveryIncrementFromManyThreads) {
  Registry registry;
  Counter& c = registry.counter("threads_total", "x");
  Histogram& h = registry.histogram("threads_hist", "x", {10, 100}, 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c.inc();
        h.observe(static_cast<std::uint64_t>(i % 200));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.value(), 400000U);
  const HistogramSnapshot s = h.snapshot();
  EXPECT_EQ(s.count, 400000U);
  EXPECT_EQ(s.cumulative[0], 4U * 500U * 11U);   // 0..10 of each 200
  EXPECT_EQ(s.cumulative[1], 4U * 500U * 101U);  // 0..100
}

TEST(MetricsHistogram, HasDefaultLatencyBucketsInSeconds) {
  Histogram h(latency_buckets_ns(), 1e9);
  const HistogramSnapshot s = h.snapshot();
  ASSERT_EQ(s.upper_bounds.size(), latency_buckets_ns().size());
  EXPECT_DOUBLE_EQ(s.upper_bounds.front(), 1e-5);
  EXPECT_DOUBLE_EQ(s.upper_bounds.back(), 2.5);
}

}  // namespace
}  // namespace egressguard::metrics
