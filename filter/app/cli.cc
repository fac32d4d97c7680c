#include <cstdio>
#include <vector>

#include "filter/app/commands.h"

#ifndef EGRESSGUARD_VERSION
#define EGRESSGUARD_VERSION "dev"
#endif

namespace egressguard::app {

int run_cli(int argc, char** argv) {
  CLI::App app{
      "egressguard " EGRESSGUARD_VERSION
      " - network egress filter for government Wi-Fi and VPN gateways.\n"
      "Blocks high-risk app endpoints (TikTok, ...) by DNS name, TLS/QUIC SNI and HTTP Host "
      "for devices in government groups; other groups pass untouched."};
  app.set_version_flag("--version", std::string("egressguard ") + EGRESSGUARD_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  egressguard check --config examples/egressguard.toml\n"
      "  egressguard domains check --format hosts lists/extra.hosts\n"
      "  egressguard explain --config examples/egressguard.toml --group gov-managed "
      "www.tiktok.com\n"
      "  egressguard explain --config examples/egressguard.toml --group byod www.tiktok.com "
      "--json\n"
      "  egressguard scan --config examples/egressguard.toml examples/captures/default.pcap\n"
      "  egressguard monitor --config /etc/egressguard/egressguard.toml -i wg0\n"
      "Run 'egressguard COMMAND --help' for a command's options.");

  const std::vector<Command> commands = {
      add_check_command(app),  add_domains_command(app), add_explain_command(app),
      add_scan_command(app),   add_monitor_command(app), add_firewall_command(app),
      add_run_command(app),    add_reload_command(app),  add_logs_command(app),
      add_status_command(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) {
      return command.run();
    }
  }
  return 2;
}

}  // namespace egressguard::app
