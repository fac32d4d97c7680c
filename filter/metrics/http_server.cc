#include "filter/metrics/http_server.h"

#include <exception>
#include <thread>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace egressguard::metrics {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

// Matches the end of a request head: an empty line ("\r\n\r\n", or "\n\n" from lax clients).
struct HeadEnd {
  template <typename Iterator>
  std::pair<Iterator, bool> operator()(Iterator begin, Iterator end) const {
    int newlines = 0;
    for (Iterator i = begin; i != end; ++i) {
      const char c = *i;
      if (c == '\n') {
        if (++newlines == 2) {
          return {++i, true};
        }
      } else if (c != '\r') {
        newlines = 0;
      }
    }
    return {begin, false};
  }
};

std::string format_response(const HttpResponse& response, bool head) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  out += reason_phrase(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: " + std::to_string(response.body.size());
  if (response.status == 405) {
    out += "\r\nAllow: GET, HEAD";
  }
  out += "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head) {
    out += response.body;
  }
  return out;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

}  // namespace egressguard::metrics

namespace boost::asio {
template <>
struct is_match_condition<egressguard::metrics::HeadEnd> : public std::true_type {};
}  // namespace boost::asio

namespace egressguard::metrics {

struct HttpServer::Impl {
  // Counters first: connections still queued in io_ when it is destroyed decrement `live`.
  std::atomic<std::uint64_t> requests{0}, refused{0}, too_large{0}, timeouts{0}, bad_requests{0};
  std::size_t live = 0;  // open connections; only touched on the server thread

  Handler handler;
  HttpServerOptions options;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  bool started = false;
  bool stopped = false;

  void accept();
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, tcp::socket socket)
      : server_(server),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buffer_(server.options.max_request_bytes) {
    ++server_.live;
  }
  ~Connection() { --server_.live; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() {
    timer_.expires_after(server_.options.timeout);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) {
        self->server_.timeouts.fetch_add(1, std::memory_order_relaxed);
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
    asio::async_read_until(socket_, buffer_, HeadEnd{},
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_head(ec, n); });
  }

 private:
  void on_head(const boost::system::error_code& ec, std::size_t n) {
    if (ec == asio::error::not_found) {  // the buffer filled up before the empty line
      server_.too_large.fetch_add(1, std::memory_order_relaxed);
      respond(plain(431, "request head larger than " +
                             std::to_string(server_.options.max_request_bytes) + " bytes\n"),
              false);
      return;
    }
    if (ec) {
      return;  // closed, reset or timed out
    }
    const auto data = buffer_.data();
    const std::string head(asio::buffers_begin(data),
                           asio::buffers_begin(data) + static_cast<std::ptrdiff_t>(n));
    const auto request = parse_request_head(head);
    if (!request) {
      server_.bad_requests.fetch_add(1, std::memory_order_relaxed);
      respond(plain(request.error().status, std::string(request.error().reason) + "\n"), false);
      return;
    }
    const bool head_only = request->method == "HEAD";
    HttpResponse response;
    try {
      response = server_.handler(*request);
    } catch (const std::exception& e) {
      response = plain(500, std::string(e.what()) + "\n");
    }
    server_.requests.fetch_add(1, std::memory_order_relaxed);
    respond(response, head_only);
  }

  void respond(const HttpResponse& response, bool head_only) {
    out_ = format_response(response, head_only);
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                        boost::system::error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket_.close(ignored);
                        self->timer_.cancel();
                      });
  }

  HttpServer::Impl& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::string out_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
      return;
    }
    if (!ec) {
      if (live >= options.max_connections) {
        refused.fetch_add(1, std::memory_order_relaxed);
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Connection>(*this, std::move(socket))->start();
      }
    }
    accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpServer>, std::string> HttpServer::open(const ListenAddress& address,
                                                                  Handler handler,
                                                                  HttpServerOptions options) {
  const std::string where = "metrics: " + address.to_string() + ": ";
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address.ip, ec);
  if (ec) {
    return fail(where + "not an IP address");
  }
  auto impl = std::make_unique<Impl>();
  impl->handler = std::move(handler);
  impl->options = options;
  const tcp::endpoint endpoint(ip, address.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  }
  if (!ec && ip.is_v6()) {
    impl->acceptor.set_option(asio::ip::v6_only(true), ec);
  }
  if (!ec) {
    impl->acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    impl->acceptor.listen(64, ec);
  }
  if (ec) {
    return fail(where + "cannot listen: " + ec.message());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::start() {
  if (impl_->started || impl_->stopped) {
    return;
  }
  impl_->started = true;
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

void HttpServer::stop() {
  if (impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

std::uint16_t HttpServer::port() const noexcept {
  boost::system::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

std::string HttpServer::endpoint() const {
  boost::system::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  if (ec) {
    return "";
  }
  ListenAddress a;
  a.ip = endpoint.address().to_string();
  a.port = endpoint.port();
  return a.to_string();
}

HttpServerStats HttpServer::stats() const noexcept {
  HttpServerStats s;
  s.requests = impl_->requests.load(std::memory_order_relaxed);
  s.refused = impl_->refused.load(std::memory_order_relaxed);
  s.too_large = impl_->too_large.load(std::memory_order_relaxed);
  s.timeouts = impl_->timeouts.load(std::memory_order_relaxed);
  s.bad_requests = impl_->bad_requests.load(std::memory_order_relaxed);
  return s;
}

}  // namespace egressguard::metrics
