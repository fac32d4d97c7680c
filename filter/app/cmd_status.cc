// `egressguard status --config C` (or --socket PATH): what the running daemon reports about
// itself over its control socket: version, uptime, datapaths, the live policy and the version
// of each list (rules, mtime, SHA-256), reload counts and the last reload's errors. One JSON
// object. Exit 0 when the daemon answered and is healthy, 1 when it cannot be reached or reports
// itself unhealthy.
#include <cstdio>
#include <memory>
#include <string>

#include "filter/app/commands.h"
#include "filter/app/config.h"
#include "filter/app/control_socket.h"
#include "filter/app/load_policy.h"

namespace egressguard::app {

namespace {

struct StatusOptions {
  std::string config;
  std::string socket;
  int timeout_ms = 10000;
};

int run_status(const StatusOptions& o) {
  const std::string path = control_socket_path(o.config, o.socket);
  if (path.empty()) {
    return 1;
  }
  auto answer = control_request(path, "status", o.timeout_ms);
  if (!answer) {
    std::fprintf(stderr, "%s\n", answer.error().c_str());
    return 1;
  }
  if (answer->rfind("ok\n", 0) != 0) {
    std::fputs(answer->c_str(), stderr);
    return 1;
  }
  std::fputs(answer->c_str() + 3, stdout);
  return answer->find("\"healthy\": true") != std::string::npos ? 0 : 1;
}

}  // namespace

Command add_status_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("status", "Show what the running daemon is doing (JSON)");
  auto o = std::make_shared<StatusOptions>();
  auto* config = cmd->add_option("-c,--config", o->config,
                                 "Configuration file: the control socket is its [control] socket");
  auto* socket = cmd->add_option("--socket", o->socket, "Control socket path");
  config->excludes(socket);
  cmd->add_option("--timeout-ms", o->timeout_ms, "How long to wait for the answer");
  cmd->footer(
      "Exit status: 0 when the daemon answered and is healthy, 1 when it cannot be reached or "
      "is not healthy.");
  return {cmd, [o] {
            if (o->config.empty() && o->socket.empty()) {
              std::fprintf(stderr, "status: give --config or --socket\n");
              return 2;
            }
            return run_status(*o);
          }};
}

}  // namespace egressguard::app
