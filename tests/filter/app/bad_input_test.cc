// The bad-input corpus (tests/data/bad/, see its README.md): every malformed list, config and
// capture file there is given to the real binary the way a user would (`domains check`,
// `check --config`, `scan`), and its exit status and stderr must match the sibling
// `<input>.expected` file exactly: first line `exit N`, then stderr byte for byte.
// EGRESSGUARD_UPDATE_EXPECTED=1 rewrites the .expected files from what the binary says (review
// the diff before committing it).
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"

namespace egressguard::app {
namespace {

namespace fs = std::filesystem;
using testing::run_command;

struct BadInput {
  std::string kind;   // lists | configs | captures
  std::string input;  // file (or directory) name inside tests/data/bad/<kind>/
};

fs::path bad_dir() {
  return fs::path(testing::source_path("tests/data/bad"));
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Inputs: in lists/ every entry (the format is the name's prefix: plain-, hosts-, adblock-,
// rpz-); in configs/ the *.toml files; in captures/ the *.pcap and *.pcapng files. The other
// files there (ok-list.txt, scan.toml, make-captures.py) are fixtures the inputs use.
std::vector<BadInput> bad_inputs() {
  std::vector<BadInput> inputs;
  for (const char* kind : {"lists", "configs", "captures"}) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(bad_dir() / kind, ec)) {
      const std::string name = entry.path().filename().string();
      if (ends_with(name, ".expected")) {
        continue;
      }
      const std::string k = kind;
      const bool input =
          k == "lists" || (k == "configs" && ends_with(name, ".toml")) ||
          (k == "captures" && (ends_with(name, ".pcap") || ends_with(name, ".pcapng")));
      if (input) {
        inputs.push_back({k, name});
      }
    }
  }
  std::sort(inputs.begin(), inputs.end(), [](const BadInput& a, const BadInput& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.input < b.input;
  });
  return inputs;
}

std::string command_for(const BadInput& c) {
  const std::string cd = "cd '" + bad_dir().string() + "' && ";
  const std::string bin = testing::egressguard_binary();
  const std::string path = "'" + c.kind + "/" + c.input + "'";
  if (c.kind == "lists") {
    const std::string format = c.input.substr(0, c.input.find('-'));
    return cd + bin + " domains check --format " + format + " " + path;
  }
  if (c.kind == "configs") {
    return cd + bin + " check --config " + path;
  }
  return cd + bin + " scan --config captures/scan.toml --events /dev/null " + path;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, ExitStatusAndStderrMatchExpected) {
  const BadInput& c = GetParam();
  const fs::path expected_path = bad_dir() / c.kind / (c.input + ".expected");
  const auto result = run_command(command_for(c));
  const std::string actual = "exit " + std::to_string(result.exit_code) + "\n" + result.err;
  const char* update = std::getenv("EGRESSGUARD_UPDATE_EXPECTED");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(expected_path, std::ios::binary) << actual;
  }
  ASSERT_TRUE(fs::exists(expected_path))
      << expected_path << " is missing: every bad input needs the exact error it gives";
  EXPECT_EQ(read_file(expected_path), actual) << command_for(c);
  // A refusal is never silent, and a crash is never an answer.
  if (result.exit_code != 0) {
    EXPECT_FALSE(result.err.empty());
  }
  EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 1) << result.exit_code;
}

TEST(BadInputCorpus, HasEveryKind) {
  std::size_t lists = 0;
  std::size_t configs = 0;
  std::size_t captures = 0;
  for (const BadInput& c : bad_inputs()) {
    lists += c.kind == "lists" ? 1U : 0U;
    configs += c.kind == "configs" ? 1U : 0U;
    captures += c.kind == "captures" ? 1U : 0U;
  }
  EXPECT_GE(lists, 10U);
  EXPECT_GE(configs, 8U);
  EXPECT_GE(captures, 6U);
}

std::string case_name(const ::testing::TestParamInfo<BadInput>& info) {
  std::string name = info.param.kind + "_" + info.param.input;
  for (char& ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
      ch = '_';
    }
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInputTest, ::testing::ValuesIn(bad_inputs()), case_name);

}  // namespace
}  // namespace egressguard::app
