// Runs the egressguard binary (or any shell command) from a test and captures its output.
#pragma once

#include <string>

namespace egressguard::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `command` through /bin/sh; stdout and stderr are captured separately.
CommandResult run_command(const std::string& command);

// The egressguard binary built alongside the tests, quoted for the shell.
std::string egressguard_binary();
// <repo>/path
std::string source_path(const std::string& path);
// ../shared/data/<path> beside the checkout; empty when the shared data set is absent.
std::string shared_data(const std::string& path);
// True under CI=true, where a missing prerequisite fails instead of skipping.
bool in_ci();

}  // namespace egressguard::testing
