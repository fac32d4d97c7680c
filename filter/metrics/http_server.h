// HttpServer: a small HTTP/1.1 responder for the metrics and health endpoints (Boost.Asio, one
// thread). One request per connection (the answer carries "Connection: close"); only GET and
// HEAD. Bounded: a request head larger than max_request_bytes gets 431, a connection beyond
// max_connections is closed at once, a client that has not sent its request head within
// `timeout` (or does not read the answer) is disconnected.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "filter/metrics/http_request.h"
#include "filter/metrics/metrics_config.h"

namespace egressguard::metrics {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  std::size_t max_request_bytes = 8192;
  std::size_t max_connections = 16;
  std::chrono::milliseconds timeout{5000};
};

// Counters of the server itself.
struct HttpServerStats {
  std::uint64_t requests = 0;      // answered requests
  std::uint64_t refused = 0;       // connections closed at once: max_connections
  std::uint64_t too_large = 0;     // request heads over max_request_bytes (431)
  std::uint64_t timeouts = 0;      // connections closed by the timeout
  std::uint64_t bad_requests = 0;  // 400 / 405 / 505
};

class HttpServer {
 public:
  // Called on the server's thread for every well-formed GET/HEAD; may throw (answered 500).
  using Handler = std::function<HttpResponse(const HttpRequest& request)>;

  // Binds and listens (port 0: the kernel picks one, see port()). Refuses a non-loopback
  // address unless `address.loopback` is false only because allow_remote was given (the caller
  // checked with parse_listen).
  static Result<std::unique_ptr<HttpServer>, std::string> open(const ListenAddress& address,
                                                               Handler handler,
                                                               HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();  // starts the thread
  void stop();   // closes every connection and joins; idempotent

  std::uint16_t port() const noexcept;
  std::string endpoint() const;  // "127.0.0.1:9477"
  HttpServerStats stats() const noexcept;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The reason phrase of a status code ("OK", "Not Found", ...).
std::string_view reason_phrase(int status) noexcept;

}  // namespace egressguard::metrics
