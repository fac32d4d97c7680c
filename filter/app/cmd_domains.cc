// `egressguard domains check [--format F] FILE...`: validates list files on their own, e.g. in
// the list maintainers' CI before a list is published.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "domains/list_loader.h"
#include "filter/app/commands.h"
#include "filter/app/load_policy.h"

namespace egressguard::app {

namespace {

struct DomainsCheckOptions {
  std::string format = "plain";
  bool skip_invalid = false;
  bool subdomains = false;
  std::vector<std::string> files;
};

int run_domains_check(const DomainsCheckOptions& o) {
  auto format = domains::parse_list_format(o.format);
  if (!format) {
    std::fprintf(stderr,
                 "--format \"%s\" is not a list format: expected plain, hosts, adblock or "
                 "rpz\n",
                 o.format.c_str());
    return 2;
  }
  int status = 0;
  std::uint32_t id = 0;
  for (const std::string& file : o.files) {
    domains::ListOptions options;
    options.format = *format;
    options.skip_invalid = o.skip_invalid;
    options.subdomains = o.subdomains;
    auto list = domains::load_list(file, id++, options);
    if (!list) {
      report_errors(list.error());
      std::fprintf(stderr, "%s: refused: %zu problem%s\n", file.c_str(), list.error().size(),
                   list.error().size() == 1 ? "" : "s");
      status = 1;
      continue;
    }
    std::printf("%s: OK: %zu rules from %zu lines", file.c_str(), list->rules.size(), list->lines);
    if (list->skipped_invalid > 0) {
      std::printf(", %zu invalid lines skipped", list->skipped_invalid);
    }
    if (list->skipped_unsupported > 0) {
      std::printf(", %zu unsupported lines skipped", list->skipped_unsupported);
    }
    std::printf("\n");
    for (const std::string& message : list->skipped_messages) {
      std::printf("  skipped: %s\n", message.c_str());
    }
  }
  return status;
}

}  // namespace

Command add_domains_command(CLI::App& root) {
  auto* domains_cmd = root.add_subcommand("domains", "Work with domain list files");
  domains_cmd->require_subcommand(1);
  auto* check = domains_cmd->add_subcommand("check", "Validate list files (exit 0 or 1)");
  auto o = std::make_shared<DomainsCheckOptions>();
  check->add_option("-f,--format", o->format, "plain | hosts | adblock | rpz")
      ->capture_default_str();
  check->add_flag("--skip-invalid", o->skip_invalid,
                  "Skip and count bad lines instead of refusing the list");
  check->add_flag("--subdomains", o->subdomains,
                  "Bare names also cover their subdomains (plain and hosts)");
  check->add_option("files", o->files, "List files")->required();
  return {domains_cmd, [o] { return run_domains_check(*o); }};
}

}  // namespace egressguard::app
