// `egressguard reload --config C` (or --socket PATH): asks the running daemon, over its control
// socket, to rebuild the policy from the configuration and lists. Exit 0 when the new policy is
// live; 1 when it was refused (the daemon keeps the old one; each error is printed as
// file:line: what: why) or the daemon cannot be reached.
#include <cstdio>
#include <memory>
#include <string>

#include "filter/app/commands.h"
#include "filter/app/config.h"
#include "filter/app/control_socket.h"
#include "filter/app/load_policy.h"

namespace egressguard::app {

namespace {

struct ReloadOptions {
  std::string config;
  std::string socket;
  int timeout_ms = 60000;
};

int run_reload(const ReloadOptions& o) {
  const std::string path = control_socket_path(o.config, o.socket);
  if (path.empty()) {
    return 1;
  }
  auto answer = control_request(path, "reload", o.timeout_ms);
  if (!answer) {
    std::fprintf(stderr, "%s\n", answer.error().c_str());
    return 1;
  }
  if (answer->rfind("ok", 0) == 0) {
    std::fputs(answer->c_str(), stdout);
    return 0;
  }
  std::fputs(answer->c_str(), stderr);
  return 1;
}

}  // namespace

Command add_reload_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("reload", "Make the running daemon reload its policy");
  auto o = std::make_shared<ReloadOptions>();
  auto* config = cmd->add_option("-c,--config", o->config,
                                 "Configuration file: the control socket is its [control] socket");
  auto* socket = cmd->add_option("--socket", o->socket, "Control socket path");
  config->excludes(socket);
  cmd->add_option("--timeout-ms", o->timeout_ms, "How long to wait for the answer");
  cmd->footer(
      "Exit status: 0 when the new policy is live, 1 when it was refused (the old one stays; "
      "errors on stderr as file:line: what: why) or the daemon cannot be reached.");
  return {cmd, [o] {
            if (o->config.empty() && o->socket.empty()) {
              std::fprintf(stderr, "reload: give --config or --socket\n");
              return 2;
            }
            return run_reload(*o);
          }};
}

}  // namespace egressguard::app
