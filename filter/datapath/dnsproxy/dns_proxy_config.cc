#include "filter/datapath/dnsproxy/dns_proxy_config.h"

#include <charconv>

namespace egressguard::dnsproxy {

std::string_view describe(BlockAnswer answer) noexcept {
  switch (answer) {
    case BlockAnswer::Nxdomain:
      return "nxdomain";
    case BlockAnswer::Null:
      return "null";
    case BlockAnswer::Refused:
      return "refused";
  }
  return "nxdomain";
}

std::optional<BlockAnswer> parse_block_answer(std::string_view text) noexcept {
  if (text == "nxdomain") {
    return BlockAnswer::Nxdomain;
  }
  if (text == "null") {
    return BlockAnswer::Null;
  }
  if (text == "refused") {
    return BlockAnswer::Refused;
  }
  return std::nullopt;
}

std::string Endpoint::to_string() const {
  return ip.is_v6() ? "[" + ip.to_string() + "]:" + std::to_string(port)
                    : ip.to_string() + ":" + std::to_string(port);
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port,
                                       std::string* why) {
  auto set_why = [&](const char* reason) {
    if (why != nullptr) {
      *why = reason;
    }
    return std::nullopt;
  };
  std::string_view address = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return set_why("missing ']' after an IPv6 address");
    }
    address = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || rest.size() == 1) {
        return set_why("expected :PORT after ']'");
      }
      port = rest.substr(1);
    }
  } else if (const std::size_t colon = text.find(':');
             colon != std::string_view::npos &&
             text.find(':', colon + 1) == std::string_view::npos) {
    address = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  Endpoint endpoint;
  endpoint.port = default_port;
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return set_why("the port must be a number 1..65535");
    }
    endpoint.port = static_cast<std::uint16_t>(value);
  }
  auto ip = parse::IpAddress::parse(address);
  if (!ip) {
    return set_why("not an IPv4 or IPv6 address (write IPv6 with a port as [addr]:port)");
  }
  endpoint.ip = *ip;
  return endpoint;
}

}  // namespace egressguard::dnsproxy
