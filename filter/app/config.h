// egressguard.toml: the one configuration file (DESIGN section 8). Every problem is reported as
// `file:line:col: what: why`, all of them at once; unknown keys are errors, because a typo in a
// security configuration must not silently switch a rule off.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "filter/app/drop_privileges.h"
#include "filter/datapath/dnsproxy/dns_proxy_config.h"
#include "filter/datapath/firewall/firewall_config.h"
#include "filter/datapath/nfqueue/nfqueue_config.h"
#include "filter/events/events_config.h"
#include "filter/inspect/inspect_config.h"
#include "filter/inspect/policy_spec.h"
#include "filter/metrics/metrics_config.h"

namespace egressguard::app {

// [inspect]: bounds of the inspection core (filter/inspect/inspect_config.h).
using InspectConfig = inspect::InspectConfig;

// [events]: outputs, rotation, aggregation (filter/events/events_config.h).
using EventsConfig = events::EventsConfig;

// [control]: the daemon's Unix control socket (reload, stats).
struct ControlConfig {
  std::string socket;  // path; empty = no control socket
};

struct Config {
  std::string path;  // the file this came from
  inspect::PolicySpec policy;
  InspectConfig inspect;
  EventsConfig events;
  nfqueue::NfqueueConfig nfqueue;     // [nfqueue]: the inline datapath
  firewall::FirewallConfig firewall;  // [firewall]: `egressguard firewall` generation
  dnsproxy::DnsProxyConfig dns;       // [dns]: the DNS proxy datapath (`egressguard run`)
  ControlConfig control;              // [control]
  metrics::MetricsConfig metrics;     // [metrics]: Prometheus endpoint (docs/operators.md)
  RunConfig run;                      // [run]: user and group after start-up
};

// Reads and validates `path`. List paths are resolved against the config file's folder.
// Lists themselves are not loaded here (PolicySnapshot::build does that).
Result<Config, std::vector<std::string>> load_config(const std::string& path);

// Same, from text; `display_path` is used in messages and `base_dir` to resolve list paths.
Result<Config, std::vector<std::string>> parse_config(std::string_view text,
                                                      const std::string& display_path,
                                                      const std::string& base_dir);

}  // namespace egressguard::app
