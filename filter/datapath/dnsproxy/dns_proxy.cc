#include "filter/datapath/dnsproxy/dns_proxy.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <sys/socket.h>
#include <time.h>

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

// Connected UDP sockets per upstream and worker. Each query goes out on one of them, chosen at
// random, with a random 16-bit ID: 2^16 IDs times kUpstreamSockets source ports for a blind
// spoofer to guess, against a per-query socket's 2^16 IDs times one port out of the ephemeral
// range. Ports are renewed: a socket is retired after a random 2048..6143 queries and re-opened
// (new ephemeral port) once its last query is done, so the set of ports keeps moving.
constexpr std::size_t kUpstreamSockets = 8;
constexpr std::uint32_t kRetireAfterMin = 2048;
constexpr std::uint32_t kRetireAfterSpread = 4096;
// Datagrams read with one recvmmsg(2) when a socket is readable; up to kBatchRounds batches
// before the socket waits for the event loop again (other sockets get their turn).
constexpr unsigned kBatch = 32;
constexpr int kBatchRounds = 4;

// Receive buffers for one recvmmsg(2): kBatch datagrams of up to kMaxMessage bytes, with their
// source addresses. Not zeroed: only the pages the kernel writes into become resident (about a
// page per slot for ordinary DNS messages, not 64 KiB). A worker has one; it is only used
// inside one handler at a time (read, then every datagram handled, before the next read).
class RecvBatch {
 public:
  RecvBatch() : data_(new std::uint8_t[std::size_t{kBatch} * kMaxMessage]) {}  // NOLINT
  // Reads up to kBatch queued datagrams without blocking; 0 when none (or an error: `error`).
  unsigned receive(int fd, int& error) noexcept {
    for (unsigned i = 0; i < kBatch; ++i) {
      iov_[i].iov_base = data_.get() + std::size_t{i} * kMaxMessage;
      iov_[i].iov_len = kMaxMessage;
      headers_[i].msg_hdr = msghdr{};
      headers_[i].msg_hdr.msg_name = &from_[i];
      headers_[i].msg_hdr.msg_namelen = sizeof(from_[i]);
      headers_[i].msg_hdr.msg_iov = &iov_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
      headers_[i].msg_len = 0;
    }
    const int n = ::recvmmsg(fd, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      error = errno;
      return 0;
    }
    error = 0;
    return static_cast<unsigned>(n);
  }
  ByteSpan message(unsigned i) const noexcept {
    return ByteSpan(data_.get() + std::size_t{i} * kMaxMessage, headers_[i].msg_len);
  }
  template <typename Endpoint>
  void source(unsigned i, Endpoint& out) const {
    std::memcpy(out.data(), &from_[i], headers_[i].msg_hdr.msg_namelen);
    out.resize(headers_[i].msg_hdr.msg_namelen);
  }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::array<mmsghdr, kBatch> headers_{};
  std::array<iovec, kBatch> iov_{};
  std::array<sockaddr_storage, kBatch> from_{};
};

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

// Monotonic nanoseconds for the decision latency (vDSO: no system call).
std::uint64_t mono_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

struct Worker;
class TcpConnection;
class Transaction;

// One listening UDP socket of one worker.
struct UdpListener {
  udp::socket socket;
  Endpoint endpoint;
  udp::endpoint sender;  // of the datagram being handled

  UdpListener(asio::io_context& io, Endpoint where) : socket(io), endpoint(where) {}
};

// One connected UDP socket to one upstream (see kUpstreamSockets).
struct UpstreamSocket {
  explicit UpstreamSocket(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  std::uint32_t in_flight = 0;   // queries registered on it
  std::uint32_t uses_left = 0;   // queries it may still carry before it is retired
  std::uint32_t generation = 0;  // bumped on close: stale read handlers see the change
  bool open = false;
};

// Forwarded UDP queries in flight on one worker: (socket index << 16 | ID) -> transaction. Open
// addressing with linear probing and backward-shift deletion; sized once for max_pending, so no
// allocation per query.
class PendingTable {
 public:
  explicit PendingTable(std::size_t max_entries) {
    std::size_t capacity = 64;
    while (capacity < max_entries * 2) {
      capacity *= 2;
    }
    slots_.resize(capacity);
    mask_ = capacity - 1;
  }
  Transaction* find(std::uint32_t key) const noexcept {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      if (slots_[i].value == nullptr) {
        return nullptr;
      }
      if (slots_[i].key == key) {
        return slots_[i].value;
      }
    }
  }
  // False when the key is taken or the table is full (the caller picks another key).
  bool insert(std::uint32_t key, Transaction* value) noexcept {
    if (size_ * 2 >= slots_.size()) {
      return false;
    }
    std::size_t i = home(key);
    for (; slots_[i].value != nullptr; i = (i + 1) & mask_) {
      if (slots_[i].key == key) {
        return false;
      }
    }
    slots_[i] = Slot{key, value};
    ++size_;
    return true;
  }
  void erase(std::uint32_t key) noexcept {
    std::size_t i = home(key);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].value == nullptr) {
        return;
      }
      if (slots_[i].key == key) {
        break;
      }
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_; slots_[j].value != nullptr; j = (j + 1) & mask_) {
      const std::size_t h = home(slots_[j].key);
      if (((j - h) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
  }
  // Every transaction whose key has socket index `socket` (rare path: an ICMP error).
  std::vector<Transaction*> on_socket(std::uint32_t socket) const {
    std::vector<Transaction*> out;
    for (const Slot& slot : slots_) {
      if (slot.value != nullptr && (slot.key >> 16) == socket) {
        out.push_back(slot.value);
      }
    }
    return out;
  }

 private:
  struct Slot {
    std::uint32_t key = 0;
    Transaction* value = nullptr;
  };
  std::size_t home(std::uint32_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B1U) >> 8) & mask_;
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

struct Worker {
  explicit Worker(const DnsProxyCore& c)
      : core(&c), pending(c.config().max_pending == 0 ? 1 : c.config().max_pending) {
    upstream_sockets.resize(c.config().upstreams.size() * kUpstreamSockets);
    for (std::size_t i = 0; i < c.config().upstreams.size(); ++i) {
      const Endpoint& to = c.config().upstreams[i];
      upstream_endpoints.emplace_back(to_asio(to.ip), to.port);
    }
    round_socket.assign(c.config().upstreams.size(), kNoSocket);
    client_sends.reserve(kBatch * kBatchRounds);
    upstream_sends.reserve(kBatch * kBatchRounds);
  }
  static constexpr std::size_t kNoSocket = ~std::size_t{0};

  asio::io_context io{1};
  const DnsProxyCore* core = nullptr;
  std::atomic<std::uint32_t>* tcp_connections = nullptr;
  std::vector<std::unique_ptr<UdpListener>> udp_listeners;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<Endpoint> tcp_endpoints;
  std::vector<udp::endpoint> upstream_endpoints;
  // upstream i uses sockets [i * kUpstreamSockets, (i + 1) * kUpstreamSockets), opened lazily
  std::vector<std::unique_ptr<UpstreamSocket>> upstream_sockets;
  PendingTable pending;
  DnsProxyStats stats;
  DnsLatency latency;
  std::uint32_t in_flight = 0;  // forwarded queries in flight (this worker's thread only)
  std::mt19937 random{std::random_device{}()};
  RecvBatch batch;
  // While a batch of received datagrams is handled (batching == true), datagrams to send are
  // collected and sent with one sendmmsg(2) per socket when the batch is done (flush_sends).
  struct ClientSend {
    UdpListener* listener;
    udp::endpoint to;
    std::vector<std::uint8_t> data;
    std::uint64_t received_ns;  // the query's receipt (mono_ns)
    LatencyOutcome outcome;
  };
  struct UpstreamSend {
    std::size_t socket;
    std::uint32_t key;
    Transaction* transaction;
    ByteSpan data;  // the transaction's query: unchanged until the flush
  };
  bool batching = false;
  std::vector<ClientSend> client_sends;
  std::vector<UpstreamSend> upstream_sends;
  std::vector<std::size_t> round_socket;  // per upstream: the socket this batch sends on
  std::thread thread;

  // Sends an answer to a UDP client without blocking (now, or at the end of the batch): a full
  // socket buffer drops the answer (the client retries), so no queue builds up.
  void send_to_client(UdpListener& listener, const udp::endpoint& to,
                      std::vector<std::uint8_t> answer, std::uint64_t received_ns,
                      LatencyOutcome outcome);
  void begin_batch() noexcept;
  void flush_sends();
  // The query received at `received_ns` (mono_ns) is done: answered now, or dropped.
  void observe(LatencyOutcome outcome, std::uint64_t received_ns,
               std::uint64_t now_ns = mono_ns()) noexcept {
    latency.observe(outcome, now_ns > received_ns ? now_ns - received_ns : 0);
  }

  void receive(UdpListener& listener);
  void accept(std::size_t index);
  void handle_udp(UdpListener& listener, ByteSpan query, std::uint64_t received_ns);

  // Registers `transaction` for an answer from upstream `upstream` and sends `query` there with a
  // fresh random ID (written into `query`). Returns the key, or nullopt when nothing could be
  // sent.
  std::optional<std::uint32_t> send_upstream(Transaction* transaction, std::size_t upstream,
                                             std::vector<std::uint8_t>& query);
  // The transaction registered under `key` is done with it (answered, timed out, gave up).
  void release(std::uint32_t key) noexcept;

 private:
  bool open_upstream(std::size_t index);
  void close_upstream(UpstreamSocket& socket);
  void read_upstream(std::size_t index);
  void upstream_error(std::size_t index);
};

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
                       self->handle(mono_ns());
                       self->read_length();
                     });
  }

  void handle(std::uint64_t received_ns);

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
  std::uint64_t received_ns = 0;        // the query's receipt (mono_ns), for the latency
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
        self->finish(self->worker_.core->servfail(self->pending, self->worker_.stats),
                     LatencyOutcome::Servfail);
      }
    });
    try_upstream(0, false);
  }

  // An answer from the upstream socket this transaction is registered on (the ID matched).
  void on_udp_answer(ByteSpan answer) {
    if (done_ || !key_) {
      return;
    }
    on_answer(attempt_, false, answer);
  }
  // The upstream socket reported an error (ICMP port or host unreachable): try the next one.
  void on_udp_error() { failed(attempt_); }
  // The query registered under `key` could not be sent: try the next upstream.
  void on_udp_send_failed(std::uint32_t key) {
    if (key_ && *key_ == key) {
      failed(attempt_);
    }
  }

 private:
  void reset_sockets() {
    if (key_) {
      worker_.release(*key_);
      key_.reset();
    }
    if (tcp_) {
      ErrorCode ec;
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
      finish(worker_.core->servfail(pending, worker_.stats), LatencyOutcome::Servfail);
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
    if (over_tcp) {
      start_tcp(attempt, worker_.core->config().upstreams[index]);
    } else {
      start_udp(attempt);
    }
  }

  void failed(std::uint64_t attempt) {
    if (done_ || attempt != attempt_) {
      return;
    }
    bump(worker_.stats.upstream_errors);
    try_upstream(index_ + 1, false);
  }

  void start_udp(std::uint64_t attempt) {
    key_ = worker_.send_upstream(this, index_, pending.query);
    if (!key_) {
      failed(attempt);
      return;
    }
    upstream_id_ = get_id(pending.query);
  }

  void start_tcp(std::uint64_t attempt, const Endpoint& endpoint) {
    const tcp::endpoint to(to_asio(endpoint.ip), endpoint.port);
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
                                          self->on_answer(attempt, true, ByteSpan(self->rx_));
                                        });
                     });
  }

  void on_answer(std::uint64_t attempt, bool over_tcp, ByteSpan data) {
    if (data.size() < kDnsHeaderSize ||
        static_cast<std::uint16_t>((data[0] << 8) | data[1]) != upstream_id_) {
      if (over_tcp) {
        failed(attempt);
      }
      return;  // UDP: not ours (late or spoofed): keep waiting for the real one
    }
    auto answer = worker_.core->on_response(pending, data, worker_.stats);
    if (answer) {
      finish(std::move(*answer), LatencyOutcome::Answered);
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
          return;  // keep waiting on the same socket and ID
        }
        failed(attempt);
        return;
      case ResponseError::Malformed:
        failed(attempt);
        return;
    }
  }

  void finish(std::vector<std::uint8_t> answer, LatencyOutcome outcome) {
    if (done_) {
      return;
    }
    done_ = true;
    --worker_.in_flight;
    reset_sockets();
    deadline_.cancel();
    if (udp_listener != nullptr) {
      worker_.send_to_client(*udp_listener, udp_client, std::move(answer), received_ns, outcome);
    } else if (auto connection = tcp_client.lock()) {
      connection->send(answer, true);
      worker_.observe(outcome, received_ns);
    } else {
      worker_.observe(LatencyOutcome::Dropped, received_ns);  // the client went away
    }
  }

  Worker& worker_;
  asio::steady_timer deadline_;
  asio::steady_timer try_timer_;
  std::optional<std::uint32_t> key_;  // registered on an upstream UDP socket under this key
  std::optional<tcp::socket> tcp_;
  std::vector<std::uint8_t> rx_;  // TCP answers
  std::vector<std::uint8_t> tx_;
  std::array<std::uint8_t, 2> length_{};
  std::size_t index_ = 0;
  std::uint64_t attempt_ = 0;
  std::uint16_t upstream_id_ = 0;
  bool done_ = false;
};

void TcpConnection::handle(std::uint64_t received_ns) {
  PendingQuery pending;
  QueryOutcome outcome =
      worker_.core->on_query(ByteSpan(message_), client_, pending, worker_.stats);
  switch (outcome.kind) {
    case QueryOutcome::Kind::Drop:
      worker_.observe(LatencyOutcome::Dropped, received_ns);
      return;
    case QueryOutcome::Kind::Answer:
      send(outcome.answer, false);
      worker_.observe(LatencyOutcome::Answered, received_ns);
      return;
    case QueryOutcome::Kind::Forward:
      break;
  }
  ++in_flight_;
  if (worker_.in_flight >= worker_.core->config().max_pending) {
    bump(worker_.stats.pending_overflow);
    send(worker_.core->servfail(pending, worker_.stats), true);
    worker_.observe(LatencyOutcome::Servfail, received_ns);
    return;
  }
  auto transaction = std::make_shared<Transaction>(worker_);
  transaction->pending = std::move(pending);
  transaction->received_ns = received_ns;
  transaction->tcp_client = weak_from_this();
  transaction->start();
}

void Worker::handle_udp(UdpListener& listener, ByteSpan query, std::uint64_t received_ns) {
  ClientInfo client;
  client.ip = from_asio(listener.sender.address());
  client.port = listener.sender.port();
  client.local = listener.endpoint.ip;
  client.local_port = listener.endpoint.port;
  PendingQuery pending_query;
  QueryOutcome outcome = core->on_query(query, client, pending_query, stats);
  switch (outcome.kind) {
    case QueryOutcome::Kind::Drop:
      observe(LatencyOutcome::Dropped, received_ns);
      return;
    case QueryOutcome::Kind::Answer:
      send_to_client(listener, listener.sender, std::move(outcome.answer), received_ns,
                     LatencyOutcome::Answered);
      return;
    case QueryOutcome::Kind::Forward:
      break;
  }
  if (in_flight >= core->config().max_pending) {
    bump(stats.pending_overflow);
    send_to_client(listener, listener.sender, core->servfail(pending_query, stats), received_ns,
                   LatencyOutcome::Servfail);
    return;
  }
  auto transaction = std::make_shared<Transaction>(*this);
  transaction->pending = std::move(pending_query);
  transaction->received_ns = received_ns;
  transaction->udp_listener = &listener;
  transaction->udp_client = listener.sender;
  transaction->start();
}

// Waits until the socket is readable, then reads batches with recvmmsg(2). A short batch means
// the queue is (nearly) empty: wait again rather than pay a read that finds nothing; re-arming
// (epoll_ctl MOD) reports the socket at once if a datagram arrived meanwhile.
void Worker::receive(UdpListener& listener) {
  listener.socket.async_wait(udp::socket::wait_read, [this, &listener](const ErrorCode& ec) {
    if (ec == asio::error::operation_aborted) {
      return;
    }
    begin_batch();
    for (int round = 0; round < kBatchRounds; ++round) {
      int error = 0;
      const unsigned n = batch.receive(listener.socket.native_handle(), error);
      const std::uint64_t received_ns = n > 0 ? mono_ns() : 0;  // once per batch
      for (unsigned i = 0; i < n; ++i) {
        batch.source(i, listener.sender);
        handle_udp(listener, batch.message(i), received_ns);
      }
      if (n < kBatch) {
        break;
      }
    }
    flush_sends();
    receive(listener);
  });
}

std::optional<std::uint32_t> Worker::send_upstream(Transaction* transaction, std::size_t upstream,
                                                   std::vector<std::uint8_t>& query) {
  const std::size_t first = upstream * kUpstreamSockets;
  for (int attempt = 0; attempt < 16; ++attempt) {
    // In a batch every query to this upstream goes out on one socket (one sendmmsg).
    const std::size_t index = attempt == 0 && round_socket[upstream] != kNoSocket
                                  ? round_socket[upstream]
                                  : first + random() % kUpstreamSockets;
    if (!upstream_sockets[index] || !upstream_sockets[index]->open) {
      if (!open_upstream(index)) {
        continue;
      }
    }
    UpstreamSocket& socket = *upstream_sockets[index];
    if (socket.uses_left == 0 && attempt < 8) {
      continue;  // retiring: draining its last queries before it gets a new port
    }
    const auto id = static_cast<std::uint16_t>(random() & 0xffffU);
    const auto key = static_cast<std::uint32_t>((index << 16) | id);
    if (!pending.insert(key, transaction)) {
      continue;
    }
    set_id(query, id);
    if (batching) {
      upstream_sends.push_back(UpstreamSend{index, key, transaction, ByteSpan(query)});
      round_socket[upstream] = index;
    } else {
      ErrorCode ec;
      socket.socket.send(asio::buffer(query), 0, ec);
      if (ec) {
        pending.erase(key);
        if (ec == asio::error::would_block || ec == asio::error::try_again) {
          continue;  // this socket's send buffer is full: try another
        }
        return std::nullopt;
      }
    }
    ++socket.in_flight;
    if (socket.uses_left > 0) {
      --socket.uses_left;
    }
    return key;
  }
  return std::nullopt;
}

void Worker::send_to_client(UdpListener& listener, const udp::endpoint& to,
                            std::vector<std::uint8_t> answer, std::uint64_t received_ns,
                            LatencyOutcome outcome) {
  if (!batching) {
    ErrorCode ec;
    listener.socket.send_to(asio::buffer(answer), to, 0, ec);
    observe(outcome, received_ns);
    return;
  }
  client_sends.push_back(ClientSend{&listener, to, std::move(answer), received_ns, outcome});
}

void Worker::begin_batch() noexcept {
  batching = true;
  std::fill(round_socket.begin(), round_socket.end(), kNoSocket);
}

namespace {

// sendmmsg(2) of headers[0, n) on `fd` without blocking; calls dropped(i) for each datagram the
// kernel refused (full buffer, unreachable), then goes on with the next.
template <typename Dropped>
void send_all(int fd, mmsghdr* headers, unsigned n, Dropped&& dropped) {
  unsigned done = 0;
  while (done < n) {
    const int sent = ::sendmmsg(fd, headers + done, n - done, MSG_DONTWAIT);
    if (sent <= 0) {
      dropped(done);
      ++done;
    } else {
      done += static_cast<unsigned>(sent);
    }
  }
}

}  // namespace

void Worker::flush_sends() {
  batching = false;
  std::array<mmsghdr, kBatch> headers{};
  std::array<iovec, kBatch> iov{};
  // Queries upstream: consecutive entries on one socket go out together.
  for (std::size_t begin = 0; begin < upstream_sends.size();) {
    const std::size_t socket = upstream_sends[begin].socket;
    unsigned n = 0;
    while (begin + n < upstream_sends.size() && n < kBatch &&
           upstream_sends[begin + n].socket == socket) {
      const ByteSpan data = upstream_sends[begin + n].data;
      iov[n].iov_base = const_cast<std::uint8_t*>(data.data());  // NOLINT: sendmsg's iovec
      iov[n].iov_len = data.size();
      headers[n].msg_hdr = msghdr{};
      headers[n].msg_hdr.msg_iov = &iov[n];
      headers[n].msg_hdr.msg_iovlen = 1;
      ++n;
    }
    const int fd = upstream_sockets[socket]->socket.native_handle();
    send_all(fd, headers.data(), n, [&](unsigned i) {
      const UpstreamSend& failed = upstream_sends[begin + i];
      failed.transaction->on_udp_send_failed(failed.key);
    });
    begin += n;
  }
  upstream_sends.clear();
  // Answers to clients: consecutive entries on one listener go out together.
  for (std::size_t begin = 0; begin < client_sends.size();) {
    UdpListener* listener = client_sends[begin].listener;
    unsigned n = 0;
    while (begin + n < client_sends.size() && n < kBatch &&
           client_sends[begin + n].listener == listener) {
      ClientSend& send = client_sends[begin + n];
      iov[n].iov_base = send.data.data();
      iov[n].iov_len = send.data.size();
      headers[n].msg_hdr = msghdr{};
      headers[n].msg_hdr.msg_name = send.to.data();
      headers[n].msg_hdr.msg_namelen = static_cast<socklen_t>(send.to.size());
      headers[n].msg_hdr.msg_iov = &iov[n];
      headers[n].msg_hdr.msg_iovlen = 1;
      ++n;
    }
    send_all(listener->socket.native_handle(), headers.data(), n, [](unsigned) {});
    const std::uint64_t now = mono_ns();  // once per sendmmsg
    for (unsigned i = 0; i < n; ++i) {
      observe(client_sends[begin + i].outcome, client_sends[begin + i].received_ns, now);
    }
    begin += n;
  }
  client_sends.clear();
}

void Worker::release(std::uint32_t key) noexcept {
  pending.erase(key);
  const std::size_t index = key >> 16;
  UpstreamSocket& socket = *upstream_sockets[index];
  if (socket.in_flight > 0) {
    --socket.in_flight;
  }
  if (socket.open && socket.uses_left == 0 && socket.in_flight == 0) {
    close_upstream(socket);  // retired: the next query through this slot opens a new port
  }
}

bool Worker::open_upstream(std::size_t index) {
  if (!upstream_sockets[index]) {
    upstream_sockets[index] = std::make_unique<UpstreamSocket>(io);
  }
  UpstreamSocket& socket = *upstream_sockets[index];
  const udp::endpoint& to = upstream_endpoints[index / kUpstreamSockets];
  ErrorCode ec;
  socket.socket.open(to.protocol(), ec);
  if (!ec) {
    socket.socket.connect(to, ec);  // an ephemeral port; answers only from `to`
  }
  if (!ec) {
    socket.socket.non_blocking(true, ec);
  }
  if (ec) {
    ErrorCode ignored;
    socket.socket.close(ignored);
    return false;
  }
  socket.open = true;
  socket.in_flight = 0;
  socket.uses_left = kRetireAfterMin + static_cast<std::uint32_t>(random() % kRetireAfterSpread);
  ++socket.generation;
  read_upstream(index);
  return true;
}

void Worker::close_upstream(UpstreamSocket& socket) {
  ErrorCode ignored;
  socket.socket.close(ignored);
  socket.open = false;
  ++socket.generation;
}

void Worker::read_upstream(std::size_t index) {
  UpstreamSocket& socket = *upstream_sockets[index];
  socket.socket.async_wait(
      udp::socket::wait_read, [this, index, generation = socket.generation](const ErrorCode& ec) {
        UpstreamSocket& s = *upstream_sockets[index];
        if (ec || generation != s.generation) {
          return;  // closed (retired or stopping)
        }
        begin_batch();
        for (int round = 0; round < kBatchRounds && generation == s.generation; ++round) {
          int error = 0;
          const unsigned n = batch.receive(s.socket.native_handle(), error);
          if (error != 0 && error != EAGAIN && error != EWOULDBLOCK && error != EINTR) {
            upstream_error(index);  // e.g. ECONNREFUSED: the upstream's port is closed
            continue;
          }
          for (unsigned i = 0; i < n; ++i) {
            const ByteSpan answer = batch.message(i);
            if (answer.size() < kDnsHeaderSize) {
              continue;
            }
            const auto id = static_cast<std::uint16_t>((answer[0] << 8) | answer[1]);
            Transaction* transaction = pending.find(static_cast<std::uint32_t>((index << 16) | id));
            if (transaction != nullptr) {
              transaction->on_udp_answer(answer);
            }  // else late (timed out already) or not ours
          }
          if (n < kBatch) {
            break;
          }
        }
        flush_sends();
        if (generation == s.generation) {
          read_upstream(index);
        }
      });
}

// A connected UDP socket reports ICMP errors (port unreachable: the upstream is down) on the
// next read; which query caused it is unknown, so every query waiting on that socket moves on.
void Worker::upstream_error(std::size_t index) {
  for (Transaction* transaction : pending.on_socket(static_cast<std::uint32_t>(index))) {
    transaction->on_udp_error();
  }
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
    auto worker = std::make_unique<Worker>(impl->core);
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

DnsLatencyCounts DnsProxy::latency() const {
  DnsLatencyCounts out;
  for (const auto& worker : impl_->workers) {
    worker->latency.add_to(out);
  }
  return out;
}

DnsProxyCounters DnsProxy::counters() const {
  DnsProxyCounters out;
  for (const auto& worker : impl_->workers) {
    out.add(worker->stats);
  }
  return out;
}

}  // namespace egressguard::dnsproxy
