// The CLI as users run it: the built binary, the example config, the bundled catalogue.
#include <fstream>

#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"
#include "tests/support/temp_dir.h"

namespace egressguard::testing {
namespace {

std::string example_config() {
  return "'" + source_path("examples/egressguard.toml") + "'";
}

CommandResult explain(const std::string& group, const std::string& name, bool json = true) {
  return run_command(egressguard_binary() + " explain --config " + example_config() + " --group " +
                     group + " " + name + (json ? " --json" : ""));
}

TEST(Cli, CheckAcceptsTheExampleConfig) {
  const auto r = run_command(egressguard_binary() + " check --config " + example_config());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(": OK: 4 groups"), std::string::npos) << r.out;
}

TEST(Cli, ExplainBlocksTikTokForGovManaged) {
  const auto r = explain("gov-managed", "www.tiktok.com");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"name\":\"www.tiktok.com\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"group\":\"gov-managed\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"action\":\"block\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"category\":\"tiktok\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rule\":\"*.tiktok.com\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("domains/catalogue/tiktok.txt\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"line\":"), std::string::npos) << r.out;
}

TEST(Cli, ExplainAllowsTikTokForByod) {
  const auto r = explain("byod", "www.tiktok.com");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"action\":\"allow\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"group\":\"byod\""), std::string::npos) << r.out;
}

TEST(Cli, ExplainAllowsLookalikeName) {
  const auto r = explain("gov-managed", "nottiktok.com");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"action\":\"allow\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"reason\":\"no_rule\""), std::string::npos) << r.out;
}

TEST(Cli, ExplainNamesTheExceptionsFileAndLine) {
  const auto r = explain("gov-managed", "newsroom.tiktok.com");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"action\":\"allow\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"exception\":true"), std::string::npos) << r.out;
  // The exception's own file and line, found by reading the list.
  std::ifstream list(source_path("examples/lists/local-exceptions.txt"));
  std::string line;
  int number = 0;
  int found = 0;
  while (std::getline(list, line)) {
    ++number;
    if (line.rfind("newsroom.tiktok.com", 0) == 0 || line.rfind("*.newsroom.tiktok.com", 0) == 0) {
      found = number;
    }
  }
  ASSERT_GT(found, 0);
  EXPECT_NE(r.out.find("examples/lists/local-exceptions.txt\",\"line\":" + std::to_string(found)),
            std::string::npos)
      << r.out;
}

TEST(Cli, ExplainTextNamesRuleListAndCategory) {
  const auto r = explain("gov-managed", "WWW.TIKTOK.COM.", false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("www.tiktok.com for group gov-managed: block (mode enforce)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("category: tiktok"), std::string::npos) << r.out;
}

TEST(Cli, ExplainRejectsUnknownGroup) {
  const auto r = explain("gov", "www.tiktok.com");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--group \"gov\" is not a configured group"), std::string::npos) << r.err;
}

TEST(Cli, CheckRefusesABadListWithFileAndLine) {
  const TempDir dir("eg-cli-bad-list");
  dir.write("bad.txt", "good.example\nexa mple.com\n*.ok.example\n-bad-.example\n");
  const std::string config =
      dir.write("eg.toml",
                "default_group = \"g\"\n"
                "[[category]]\nname = \"c\"\nlists = [{ path = \"bad.txt\" }]\n"
                "[[group]]\nname = \"g\"\nblock = [\"c\"]\n");
  const auto r = run_command(egressguard_binary() + " check --config '" + config + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.txt:2: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.txt:4: "), std::string::npos) << r.err;
}

TEST(Cli, DomainsCheckValidatesEachFormat) {
  const TempDir dir("eg-cli-domains");
  const std::string x =
      dir.write("x.hosts", "# hosts\n0.0.0.0 a.example b.example\n127.0.0.1 localhost\n");
  const auto ok = run_command(egressguard_binary() + " domains check --format hosts '" + x + "'");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("OK: 2 rules"), std::string::npos) << ok.out;
  const std::string y = dir.write("y.hosts", "0.0.0.0 a..example\n");
  const auto bad = run_command(egressguard_binary() + " domains check --format hosts '" + y + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("y.hosts:1: "), std::string::npos) << bad.err;
}

TEST(Cli, VersionAndHelp) {
  const auto v = run_command(egressguard_binary() + " --version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("egressguard ", 0), 0U) << v.out;
  const auto h = run_command(egressguard_binary() + " --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Examples:"), std::string::npos);
  EXPECT_NE(h.out.find("explain"), std::string::npos);
}

}  // namespace
}  // namespace egressguard::testing
