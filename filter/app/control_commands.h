// Answers of the daemon's control socket that do not need the daemon itself, so that they are
// testable on their own: `explain` from a policy snapshot and the NFQUEUE counters for `stats`.
// (`reload`, `stats` and `status` are wired in cmd_run.cc; `status` is DaemonMetrics::status.)
#pragma once

#include <string>
#include <string_view>

#include "filter/datapath/nfqueue/nfqueue_datapath.h"
#include "filter/inspect/policy.h"

namespace egressguard::app {

// `explain [--text] GROUP NAME`, answered from the running snapshot: "ok\n" then the same JSON
// object as `egressguard explain --json` (or, with --text, its text), or "error ...\n" for an
// unknown group, a bad name or missing arguments. Arguments are separated by blanks (space, tab);
// whatever of them an error quotes is escaped, so an answer is printable ASCII whatever it got.
std::string control_explain(const inspect::PolicySnapshot& policy, std::string_view arguments);

// "nfqueue_packets N\n" ... one line per NfqueueStats field.
std::string nfqueue_stats_text(const nfqueue::NfqueueStats& stats);

}  // namespace egressguard::app
