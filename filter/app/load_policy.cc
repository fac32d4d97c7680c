#include "filter/app/load_policy.h"

#include <cstdio>

namespace egressguard::app {

Result<LoadedPolicy, std::vector<std::string>> load_policy(const std::string& config_path,
                                                           std::uint64_t version) {
  auto config = load_config(config_path);
  if (!config) {
    return fail(std::move(config).error());
  }
  auto policy = inspect::PolicySnapshot::build(config->policy, version);
  if (!policy) {
    return fail(std::move(policy).error());
  }
  return LoadedPolicy{std::move(*config), std::move(*policy)};
}

int report_errors(const std::vector<std::string>& errors) {
  for (const std::string& e : errors) {
    std::fprintf(stderr, "%s\n", e.c_str());
  }
  return 1;
}

std::string control_socket_path(const std::string& config_path, const std::string& socket) {
  if (!socket.empty()) {
    return socket;
  }
  auto config = load_config(config_path);
  if (!config) {
    report_errors(config.error());
    return {};
  }
  if (config->control.socket.empty()) {
    std::fprintf(stderr, "%s: [control] socket is not set: the daemon has no control socket\n",
                 config_path.c_str());
  }
  return config->control.socket;
}

}  // namespace egressguard::app
