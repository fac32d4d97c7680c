// `egressguard firewall print|apply|remove --config C`: the kernel ruleset for the inline
// gateway (filter/datapath/firewall/ruleset.h). print is a dry run of apply; apply is
// idempotent; remove leaves nothing of egressguard behind.
#include <cstdio>
#include <memory>
#include <string>

#include "filter/app/commands.h"
#include "filter/app/config.h"
#include "filter/app/load_policy.h"
#include "filter/datapath/firewall/ruleset.h"

namespace egressguard::app {

namespace {

struct FirewallOptions {
  std::string config;
};

// Where DNS of enforced groups goes: the DNS proxy's first listen address of each family ([dns]
// listen). A family the proxy does not listen on gets no redirect, and its DNS is blocked for
// those groups. Without [dns], port 53 of the gateway's address on the ingress interface (nft
// `redirect`), for a resolver run outside egressguard.
void set_dns_targets(const Config& config, firewall::RulesetInput& input) {
  if (!config.dns.enabled || config.dns.listen.empty()) {
    firewall::DnsTarget v4;
    v4.ip = parse::IpAddress::v4(0);
    firewall::DnsTarget v6;
    v6.ip.family = 6;
    input.dns_v4 = v4;
    input.dns_v6 = v6;
    return;
  }
  for (const auto& endpoint : config.dns.listen) {
    auto& slot = endpoint.ip.is_v4() ? input.dns_v4 : input.dns_v6;
    if (!slot) {
      slot = firewall::DnsTarget{endpoint.ip, endpoint.port};
    }
  }
}

Result<firewall::Ruleset, std::vector<std::string>> ruleset_from(const std::string& path) {
  auto config = load_config(path);
  if (!config) {
    return fail(config.error());
  }
  firewall::RulesetInput input;
  input.policy = config->policy;
  input.firewall = config->firewall;
  input.nfqueue = config->nfqueue;
  set_dns_targets(*config, input);
  return firewall::build_ruleset(input);
}

int run_print(const FirewallOptions& o) {
  auto ruleset = ruleset_from(o.config);
  if (!ruleset) {
    return report_errors(ruleset.error());
  }
  std::fputs(firewall::format_ruleset(*ruleset).c_str(), stdout);
  return 0;
}

int run_apply(const FirewallOptions& o) {
  auto ruleset = ruleset_from(o.config);
  if (!ruleset) {
    return report_errors(ruleset.error());
  }
  auto applied = firewall::apply_ruleset(*ruleset);
  if (!applied) {
    std::fprintf(stderr, "%s\n", applied.error().c_str());
    return 1;
  }
  for (const auto& note : ruleset->notes) {
    std::fprintf(stderr, "firewall: note: %s\n", note.c_str());
  }
  std::fprintf(stderr, "firewall: applied for %zu enforced group(s)\n",
               ruleset->enforced_groups.size());
  return 0;
}

int run_remove() {
  auto removed = firewall::remove_ruleset();
  if (!removed) {
    std::fprintf(stderr, "%s\n", removed.error().c_str());
    return 1;
  }
  std::fprintf(stderr, "firewall: removed\n");
  return 0;
}

}  // namespace

Command add_firewall_command(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "firewall", "Generate, load or remove the gateway's nftables/iptables-nft ruleset");
  cmd->require_subcommand(1);
  auto o = std::make_shared<FirewallOptions>();
  auto* print = cmd->add_subcommand("print", "Print the ruleset apply would load (dry run)");
  print->add_option("-c,--config", o->config, "Configuration file")->required();
  auto* apply = cmd->add_subcommand("apply", "Load the ruleset (idempotent; needs root)");
  apply->add_option("-c,--config", o->config, "Configuration file")->required();
  auto* remove = cmd->add_subcommand("remove", "Remove every egressguard rule (needs root)");
  remove->add_option("-c,--config", o->config, "Configuration file (not needed)");
  cmd->footer(
      "Only groups in enforce mode that block something get rules. Exit status 0 on success, "
      "1 on a config error or a failed nft/iptables command.");
  return {cmd, [o, print, apply] {
            if (print->parsed()) {
              return run_print(*o);
            }
            if (apply->parsed()) {
              return run_apply(*o);
            }
            return run_remove();
          }};
}

}  // namespace egressguard::app
