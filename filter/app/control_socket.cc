#include "filter/app/control_socket.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace egressguard::app {

namespace {

constexpr std::size_t kMaxCommand = 4096;
constexpr int kClientIoTimeoutMs = 5000;

Result<sockaddr_un, std::string> unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return fail(path + ": control socket path is empty or longer than " +
                std::to_string(sizeof(address.sun_path) - 1) + " bytes");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

int connect_to(const sockaddr_un& address) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Waits for `events` on fd; false on timeout or error.
bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

bool write_all(int fd, std::string_view text, int timeout_ms) {
  while (!text.empty()) {
    if (!wait_for(fd, POLLOUT, timeout_ms)) {
      return false;
    }
    const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        continue;
      }
      return false;
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ControlServer>, std::string> ControlServer::open(const std::string& path,
                                                                        Handler handler) {
  auto address = unix_address(path);
  if (!address) {
    return fail(address.error());
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return fail(path + ": exists and is not a socket: refusing to replace it");
    }
    const int live = connect_to(*address);
    if (live >= 0) {
      ::close(live);
      return fail(path + ": another egressguard answers on this control socket");
    }
    ::unlink(path.c_str());
  }
  std::unique_ptr<ControlServer> server(new ControlServer());
  server->path_ = path;
  server->handler_ = std::move(handler);
  server->listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0) {
    return fail(path + ": cannot create a Unix socket: " + std::strerror(errno));
  }
  // 0600 from the start: no moment where another user could connect.
  const mode_t old_mask = ::umask(0177);
  const int bound =
      ::bind(server->listen_fd_, reinterpret_cast<const sockaddr*>(&*address), sizeof(*address));
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) {
    return fail(path + ": cannot bind the control socket: " + std::strerror(bind_errno));
  }
  ::chmod(path.c_str(), 0600);
  if (::listen(server->listen_fd_, 8) != 0) {
    return fail(path + ": cannot listen: " + std::strerror(errno));
  }
  server->wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (server->wake_fd_ < 0) {
    return fail(std::string("eventfd: ") + std::strerror(errno));
  }
  server->thread_ = std::thread([s = server.get()] { s->run(); });
  return server;
}

ControlServer::~ControlServer() {
  stop();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
  }
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
  }
}

void ControlServer::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  if (wake_fd_ >= 0) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) {
    thread_.join();
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
  }
}

void ControlServer::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      return;
    }
    if ((fds[0].revents & POLLIN) == 0) {
      continue;
    }
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) {
      continue;
    }
    std::string command;
    char buffer[512];
    bool complete = false;
    while (command.size() < kMaxCommand && wait_for(client, POLLIN, kClientIoTimeoutMs)) {
      const ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
      if (n <= 0) {
        complete = n == 0;  // EOF also ends a command
        break;
      }
      command.append(buffer, static_cast<std::size_t>(n));
      if (command.find('\n') != std::string::npos) {
        complete = true;
        break;
      }
    }
    if (complete) {
      command = command.substr(0, command.find('\n'));
      std::string answer;
      try {
        answer = handler_(command);
      } catch (const std::exception& e) {
        answer = std::string("error ") + e.what() + "\n";
      }
      write_all(client, answer, kClientIoTimeoutMs);
    }
    ::close(client);
  }
}

Result<std::string, std::string> control_request(const std::string& path, std::string_view command,
                                                 int timeout_ms) {
  auto address = unix_address(path);
  if (!address) {
    return fail(address.error());
  }
  const int fd = connect_to(*address);
  if (fd < 0) {
    return fail(path + ": cannot connect to the control socket: " + std::strerror(errno) +
                " (is egressguard run going, with [control] socket set?)");
  }
  std::string line(command);
  line += '\n';
  if (!write_all(fd, line, timeout_ms)) {
    ::close(fd);
    return fail(path + ": cannot send the command");
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    if (!wait_for(fd, POLLIN, timeout_ms)) {
      ::close(fd);
      return fail(path + ": no answer within " + std::to_string(timeout_ms) + " ms");
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

}  // namespace egressguard::app
