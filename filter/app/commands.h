// The CLI's subcommands. Each registers its options on a CLI11 app and runs when selected;
// cli.cc wires them together. Exit codes: 0 success, 1 the input is invalid or a check
// failed, 2 usage error.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace egressguard::app {

// A registered subcommand: its CLI11 node and what runs when it was selected.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_check_command(CLI::App& root);
Command add_domains_command(CLI::App& root);
Command add_explain_command(CLI::App& root);
Command add_scan_command(CLI::App& root);
Command add_monitor_command(CLI::App& root);
Command add_firewall_command(CLI::App& root);
Command add_run_command(CLI::App& root);
Command add_reload_command(CLI::App& root);
Command add_status_command(CLI::App& root);
Command add_logs_command(CLI::App& root);

int run_cli(int argc, char** argv);

}  // namespace egressguard::app
