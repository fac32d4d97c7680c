#include "filter/metrics/metrics_server.h"

#include <utility>

#include <boost/asio/ip/address.hpp>

namespace egressguard::metrics {

namespace {

void write_server_stats(Exposition& out, const HttpServerStats& s) {
  out.counter("egressguard_metrics_requests_total", "Requests answered by the metrics endpoint",
              s.requests);
  out.counter("egressguard_metrics_refused_total",
              "Connections to the metrics endpoint closed at once (connection limit)", s.refused);
  out.counter("egressguard_metrics_rejected_total",
              "Malformed, oversized or non-GET requests to the metrics endpoint",
              s.bad_requests + s.too_large);
  out.counter("egressguard_metrics_timeouts_total",
              "Connections to the metrics endpoint closed by the timeout", s.timeouts);
}

}  // namespace

Result<std::unique_ptr<HttpServer>, std::string> open_metrics_server(const ListenAddress& address,
                                                                     const Registry& registry,
                                                                     HealthCheck health,
                                                                     HttpServerOptions options,
                                                                     bool allow_remote) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address.ip, ec);
  if (ec) {
    return fail("metrics: \"" + address.ip + "\" is not an IP address");
  }
  if (!ip.is_loopback() && !address.loopback && !allow_remote) {
    return fail("metrics: " + address.to_string() +
                " is not a loopback address: metrics would be reachable from the network; set "
                "allow_remote = true to allow it");
  }
  auto self = std::make_shared<const HttpServer*>(nullptr);
  auto handler = [&registry, health = std::move(health), self](const HttpRequest& request) {
    HttpResponse response;
    if (request.path == "/metrics") {
      response.content_type = std::string(kExpositionContentType);
      response.body = registry.expose();
      if (*self != nullptr) {
        Exposition own;
        write_server_stats(own, (*self)->stats());
        response.body += own.text();
      }
      return response;
    }
    if (request.path == "/healthz") {
      const std::string problem = health ? health() : std::string();
      if (problem.empty()) {
        response.body = "ok\n";
      } else {
        response.status = 503;
        response.body = problem + "\n";
      }
      return response;
    }
    response.status = 404;
    response.body = "not found: the paths are /metrics and /healthz\n";
    return response;
  };
  auto server = HttpServer::open(address, std::move(handler), options);
  if (server) {
    *self = server->get();
  }
  return server;
}

}  // namespace egressguard::metrics
