// The metrics endpoint: an HttpServer whose routes are GET /metrics (the Registry's text
// exposition, format 0.0.4, plus the endpoint's own counters) and GET /healthz (200 "ok" when
// `health` returns an empty string, else 503 with its text). Any other path is 404.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/result.h"
#include "filter/metrics/http_server.h"
#include "filter/metrics/metrics_config.h"
#include "filter/metrics/registry.h"

namespace egressguard::metrics {

// Returns "" when healthy, else why not ("no datapath running"); called per /healthz request on
// the server thread.
using HealthCheck = std::function<std::string()>;

inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Opens (binds) the endpoint; start() it after privileges are dropped. `registry` must outlive
// the server. A non-loopback address is refused unless `allow_remote`.
Result<std::unique_ptr<HttpServer>, std::string> open_metrics_server(const ListenAddress& address,
                                                                     const Registry& registry,
                                                                     HealthCheck health,
                                                                     HttpServerOptions options = {},
                                                                     bool allow_remote = false);

}  // namespace egressguard::metrics
