// Dropping privileges after start-up (`[run]` in egressguard.toml): once every socket is bound
// and the NFQUEUE queues are open, the daemon switches to an unprivileged user and keeps only
// the capabilities it still needs: CAP_NET_ADMIN when it sends NFQUEUE verdicts or fills nft
// sets (the kernel checks it on every netlink message), none otherwise. Every thread ends with
// the same credentials: uid/gid changes reach all threads (glibc), and the capability and
// no_new_privs changes, which Linux keeps per thread, are applied on each existing thread too.
//
// Two ways to start (docs/operators.md):
//   - as root with `[run] user = "egressguard"`: setgroups/setgid/setuid with PR_SET_KEEPCAPS,
//     then capset;
//   - already as that user with ambient capabilities (systemd User= + AmbientCapabilities=):
//     the capabilities are trimmed to what is needed, the ambient set cleared.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/result.h"

namespace egressguard::app {

// [run]
struct RunConfig {
  std::string user;   // user name or numeric uid; empty = keep the starting user
  std::string group;  // group name or numeric gid; empty = the user's primary group
};

struct RunIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;
  std::string group;
};

// Looks up `[run]` user and group. Errors: `run.user "x": no such user`.
Result<RunIdentity, std::string> resolve_run_identity(const RunConfig& config);

struct DropPlan {
  std::optional<RunIdentity> identity;  // switch to this user (nullopt: stay)
  bool keep_net_admin = false;          // NFQUEUE verdicts, nft sets
  // Files the daemon created as root that it must still use as the new user (control socket,
  // event files): chowned to the user before the switch. Missing files are skipped.
  std::vector<std::string> chown_paths;
};

// Applies `plan` to the whole process. Returns a one-line summary for the log ("uid=65534(nobody)
// gid=65534(nogroup) capabilities=cap_net_admin no_new_privs=1"). Errors when the switch is
// impossible (started as another unprivileged user), a call fails, or a thread still holds a
// capability afterwards; the caller then exits.
Result<std::string, std::string> drop_privileges(const DropPlan& plan);

// The calling thread's effective capability set as a bit mask (bit n = capability n).
std::uint64_t effective_capabilities();

}  // namespace egressguard::app
