// Loads the real lists from the shared test data (DESIGN: /work/shared/data/lists) and the
// default catalogue shipped in domains/catalogue/, with the formats they are published in.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "domains/list_loader.h"
#include "domains/matcher.h"
#include "domains/name.h"
#include "domains/snapshot.h"

namespace egressguard::domains {
namespace {

std::filesystem::path lists_dir() {
  return std::filesystem::path(EGRESSGUARD_SOURCE_DIR) / ".." / "shared" / "data" / "lists";
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

#define REQUIRE_SHARED_DATA()                                         \
  do {                                                                \
    if (!std::filesystem::exists(lists_dir())) {                      \
      if (in_ci()) {                                                  \
        FAIL() << "shared test data missing: " << lists_dir();        \
      }                                                               \
      GTEST_SKIP() << "shared test data not found at " << lists_dir() \
                   << " (see /work/shared/data/README.md)";           \
    }                                                                 \
  } while (false)

// Rule counts are the entry counts of /work/shared/data/README.md: these lists carry no junk
// today, so skip_invalid (set on the third-party wildcard list, as an operator would) skips 0.
struct RealListCase {
  const char* file;
  ListOptions options;
  std::size_t rules;
  RuleKind kind;  // every rule's kind
};

TEST(RealLists, LoadWithTheirFormats) {
  REQUIRE_SHARED_DATA();
  const ListOptions plain{ListFormat::Plain};
  const ListOptions with_subdomains{ListFormat::Plain, false, true};
  const ListOptions lenient{ListFormat::Plain, true};
  const RealListCase cases[] = {
      {"tiktok/hagezi-legacy_native.tiktok.txt", plain, 428, RuleKind::Exact},
      {"tiktok/hagezi-legacy_native.tiktok.extended.txt", plain, 584, RuleKind::Exact},
      {"tiktok/blocklistproject_tiktok-nl.txt", plain, 3725, RuleKind::Exact},
      {"bypass/hagezi-legacy_doh.txt", with_subdomains, 3857, RuleKind::Suffix},
      {"bench/hagezi-3p_ultimatehosts.wildcard.txt", lenient, 147753, RuleKind::Suffix},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const auto path = (lists_dir() / c.file).string();
    const auto loaded = load_list(path, 0, c.options);
    ASSERT_TRUE(loaded.has_value())
        << loaded.error().front() << " (+" << loaded.error().size() - 1 << " more)";
    EXPECT_EQ(loaded->rules.size(), c.rules);
    EXPECT_EQ(loaded->skipped_invalid, 0U);
    EXPECT_EQ(loaded->skipped_unsupported, 0U);
    EXPECT_GT(loaded->lines, loaded->rules.size());  // headers are comments
    for (const Rule& r : loaded->rules) {
      ASSERT_EQ(r.kind, c.kind) << r.name;
    }
    for (const auto& message : loaded->skipped_messages) {
      EXPECT_EQ(message.rfind(path + ":", 0), 0U) << message;
    }
  }
}

TEST(RealLists, TikTokListsMatchTheirOwnNamesAndNotLookalikes) {
  REQUIRE_SHARED_DATA();
  const auto path = (lists_dir() / "tiktok/blocklistproject_tiktok-nl.txt").string();
  auto loaded = load_list(path, 0, ListOptions{ListFormat::Plain});
  ASSERT_TRUE(loaded.has_value());
  const std::vector<Rule> rules = loaded->rules;
  const Matcher matcher = Matcher::compile(std::move(loaded->rules));
  const ListUse uses[] = {ListUse::Apply};
  for (const Rule& r : rules) {
    const Match m = matcher.lookup(r.name, uses);
    ASSERT_TRUE(m.matched) << r.name;
    EXPECT_EQ(matcher.rule_info(m.rule).name, r.name);
    // Exact rules only: a subdomain the list does not name stays unmatched.
    EXPECT_FALSE(matcher.lookup("zz-unlisted." + r.name, uses).matched) << r.name;
  }
  EXPECT_FALSE(matcher.lookup("nottiktok.com", uses).matched);
}

TEST(RealLists, ShippedCatalogueLoadsStrictly) {
  const auto dir = std::filesystem::path(EGRESSGUARD_SOURCE_DIR) / "domains" / "catalogue";
  if (!std::filesystem::exists(dir)) {
    GTEST_SKIP() << "no catalogue at " << dir;
  }
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".txt") {
      continue;
    }
    ++files;
    // The catalogue declares its format in a "# format: NAME" header line; plain by default.
    ListOptions options{ListFormat::Plain};
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("# format:", 0) == 0) {
        const auto format = parse_list_format(line.substr(line.find_first_not_of(' ', 9)));
        ASSERT_TRUE(format.has_value()) << entry.path() << ": " << line;
        options.format = *format;
      }
    }
    const auto loaded = load_list(entry.path().string(), 0, options);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().front();
    EXPECT_GT(loaded->rules.size(), 0U) << entry.path();
    EXPECT_EQ(loaded->skipped_unsupported, 0U) << entry.path();
  }
  EXPECT_GT(files, 0U);
}

}  // namespace
}  // namespace egressguard::domains
