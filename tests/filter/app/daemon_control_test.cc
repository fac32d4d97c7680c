// The daemon's metrics, status and explain: DaemonMetrics in-process (endpoint, status JSON,
// reload outcomes), the control socket's explain, [metrics]/[run] config sections, and a real
// `egressguard run` answering `egressguard status` and `egressguard explain --socket` from its
// live policy.
#include <chrono>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "filter/app/config.h"
#include "filter/app/control_commands.h"
#include "filter/app/control_socket.h"
#include "filter/app/daemon_metrics.h"
#include "filter/app/drop_privileges.h"
#include "filter/app/load_policy.h"
#include "tests/support/run_helpers.h"
#include "tests/support/temp_dir.h"

namespace egressguard::app {
namespace {

using testing::TempDir;

std::string http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  static_cast<void>(::send(fd, request.data(), request.size(), MSG_NOSIGNAL));
  std::string answer;
  char buffer[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) <= 0) {
      break;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      break;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

std::uint16_t port_of(const std::string& endpoint) {
  return static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

constexpr const char* kPolicy =
    "default_group = \"gov\"\n"
    "[[category]]\nname = \"tiktok\"\nowner = \"lists team\"\n"
    "lists = [{ path = \"tiktok.txt\" }]\n"
    "[[group]]\nname = \"gov\"\ncidrs = [\"127.0.0.0/8\"]\nblock = [\"tiktok\"]\n"
    "[[group]]\nname = \"byod\"\ncidrs = [\"10.0.0.0/8\"]\n";

TEST(DaemonMetrics, ServesMetricsHealthAndStatusAndRecordsReloads) {
  TempDir dir("eg-daemon");
  dir.write("tiktok.txt", "*.tiktok.com\n");
  dir.write("eg.toml", std::string(kPolicy) + "[metrics]\nlisten = \"127.0.0.1:0\"\n");
  auto loaded = load_policy(dir.file("eg.toml"));
  ASSERT_TRUE(loaded) << loaded.error().front();
  inspect::PolicyStore store(loaded->policy);
  DaemonMetrics m(loaded->config, store);
  ASSERT_TRUE(m.open_server());
  const std::uint16_t port = port_of(m.endpoint());

  // Bound but not started: /healthz would say 503; the thread is not running yet.
  EXPECT_NE(m.health(), "");
  m.start();
  EXPECT_EQ(m.health(), "");
  const std::string health = http_get(port, "/healthz");
  EXPECT_EQ(health.substr(0, 15), "HTTP/1.1 200 OK") << health;

  // A decision through the DNS sink shows up in the matrix.
  inspect::Observation o;
  o.app = inspect::AppProto::Dns;
  o.name = "www.tiktok.com";
  o.policy = loaded->policy.get();
  o.decision = loaded->policy->decide_name("www.tiktok.com", 0);
  const dnsproxy::DnsBlockInfo info;
  EXPECT_TRUE(m.wrap_dns(nullptr)->on_dns_block(o, info));
  std::string metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find("egressguard_decisions_total{datapath=\"dnsproxy\",group=\"gov\","
                         "category=\"tiktok\",action=\"block\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("egressguard_list_rules{list=\"tiktok\",category=\"tiktok\"} 1\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("egressguard_policy_version 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("egressguard_up 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("# TYPE egressguard_decision_latency_seconds histogram\n"),
            std::string::npos);

  // A refused reload: recorded with its errors, the old list versions stay.
  const auto refused = store.reload(
      [](std::uint64_t)
          -> Result<std::shared_ptr<const inspect::PolicySnapshot>, std::vector<std::string>> {
        return fail(std::vector<std::string>{"tiktok.txt:2: invalid domain \"a b\": why"});
      });
  m.reloaded("test", refused);
  std::string status = m.status();
  EXPECT_EQ(status.substr(0, 3), "ok\n");
  EXPECT_NE(status.find("\"reload_failures\": 1"), std::string::npos) << status;
  EXPECT_NE(status.find("\"origin\": \"test\", \"ok\": false, \"errors\": "
                        "[\"tiktok.txt:2: invalid domain \\\"a b\\\": why\"]"),
            std::string::npos)
      << status;
  EXPECT_NE(status.find("\"name\": \"tiktok\", \"category\": \"tiktok\""), std::string::npos);
  EXPECT_NE(status.find("\"sha256\": \"3cbeefc3d2"), std::string::npos) << status;
  EXPECT_NE(http_get(port, "/metrics").find("egressguard_last_reload_success 0\n"),
            std::string::npos);

  // A successful reload with a changed list: new version, new rule count and hash.
  dir.write("tiktok.txt", "*.tiktok.com\n*.tiktokv.com\n");
  const auto ok = store.reload([&](std::uint64_t version) {
    auto next = load_policy(dir.file("eg.toml"), version);
    return next ? Result<std::shared_ptr<const inspect::PolicySnapshot>, std::vector<std::string>>(
                      next->policy)
                : fail(next.error());
  });
  ASSERT_TRUE(ok);
  m.reloaded("SIGHUP", ok);
  status = m.status();
  EXPECT_NE(status.find("\"policy\": {\"version\": 2"), std::string::npos) << status;
  EXPECT_NE(status.find("\"rules\": 2, "), std::string::npos) << status;
  EXPECT_NE(status.find("\"ok\": true, \"errors\": []"), std::string::npos);
  metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find("egressguard_list_rules{list=\"tiktok\",category=\"tiktok\"} 2\n"),
            std::string::npos);
  EXPECT_NE(metrics.find("egressguard_reloads_total 1\n"), std::string::npos);
  // The count of the first snapshot's matrix survives the reload.
  EXPECT_NE(metrics.find("category=\"tiktok\",action=\"block\"} 1\n"), std::string::npos);

  m.stop();
  EXPECT_EQ(http_get(port, "/healthz"), "");  // the endpoint is gone
}

TEST(ControlExplain, AnswersFromTheSnapshotLikeExplainJson) {
  TempDir dir("eg-daemon");
  dir.write("tiktok.txt", "*.tiktok.com\n");
  dir.write("eg.toml", kPolicy);
  auto loaded = load_policy(dir.file("eg.toml"));
  ASSERT_TRUE(loaded);
  const struct {
    const char* arguments;
    const char* expected_part;
  } cases[] = {
      {"gov www.tiktok.com",
       "ok\n{\"name\":\"www.tiktok.com\",\"group\":\"gov\",\"action\":\"block\""},
      {" gov  WWW.TikTok.com ", "\"rule\":\"*.tiktok.com\""},
      {"gov www.tiktok.com", "\"owner\":\"lists team\""},
      {"byod www.tiktok.com", "\"action\":\"allow\",\"mode\":\"enforce\",\"reason\":\"no_rule\""},
      {"--text gov www.tiktok.com", "ok\nwww.tiktok.com for group gov: block (mode enforce)\n"},
      {"nobody www.tiktok.com",
       "error group \"nobody\" is not a configured group: expected one "
       "of gov, byod"},
      {"gov", "error usage: explain [--text] GROUP NAME"},
      {"", "error usage"},
      {"gov a..b", "error "},
  };
  for (const auto& c : cases) {
    const std::string answer = control_explain(*loaded->policy, c.arguments);
    EXPECT_NE(answer.find(c.expected_part), std::string::npos)
        << "[" << c.arguments << "] -> " << answer;
  }
}

TEST(ControlStats, NamesEveryNfqueueCounter) {
  nfqueue::NfqueueStats s;
  s.packets = 10;
  s.rejected = 2;
  s.verdict_errors = 1;
  const std::string text = nfqueue_stats_text(s);
  EXPECT_NE(text.find("nfqueue_packets 10\n"), std::string::npos);
  EXPECT_NE(text.find("nfqueue_rejected 2\n"), std::string::npos);
  EXPECT_NE(text.find("nfqueue_verdict_errors 1\n"), std::string::npos);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 9);
}

TEST(ConfigMetricsRun, ParsesTheSectionsAndRefusesRemoteMetrics) {
  const struct {
    const char* description;
    const char* extra;
    const char* error;  // nullptr: valid
  } cases[] = {
      {"no sections", "", nullptr},
      {"defaults", "[metrics]\n", nullptr},
      {"ipv6 loopback", "[metrics]\nlisten = \"[::1]:9100\"\n", nullptr},
      {"remote allowed", "[metrics]\nlisten = \"0.0.0.0:9477\"\nallow_remote = true\n", nullptr},
      {"remote refused", "[metrics]\nlisten = \"0.0.0.0:9477\"\n",
       "eg.toml:14:10: metrics.listen \"0.0.0.0:9477\" is not a loopback address: metrics would "
       "be reachable from the network; set allow_remote = true to allow it"},
      {"bad address", "[metrics]\nlisten = \"metrics.local:1\"\n", "is not an IP address"},
      {"unknown key", "[metrics]\nport = 1\n", "unknown key \"port\" in [metrics]"},
      {"run user", "[run]\nuser = \"nobody\"\ngroup = \"nogroup\"\n", nullptr},
      {"run without user", "[run]\ngroup = \"x\"\n", "run.user is missing: it is required"},
      {"run typo", "[run]\nuser = \"x\"\nuid = 1\n", "unknown key \"uid\" in [run]"},
      {"run not a table", "run = 1\n", "run must be a table"},
  };
  for (const auto& c : cases) {
    // Top-level keys (run = 1) must come before the first table.
    const bool key = std::string(c.extra).find(" = ") < std::string(c.extra).find('[');
    const std::string text = key ? c.extra + std::string(kPolicy) : std::string(kPolicy) + c.extra;
    auto config = parse_config(text, "eg.toml", "/etc/eg");
    if (c.error == nullptr) {
      EXPECT_TRUE(config) << c.description << ": " << (config ? "" : config.error().front());
    } else {
      ASSERT_FALSE(config) << c.description;
      EXPECT_NE(config.error().front().find(c.error), std::string::npos)
          << c.description << ": " << config.error().front();
    }
  }
  auto config =
      parse_config(std::string(kPolicy) + "[metrics]\n[run]\nuser = \"nobody\"\n", "eg.toml", "");
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->metrics.enabled);
  EXPECT_EQ(config->metrics.listen, "127.0.0.1:9477");
  EXPECT_FALSE(config->metrics.allow_remote);
  EXPECT_EQ(config->run.user, "nobody");
  auto none = parse_config(kPolicy, "eg.toml", "");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->metrics.enabled);
  EXPECT_TRUE(none->run.user.empty());
}

TEST(RunIdentity, ResolvesUsersAndGroups) {
  auto nobody = resolve_run_identity({"nobody", ""});
  ASSERT_TRUE(nobody) << nobody.error();
  EXPECT_EQ(nobody->uid, 65534U);
  EXPECT_EQ(nobody->user, "nobody");
  auto numeric = resolve_run_identity({"65534", "0"});
  ASSERT_TRUE(numeric);
  EXPECT_EQ(numeric->uid, 65534U);
  EXPECT_EQ(numeric->gid, 0U);
  EXPECT_EQ(numeric->group, "root");
  auto missing = resolve_run_identity({"no-such-user-eg", ""});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "run.user \"no-such-user-eg\": no such user (create it, e.g. with "
            "deploy/sysusers.d/egressguard.conf)");
  auto bad_group = resolve_run_identity({"nobody", "no-such-group-eg"});
  ASSERT_FALSE(bad_group);
  EXPECT_EQ(bad_group.error(), "run.group \"no-such-group-eg\": no such group");
}

std::uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(DaemonControl, StatusAndExplainComeFromTheRunningDaemon) {
  TempDir dir("eg-daemon");
  dir.write("tiktok.txt", "*.tiktok.com\n");
  const std::string socket = dir.file("ctl.sock");
  dir.write("eg.toml", std::string(kPolicy) +
                           "[dns]\nlisten = [\"127.0.0.1:" + std::to_string(free_udp_port()) +
                           "\"]\nupstreams = [\"127.0.0.1:9\"]\n[control]\nsocket = \"" + socket +
                           "\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n");
  const std::string err_path = dir.file("stderr.txt");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    const std::string config = dir.file("eg.toml");
    ::execl(EGRESSGUARD_BINARY, EGRESSGUARD_BINARY, "run", "--config", config.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const std::string bin = testing::egressguard_binary();
  testing::CommandResult status;
  for (int i = 0; i < 200; ++i) {
    status = testing::run_command(bin + " status --socket " + socket);
    if (status.exit_code == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"healthy\": true"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("{\"name\": \"dnsproxy\", \"listen\": [\"127.0.0.1:"),
            std::string::npos)
      << status.out;
  const std::size_t at = status.out.find("\"metrics\": \"127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << status.out;
  const std::uint16_t port = static_cast<std::uint16_t>(std::stoi(status.out.substr(at + 22)));
  EXPECT_NE(http_get(port, "/metrics").find("egressguard_dnsproxy_queries_udp_total 0\n"),
            std::string::npos);

  // explain --socket: the live policy, before and after a reload that adds a rule.
  const auto before =
      testing::run_command(bin + " explain --socket " + socket + " --group gov x.example --json");
  EXPECT_EQ(before.exit_code, 0) << before.err;
  EXPECT_NE(before.out.find("\"action\":\"allow\""), std::string::npos) << before.out;
  dir.write("tiktok.txt", "*.tiktok.com\nx.example\n");
  ASSERT_EQ(testing::run_command(bin + " reload --socket " + socket).exit_code, 0);
  const auto after =
      testing::run_command(bin + " explain --socket " + socket + " --group gov x.example --json");
  EXPECT_NE(after.out.find("\"action\":\"block\""), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("\"line\":2"), std::string::npos) << after.out;
  const auto text = testing::run_command(bin + " explain --socket " + socket + " --group gov " +
                                         "www.tiktok.com");
  EXPECT_NE(text.out.find("www.tiktok.com for group gov: block"), std::string::npos) << text.out;
  const auto unknown =
      testing::run_command(bin + " explain --socket " + socket + " --group nope x.example");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("is not a configured group"), std::string::npos) << unknown.err;
  const auto stats = testing::run_command(
      "printf 'stats\\n' | python3 -c \"import socket,sys; s=socket.socket(socket.AF_UNIX); "
      "s.connect('" +
      socket + "'); s.sendall(b'stats\\n'); print(s.recv(65536).decode())\"");
  EXPECT_NE(stats.out.find("queries_udp "), std::string::npos) << stats.out << stats.err;
  EXPECT_NE(testing::run_command(bin + " status --socket " + socket).out.find("\"reloads\": 1"),
            std::string::npos);

  ::kill(pid, SIGTERM);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  // Not reachable any more: status fails with exit 1.
  EXPECT_EQ(testing::run_command(bin + " status --socket " + socket).exit_code, 1);
}

}  // namespace
}  // namespace egressguard::app
