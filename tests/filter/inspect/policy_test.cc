#include "filter/inspect/policy.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "domains/name.h"
#include "tests/support/temp_dir.h"

namespace egressguard::inspect {
namespace {

class PolicyTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return dir_.write(name, text);
  }

  PolicySpec spec() {
    PolicySpec s;
    CategorySpec tiktok{"tiktok", "TikTok", "maintainers", "CN", {}, "2026-11-29", {}, {}};
    tiktok.lists.push_back(
        list("tiktok", write("tiktok.txt", "# tiktok\n*.tiktok.com\nexact.bytedance.com\n")));
    CategorySpec telegram{"telegram", "", "", "", {}, "", {}, {}};
    telegram.lists.push_back(list("telegram", write("telegram.txt", "*.telegram.org\n")));
    CategorySpec exceptions{"exceptions", "", "", "", {}, "", {}, {}};
    exceptions.lists.push_back(list("local-exceptions", write("exc.txt", "newsroom.tiktok.com\n")));
    s.categories = {tiktok, telegram, exceptions};
    GroupSpec gov;
    gov.name = "gov";
    gov.members.cidrs.push_back(*Cidr::parse("10.8.0.0/16"));
    gov.block = {"tiktok", "telegram"};
    gov.allow = {"local-exceptions"};
    GroupSpec byod;
    byod.name = "byod";
    byod.members.cidrs.push_back(*Cidr::parse("10.30.0.0/16"));
    GroupSpec mon;
    mon.name = "pilot";
    mon.members.cidrs.push_back(*Cidr::parse("10.99.0.0/16"));
    mon.block = {"tiktok"};
    mon.mode = Mode::Monitor;
    s.groups = {gov, byod, mon};
    s.default_group = "gov";
    return s;
  }

  static ListSpec list(std::string name, std::string path) {
    ListSpec l;
    l.name = std::move(name);
    l.path = std::move(path);
    l.options.format = domains::ListFormat::Plain;
    return l;
  }

  testing::TempDir dir_{"eg-policy"};
};

TEST_F(PolicyTest, DecidesPerGroupWithReason) {
  auto built = PolicySnapshot::build(spec());
  ASSERT_TRUE(built.has_value()) << (built ? "" : built.error().front());
  const PolicySnapshot& p = **built;
  const auto gov = static_cast<std::uint32_t>(p.find_group("gov"));
  const auto byod = static_cast<std::uint32_t>(p.find_group("byod"));
  const auto pilot = static_cast<std::uint32_t>(p.find_group("pilot"));

  auto d = p.decide_name("www.tiktok.com", gov);
  EXPECT_EQ(d.verdict, Verdict::Block);
  EXPECT_TRUE(d.enforced_block());
  EXPECT_EQ(d.reason.kind, ReasonKind::Rule);
  EXPECT_EQ(p.categories()[d.reason.category].name, "tiktok");
  EXPECT_EQ(d.reason.line, 2U);
  EXPECT_EQ(p.list(d.reason.list).name, "tiktok");

  EXPECT_EQ(p.decide_name("www.tiktok.com", byod).verdict, Verdict::Allow);
  EXPECT_EQ(p.decide_name("www.tiktok.com", byod).reason.kind, ReasonKind::NoRule);
  EXPECT_EQ(p.decide_name("nottiktok.com", gov).verdict, Verdict::Allow);
  EXPECT_EQ(p.decide_name("web.telegram.org", gov).verdict, Verdict::Block);
  EXPECT_EQ(p.decide_name("exact.bytedance.com", gov).verdict, Verdict::Block);
  EXPECT_EQ(p.decide_name("sub.exact.bytedance.com", gov).verdict, Verdict::Allow);

  // The exception is more specific than *.tiktok.com and wins, naming its own list and line.
  auto exc = p.decide_name("newsroom.tiktok.com", gov);
  EXPECT_EQ(exc.verdict, Verdict::Allow);
  EXPECT_EQ(exc.reason.kind, ReasonKind::Rule);
  EXPECT_TRUE(exc.reason.exception);
  EXPECT_EQ(p.list(exc.reason.list).name, "local-exceptions");
  EXPECT_EQ(exc.reason.line, 1U);

  // Monitor mode: the verdict says block, but nothing is enforced.
  auto mon = p.decide_name("www.tiktok.com", pilot);
  EXPECT_EQ(mon.verdict, Verdict::Block);
  EXPECT_EQ(mon.mode, Mode::Monitor);
  EXPECT_FALSE(mon.enforced_block());
  EXPECT_EQ(p.decide_name("web.telegram.org", pilot).verdict, Verdict::Allow);
}

TEST_F(PolicyTest, RawNamesFromTheNetworkAreNormalisedFirst) {
  auto built = PolicySnapshot::build(spec());
  ASSERT_TRUE(built.has_value());
  const PolicySnapshot& p = **built;
  EXPECT_EQ(p.decide_raw_name("WWW.TikTok.COM.", 0).verdict, Verdict::Block);
  EXPECT_EQ(p.decide_raw_name("a..b", 0).reason.kind, ReasonKind::BadName);
  EXPECT_EQ(p.decide_raw_name("a..b", 0).verdict, Verdict::Allow);
}

TEST_F(PolicyTest, ResolvesGroupsFromSources) {
  auto built = PolicySnapshot::build(spec());
  ASSERT_TRUE(built.has_value());
  SourceIdentity s;
  s.ip = *parse::IpAddress::parse("10.30.1.2");
  EXPECT_EQ((*built)->groups()[(*built)->resolve_group(s)].spec.name, "byod");
  s.ip = *parse::IpAddress::parse("192.0.2.1");
  EXPECT_EQ((*built)->groups()[(*built)->resolve_group(s)].spec.name, "gov");
}

TEST_F(PolicyTest, BadListRefusesTheWholePolicyWithFileAndLine) {
  PolicySpec s = spec();
  s.categories[1].lists[0].path = write("bad.txt", "ok.example\nexa mple.com\n");
  auto built = PolicySnapshot::build(s);
  ASSERT_FALSE(built.has_value());
  ASSERT_FALSE(built.error().empty());
  EXPECT_NE(built.error().front().find("bad.txt:2: "), std::string::npos) << built.error().front();
}

TEST_F(PolicyTest, FailedReloadKeepsTheOldSnapshotAndIsCounted) {
  auto built = PolicySnapshot::build(spec());
  ASSERT_TRUE(built.has_value());
  PolicyStore store(*built);
  const auto before = store.current();

  PolicySpec bad = spec();
  bad.categories[0].lists[0].path = dir_.file("missing.txt");
  auto r = store.reload([&](std::uint64_t v) { return PolicySnapshot::build(bad, v); });
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(store.reload_failures(), 1U);
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(store.current()->decide_name("www.tiktok.com", 0).verdict, Verdict::Block);

  auto ok = store.reload([&](std::uint64_t v) { return PolicySnapshot::build(spec(), v); });
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 2U);
  EXPECT_EQ(store.reloads(), 1U);
  EXPECT_NE(store.current(), before);
}

TEST_F(PolicyTest, LookupsDuringReloadsAlwaysSeeAConsistentSnapshot) {
  // Version N blocks exactly the name "vN.example"; readers check that every snapshot they load
  // answers for its own version and for no other, while a writer swaps 60 times.
  auto make = [&](std::uint64_t v) {
    PolicySpec s;
    CategorySpec c{"c", "", "", "", {}, "", {}, {}};
    c.lists.push_back(
        list("c", write("v" + std::to_string(v) + ".txt", "v" + std::to_string(v) + ".example\n")));
    s.categories = {c};
    GroupSpec g;
    g.name = "g";
    g.block = {"c"};
    s.groups = {g};
    s.default_group = "g";
    return PolicySnapshot::build(s, v);
  };
  auto first = make(1);
  ASSERT_TRUE(first.has_value());
  PolicyStore store(*first);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        const auto snap = store.current();
        const auto v = snap->version();
        const std::string mine = "v" + std::to_string(v) + ".example";
        const std::string other = "v" + std::to_string(v + 1) + ".example";
        if (snap->decide_name(mine, 0).verdict != Verdict::Block ||
            snap->decide_name(other, 0).verdict != Verdict::Allow) {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < 60; ++i) {
    auto r = store.reload(make);
    ASSERT_TRUE(r.has_value());
  }
  done = true;
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(store.current()->version(), 61U);
}

}  // namespace
}  // namespace egressguard::inspect
