#include "filter/app/drop_privileges.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace egressguard::app {

namespace {

constexpr unsigned kCapNetAdmin = 12;  // CAP_NET_ADMIN, linux/capability.h

struct CapSets {
  std::uint64_t effective = 0;
  std::uint64_t permitted = 0;
  std::uint64_t inheritable = 0;
};

// capset(2) on the calling thread, through the raw system call (no libcap). Async-signal-safe.
bool set_caps(const CapSets& sets) noexcept {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    const unsigned shift = 32U * static_cast<unsigned>(i);
    data[i].effective = static_cast<std::uint32_t>(sets.effective >> shift);
    data[i].permitted = static_cast<std::uint32_t>(sets.permitted >> shift);
    data[i].inheritable = static_cast<std::uint32_t>(sets.inheritable >> shift);
  }
  return ::syscall(SYS_capset, &header, data) == 0;
}

CapSets get_caps() noexcept {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[2]{};
  CapSets out;
  if (::syscall(SYS_capget, &header, data) != 0) {
    return out;
  }
  for (int i = 0; i < 2; ++i) {
    const unsigned shift = 32U * static_cast<unsigned>(i);
    out.effective |= std::uint64_t{data[i].effective} << shift;
    out.permitted |= std::uint64_t{data[i].permitted} << shift;
    out.inheritable |= std::uint64_t{data[i].inheritable} << shift;
  }
  return out;
}

// What every thread applies: the target sets (or none, when this thread cannot reach them,
// e.g. it lost its capabilities in setuid already), no ambient capabilities, no_new_privs.
CapSets g_target;
std::atomic<int> g_applied{0};
std::atomic<int> g_failed{0};

void apply_on_this_thread() noexcept {
  if (!set_caps(g_target)) {
    const CapSets none;
    if (!set_caps(none)) {
      g_failed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    g_failed.fetch_add(1, std::memory_order_relaxed);
  }
}

void on_drop_signal(int /*signal*/) {
  const int saved = errno;
  apply_on_this_thread();
  g_applied.fetch_add(1, std::memory_order_release);
  errno = saved;
}

std::vector<pid_t> other_threads() {
  std::vector<pid_t> out;
  const auto self = static_cast<pid_t>(::syscall(SYS_gettid));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const std::string name = entry.path().filename().string();
    pid_t tid = 0;
    const auto r = std::from_chars(name.data(), name.data() + name.size(), tid);
    if (r.ec == std::errc() && tid != self) {
      out.push_back(tid);
    }
  }
  return out;
}

// Makes every other thread run apply_on_this_thread() (as glibc does for setuid): one real-time
// signal to each, then waits until all have run the handler.
Result<void, std::string> broadcast() {
  const int signal = SIGRTMIN;
  struct sigaction action {};
  struct sigaction old {};
  action.sa_handler = on_drop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  if (::sigaction(signal, &action, &old) != 0) {
    return fail(std::string("sigaction: ") + std::strerror(errno));
  }
  g_applied = 0;
  int sent = 0;
  for (const pid_t tid : other_threads()) {
    if (::syscall(SYS_tgkill, ::getpid(), tid, signal) == 0) {
      ++sent;
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (g_applied.load(std::memory_order_acquire) < sent &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const int applied = g_applied.load(std::memory_order_acquire);
  ::sigaction(signal, &old, nullptr);
  if (applied < sent) {
    return fail("only " + std::to_string(applied) + " of " + std::to_string(sent) +
                " threads dropped their capabilities (a thread blocks SIGRTMIN?)");
  }
  return {};
}

// Reads one "Key:\tvalue" line of /proc/self/task/TID/status.
std::string status_field(const std::string& path, std::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() &&
        line[key.size()] == ':') {
      const std::size_t start = line.find_first_not_of(" \t", key.size() + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

// Every thread must now hold no capability beyond `effective` (threads that lost theirs in
// setuid have none, which is fine: only threads started after the drop need CAP_NET_ADMIN) and
// have no_new_privs.
Result<void, std::string> verify_all_threads(std::uint64_t effective) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    const std::string status = entry.path().string() + "/status";
    const std::string cap_eff = status_field(status, "CapEff");
    const std::string nnp = status_field(status, "NoNewPrivs");
    if (cap_eff.empty()) {
      continue;  // the thread ended meanwhile
    }
    const std::uint64_t value = std::strtoull(cap_eff.c_str(), nullptr, 16);
    if ((value & ~effective) != 0 || nnp != "1") {
      return fail("thread " + entry.path().filename().string() + " still has CapEff " + cap_eff +
                  " NoNewPrivs " + nnp);
    }
  }
  return {};
}

bool numeric(const std::string& text, unsigned long& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size();
}

}  // namespace

std::uint64_t effective_capabilities() {
  return get_caps().effective;
}

Result<RunIdentity, std::string> resolve_run_identity(const RunConfig& config) {
  RunIdentity id;
  std::vector<char> buffer(1 << 16);
  passwd pw{};
  passwd* found = nullptr;
  unsigned long number = 0;
  if (numeric(config.user, number)) {
    ::getpwuid_r(static_cast<uid_t>(number), &pw, buffer.data(), buffer.size(), &found);
    id.uid = static_cast<uid_t>(number);
    id.user = found != nullptr ? pw.pw_name : config.user;
    id.gid = found != nullptr ? pw.pw_gid : static_cast<gid_t>(number);
  } else {
    ::getpwnam_r(config.user.c_str(), &pw, buffer.data(), buffer.size(), &found);
    if (found == nullptr) {
      return fail("run.user \"" + config.user +
                  "\": no such user (create it, e.g. with deploy/sysusers.d/egressguard.conf)");
    }
    id.uid = pw.pw_uid;
    id.gid = pw.pw_gid;
    id.user = pw.pw_name;
  }
  if (!config.group.empty()) {
    group gr{};
    group* gfound = nullptr;
    if (numeric(config.group, number)) {
      id.gid = static_cast<gid_t>(number);
      ::getgrgid_r(id.gid, &gr, buffer.data(), buffer.size(), &gfound);
      id.group = gfound != nullptr ? gr.gr_name : config.group;
      return id;
    }
    ::getgrnam_r(config.group.c_str(), &gr, buffer.data(), buffer.size(), &gfound);
    if (gfound == nullptr) {
      return fail("run.group \"" + config.group + "\": no such group");
    }
    id.gid = gr.gr_gid;
    id.group = gr.gr_name;
    return id;
  }
  group gr{};
  group* gfound = nullptr;
  ::getgrgid_r(id.gid, &gr, buffer.data(), buffer.size(), &gfound);
  id.group = gfound != nullptr ? gr.gr_name : std::to_string(id.gid);
  return id;
}

Result<std::string, std::string> drop_privileges(const DropPlan& plan) {
  const auto what = [](const std::string& call) {
    return "dropping privileges: " + call + ": " + std::strerror(errno);
  };
  std::uint64_t keep = plan.keep_net_admin ? (std::uint64_t{1} << kCapNetAdmin) : 0;
  if (plan.identity && ::geteuid() != plan.identity->uid) {
    const RunIdentity& id = *plan.identity;
    if (::geteuid() != 0) {
      return fail("run.user \"" + id.user + "\": cannot switch from uid " +
                  std::to_string(::geteuid()) + ": start egressguard as root or as " + id.user);
    }
    for (const std::string& path : plan.chown_paths) {
      if (!path.empty() && path != "-" && ::chown(path.c_str(), id.uid, id.gid) != 0 &&
          errno != ENOENT) {
        return fail(what("chown " + path));
      }
    }
    // Shrink the bounding set while CAP_SETPCAP is still there: nothing gained later by exec.
    for (unsigned cap = 0; cap <= 63; ++cap) {
      if ((keep >> cap & 1U) == 0 && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
          errno != EINVAL) {
        return fail(what("PR_CAPBSET_DROP"));
      }
    }
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
      return fail(what("PR_SET_KEEPCAPS"));
    }
    if (::setgroups(0, nullptr) != 0) {
      return fail(what("setgroups"));
    }
    if (::setgid(id.gid) != 0) {
      return fail(what("setgid " + std::to_string(id.gid)));
    }
    if (::setuid(id.uid) != 0) {
      return fail(what("setuid " + std::to_string(id.uid)));
    }
    ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (::setuid(0) == 0) {
      return fail("dropping privileges: uid 0 could be regained");
    }
  } else if (plan.identity && ::getgid() != plan.identity->gid) {
    // Already the user (systemd User=): the group must match too.
    if (::setgid(plan.identity->gid) != 0) {
      return fail(what("setgid " + std::to_string(plan.identity->gid)));
    }
  }
  if (!plan.identity && ::geteuid() != 0) {
    // Started unprivileged without [run]: keep what is needed only if it was there at all.
    keep &= get_caps().permitted;
  }
  g_target = CapSets{keep, keep, 0};
  g_failed = 0;
  apply_on_this_thread();
  if (g_failed.load() != 0) {
    return fail(what("capset/no_new_privs on the main thread"));
  }
  if (get_caps().effective != keep) {
    return fail(
        "dropping privileges: CAP_NET_ADMIN is needed (NFQUEUE verdicts, nft sets) but "
        "the process does not have it");
  }
  auto sent = broadcast();
  if (!sent) {
    return fail("dropping privileges: " + sent.error());
  }
  if (g_failed.load() != 0) {
    return fail("dropping privileges: capset failed on a thread");
  }
  auto verified = verify_all_threads(keep);
  if (!verified) {
    return fail("dropping privileges: " + verified.error());
  }
  std::string summary = "uid=" + std::to_string(::getuid());
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr) {
    summary += "(" + std::string(pw->pw_name) + ")";
  }
  summary += " gid=" + std::to_string(::getgid());
  if (const group* gr = ::getgrgid(::getgid()); gr != nullptr) {
    summary += "(" + std::string(gr->gr_name) + ")";
  }
  summary += keep != 0 ? " capabilities=cap_net_admin" : " capabilities=none";
  summary += " no_new_privs=1";
  return summary;
}

}  // namespace egressguard::app
