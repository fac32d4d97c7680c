#include "filter/datapath/dnsproxy/dns_proxy.h"

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include <boost/asio.hpp>

#include "filter/datapath/dnsproxy/dns_message.h"

namespace egressguard::dnsproxy {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using ErrorCode = boost::system::error_code;

namespace {

// Largest DNS message: 65535 bytes (the TCP length prefix). UDP answers from upstreams are at
// most as large as the client allowed, but a misbehaving upstream may send more.
constexpr std::size_t kMaxMessage = 65535;

asio::ip::address to_asio(const parse::IpAddress& ip) {
  if (ip.is_v4()) {
    return asio::ip::address_v4(ip.v4_host_order());
  }
  asio::ip::address_v6::bytes_type bytes{};
  std::copy(ip.bytes.begin(), ip.bytes.end(), bytes.begin());
  return asio::ip::address_v6(bytes);
}

parse::IpAddress from_asio(const asio::ip::address& address) {
  if (address.is_v4()) {
    return parse::IpAddress::v4(address.to_v4().to_uint());
  }
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) {
    return parse::IpAddress::v4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint());
  }
  const auto bytes = v6.to_bytes();
  return parse::IpAddress::from_bytes(ByteSpan(bytes.data(), bytes.size()));
}

std::uint16_t get_id(const std::vector<std::uint8_t>& message) {
  return static_cast<std::uint16_t>((message[0] << 8) | message[1]);
}
void set_id(std::vector<std::uint8_t>& message, std::uint16_t id) {
  message[0] = static_cast<std::uint8_t>(id >> 8);
  message[1] = static_cast<std::uint8_t>(id & 0xffU);
}

}  // namespace

struct Worker;
class TcpConnection;

// One listening UDP socket of one worker.
struct UdpListener {
  udp::socket socket;
  Endpoint endpoint;
  std::array<std::uint8_t, kMaxMessage> buffer{};
  udp::endpoint sender;

  UdpListener(asio::io_context& io, Endpoint where) : socket(io), endpoint(where) {}
};

struct Worker {
  asio::io_context io{1};
  const DnsProxyCore* core = nullptr;
  std::atomic<std::uint32_t>* tcp_connections = nullptr;
  std::vector<std::unique_ptr<UdpListener>> udp_listeners;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<Endpoint> tcp_endpoints;
  DnsProxyStats stats;
  std::uint32_t in_flight = 0;  // forwarded queries in flight (this worker's thread only)
  std::mt19937 random{std::random_device{}()};
  std::thread thread;

  void receive(UdpListener& listener);
  void accept(std::size_t index);
  void handle_udp(UdpListener& listener, std::size_t size);
};

// Sends `answer` to a UDP client without blocking: a full socket buffer drops the answer (the
// client retries), so no queue builds up.
void send_udp(UdpListener& listener, const udp::endpoint& to,
              const std::vector<std::uint8_t>& answer) {
  ErrorCode ec;
  listener.socket.send_to(asio::buffer(answer), to, 0, ec);
}

// A client's TCP connection: length-prefixed queries, several in flight, answers in the order
// they are ready (RFC 7766 section 6.2.1.1).
class TcpConnection : public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(Worker& worker, tcp::socket socket, Endpoint local)
      : worker_(worker), socket_(std::move(socket)), idle_(worker.io), local_(local) {}
  ~TcpConnection() { worker_.tcp_connections->fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    ErrorCode ec;
    const tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (ec) {
      return;
    }
    client_.ip = from_asio(peer.address());
    client_.port = peer.port();
    client_.local = local_.ip;
    client_.local_port = local_.port;
    client_.tcp = true;
    arm_idle();
    read_length();
  }

  // An answer for the client (a forwarded query finished, or a made-up answer).
  void send(const std::vector<std::uint8_t>& answer, bool forwarded) {
    if (forwarded) {
      --in_flight_;
    }
    if (closed_) {
      return;
    }
    std::vector<std::uint8_t> framed(answer.size() + 2);
    framed[0] = static_cast<std::uint8_t>(answer.size() >> 8);
    framed[1] = static_cast<std::uint8_t>(answer.size() & 0xffU);
    std::copy(answer.begin(), answer.end(), framed.begin() + 2);
    queue_.push_back(std::move(framed));
    if (!writing_) {
      write_next();
    }
    maybe_resume();
  }

  const ClientInfo& client() const noexcept { return client_; }

 private:
  bool can_read() const noexcept {
    return in_flight_ + queue_.size() < worker_.core->config().max_tcp_pipeline;
  }
  void maybe_resume() {
    if (paused_ && !closed_ && can_read()) {
      paused_ = false;
      read_length();
    }
  }

  void arm_idle() {
    idle_.expires_after(std::chrono::milliseconds(worker_.core->config().tcp_idle_timeout_ms));
    idle_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (ec || self->closed_) {
        return;
      }
      if (self->in_flight_ > 0 || !self->queue_.empty()) {
        self->arm_idle();  // busy, not idle
        return;
      }
      bump(self->worker_.stats.tcp_idle_closed);
      self->close();
    });
  }

  void close() {
    if (closed_) {
      return;
    }
    closed_ = true;
    ErrorCode ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    idle_.cancel();
  }

  void read_length() {
    if (!can_read()) {
      paused_ = true;
      return;
    }
    asio::async_read(socket_, asio::buffer(length_),
                     [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                       if (ec || self->closed_) {
                         self->close_after_writes();
                         return;
                       }
                       const std::size_t size =
                           (std::size_t{self->length_[0]} << 8) | self->length_[1];
                       if (size < kDnsHeaderSize) {
                         bump(self->worker_.stats.dropped_malformed);
                         self->close();
                         return;
                       }
                       self->read_message(size);
                     });
  }

  void read_message(std::size_t size) {
    message_.resize(size);
    asio::async_read(socket_, asio::buffer(message_),
                     [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                       if (ec || self->closed_) {
                         self->close_after_writes();
                         return;
                       }
                       self->arm_idle();
                       self->handle();
                       self->read_length();
                     });
  }

  void handle();

  // The client closed its side: finish the answers in flight, then close.
  void close_after_writes() {
    read_closed_ = true;
    if (in_flight_ == 0 && queue_.empty()) {
      close();
    }
  }

  void write_next() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      if (read_closed_ && in_flight_ == 0) {
        close();
      }
      return;
    }
    writing_ = true;
    asio::async_write(socket_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](const ErrorCode& ec, std::size_t) {
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->queue_.pop_front();
                        self->write_next();
                        self->maybe_resume();
                      });
  }

  Worker& worker_;
  tcp::socket socket_;
  asio::steady_timer idle_;
  Endpoint local_;
  ClientInfo client_;
  std::array<std::uint8_t, 2> length_{};
  std::vector<std::uint8_t> message_;
  std::deque<std::vector<std::uint8_t>> queue_;  // bounded by max_tcp_pipeline (can_read)
  std::size_t in_flight_ = 0;
  bool writing_ = false;
  bool paused_ = false;
  bool closed_ = false;
  bool read_closed_ = false;

  friend class Transaction;
};

// One forwarded query: tries the upstreams in order until one answers or the time runs out.
class Transaction : public std::enable_shared_from_this<Transaction> {
 public:
  explicit Transaction(Worker& worker)
      : worker_(worker), deadline_(worker.io), try_timer_(worker.io) {}

  PendingQuery pending;
  UdpListener* udp_listener = nullptr;  // UDP client: answer through this socket
  udp::endpoint udp_client;
  std::weak_ptr<TcpConnection> tcp_client;  // TCP client

  void start() {
    ++worker_.in_flight;
    upstream_id_ = static_cast<std::uint16_t>(worker_.random() & 0xffffU);
    set_id(pending.query, upstream_id_);
    deadline_.expires_after(std::chrono::milliseconds(worker_.core->config().query_timeout_ms));
    deadline_.async_wait([self = shared_from_this()](const ErrorCode& ec) {
      if (!ec && !self->done_) {
        bump(self->worker_.stats.upstream_timeouts);
        self->finish(self->worker_.core->servfail(self->pending, self->worker_.stats));
      }
    });
    try_upstream(0, false);
  }

 private:
  const Endpoint& upstream() const { return worker_.core->config().upstreams[index_]; }

  void reset_sockets() {
    ErrorCode ec;
    if (udp_) {
      udp_->close(ec);
      udp_.reset();
    }
    if (tcp_) {
      tcp_->close(ec);
      tcp_.reset();
    }
    try_timer_.cancel();
  }

  void try_upstream(std::size_t index, bool over_tcp) {
    reset_sockets();
    if (done_) {
      return;
    }
    if (index >= worker_.core->config().upstreams.size()) {
      finish(worker_.core->servfail(pending, worker_.stats));
      return;
    }
    index_ = index;
    const std::uint64_t attempt = ++attempt_;
    bump(worker_.stats.forwarded);
    try_timer_.expires_after(std::chrono::milliseconds(worker_.core->config().upstream_timeout_ms));
    try_timer_.async_wait([self = shared_from_this(), attempt](const ErrorCode& ec) {
      if (!ec && !self->done_ && attempt == self->attempt_) {
        bump(self->worker_.stats.upstream_timeouts);
        self->try_upstream(self->index_ + 1, false);
      }
    });
    const Endpoint& to = upstream();
    if (over_tcp) {
      start_tcp(attempt, tcp::endpoint(to_asio(to.ip), to.port));
    } else {
      start_udp(attempt, udp::endpoint(to_asio(to.ip), to.port));
    }
  }

  void failed(std::uint64_t attempt) {
    if (done_ || attempt != attempt_) {
      return;
    }
    bump(worker_.stats.upstream_errors);
    try_upstream(index_ + 1, false);
  }

  void start_udp(std::uint64_t attempt, const udp::endpoint& to) {
    ErrorCode ec;
    udp_.emplace(worker_.io);
    udp_->open(to.protocol(), ec);
    if (!ec) {
      udp_->connect(to, ec);  // an ephemeral port per query: answers only from `to`
    }
    if (!ec) {
      udp_->send(asio::buffer(pending.query), 0, ec);
    }
    if (ec) {
      failed(attempt);
      return;
    }
    receive_udp(attempt);
  }

  void receive_udp(std::uint64_t attempt) {
    rx_.resize(kMaxMessage);
    udp_->async_receive(asio::buffer(rx_), [self = shared_from_this(), attempt](const ErrorCode& ec,
                                                                                std::size_t size) {
      if (self->done_ || attempt != self->attempt_) {
        return;
      }
      if (ec) {
        self->failed(attempt);
        return;
      }
      self->rx_.resize(size);
      self->on_answer(attempt, false);
    });
  }

  void start_tcp(std::uint64_t attempt, const tcp::endpoint& to) {
    tcp_.emplace(worker_.io);
    tx_.resize(pending.query.size() + 2);
    tx_[0] = static_cast<std::uint8_t>(pending.query.size() >> 8);
    tx_[1] = static_cast<std::uint8_t>(pending.query.size() & 0xffU);
    std::copy(pending.query.begin(), pending.query.end(), tx_.begin() + 2);
    tcp_->async_connect(to, [self = shared_from_this(), attempt](const ErrorCode& ec) {
      if (self->done_ || attempt != self->attempt_) {
        return;
      }
      if (ec) {
        self->failed(attempt);
        return;
      }
      asio::async_write(*self->tcp_, asio::buffer(self->tx_),
                        [self, attempt](const ErrorCode& wec, std::size_t) {
                          if (self->done_ || attempt != self->attempt_) {
                            return;
                          }
                          if (wec) {
                            self->failed(attempt);
                            return;
                          }
                          self->read_tcp_length(attempt);
                        });
    });
  }

  void read_tcp_length(std::uint64_t attempt) {
    asio::async_read(*tcp_, asio::buffer(length_),
                     [self = shared_from_this(), attempt](const ErrorCode& ec, std::size_t) {
                       if (self->done_ || attempt != self->attempt_) {
                         return;
                       }
                       const std::size_t size =
                           (std::size_t{self->length_[0]} << 8) | self->length_[1];
                       if (ec || size < kDnsHeaderSize) {
                         self->failed(attempt);
                         return;
                       }
                       self->rx_.resize(size);
                       asio::async_read(*self->tcp_, asio::buffer(self->rx_),
                                        [self, attempt](const ErrorCode& rec, std::size_t) {
                                          if (self->done_ || attempt != self->attempt_) {
                                            return;
                                          }
                                          if (rec) {
                                            self->failed(attempt);
                                            return;
                                          }
                                          self->on_answer(attempt, true);
                                        });
                     });
  }

  void on_answer(std::uint64_t attempt, bool over_tcp) {
    if (rx_.size() < kDnsHeaderSize || get_id(rx_) != upstream_id_) {
      if (over_tcp) {
        failed(attempt);
      } else {
        receive_udp(attempt);  // not ours (late or spoofed): keep waiting for the real one
      }
      return;
    }
    auto answer = worker_.core->on_response(pending, ByteSpan(rx_), worker_.stats);
    if (answer) {
      finish(*answer);
      return;
    }
    switch (answer.error()) {
      case ResponseError::Truncated:
        if (!over_tcp) {
          bump(worker_.stats.upstream_tcp_retries);
          try_upstream(index_, true);
          return;
        }
        failed(attempt);
        return;
      case ResponseError::Mismatch:
        if (!over_tcp) {
          receive_udp(attempt);
          return;
        }
        failed(attempt);
        return;
      case ResponseError::Malformed:
        failed(attempt);
        return;
    }
  }

  void finish(const std::vector<std::uint8_t>& answer) {
    if (done_) {
      return;
    }
    done_ = true;
    --worker_.in_flight;
    reset_sockets();
    deadline_.cancel();
    if (udp_listener != nullptr) {
      send_udp(*udp_listener, udp_client, answer);
    } else if (auto connection = tcp_client.lock()) {
      connection->send(answer, true);
    }
  }

  Worker& worker_;
  asio::steady_timer deadline_;
  asio::steady_timer try_timer_;
  std::optional<udp::socket> udp_;
  std::optional<tcp::socket> tcp_;
  std::vector<std::uint8_t> rx_;
  std::vector<std::uint8_t> tx_;
  std::array<std::uint8_t, 2> length_{};
  std::size_t index_ = 0;
  std::uint64_t attempt_ = 0;
  std::uint16_t upstream_id_ = 0;
  bool done_ = false;
};

void TcpConnection::handle() {
  PendingQuery pending;
  QueryOutcome outcome =
      worker_.core->on_query(ByteSpan(message_), client_, pending, worker_.stats);
  switch (outcome.kind) {
    case QueryOutcome::Kind::Drop:
      return;
    case QueryOutcome::Kind::Answer:
      send(outcome.answer, false);
      return;
    case QueryOutcome::Kind::Forward:
      break;
  }
  ++in_flight_;
  if (worker_.in_flight >= worker_.core->config().max_pending) {
    bump(worker_.stats.pending_overflow);
    send(worker_.core->servfail(pending, worker_.stats), true);
    return;
  }
  auto transaction = std::make_shared<Transaction>(worker_);
  transaction->pending = std::move(pending);
  transaction->tcp_client = weak_from_this();
  transaction->start();
}

void Worker::handle_udp(UdpListener& listener, std::size_t size) {
  ClientInfo client;
  client.ip = from_asio(listener.sender.address());
  client.port = listener.sender.port();
  client.local = listener.endpoint.ip;
  client.local_port = listener.endpoint.port;
  PendingQuery pending;
  QueryOutcome outcome =
      core->on_query(ByteSpan(listener.buffer.data(), size), client, pending, stats);
  switch (outcome.kind) {
    case QueryOutcome::Kind::Drop:
      return;
    case QueryOutcome::Kind::Answer:
      send_udp(listener, listener.sender, outcome.answer);
      return;
    case QueryOutcome::Kind::Forward:
      break;
  }
  if (in_flight >= core->config().max_pending) {
    bump(stats.pending_overflow);
    send_udp(listener, listener.sender, core->servfail(pending, stats));
    return;
  }
  auto transaction = std::make_shared<Transaction>(*this);
  transaction->pending = std::move(pending);
  transaction->udp_listener = &listener;
  transaction->udp_client = listener.sender;
  transaction->start();
}

void Worker::receive(UdpListener& listener) {
  listener.socket.async_receive_from(asio::buffer(listener.buffer), listener.sender,
                                     [this, &listener](const ErrorCode& ec, std::size_t size) {
                                       if (ec == asio::error::operation_aborted) {
                                         return;
                                       }
                                       if (!ec) {
                                         handle_udp(listener, size);
                                       }
                                       receive(listener);
                                     });
}

void Worker::accept(std::size_t index) {
  acceptors[index]->async_accept([this, index](const ErrorCode& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    if (!ec) {
      const std::uint32_t open = tcp_connections->fetch_add(1, std::memory_order_relaxed);
      if (open >= core->config().max_tcp_connections) {
        tcp_connections->fetch_sub(1, std::memory_order_relaxed);
        bump(stats.tcp_refused);
        ErrorCode ignored;
        socket.close(ignored);
      } else {
        bump(stats.tcp_connections);
        std::make_shared<TcpConnection>(*this, std::move(socket), tcp_endpoints[index])->start();
      }
    }
    accept(index);
  });
}

struct DnsProxy::Impl {
  Impl(const DnsProxyConfig& config, inspect::PolicyStore& store, DnsEventSink* events,
       AnswerAddressHook* hook)
      : core(config, store, events, hook) {}
  DnsProxyCore core;
  std::atomic<std::uint32_t> tcp_connections{0};
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Endpoint> endpoints;
  bool started = false;
  bool stopped = false;
};

DnsProxy::DnsProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DnsProxy::~DnsProxy() {
  stop();
}

Result<std::unique_ptr<DnsProxy>, std::string> DnsProxy::open(const DnsProxyConfig& config,
                                                              inspect::PolicyStore& store,
                                                              DnsEventSink* events,
                                                              AnswerAddressHook* hook) {
  if (config.listen.empty()) {
    return fail(std::string("dns: no listen address"));
  }
  if (config.upstreams.empty()) {
    return fail(std::string("dns: no upstream"));
  }
  auto impl = std::make_unique<Impl>(config, store, events, hook);
  const std::uint32_t workers = config.workers == 0 ? 1 : config.workers;
  for (std::uint32_t i = 0; i < workers; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->core = &impl->core;
    worker->tcp_connections = &impl->tcp_connections;
    impl->workers.push_back(std::move(worker));
  }
  for (const Endpoint& wanted : config.listen) {
    Endpoint bound = wanted;
    const asio::ip::address address = to_asio(wanted.ip);
    for (auto& worker : impl->workers) {
      ErrorCode ec;
      auto listener = std::make_unique<UdpListener>(worker->io, bound);
      const udp::endpoint udp_at(address, bound.port);
      listener->socket.open(udp_at.protocol(), ec);
      if (!ec && address.is_v6()) {
        listener->socket.set_option(asio::ip::v6_only(true), ec);
      }
      if (!ec) {
        listener->socket.set_option(asio::socket_base::reuse_address(true), ec);
      }
      if (!ec) {
        listener->socket.set_option(
            asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
      }
      if (!ec) {
        listener->socket.bind(udp_at, ec);
      }
      if (!ec) {
        listener->socket.non_blocking(true, ec);
      }
      if (ec) {
        return fail("dns: cannot listen on UDP " + bound.to_string() + ": " + ec.message());
      }
      if (bound.port == 0) {
        bound.port = listener->socket.local_endpoint().port();
        listener->endpoint = bound;
      }
      worker->udp_listeners.push_back(std::move(listener));

      const tcp::endpoint tcp_at(address, bound.port);
      auto acceptor = std::make_unique<tcp::acceptor>(worker->io);
      acceptor->open(tcp_at.protocol(), ec);
      if (!ec && address.is_v6()) {
        acceptor->set_option(asio::ip::v6_only(true), ec);
      }
      if (!ec) {
        acceptor->set_option(asio::socket_base::reuse_address(true), ec);
      }
      if (!ec) {
        acceptor->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true),
                             ec);
      }
      if (!ec) {
        acceptor->bind(tcp_at, ec);
      }
      if (!ec) {
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
      }
      if (ec) {
        return fail("dns: cannot listen on TCP " + bound.to_string() + ": " + ec.message());
      }
      worker->acceptors.push_back(std::move(acceptor));
      worker->tcp_endpoints.push_back(bound);
    }
    impl->endpoints.push_back(bound);
  }
  return std::unique_ptr<DnsProxy>(new DnsProxy(std::move(impl)));
}

void DnsProxy::start() {
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    for (auto& listener : w->udp_listeners) {
      w->receive(*listener);
    }
    for (std::size_t i = 0; i < w->acceptors.size(); ++i) {
      w->accept(i);
    }
    w->thread = std::thread([w] { w->io.run(); });
  }
}

void DnsProxy::stop() {
  if (impl_ == nullptr || impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  for (auto& worker : impl_->workers) {
    worker->io.stop();
  }
  for (auto& worker : impl_->workers) {
    if (worker->thread.joinable()) {
      worker->thread.join();
    }
  }
  // Handlers still queued hold connections and transactions: destroy them with the io_context
  // while the workers (which they reference) are still alive.
  for (auto& worker : impl_->workers) {
    worker->udp_listeners.clear();
    worker->acceptors.clear();
  }
}

const std::vector<Endpoint>& DnsProxy::endpoints() const noexcept {
  return impl_->endpoints;
}

DnsProxyCounters DnsProxy::counters() const {
  DnsProxyCounters out;
  for (const auto& worker : impl_->workers) {
    out.add(worker->stats);
  }
  return out;
}

}  // namespace egressguard::dnsproxy
