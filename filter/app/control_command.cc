#include "filter/app/control_command.h"

namespace egressguard::app {

namespace {

constexpr std::string_view kEmpty =
    "error empty command: expected reload, stats, status or explain\n";
constexpr std::string_view kUnknown =
    "error unknown command: expected reload, stats, status or explain\n";
constexpr std::string_view kNoArguments = "error reload, stats and status take no arguments\n";

std::string_view trim(std::string_view text) {
  const std::size_t start = text.find_first_not_of(kControlBlanks);
  if (start == std::string_view::npos) {
    return {};
  }
  const std::size_t end = text.find_last_not_of(kControlBlanks);
  return text.substr(start, end - start + 1);
}

}  // namespace

Result<ControlCommand, std::string_view> parse_control_command(std::string_view line) {
  line = trim(line);
  const std::size_t blank = line.find_first_of(kControlBlanks);
  const std::string_view verb = line.substr(0, blank);
  const std::string_view arguments =
      blank == std::string_view::npos ? std::string_view() : trim(line.substr(blank));
  ControlCommand command;
  command.arguments = arguments;
  if (verb == "explain") {
    command.verb = ControlVerb::Explain;
    return command;
  }
  if (verb == "reload") {
    command.verb = ControlVerb::Reload;
  } else if (verb == "stats") {
    command.verb = ControlVerb::Stats;
  } else if (verb == "status") {
    command.verb = ControlVerb::Status;
  } else if (verb.empty()) {
    return fail(kEmpty);
  } else {
    return fail(kUnknown);
  }
  if (!arguments.empty()) {
    return fail(kNoArguments);
  }
  return command;
}

}  // namespace egressguard::app
