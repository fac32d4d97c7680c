#include "filter/metrics/metrics_config.h"

#include <charconv>

#include <boost/asio/ip/address.hpp>

namespace egressguard::metrics {

std::string ListenAddress::to_string() const {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

Result<ListenAddress, std::string> parse_listen(std::string_view text, bool allow_remote) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  std::string_view host = text;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return fail(quoted + " is not an address: missing ']'");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return fail(quoted + " is not an address: expected ':' and a port after ']'");
      }
      port_text = rest.substr(1);
      if (port_text.empty()) {
        return fail(quoted + " has an empty port");
      }
    }
  } else if (const std::size_t colon = text.rfind(':');
             colon != std::string_view::npos && text.find(':') == colon) {
    host = text.substr(0, colon);  // one colon: IPv4 (or name) and port
    port_text = text.substr(colon + 1);
    if (port_text.empty()) {
      return fail(quoted + " has an empty port");
    }
  }
  ListenAddress out;
  if (!port_text.empty()) {
    unsigned value = 0;
    const auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() || value > 65535) {
      return fail(quoted + " has an invalid port: must be 0..65535");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) {
    return fail(quoted + " is not an IP address and port: write e.g. 127.0.0.1:9477 or [::1]:9477");
  }
  out.ip = address.to_string();
  out.loopback =
      address.is_loopback() ||
      (address.is_v6() && address.to_v6().is_v4_mapped() &&
       boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback());
  if (!out.loopback && !allow_remote) {
    return fail(quoted +
                " is not a loopback address: metrics would be reachable from the network; set "
                "allow_remote = true to allow it");
  }
  return out;
}

}  // namespace egressguard::metrics
