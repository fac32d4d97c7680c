#include "filter/datapath/firewall/ruleset.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter/datapath/nfqueue/verdict.h"

namespace egressguard::firewall {

namespace {

std::string hex(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

// An nft identifier from a group name: [a-z0-9_], prefixed by its index so names stay unique.
std::string chain_name(std::size_t index, const std::string& group) {
  std::string out = "g" + std::to_string(index) + "_";
  for (char ch : group) {
    const auto c = static_cast<unsigned char>(ch);
    out += std::isalnum(c) != 0 ? static_cast<char>(std::tolower(c)) : '_';
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += out.empty() ? "" : ", ";
    out += item;
  }
  return out;
}

std::string mac_text(const inspect::MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

// The nft matches for "a source in this group" (any one of them), in the daemon's terms.
std::vector<std::string> member_matches(const inspect::GroupSpec& group,
                                        std::vector<std::string>& notes) {
  std::vector<std::string> v4, v6, ifaces, macs, out;
  for (const auto& cidr : group.members.cidrs) {
    (cidr.network.is_v4() ? v4 : v6).push_back(cidr.to_string());
  }
  for (const auto& name : group.members.interfaces) {
    ifaces.push_back("\"" + name + "\"");
  }
  for (const auto& mac : group.members.macs) {
    macs.push_back(mac_text(mac));
  }
  if (!v4.empty()) {
    out.push_back("ip saddr { " + join(v4) + " }");
  }
  if (!v6.empty()) {
    out.push_back("ip6 saddr { " + join(v6) + " }");
  }
  if (!ifaces.empty()) {
    out.push_back("iifname { " + join(ifaces) + " }");
  }
  if (!macs.empty()) {
    out.push_back("ether saddr { " + join(macs) + " }");
  }
  if (!group.members.vlans.empty()) {
    notes.push_back("group \"" + group.name +
                    "\": VLAN members are not matched by the firewall (a routed gateway sees "
                    "the VLAN interface): add the VLAN interfaces to `interfaces`");
  }
  return out;
}

enum class L4 : std::uint8_t { Tcp, Udp, Any };

// Statements that stop a packet matched by `match` the group's way: reject is a TCP reset for
// TCP and ICMP administratively prohibited otherwise.
void block(std::ostringstream& out, const std::string& match, L4 l4, inspect::EnforceAction action,
           const std::string& comment) {
  out << "\t\t# " << comment << "\n";
  if (action == inspect::EnforceAction::Drop) {
    out << "\t\t" << match << " drop\n";
    return;
  }
  if (l4 != L4::Udp) {
    out << "\t\t" << match << (l4 == L4::Any ? " meta l4proto tcp" : "")
        << " reject with tcp reset\n";
  }
  if (l4 != L4::Tcp) {
    out << "\t\t" << match << " reject with icmpx admin-prohibited\n";
  }
}

std::string dns_target(const DnsTarget& target, bool v4) {
  const bool unspecified = std::all_of(target.ip.bytes.begin(), target.ip.bytes.end(),
                                       [](std::uint8_t b) { return b == 0; });
  if (unspecified) {
    return "redirect to :" + std::to_string(target.port);
  }
  return std::string(v4 ? "dnat ip to " : "dnat ip6 to [") + target.ip.to_string() +
         (v4 ? ":" : "]:") + std::to_string(target.port);
}

}  // namespace

bool is_enforced(const inspect::GroupSpec& group) noexcept {
  return group.mode == inspect::Mode::Enforce && !group.block.empty();
}

Ruleset build_ruleset(const RulesetInput& input) {
  Ruleset ruleset;
  const auto& groups = input.policy.groups;
  std::size_t default_index = groups.size();
  std::size_t last_enforced = 0;
  bool any_enforced = false;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (groups[i].name == input.policy.default_group) {
      default_index = i;
    }
    if (is_enforced(groups[i])) {
      any_enforced = true;
      last_enforced = i;
      ruleset.enforced_groups.push_back(groups[i].name);
    }
  }
  if (!any_enforced) {
    ruleset.notes.push_back("no group enforces a block: nothing to install");
    return ruleset;
  }
  const bool default_enforced = default_index < groups.size() && is_enforced(groups[default_index]);
  // Groups to classify: all when the default group is enforced (a source of a later,
  // non-enforced group must not fall through to it), else up to the last enforced one.
  const std::size_t classify_end = default_enforced ? groups.size() : last_enforced + 1;

  const std::string mask = hex(nfqueue::kMarkMask);
  const auto& fw = input.firewall;
  const std::uint32_t max_packets = input.nfqueue.max_packets;
  std::vector<std::string> v4_static, v6_static;
  for (const auto& ip : fw.doh_addresses) {
    (ip.is_v4() ? v4_static : v6_static).push_back(ip.to_string());
  }

  std::vector<std::vector<std::string>> matches(classify_end);
  for (std::size_t i = 0; i < classify_end; ++i) {
    matches[i] = member_matches(groups[i], ruleset.notes);
  }

  std::ostringstream out;
  out << "# egressguard firewall ruleset: enforced groups " << join(ruleset.enforced_groups)
      << "\n";
  out << "# Marks (mask " << mask << "): allow " << hex(nfqueue::kMarkAllow) << ", drop "
      << hex(nfqueue::kMarkDrop) << ", reject " << hex(nfqueue::kMarkReject) << ", queue "
      << hex(nfqueue::kMarkQueue) << "\n";
  // Creating then deleting makes the replacement idempotent in one transaction.
  out << "add table inet " << kTable << "\n";
  out << "delete table inet " << kTable << "\n";
  out << "table inet " << kTable << " {\n";
  out << "\t# DoH resolvers' addresses, filled by the daemon from DNS answers\n";
  out << "\tset doh_v4 { type ipv4_addr; flags timeout; timeout " << fw.doh_timeout_s << "s; }\n";
  out << "\tset doh_v6 { type ipv6_addr; flags timeout; timeout " << fw.doh_timeout_s << "s; }\n";
  if (!v4_static.empty()) {
    out << "\tset doh_static_v4 { type ipv4_addr; elements = { " << join(v4_static) << " }; }\n";
  }
  if (!v6_static.empty()) {
    out << "\tset doh_static_v6 { type ipv6_addr; elements = { " << join(v6_static) << " }; }\n";
  }
  if (fw.learn_ips) {
    out << "\t# addresses from DNS answers of blocked names (learn_ips)\n";
    out << "\tset learned_v4 { type ipv4_addr; flags timeout; timeout " << fw.learn_timeout_s
        << "s; }\n";
    out << "\tset learned_v6 { type ipv6_addr; flags timeout; timeout " << fw.learn_timeout_s
        << "s; }\n";
  }

  // DNS of enforced groups goes to the proxy, whatever resolver the client asked.
  out << "\n\tchain dns_nat {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n";
  for (std::size_t i = 0; i < classify_end; ++i) {
    const std::string target = is_enforced(groups[i]) ? "goto dns_to_proxy" : "accept";
    for (const auto& m : matches[i]) {
      out << "\t\t" << m << " " << target << "  # " << groups[i].name << "\n";
    }
  }
  if (default_enforced) {
    out << "\t\tgoto dns_to_proxy  # default group " << groups[default_index].name << "\n";
  }
  out << "\t}\n";
  out << "\n\tchain dns_to_proxy {\n";
  if (input.dns_v4) {
    out << "\t\tmeta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 "
        << dns_target(*input.dns_v4, true) << "\n";
  }
  if (input.dns_v6) {
    out << "\t\tmeta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 "
        << dns_target(*input.dns_v6, false) << "\n";
  }
  out << "\t}\n";

  // Decided flows, then classification of the rest.
  out << "\n\tchain forward {\n\t\ttype filter hook forward priority -200; policy accept;\n";
  // One map lookup per packet of a decided flow (the bulk of the traffic).
  out << "\t\tct mark & " << mask << " vmap { " << hex(nfqueue::kMarkAllow) << " : accept, "
      << hex(nfqueue::kMarkDrop) << " : drop, " << hex(nfqueue::kMarkReject)
      << " : goto reject_flow }\n";
  out << "\t\tct direction reply accept\n";
  for (std::size_t i = 0; i < classify_end; ++i) {
    const std::string target =
        is_enforced(groups[i]) ? "goto " + chain_name(i, groups[i].name) : "accept";
    for (const auto& m : matches[i]) {
      out << "\t\t" << m << " " << target << "  # " << groups[i].name << "\n";
    }
  }
  if (default_enforced) {
    out << "\t\tgoto " << chain_name(default_index, groups[default_index].name)
        << "  # default group\n";
  }
  out << "\t}\n";

  const std::string queue_mark = "meta mark set meta mark | " + hex(nfqueue::kMarkQueue);
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto& g = groups[i];
    if (!is_enforced(g)) {
      continue;
    }
    out << "\n\tchain " << chain_name(i, g.name) << " {\n";
    block(out, "tcp dport 853", L4::Tcp, g.enforce_action, "DNS over TLS");
    block(out, "udp dport 853", L4::Udp, g.enforce_action, "DNS over QUIC");
    if (!input.dns_v4) {
      block(out, "meta nfproto ipv4 meta l4proto { tcp, udp } th dport 53", L4::Any,
            g.enforce_action, "IPv4 DNS that the proxy does not serve");
    }
    if (!input.dns_v6) {
      block(out, "meta nfproto ipv6 meta l4proto { tcp, udp } th dport 53", L4::Any,
            g.enforce_action, "IPv6 DNS that the proxy does not serve");
    }
    if (std::find(g.block.begin(), g.block.end(), fw.doh_category) != g.block.end()) {
      block(out, "ip daddr @doh_v4", L4::Any, g.enforce_action,
            "DoH resolvers (" + fw.doh_category + ")");
      block(out, "ip6 daddr @doh_v6", L4::Any, g.enforce_action, "DoH resolvers, IPv6");
      if (!v4_static.empty()) {
        block(out, "ip daddr @doh_static_v4", L4::Any, g.enforce_action, "resolvers by address");
      }
      if (!v6_static.empty()) {
        block(out, "ip6 daddr @doh_static_v6", L4::Any, g.enforce_action,
              "resolvers by address, IPv6");
      }
    }
    if (fw.learn_ips) {
      block(out, "ip daddr @learned_v4", L4::Any, g.enforce_action, "learned from DNS answers");
      block(out, "ip6 daddr @learned_v6", L4::Any, g.enforce_action,
            "learned from DNS answers, IPv6");
    }
    out << "\t\t# the first client packets of web flows to user space (NFQUEUE)\n";
    out << "\t\tct original packets <= " << max_packets << " tcp dport { 80, 443 } " << queue_mark
        << "\n";
    out << "\t\tct original packets <= " << max_packets << " udp dport 443 " << queue_mark << "\n";
    if (!input.nfqueue.fail_open) {
      block(out, "ct original packets > " + std::to_string(max_packets) + " tcp dport { 80, 443 }",
            L4::Tcp, g.enforce_action, "fail-closed: still undecided after the queued packets");
      block(out, "ct original packets > " + std::to_string(max_packets) + " udp dport 443", L4::Udp,
            g.enforce_action, "fail-closed: still undecided after the queued packets");
    }
    out << "\t}\n";
  }

  out << "\n\tchain reject_flow {\n\t\tmeta l4proto tcp reject with tcp reset\n"
      << "\t\treject with icmpx admin-prohibited\n\t}\n";

  // After the NFQUEUE rule (iptables mangle, priority -150): the verdict sticks to the flow.
  out << "\n\tchain verdict {\n\t\ttype filter hook forward priority -100; policy accept;\n";
  out << "\t\tmeta mark & " << mask << " vmap { " << hex(nfqueue::kMarkAllow)
      << " : goto save_allow, " << hex(nfqueue::kMarkDrop) << " : goto save_drop, "
      << hex(nfqueue::kMarkReject) << " : goto save_reject }\n\t}\n";
  out << "\n\tchain save_allow {\n\t\tct mark set ct mark | " << hex(nfqueue::kMarkAllow)
      << "\n\t}\n";
  out << "\n\tchain save_drop {\n\t\tct mark set ct mark | " << hex(nfqueue::kMarkDrop)
      << " drop\n\t}\n";
  out << "\n\tchain save_reject {\n\t\tct mark set ct mark | " << hex(nfqueue::kMarkReject)
      << " goto reject_flow\n\t}\n}\n";
  ruleset.nft = out.str();

  const auto& queues = input.nfqueue.queues;
  std::vector<std::string> target = {"-j", "NFQUEUE"};
  if (queues.size() > 1) {
    target.insert(target.end(), {"--queue-balance", std::to_string(queues.front()) + ":" +
                                                        std::to_string(queues.back())});
  } else {
    target.insert(target.end(),
                  {"--queue-num", std::to_string(queues.empty() ? 0 : queues.front())});
  }
  if (input.nfqueue.fail_open) {
    target.emplace_back("--queue-bypass");
  }
  const std::string chain(kIptablesChain);
  const std::string queue = hex(nfqueue::kMarkQueue) + "/" + hex(nfqueue::kMarkQueue);
  for (const std::string tool : {"iptables-nft", "ip6tables-nft"}) {
    ruleset.iptables.push_back({tool, "-t", "mangle", "-N", chain});
    ruleset.iptables.push_back({tool, "-t", "mangle", "-F", chain});
    std::vector<std::string> rule = {tool, "-t",   "mangle", "-A", chain,
                                     "-m", "mark", "--mark", queue};
    rule.insert(rule.end(), target.begin(), target.end());
    ruleset.iptables.push_back(rule);
    // Only marked packets jump: the rest of the traffic costs one mark test in this table.
    ruleset.iptables.push_back(
        {tool, "-t", "mangle", "-I", "FORWARD", "1", "-m", "mark", "--mark", queue, "-j", chain});
  }
  return ruleset;
}

std::string format_ruleset(const Ruleset& ruleset) {
  std::string out;
  if (!ruleset.nft.empty()) {
    out += "### nft -f -\n" + ruleset.nft;
  }
  if (!ruleset.iptables.empty()) {
    out +=
        "### queue rules (this kernel has no nft `queue`: iptables-nft; apply adds the FORWARD "
        "jump only once)\n";
    for (const auto& argv : ruleset.iptables) {
      std::string line;
      for (const auto& arg : argv) {
        line += line.empty() ? "" : " ";
        line += arg;
      }
      out += line + "\n";
    }
  }
  for (const auto& note : ruleset.notes) {
    out += "# note: " + note + "\n";
  }
  return out;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::string& input) {
  CommandResult result;
  std::FILE* in = std::tmpfile();
  if (in == nullptr) {
    return {127, std::string("cannot create a temporary file: ") + std::strerror(errno)};
  }
  std::fwrite(input.data(), 1, input.size(), in);
  std::fflush(in);
  std::rewind(in);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::fclose(in);
    return {127, std::string("pipe: ") + std::strerror(errno)};
  }
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fileno(in), 0);
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  std::fclose(in);
  if (pid < 0) {
    close(pipe_fds[0]);
    return {127, std::string("fork: ") + std::strerror(errno)};
  }
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      result.output.append(buffer, static_cast<std::size_t>(n));
    }
  }
  close(pipe_fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

namespace {

std::string describe_failure(const std::vector<std::string>& argv, const CommandResult& r) {
  std::string line;
  for (const auto& a : argv) {
    line += line.empty() ? "" : " ";
    line += a;
  }
  std::string output = r.output;
  while (!output.empty() && output.back() == '\n') {
    output.pop_back();
  }
  if (r.status == 127) {
    return "firewall: cannot run \"" + line + "\" (is it installed?) " + output;
  }
  return "firewall: \"" + line + "\" failed (exit " + std::to_string(r.status) + "): " + output;
}

bool chain_exists(const std::string& tool) {
  return run_command({tool, "-t", "mangle", "-S", std::string(kIptablesChain)}).status == 0;
}

}  // namespace

Result<void, std::string> apply_ruleset(const Ruleset& ruleset) {
  if (ruleset.nft.empty()) {
    return remove_ruleset();
  }
  CommandResult r = run_command({"nft", "-f", "-"}, ruleset.nft);
  if (r.status != 0) {
    return fail(describe_failure({"nft", "-f", "-"}, r));
  }
  for (const auto& argv : ruleset.iptables) {
    const bool create = argv.size() > 4 && argv[3] == "-N";
    const bool jump = argv.size() > 4 && argv[3] == "-I";
    if (create && chain_exists(argv[0])) {
      continue;
    }
    if (jump) {
      std::vector<std::string> check = argv;  // -I FORWARD 1 <spec> -> -C FORWARD <spec>
      check[3] = "-C";
      check.erase(check.begin() + 5);
      if (run_command(check).status == 0) {
        continue;
      }
    }
    r = run_command(argv);
    if (r.status != 0) {
      return fail(describe_failure(argv, r));
    }
  }
  return {};
}

Result<void, std::string> remove_ruleset() {
  const std::string table(kTable);
  if (run_command({"nft", "list", "table", "inet", table}).status == 0) {
    const std::vector<std::string> del = {"nft", "delete", "table", "inet", table};
    const CommandResult r = run_command(del);
    if (r.status != 0) {
      return fail(describe_failure(del, r));
    }
  }
  const std::string chain(kIptablesChain);
  for (const std::string tool : {"iptables-nft", "ip6tables-nft"}) {
    if (run_command({tool, "-t", "mangle", "-S"}).status == 127) {
      continue;  // iptables-nft not installed: nothing of ours can be there
    }
    const std::string queue = hex(nfqueue::kMarkQueue) + "/" + hex(nfqueue::kMarkQueue);
    for (int i = 0; i < 16; ++i) {
      if (run_command(
              {tool, "-t", "mangle", "-D", "FORWARD", "-m", "mark", "--mark", queue, "-j", chain})
                  .status != 0 &&
          run_command({tool, "-t", "mangle", "-D", "FORWARD", "-j", chain}).status != 0) {
        break;
      }
    }
    if (chain_exists(tool)) {
      for (const std::vector<std::string>& argv :
           {std::vector<std::string>{tool, "-t", "mangle", "-F", chain},
            std::vector<std::string>{tool, "-t", "mangle", "-X", chain}}) {
        const CommandResult r = run_command(argv);
        if (r.status != 0) {
          return fail(describe_failure(argv, r));
        }
      }
    }
    // iptables-nft created `table ip mangle` (ip6) with empty base chains: if nothing else uses
    // it, delete it so that remove leaves nothing behind.
    const CommandResult listing = run_command({tool, "-t", "mangle", "-S"});
    bool empty = listing.status == 0;
    std::istringstream lines(listing.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && line.rfind("-P ", 0) != 0) {
        empty = false;
      }
    }
    if (empty) {
      const std::string family = tool == "iptables-nft" ? "ip" : "ip6";
      if (run_command({"nft", "list", "table", family, "mangle"}).status == 0) {
        run_command({"nft", "delete", "table", family, "mangle"});
      }
    }
  }
  return {};
}

}  // namespace egressguard::firewall
