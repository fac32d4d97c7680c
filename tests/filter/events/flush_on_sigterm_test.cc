// `egressguard run` (DNS proxy, loopback) under query load is stopped with SIGTERM: every event
// the daemon counted as accepted must be in the events file, whole.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/filter/events/test_helpers.h"

namespace egressguard::events {
namespace {

using testing::read_file;
using testing::TempDir;

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

std::string dns_query(std::uint16_t id, const std::string& name) {
  std::string q = {
      static_cast<char>(id >> 8), static_cast<char>(id & 0xff), 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) {
      dot = name.size();
    }
    q.push_back(static_cast<char>(dot - start));
    q.append(name, start, dot - start);
    start = dot + 1;
  }
  q.append(std::string("\0\0\1\0\1", 5));  // root label, QTYPE A, QCLASS IN
  return q;
}

// Sends queries to 127.0.0.1:port until `stop`; answers are read and dropped.
void blast(std::uint16_t port, int thread, const std::atomic<bool>& stop,
           std::atomic<std::uint64_t>& answers) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  char buffer[2048];
  for (std::uint32_t i = 0; !stop.load(); ++i) {
    const std::string q =
        dns_query(static_cast<std::uint16_t>(i),
                  "h" + std::to_string(thread) + "-" + std::to_string(i % 5000) + ".tiktok.com");
    static_cast<void>(::send(fd, q.data(), q.size(), 0));
    pollfd p{fd, POLLIN, 0};
    if (i % 16 == 15) {
      ::poll(&p, 1, 1);  // keep a few hundred queries in flight, not an unbounded flood
    }
    while (::recv(fd, buffer, sizeof buffer, 0) > 0) {
      answers.fetch_add(1);
    }
  }
  ::close(fd);
}

TEST(EventsOnSigterm, EveryAcceptedEventIsInTheFile) {
  TempDir dir;
  const std::uint16_t port = free_udp_port();
  std::ofstream(dir.file("tiktok.txt")) << "*.tiktok.com\n";
  std::ofstream(dir.file("eg.toml"))
      << "default_group = \"gov\"\n"
         "[events]\npath = \"events.json\"\nsensor = \"t\"\n"
         "[dns]\nlisten = [\"127.0.0.1:"
      << port
      << "\"]\nupstreams = [\"127.0.0.1:9\"]\nworkers = 2\n"
         "[[category]]\nname = \"tiktok\"\nlists = [{ path = \"tiktok.txt\" }]\n"
         "[[group]]\nname = \"gov\"\ncidrs = [\"127.0.0.0/8\"]\nblock = [\"tiktok\"]\n";
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
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> answers{0};
  // Wait until it answers.
  {
    std::atomic<bool> probe_stop{false};
    std::thread probe([&] { blast(port, 9, probe_stop, answers); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (answers.load() == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    probe_stop = true;
    probe.join();
  }
  ASSERT_GT(answers.load(), 0U) << read_file(err_path);
  std::vector<std::thread> load;
  for (int t = 0; t < 3; ++t) {
    load.emplace_back([&, t] { blast(port, t, stop, answers); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);  // the load goes on while it stops
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  stop = true;
  for (auto& t : load) {
    t.join();
  }
  ASSERT_TRUE(WIFEXITED(status));
  const std::string err = read_file(err_path);
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(err, m,
                                std::regex(R"(events: (\d+) accepted, (\d+) written, (\d+) )"
                                           R"(dropped_queue_full, (\d+) dropped_write_error)")))
      << err;
  const std::uint64_t accepted = std::stoull(m[1]);
  const std::uint64_t written = std::stoull(m[2]);
  const std::string events = read_file(dir.file("events.json"));
  std::uint64_t lines = 0;
  std::size_t start = 0;
  for (std::size_t end = 0; (end = events.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string_view line(events.data() + start, end - start);
    ASSERT_TRUE(line.front() == '{' && line.back() == '}') << line;
    ++lines;
  }
  EXPECT_EQ(start, events.size()) << "the file ends inside a line";
  std::printf(
      "accepted %llu, answers %llu, lines %llu\n", static_cast<unsigned long long>(accepted),
      static_cast<unsigned long long>(answers.load()), static_cast<unsigned long long>(lines));
  EXPECT_GT(accepted, 1000U) << err;
  EXPECT_EQ(written, accepted);
  EXPECT_EQ(lines, accepted) << err;
  EXPECT_EQ(m[4].str(), "0");
}

}  // namespace
}  // namespace egressguard::events
