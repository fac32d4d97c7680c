// libFuzzer target: the control socket's command line (filter/app/control_command.h) and the
// answer of `explain` from a policy snapshot (filter/app/control_commands.h), as the socket
// server drives them: the input up to its first newline is the line. Every answer is "ok\n..."
// or exactly one "error ...\n" line, and is printable ASCII (but for the ellipsis of a cut
// label) whatever bytes came in: the client prints it to a terminal. An ok JSON answer is one
// line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "filter/app/control_command.h"
#include "filter/app/control_commands.h"
#include "tests/filter/inspect/inspect_builders_helpers.h"

namespace {

using namespace egressguard;

const inspect::PolicySnapshot& policy() {
  static const auto* const kPolicy = new test::TestPolicy();
  static const auto kSnapshot = kPolicy->store().current();
  return *kSnapshot;
}

// Printable ASCII lines, each ending in '\n'. The one non-ASCII sequence allowed is the UTF-8
// ellipsis with which messages cut a long label short (domains/name.cc).
bool printable_lines(std::string_view text) {
  constexpr std::string_view kEllipsis = "\u2026";
  if (text.empty() || text.back() != '\n') {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, kEllipsis.size(), kEllipsis) == 0) {
      i += kEllipsis.size() - 1;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c != '\n' && (c < 0x20 || c >= 0x7f)) {
      return false;
    }
  }
  return true;
}

bool one_error_line(std::string_view answer) {
  return answer.rfind("error ", 0) == 0 && printable_lines(answer) &&
         answer.find('\n') == answer.size() - 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes as text.
  std::string_view line(reinterpret_cast<const char*>(data), size);
  line = line.substr(0, line.find('\n'));
  const auto command = app::parse_control_command(line);
  if (!command) {
    if (!one_error_line(command.error())) {
      std::abort();
    }
    return 0;
  }
  const std::string_view arguments = command->arguments;
  if (!arguments.empty() && (arguments.data() < line.data() ||
                             arguments.data() + arguments.size() > line.data() + line.size())) {
    std::abort();  // a view into the line
  }
  if (command->verb != app::ControlVerb::Explain) {
    if (!arguments.empty()) {
      std::abort();
    }
    return 0;
  }
  const std::string answer = app::control_explain(policy(), arguments);
  if (answer.rfind("ok\n", 0) == 0) {
    const std::string_view body = std::string_view(answer).substr(3);
    const bool json = body.front() == '{';
    if (!printable_lines(body) || (json && body.find('\n') != body.size() - 1)) {
      std::abort();
    }
    return 0;
  }
  if (!one_error_line(answer)) {
    std::abort();
  }
  return 0;
}
