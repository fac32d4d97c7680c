// The kernel ruleset that ties the datapaths together (DESIGN section 6), for the groups that
// enforce a block (mode "enforce" and at least one blocked category); other groups get no
// filtering rule at all. Pure text generation: `egressguard firewall print` shows exactly what
// `apply` loads.
//
// Layout (marks: filter/datapath/nfqueue/verdict.h):
//   nft table inet egressguard
//     chain dns_nat      nat prerouting: DNS (UDP/TCP 53) of enforced groups -> the DNS proxy
//     chain forward      filter forward, priority -200: decided flows by ct mark (blocked ones
//                        dropped or reset, allowed ones accepted without user space); new flows
//                        classified into their group (first match wins, like the daemon)
//     chain g<N>_<name>  per enforced group: DoT/DoQ (853), DoH and learned addresses blocked;
//                        the first `max_packets` client packets of TCP/80, TCP/443 and UDP/443
//                        get the packet mark kMarkQueue
//     chain verdict      filter forward, priority -100 (after the queue): copies the verdict's
//                        packet mark into the ct mark, drops or rejects blocked packets
//     sets doh_v4/v6 (timeout), doh_static_v4/v6, learned_v4/v6 (timeout, learn_ips)
//   iptables-nft / ip6tables-nft, table mangle (priority -150): FORWARD -> EGRESSGUARD, which
//     queues packets carrying kMarkQueue (NFQUEUE --queue-balance, --queue-bypass when
//     fail-open). This kernel has no nft `queue` statement, so only this rule goes through
//     iptables-nft.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "filter/datapath/firewall/firewall_config.h"
#include "filter/datapath/nfqueue/nfqueue_config.h"
#include "filter/inspect/policy_spec.h"
#include "filter/parse/ip_address.h"

namespace egressguard::firewall {

inline constexpr std::string_view kTable = "egressguard";          // nft: table inet egressguard
inline constexpr std::string_view kIptablesChain = "EGRESSGUARD";  // iptables-nft -t mangle

// Where DNS of enforced groups is sent: the DNS proxy's listen address for one family. An
// unspecified address (0.0.0.0, ::) means "the gateway's address on the ingress interface"
// (nft `redirect`).
struct DnsTarget {
  parse::IpAddress ip;
  std::uint16_t port = 53;
};

struct RulesetInput {
  inspect::PolicySpec policy;
  FirewallConfig firewall;
  nfqueue::NfqueueConfig nfqueue;  // queues, fail-open, connbytes bound
  // Unset for a family: DNS of that family from enforced groups is blocked (rejected), so that
  // it cannot go around the proxy.
  std::optional<DnsTarget> dns_v4;
  std::optional<DnsTarget> dns_v6;
};

struct Ruleset {
  std::string nft;  // an `nft -f` script: replaces table inet egressguard atomically
  // argv of each iptables-nft / ip6tables-nft call, in order (apply's queue rules)
  std::vector<std::vector<std::string>> iptables;
  std::vector<std::string> enforced_groups;
  std::vector<std::string> notes;  // what could not be expressed (VLAN members ...)
};

// True when `group` needs rules: enforce mode and a non-empty block list.
bool is_enforced(const inspect::GroupSpec& group) noexcept;

Ruleset build_ruleset(const RulesetInput& input);

// The `print` text: the nft script, then the iptables commands, then notes as comments.
std::string format_ruleset(const Ruleset& ruleset);

// Runs a command (argv[0] looked up in PATH) with `input` on stdin; returns its exit status and
// collects its stderr. Exit status 127 when it could not be started.
struct CommandResult {
  int status = 0;
  std::string output;  // stdout and stderr
};
CommandResult run_command(const std::vector<std::string>& argv, const std::string& input = {});

// Loads the ruleset: idempotent (the nft table is replaced in one transaction, the iptables
// chain flushed and refilled, the FORWARD jump added once).
Result<void, std::string> apply_ruleset(const Ruleset& ruleset);
// Removes the table, the iptables chain and jump, and an iptables-nft mangle table left empty.
// Succeeds when nothing is installed.
Result<void, std::string> remove_ruleset();

}  // namespace egressguard::firewall
