#include "filter/events/syslog_output.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include "filter/events/event_json.h"

namespace egressguard::events {

namespace {

constexpr std::uint64_t kBackoffMinUs = 500'000;
constexpr std::uint64_t kBackoffMaxUs = 30'000'000;
constexpr std::uint64_t kConnectTimeoutUs = 5'000'000;
constexpr std::size_t kCompactBytes = 64 * 1024;

int severity(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::Block:
      return 4;  // warning
    case EventKind::UnnamedFlow:
      return 5;  // notice
    case EventKind::Name:
      return 6;  // informational
  }
  return 6;
}

// RFC 5424 HOSTNAME: 1..255 PRINTUSASCII; NILVALUE "-" when empty.
std::string header_hostname(std::string_view sensor) {
  std::string out(sensor.substr(0, 255));
  for (char& c : out) {
    if (c < 33 || c > 126) {
      c = '_';
    }
  }
  return out.empty() ? "-" : out;
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

void SyslogOutput::format(std::string& out, const SyslogOutputOptions& options, int pid,
                          const EventLine& line, std::uint64_t now_us) {
  out += '<';
  out += std::to_string(options.config.facility * 8 + severity(line.kind));
  out += ">1 ";
  append_timestamp(out, now_us);
  out += ' ';
  out += header_hostname(options.hostname);
  out += ' ';
  out += options.config.app_name.empty() ? "-" : options.config.app_name;
  out += ' ';
  out += std::to_string(pid);
  out += ' ';
  out += describe(line.kind);
  out += " - ";
  out += line.json;
}

Result<std::unique_ptr<SyslogOutput>, std::string> SyslogOutput::open(SyslogOutputOptions options) {
  std::unique_ptr<SyslogOutput> out(new SyslogOutput());
  out->options_ = std::move(options);
  out->pid_ = static_cast<int>(::getpid());
  const SyslogOutputConfig& c = out->options_.config;
  const bool tcp = c.protocol == SyslogProtocol::Tcp;
  const std::string where =
      "syslog " + std::string(tcp ? "tcp" : "udp") + " " + c.host + ":" + std::to_string(c.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(c.host.c_str(), std::to_string(c.port).c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    return fail(where + ": cannot resolve: " + ::gai_strerror(rc));
  }
  std::memcpy(&out->address_, found->ai_addr, found->ai_addrlen);
  out->address_len_ = found->ai_addrlen;
  ::freeaddrinfo(found);
  if (!tcp) {
    out->fd_ = ::socket(out->address_.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (out->fd_ < 0 || ::connect(out->fd_, reinterpret_cast<const sockaddr*>(&out->address_),
                                  out->address_len_) != 0) {
      return fail(where + ": " + errno_text("cannot open a UDP socket"));
    }
    out->state_ = State::Connected;
  }
  return out;
}

SyslogOutput::~SyslogOutput() {
  close(system_clock_us(nullptr));
}

void SyslogOutput::write(const EventLine& line, std::uint64_t now_us) {
  if (closed_) {
    count_dropped(line.events);
    return;
  }
  message_.clear();
  format(message_, options_, pid_, line, now_us);
  if (options_.config.protocol == SyslogProtocol::Udp) {
    if (::send(fd_, message_.data(), message_.size(), MSG_DONTWAIT | MSG_NOSIGNAL) ==
        static_cast<ssize_t>(message_.size())) {
      count_written(line.events);
    } else {
      last_error_ = errno_text("send");
      count_dropped(line.events);
    }
    return;
  }
  const std::string length = std::to_string(message_.size());
  if (pending_.size() + length.size() + 1 + message_.size() > options_.max_pending_bytes) {
    last_error_ = "the buffer for the syslog receiver is full (" +
                  (last_error_.empty() ? std::string("receiver slow") : last_error_) + ")";
    count_dropped(line.events);
    return;
  }
  pending_ += length;
  pending_ += ' ';
  pending_ += message_;
  frames_.push_back({pending_.size(), line.events});
  if (state_ == State::Connected && pending_.size() - sent_ >= kCompactBytes) {
    send_pending(now_us);
  }
}

void SyslogOutput::connect_tcp(std::uint64_t now_us) {
  fd_ = ::socket(address_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    disconnect(now_us, errno_text("socket"));
    return;
  }
  connect_started_us_ = now_us;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address_), address_len_) == 0) {
    state_ = State::Connected;
    backoff_us_ = kBackoffMinUs;
    return;
  }
  if (errno != EINPROGRESS) {
    disconnect(now_us, errno_text("connect"));
    return;
  }
  state_ = State::Connecting;
}

void SyslogOutput::poll_tcp(std::uint64_t now_us) {
  pollfd p{fd_, static_cast<short>(state_ == State::Connecting ? POLLOUT : POLLIN), 0};
  const int ready = ::poll(&p, 1, 0);
  if (state_ == State::Connecting) {
    if (ready > 0) {
      int error = 0;
      socklen_t len = sizeof error;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
      if (error == 0) {
        state_ = State::Connected;
        backoff_us_ = kBackoffMinUs;
      } else {
        errno = error;
        disconnect(now_us, errno_text("connect"));
      }
    } else if (now_us - connect_started_us_ > kConnectTimeoutUs) {
      disconnect(now_us, "connect: timed out");
    }
    return;
  }
  if (ready > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
    char byte = 0;
    const ssize_t n = ::recv(fd_, &byte, 1, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      disconnect(now_us, n == 0 ? "the receiver closed the connection" : errno_text("recv"));
    }
  }
}

void SyslogOutput::send_pending(std::uint64_t now_us) {
  while (sent_ < pending_.size()) {
    const ssize_t n =
        ::send(fd_, pending_.data() + sent_, pending_.size() - sent_, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    if (n <= 0) {
      disconnect(now_us, errno_text("send"));
      return;
    }
    sent_ += static_cast<std::size_t>(n);
    while (!frames_.empty() && frames_.front().end <= sent_) {
      count_written(frames_.front().events);
      frames_.pop_front();
    }
  }
  if (sent_ == pending_.size()) {
    pending_.clear();
    sent_ = 0;
  } else if (sent_ >= kCompactBytes) {
    // Drop the bytes already sent; the first frame may be partly among them.
    pending_.erase(0, sent_);
    for (Frame& f : frames_) {
      f.end -= sent_;
    }
    sent_ = 0;
  }
}

void SyslogOutput::disconnect(std::uint64_t now_us, const std::string& why) {
  last_error_ = why;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  state_ = State::Disconnected;
  next_attempt_us_ = now_us + backoff_us_;
  backoff_us_ = std::min(backoff_us_ * 2, kBackoffMaxUs);
  // A frame partly on the wire is broken for the receiver: count it lost and start the next
  // connection at a frame boundary.
  std::size_t keep_from = 0;
  if (!frames_.empty() && sent_ > 0) {
    const std::size_t front_end = frames_.front().end;
    count_dropped(frames_.front().events);
    frames_.pop_front();
    keep_from = front_end;
  }
  if (keep_from > 0) {
    pending_.erase(0, keep_from);
    for (Frame& f : frames_) {
      f.end -= keep_from;
    }
  }
  sent_ = 0;
}

void SyslogOutput::flush(std::uint64_t now_us) {
  if (closed_ || options_.config.protocol == SyslogProtocol::Udp) {
    return;
  }
  if (state_ == State::Disconnected && now_us >= next_attempt_us_) {
    connect_tcp(now_us);
  }
  if (state_ != State::Disconnected) {
    poll_tcp(now_us);
  }
  if (state_ == State::Connected && !pending_.empty()) {
    send_pending(now_us);
  }
}

void SyslogOutput::close(std::uint64_t now_us) {
  if (closed_) {
    return;
  }
  if (options_.config.protocol == SyslogProtocol::Tcp) {
    // Bounded: at most close_timeout_ms of real time, whatever the injected clock says.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.close_timeout_ms);
    bool retried = false;
    while (!pending_.empty() && std::chrono::steady_clock::now() < deadline) {
      if (state_ == State::Disconnected) {
        if (retried) {
          break;
        }
        retried = true;
        connect_tcp(now_us);
        continue;
      }
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 50);
      if (state_ == State::Connecting) {
        poll_tcp(now_us);
      } else {
        send_pending(now_us);
      }
    }
    for (const Frame& f : frames_) {
      count_dropped(f.events);
    }
    frames_.clear();
    pending_.clear();
  }
  closed_ = true;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace egressguard::events
