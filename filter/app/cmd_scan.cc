// `egressguard scan` and `egressguard monitor`: the passive libpcap datapath (issue 3).
#include <cstdio>

#include "filter/app/commands.h"

namespace egressguard::app {

Command add_scan_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("scan", "Inspect capture files offline (not built yet)");
  return {cmd, [] {
            std::fprintf(stderr, "scan: the inspection core is not built yet (issue 3)\n");
            return 1;
          }};
}

Command add_monitor_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("monitor", "Inspect a live interface passively (not built yet)");
  return {cmd, [] {
            std::fprintf(stderr, "monitor: the inspection core is not built yet (issue 3)\n");
            return 1;
          }};
}

}  // namespace egressguard::app
