#include "filter/datapath/firewall/upstream_resolver.h"

#include <cerrno>
#include <cstring>
#include <random>
#include <system_error>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "filter/datapath/dnsproxy/dns_message.h"

namespace egressguard::firewall {

namespace {

class Collector : public dnsproxy::ResponseVisitor {
 public:
  explicit Collector(ResolvedName& out) : out_(out) {}
  void on_cname(std::string_view owner, std::string_view target) override {
    static_cast<void>(owner);
    if (out_.cnames.size() < 16) {
      out_.cnames.emplace_back(target);
    }
  }
  void on_address(std::string_view owner, const parse::IpAddress& address) override {
    static_cast<void>(owner);
    if (out_.addresses.size() < 64) {
      out_.addresses.push_back(address);
    }
  }

 private:
  ResolvedName& out_;
};

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// strerror is not thread-safe; the workers resolve concurrently.
std::string error_text() {
  return std::error_code(errno, std::system_category()).message();
}

std::uint16_t random_id() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return static_cast<std::uint16_t>(rng() & 0xffffU);
}

// One question to one upstream: the answer's records go into `out`. Error text on failure.
Result<void, std::string> ask(const dnsproxy::Endpoint& upstream, std::string_view name,
                              std::uint16_t qtype, std::chrono::milliseconds timeout,
                              ResolvedName& out) {
  const std::uint16_t id = random_id();
  auto query = build_address_query(name, qtype, id);
  if (!query) {
    return fail(query.error());
  }
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (upstream.ip.is_v4()) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(upstream.port);
    std::memcpy(&sa.sin_addr, upstream.ip.bytes.data(), 4);
    std::memcpy(&storage, &sa, sizeof sa);
    length = sizeof sa;
  } else {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(upstream.port);
    std::memcpy(&sa.sin6_addr, upstream.ip.bytes.data(), 16);
    std::memcpy(&storage, &sa, sizeof sa);
    length = sizeof sa;
  }
  Fd socket_fd{::socket(upstream.ip.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  if (socket_fd.fd < 0) {
    return fail(std::string("socket: ") + error_text());
  }
  if (::connect(socket_fd.fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0 ||
      ::send(socket_fd.fd, query->data(), query->size(), 0) < 0) {
    return fail(upstream.to_string() + ": " + error_text());
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::uint8_t> buffer(4096);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return fail(upstream.to_string() + ": timeout");
    }
    pollfd pfd{socket_fd.fd, POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) {
      continue;
    }
    if (ready <= 0) {
      return fail(upstream.to_string() + ": timeout");
    }
    const ssize_t n = ::recv(socket_fd.fd, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      return fail(upstream.to_string() + ": " + error_text());
    }
    const ByteSpan response(buffer.data(), static_cast<std::size_t>(n));
    parse::DnsNameBuffer qname{};
    ResolvedName records;
    Collector collector(records);
    auto scan = dnsproxy::scan_response(response, qname, &collector);
    if (!scan || !scan->header.qr || scan->header.id != id || scan->header.qtype != qtype ||
        !dnsproxy::same_name(scan->header.qname, name)) {
      continue;  // not the answer to this question: keep waiting
    }
    if (scan->header.tc) {
      return fail(upstream.to_string() + ": truncated answer");
    }
    if (scan->header.rcode != dnsproxy::kRcodeNoError &&
        scan->header.rcode != dnsproxy::kRcodeNxDomain) {
      return fail(upstream.to_string() + ": rcode " + std::to_string(scan->header.rcode));
    }
    out.cnames.insert(out.cnames.end(), records.cnames.begin(), records.cnames.end());
    out.addresses.insert(out.addresses.end(), records.addresses.begin(), records.addresses.end());
    return {};
  }
}

}  // namespace

Result<std::vector<std::uint8_t>, std::string> build_address_query(std::string_view name,
                                                                   std::uint16_t qtype,
                                                                   std::uint16_t id) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  if (name.empty() || name.size() > 253) {
    return fail("invalid name \"" + std::string(name) + "\": empty or longer than 253");
  }
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id & 0xffU),
                                 0x01,  // RD
                                 0x00,
                                 0,
                                 1,  // QDCOUNT 1
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) {
      dot = name.size();
    }
    const std::size_t label = dot - start;
    if (label == 0 || label > 63) {
      return fail("invalid name \"" + std::string(name) + "\": empty label or longer than 63");
    }
    q.push_back(static_cast<std::uint8_t>(label));
    q.insert(q.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
             name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  q.push_back(0);
  q.push_back(static_cast<std::uint8_t>(qtype >> 8));
  q.push_back(static_cast<std::uint8_t>(qtype & 0xffU));
  q.push_back(0);
  q.push_back(1);  // IN
  return q;
}

Result<ResolvedName, std::string> resolve_addresses(std::span<const dnsproxy::Endpoint> upstreams,
                                                    std::string_view name,
                                                    std::chrono::milliseconds timeout) {
  ResolvedName out;
  std::string error = "no upstream configured";
  bool answered = false;
  for (const std::uint16_t qtype : {dnsproxy::kTypeA, dnsproxy::kTypeAaaa}) {
    for (const dnsproxy::Endpoint& upstream : upstreams) {
      auto asked = ask(upstream, name, qtype, timeout, out);
      if (asked) {
        answered = true;
        break;
      }
      error = asked.error();
    }
  }
  if (!answered) {
    return fail("resolving " + std::string(name) + ": " + error);
  }
  return out;
}

}  // namespace egressguard::firewall
