// `egressguard explain --config C --group G NAME [--json]`: the decision for one name and the
// rule, list file:line and category behind it.
#include <cstdio>
#include <memory>
#include <string>

#include "domains/name.h"
#include "filter/app/commands.h"
#include "filter/app/control_socket.h"
#include "filter/app/explain.h"
#include "filter/app/load_policy.h"

namespace egressguard::app {

namespace {

struct ExplainOptions {
  std::string config;
  std::string socket;  // ask the running daemon instead (its live policy)
  std::string group;
  std::string name;
  bool json = false;
};

int run_explain(const ExplainOptions& o) {
  if (!o.socket.empty()) {
    auto answer = control_request(
        o.socket, "explain " + std::string(o.json ? "" : "--text ") + o.group + " " + o.name,
        10000);
    if (!answer) {
      std::fprintf(stderr, "%s\n", answer.error().c_str());
      return 1;
    }
    if (answer->rfind("ok\n", 0) != 0) {
      std::fputs(answer->c_str(), stderr);
      return 2;
    }
    std::fputs(answer->c_str() + 3, stdout);
    return 0;
  }
  auto loaded = load_policy(o.config);
  if (!loaded) {
    return report_errors(loaded.error());
  }
  const auto& policy = *loaded->policy;
  const int group = policy.find_group(o.group);
  if (group < 0) {
    std::string known;
    for (const auto& g : policy.groups()) {
      known += known.empty() ? "" : ", ";
      known += g.spec.name;
    }
    std::fprintf(stderr, "--group \"%s\" is not a configured group: expected one of %s\n",
                 o.group.c_str(), known.c_str());
    return 2;
  }
  auto name = domains::normalize_rule_name(o.name);
  if (!name) {
    std::fprintf(stderr, "%s\n", name.error().c_str());
    return 2;
  }
  const auto decision = policy.decide_name(*name, static_cast<std::uint32_t>(group));
  const std::string out =
      o.json ? explain_json(policy, *name, decision) + "\n" : explain_text(policy, *name, decision);
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

Command add_explain_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("explain", "Show the decision for a name and the rule behind it");
  auto o = std::make_shared<ExplainOptions>();
  auto* config = cmd->add_option("-c,--config", o->config, "Configuration file");
  auto* socket = cmd->add_option("--socket", o->socket,
                                 "Ask the running daemon's control socket (its live policy)");
  config->excludes(socket);
  cmd->add_option("-g,--group", o->group, "Device group to decide for")->required();
  cmd->add_option("name", o->name, "Domain name (IDN in UTF-8 or punycode)")->required();
  cmd->add_flag("--json", o->json, "Print one JSON object");
  return {cmd, [o] {
            if (o->config.empty() && o->socket.empty()) {
              std::fprintf(stderr, "explain: give --config or --socket\n");
              return 2;
            }
            return run_explain(*o);
          }};
}

}  // namespace egressguard::app
