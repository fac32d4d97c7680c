// Loads a config file and compiles its policy, the same way for every command and for the
// daemon's reload, so that `egressguard check` accepts exactly what the daemon accepts.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "filter/app/config.h"
#include "filter/inspect/policy.h"

namespace egressguard::app {

struct LoadedPolicy {
  Config config;
  std::shared_ptr<const inspect::PolicySnapshot> policy;
};

Result<LoadedPolicy, std::vector<std::string>> load_policy(const std::string& config_path,
                                                           std::uint64_t version = 1);

// Prints every error to stderr, one per line, and returns 1.
int report_errors(const std::vector<std::string>& errors);

// The running daemon's control socket: `socket` when given, else the config's [control] socket.
// Prints why there is none (config errors, no [control] socket) and returns empty then.
std::string control_socket_path(const std::string& config_path, const std::string& socket);

}  // namespace egressguard::app
