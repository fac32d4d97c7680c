#include "filter/datapath/nfqueue/verdict.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace egressguard::nfqueue {
namespace {

inspect::Decision decision(inspect::Verdict verdict, inspect::Mode mode) {
  inspect::Decision d;
  d.verdict = verdict;
  d.mode = mode;
  return d;
}

TEST(FlowState, MapsDecisionsToKernelStates) {
  using inspect::EnforceAction;
  using inspect::Mode;
  using inspect::Verdict;
  struct Case {
    const char* what;
    inspect::Decision d;
    bool decided;
    EnforceAction action;
    FlowState want;
  };
  const Case cases[] = {
      {"undecided allow", decision(Verdict::Allow, Mode::Enforce), false, EnforceAction::Reject,
       FlowState::Undecided},
      {"decided allow", decision(Verdict::Allow, Mode::Enforce), true, EnforceAction::Reject,
       FlowState::Allowed},
      {"enforced block, reject", decision(Verdict::Block, Mode::Enforce), true,
       EnforceAction::Reject, FlowState::Rejected},
      {"enforced block, drop", decision(Verdict::Block, Mode::Enforce), true, EnforceAction::Drop,
       FlowState::Dropped},
      {"block not cached yet still blocks", decision(Verdict::Block, Mode::Enforce), false,
       EnforceAction::Drop, FlowState::Dropped},
      {"monitor-mode block passes", decision(Verdict::Block, Mode::Monitor), true,
       EnforceAction::Reject, FlowState::Allowed},
      {"monitor-mode block undecided", decision(Verdict::Block, Mode::Monitor), false,
       EnforceAction::Drop, FlowState::Undecided},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(flow_state(c.d, c.decided, c.action), c.want) << c.what;
  }
}

TEST(MakeVerdict, AlwaysAcceptsAndReplacesOnlyTheMaskedBits) {
  struct Case {
    FlowState state;
    std::uint32_t old_mark;
    std::uint32_t want_mark;
  };
  const Case cases[] = {
      {FlowState::Undecided, kMarkQueue, 0},
      {FlowState::Allowed, kMarkQueue, kMarkAllow},
      {FlowState::Dropped, kMarkQueue | 0x12U, kMarkDrop | 0x12U},
      {FlowState::Rejected, 0xff00ff01U, 0xff00ff01U | kMarkReject},
      {FlowState::Allowed, 0xffffffffU, 0xff00ffffU | kMarkAllow},
      {FlowState::Undecided, 0x80000000U | kMarkQueue, 0x80000000U},
  };
  for (const Case& c : cases) {
    const Verdict v = make_verdict(c.state, c.old_mark);
    EXPECT_EQ(v.verdict, kNfAccept);
    EXPECT_EQ(v.mark, c.want_mark) << static_cast<int>(c.state);
    EXPECT_EQ(v.mark & kMarkQueue, 0U) << "the queue bit is cleared";
  }
}

TEST(MakeVerdict, MarkValuesFitTheMaskAndDiffer) {
  for (std::uint32_t m : {kMarkAllow, kMarkDrop, kMarkReject, kMarkQueue}) {
    EXPECT_EQ(m & ~kMarkMask, 0U);
  }
  EXPECT_NE(kMarkAllow, kMarkDrop);
  EXPECT_NE(kMarkDrop, kMarkReject);
  EXPECT_EQ(kMarkQueue & (kMarkAllow | kMarkDrop | kMarkReject), 0U);
}

std::string runs_of(const std::vector<PendingVerdict>& pending) {
  std::string out;
  for_each_run(pending, [&](const VerdictRun& run) {
    out += std::to_string(run.last_id) + "x" + std::to_string(run.count) + ":" +
           std::to_string(run.verdict.mark >> 16) + " ";
  });
  return out;
}

TEST(ForEachRun, GroupsConsecutiveEqualVerdicts) {
  const Verdict undecided{kNfAccept, 0};
  const Verdict allow{kNfAccept, kMarkAllow};
  const Verdict reject{kNfAccept, kMarkReject};
  struct Case {
    const char* what;
    std::vector<PendingVerdict> pending;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"empty", {}, ""},
      {"one", {{7, allow}}, "7x1:1 "},
      {"all equal: one batch", {{1, undecided}, {2, undecided}, {3, undecided}}, "3x3:0 "},
      {"verdict changes split runs",
       {{1, undecided}, {2, undecided}, {3, reject}, {4, undecided}},
       "2x2:0 3x1:3 4x1:0 "},
      {"a gap in ids ends a run", {{1, allow}, {2, allow}, {5, allow}}, "2x2:1 5x1:1 "},
      {"other mark bits split runs",
       {{1, allow}, {2, {kNfAccept, kMarkAllow | 1U}}},
       "1x1:1 2x1:1 "},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(runs_of(c.pending), c.want) << c.what;
  }
}

}  // namespace
}  // namespace egressguard::nfqueue
