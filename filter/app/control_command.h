// The control socket's command line (DESIGN section 7): one verb, and for `explain` its
// arguments. Parsed apart from the socket and from the daemon so that it is tested and fuzzed on
// its own (tests/fuzz/control_command_fuzz.cc).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace egressguard::app {

// What separates the words of a command line: space, tab, and the CR of a CRLF client.
inline constexpr std::string_view kControlBlanks = " \t\r";

enum class ControlVerb : std::uint8_t { Reload, Stats, Status, Explain };

struct ControlCommand {
  ControlVerb verb = ControlVerb::Status;
  std::string_view arguments;  // after the verb and its separating blank; empty but for explain
};

// One command line as the socket read it, without its newline. A trailing CR (`nc -C`, a client
// that writes CRLF) and blanks around the line are ignored; verbs are lower case and exact. The
// error is the whole answer to send back: one "error ...\n" line, a constant (no allocation).
Result<ControlCommand, std::string_view> parse_control_command(std::string_view line);

}  // namespace egressguard::app
