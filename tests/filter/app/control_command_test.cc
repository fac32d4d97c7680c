// The control socket's command line: verbs, blanks and CR, arguments only for explain, and the
// exact error answers; then explain's answers to hostile arguments stay printable.
#include "filter/app/control_command.h"

#include <string>

#include <gtest/gtest.h>

#include "filter/app/control_commands.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace egressguard::app {
namespace {

TEST(ParseControlCommand, AcceptsTheFourVerbs) {
  const struct {
    const char* line;
    ControlVerb verb;
    const char* arguments;
  } cases[] = {
      {"reload", ControlVerb::Reload, ""},
      {"stats", ControlVerb::Stats, ""},
      {"status", ControlVerb::Status, ""},
      {"status\r", ControlVerb::Status, ""},  // nc -C, CRLF clients
      {"  reload \t", ControlVerb::Reload, ""},
      {"explain", ControlVerb::Explain, ""},
      {"explain gov www.tiktok.com", ControlVerb::Explain, "gov www.tiktok.com"},
      {"explain\t--text  gov x.com \r", ControlVerb::Explain, "--text  gov x.com"},
  };
  for (const auto& c : cases) {
    const auto command = parse_control_command(c.line);
    ASSERT_TRUE(command) << c.line << " -> " << command.error();
    EXPECT_EQ(command->verb, c.verb) << c.line;
    EXPECT_EQ(command->arguments, c.arguments) << c.line;
  }
}

TEST(ParseControlCommand, RefusesWithOneErrorLine) {
  const struct {
    const char* line;
    const char* answer;
  } cases[] = {
      {"", "error empty command: expected reload, stats, status or explain\n"},
      {" \r", "error empty command: expected reload, stats, status or explain\n"},
      {"RELOAD", "error unknown command: expected reload, stats, status or explain\n"},
      {"reloads", "error unknown command: expected reload, stats, status or explain\n"},
      {"explainx gov a.com", "error unknown command: expected reload, stats, status or explain\n"},
      {"reload now", "error reload, stats and status take no arguments\n"},
      {"stats --all", "error reload, stats and status take no arguments\n"},
  };
  for (const auto& c : cases) {
    const auto command = parse_control_command(c.line);
    ASSERT_FALSE(command) << c.line;
    EXPECT_EQ(command.error(), c.answer) << c.line;
  }
}

TEST(ControlExplain, QuotesHostileArgumentsEscaped) {
  const test::TestPolicy policy;
  const auto snapshot = policy.store().current();
  // An escape sequence in the group name must not reach the operator's terminal raw.
  const std::string answer = control_explain(*snapshot, "no\x1b[2Jbody a.com");
  EXPECT_EQ(answer,
            "error group \"no\\x1b[2Jbody\" is not a configured group: expected one of gov, "
            "watch, byod\n");
  // Tabs separate arguments like spaces.
  const std::string ok = control_explain(*snapshot, "gov\twww.tiktok.com");
  EXPECT_EQ(ok.rfind("ok\n{\"name\":\"www.tiktok.com\",\"group\":\"gov\",\"action\":\"block\"", 0),
            0u)
      << ok;
}

}  // namespace
}  // namespace egressguard::app
