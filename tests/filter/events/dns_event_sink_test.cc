// The DNS proxy's sink into the event pipeline: blocks always, allowed queries only with
// log_allowed, flagged answers once and without a block cause.
#include "filter/events/dns_event_sink.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/filter/events/test_helpers.h"

namespace egressguard::events {
namespace {

class LinesOutput : public EventOutput {
 public:
  explicit LinesOutput(std::vector<std::string>& lines) : lines_(lines) {}
  std::string_view name() const noexcept override { return "lines"; }
  void write(const EventLine& line, std::uint64_t /*now_us*/) override {
    lines_.emplace_back(line.json);
    count_written(line.events);
  }
  void flush(std::uint64_t /*now_us*/) override {}
  void close(std::uint64_t /*now_us*/) override {}
  std::string last_error() const override { return {}; }

 private:
  std::vector<std::string>& lines_;
};

class DnsEventSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("t.txt")) << "*.tiktok.com\n";
    inspect::PolicySpec spec;
    inspect::CategorySpec tiktok;
    tiktok.name = "tiktok";
    tiktok.lists.push_back(inspect::ListSpec{"tiktok", dir_.file("t.txt"), {}});
    spec.categories = {tiktok};
    inspect::GroupSpec gov;
    gov.name = "gov";
    gov.block = {"tiktok"};
    spec.groups = {gov};
    spec.default_group = "gov";
    auto built = inspect::PolicySnapshot::build(spec);
    ASSERT_TRUE(built) << built.error().front();
    policy_ = *built;
  }

  std::unique_ptr<EventPipeline> pipeline() {
    std::vector<std::unique_ptr<EventOutput>> outputs;
    outputs.push_back(std::make_unique<LinesOutput>(lines_));
    EventPipelineOptions options;
    options.synchronous = true;
    return std::make_unique<EventPipeline>(std::move(outputs), std::move(options));
  }

  inspect::Observation query(std::string_view name) {
    inspect::Observation o;
    o.src = *parse::IpAddress::parse("10.8.0.5");
    o.dst = *parse::IpAddress::parse("127.0.0.1");
    o.sport = 40000;
    o.dport = 53;
    o.l4 = 17;
    o.app = inspect::AppProto::Dns;
    o.name = name;
    o.dns_qtype = 1;
    o.decision = policy_->decide_name(name, 0);
    o.policy = policy_.get();
    return o;
  }

  testing::TempDir dir_;
  std::shared_ptr<const inspect::PolicySnapshot> policy_;
  std::vector<std::string> lines_;
};

TEST_F(DnsEventSinkTest, AllowedQueriesAreWrittenOnlyWithLogAllowed) {
  for (const bool log_allowed : {false, true}) {
    lines_.clear();
    auto p = pipeline();
    DnsEventPipelineSink sink(*p, log_allowed);
    EXPECT_TRUE(
        sink.on_dns_block(query("www.tiktok.com"),
                          dnsproxy::DnsBlockInfo{dnsproxy::BlockCause::List, {}, "nxdomain", 15}));
    sink.on_dns_allow(query("example.org"));
    p->close();
    ASSERT_EQ(lines_.size(), log_allowed ? 2U : 1U) << log_allowed;
    EXPECT_NE(lines_[0].find("\"event_type\":\"block\""), std::string::npos) << lines_[0];
    EXPECT_NE(lines_[0].find("\"block_cause\":\"list\""), std::string::npos) << lines_[0];
    if (log_allowed) {
      EXPECT_NE(lines_[1].find("\"event_type\":\"name\""), std::string::npos) << lines_[1];
      EXPECT_NE(lines_[1].find("\"name\":\"example.org\""), std::string::npos) << lines_[1];
      EXPECT_EQ(lines_[1].find("block_cause"), std::string::npos) << lines_[1];
    }
  }
}

TEST_F(DnsEventSinkTest, AFlaggedAnswerIsOneEventWithoutABlockCause) {
  auto p = pipeline();
  DnsEventPipelineSink sink(*p, true);
  inspect::Observation flagged = query("example.org");
  flagged.decision.reason.kind = inspect::ReasonKind::GeoFlag;
  EXPECT_TRUE(sink.on_dns_flag(
      flagged, dnsproxy::DnsBlockInfo{dnsproxy::BlockCause::Address, {}, "forwarded", 0}));
  sink.on_dns_allow(flagged);  // the same query's allow: not written twice
  p->close();
  ASSERT_EQ(lines_.size(), 1U);
  EXPECT_NE(lines_[0].find("\"dns_answer\":\"forwarded\""), std::string::npos) << lines_[0];
  EXPECT_EQ(lines_[0].find("block_cause"), std::string::npos) << lines_[0];
}

}  // namespace
}  // namespace egressguard::events
