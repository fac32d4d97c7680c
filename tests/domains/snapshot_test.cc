#include "domains/snapshot.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace egressguard::domains {
namespace {

using testing::TempDir;

TEST(BuildSnapshot, LoadsEveryListWithItsId) {
  const TempDir dir("eg-snapshot");
  const std::vector<ListSource> sources = {
      {dir.write("a.txt", "tiktok.com\n*.bytedance.com\nbad name\n"), "tiktok",
       ListOptions{ListFormat::Plain, true}},
      {dir.write("b.txt", "||ok.tiktok.com^\nx##.y\n"), "exceptions",
       ListOptions{ListFormat::Adblock}},
  };
  const auto snapshot = build_snapshot(sources);
  ASSERT_TRUE(snapshot.has_value()) << snapshot.error().front();
  ASSERT_EQ(snapshot->lists.size(), 2U);
  EXPECT_EQ(snapshot->lists[0].id, 0U);
  EXPECT_EQ(snapshot->lists[0].category, "tiktok");
  EXPECT_EQ(snapshot->lists[0].rules, 2U);
  EXPECT_EQ(snapshot->lists[0].skipped_invalid, 1U);
  EXPECT_EQ(snapshot->lists[1].rules, 1U);
  EXPECT_EQ(snapshot->lists[1].skipped_unsupported, 1U);
  EXPECT_EQ(snapshot->lists[1].format, ListFormat::Adblock);
  EXPECT_EQ(snapshot->matcher.size(), 3U);
  const ListUse uses[] = {ListUse::Apply, ListUse::Except};
  const Match m = snapshot->matcher.lookup("www.ok.tiktok.com", uses);
  ASSERT_TRUE(m.matched);
  EXPECT_EQ(m.action, Action::Allow);
  EXPECT_EQ(snapshot->matcher.rule_info(m.rule).list, 1U);
}

TEST(BuildSnapshot, CollectsTheErrorsOfAllLists) {
  const TempDir dir("eg-snapshot");
  const std::string a = dir.write("a.txt", "good.com\nexa mple.com\n");
  const std::string b = dir.write("b.txt", "0.0.0.0 ok.com\n1.2.3.4 bad.com\n");
  const std::string missing = dir.write("c.txt", "") + ".missing";
  const auto snapshot = build_snapshot({{a, "x", ListOptions{ListFormat::Plain}},
                                        {b, "y", ListOptions{ListFormat::Hosts}},
                                        {missing, "z", ListOptions{ListFormat::Plain}}});
  ASSERT_FALSE(snapshot.has_value());
  EXPECT_EQ(snapshot.error(),
            (std::vector<std::string>{
                a + ":2: invalid domain \"exa mple.com\": label contains a space",
                b + ":2: address 1.2.3.4 is not a sink: use 0.0.0.0, 127.0.0.1, :: or ::1",
                missing + ": cannot open: No such file or directory",
            }));
}

Result<Snapshot, std::vector<std::string>> snapshot_of(std::vector<Rule> rules) {
  Snapshot snapshot;
  snapshot.lists.push_back(ListInfo{"mem", "test", 0, rules.size(), 0, 0, ListFormat::Plain});
  snapshot.matcher = Matcher::compile(std::move(rules));
  return snapshot;
}

TEST(SnapshotStore, StartsEmptyAndPublishesReloads) {
  SnapshotStore store;
  const auto initial = store.current();
  ASSERT_NE(initial, nullptr);
  EXPECT_EQ(initial->version, 0U);
  EXPECT_EQ(initial->matcher.size(), 0U);

  const auto first = store.reload([] {
    return snapshot_of({Rule{"tiktok.com", RuleKind::Suffix, Action::Block, 0, 1}});
  });
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, 1U);
  EXPECT_EQ(store.current()->version, 1U);
  EXPECT_EQ(store.current()->matcher.size(), 1U);
  EXPECT_EQ(store.reloads(), 1U);
  EXPECT_EQ(store.reload_failures(), 0U);
  // A reader holding the old snapshot keeps it alive and unchanged.
  EXPECT_EQ(initial->matcher.size(), 0U);
}

TEST(SnapshotStore, FailedReloadKeepsTheOldSnapshotAndCounts) {
  SnapshotStore store;
  ASSERT_TRUE(store
                  .reload([] {
                    return snapshot_of({Rule{"tiktok.com", RuleKind::Suffix, Action::Block, 0, 1}});
                  })
                  .has_value());
  const auto before = store.current();

  const auto failed = store.reload([]() -> Result<Snapshot, std::vector<std::string>> {
    return fail(
        std::vector<std::string>{"l.txt:3: invalid domain \"a b\": label contains a space"});
  });
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(),
            std::vector<std::string>{"l.txt:3: invalid domain \"a b\": label contains a space"});
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(store.reload_failures(), 1U);
  EXPECT_EQ(store.reloads(), 1U);

  const auto thrown = store.reload(
      []() -> Result<Snapshot, std::vector<std::string>> { throw std::runtime_error("boom"); });
  ASSERT_FALSE(thrown.has_value());
  EXPECT_EQ(thrown.error(), std::vector<std::string>{"reload failed: boom"});
  EXPECT_EQ(store.current(), before);
  EXPECT_EQ(store.reload_failures(), 2U);

  const auto next = store.reload([] { return snapshot_of({}); });
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, 2U);  // failures consume no version
}

// Readers look up while a writer reloads: each snapshot version v blocks exactly
// "v<v>.marker.test" and allows "marker.test" with a rule on line v, so a reader can check that
// what it sees is one consistent snapshot.
TEST(SnapshotStore, ReadersSeeConsistentSnapshotsDuringReloads) {
  SnapshotStore store;
  constexpr int kReloads = 60;
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> lookups{0};
  std::atomic<int> inconsistencies{0};
  const auto build = [&store]() -> Result<Snapshot, std::vector<std::string>> {
    const std::uint64_t v = store.current()->version + 1;
    std::vector<Rule> rules;
    rules.push_back(Rule{"v" + std::to_string(v) + ".marker.test", RuleKind::Exact, Action::Block,
                         0, static_cast<std::uint32_t>(v)});
    rules.push_back(
        Rule{"marker.test", RuleKind::Suffix, Action::Allow, 0, static_cast<std::uint32_t>(v)});
    for (int i = 0; i < 200; ++i) {
      rules.push_back(
          Rule{"filler" + std::to_string(i) + ".example", RuleKind::Suffix, Action::Block, 0, 1});
    }
    return snapshot_of(std::move(rules));
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      const ListUse uses[] = {ListUse::Apply};
      std::uint64_t last_version = 0;
      while (!done.load(std::memory_order_acquire)) {
        const auto snapshot = store.current();
        const std::uint64_t v = snapshot->version;
        if (v < last_version) {
          inconsistencies.fetch_add(1);
        }
        last_version = v;
        if (v == 0) {
          continue;
        }
        const std::string own = "v" + std::to_string(v) + ".marker.test";
        const std::string other = "v" + std::to_string(v + 1) + ".marker.test";
        const Match mine = snapshot->matcher.lookup(own, uses);
        const Match theirs = snapshot->matcher.lookup(other, uses);
        const bool ok = mine.matched && mine.action == Action::Block &&
                        snapshot->matcher.rule_info(mine.rule).line == v && theirs.matched &&
                        theirs.action == Action::Allow &&
                        snapshot->matcher.rule_info(theirs.rule).line == v;
        if (!ok) {
          inconsistencies.fetch_add(1);
        }
        lookups.fetch_add(2, std::memory_order_relaxed);
      }
    });
  }
  int failures = 0;
  for (int i = 0; i < kReloads; ++i) {
    if (i % 10 == 5) {
      const auto bad = store.reload([]() -> Result<Snapshot, std::vector<std::string>> {
        return fail(std::vector<std::string>{"broken"});
      });
      failures += bad.has_value() ? 0 : 1;
    }
    ASSERT_TRUE(store.reload(build).has_value());
    std::this_thread::yield();
  }
  // Let the readers see the last snapshot for a moment.
  while (lookups.load() < 1000) {
    std::this_thread::yield();
  }
  done.store(true, std::memory_order_release);
  for (auto& reader : readers) {
    reader.join();
  }
  EXPECT_EQ(inconsistencies.load(), 0);
  EXPECT_EQ(store.current()->version, static_cast<std::uint64_t>(kReloads));
  EXPECT_EQ(store.reloads(), static_cast<std::uint64_t>(kReloads));
  EXPECT_EQ(store.reload_failures(), static_cast<std::uint64_t>(failures));
  EXPECT_GT(lookups.load(), 0U);
}

}  // namespace
}  // namespace egressguard::domains
