// `egressguard check --config C`: validates the config and every list with the daemon's loader.
#include <cstdio>
#include <memory>
#include <string>

#include "filter/app/commands.h"
#include "filter/app/load_policy.h"

namespace egressguard::app {

Command add_check_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("check", "Validate the configuration and every list it names");
  auto config = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *config, "Configuration file (egressguard.toml)")->required();
  cmd->footer(
      "Exit status: 0 when everything is valid, 1 otherwise (each problem on stderr as "
      "file:line: what: why).");
  return {cmd, [config] {
            auto loaded = load_policy(*config);
            if (!loaded) {
              return report_errors(loaded.error());
            }
            const auto& policy = *loaded->policy;
            std::size_t rules = 0;
            for (const auto& list : policy.domains().lists) {
              rules += list.rules;
            }
            std::printf("%s: OK: %zu groups, %zu categories, %zu lists, %zu rules\n",
                        config->c_str(), policy.groups().size(), policy.categories().size(),
                        policy.list_count(), rules);
            for (const auto& list : policy.domains().lists) {
              if (list.skipped_invalid > 0 || list.skipped_unsupported > 0) {
                std::printf(
                    "  %s: %zu rules, %zu invalid lines skipped, %zu unsupported lines "
                    "skipped\n",
                    list.path.c_str(), list.rules, list.skipped_invalid, list.skipped_unsupported);
              }
            }
            return 0;
          }};
}

}  // namespace egressguard::app
