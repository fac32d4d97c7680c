#include "geoip/ip_list.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <arpa/inet.h>

namespace egressguard::geoip {

namespace {

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::optional<std::uint32_t> parse_asn(std::string_view text, std::string* why, bool bare_ok) {
  auto error = [&](std::string message) -> std::optional<std::uint32_t> {
    if (why != nullptr) {
      *why = std::move(message);
    }
    return std::nullopt;
  };
  std::string_view digits = text;
  if (digits.size() >= 2 && (digits[0] == 'A' || digits[0] == 'a') &&
      (digits[1] == 'S' || digits[1] == 's')) {
    digits.remove_prefix(2);
  } else if (!bare_ok) {
    return error("expected an ASN such as AS396986");
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return error("expected an ASN such as AS396986");
  }
  if (value == 0 || value > kMaxAsn) {
    return error("out of range: an ASN is 1..4294967294");
  }
  return static_cast<std::uint32_t>(value);
}

bool IpPrefix::contains(ByteSpan address) const noexcept {
  if ((family == 4 && address.size() != 4) || (family == 6 && address.size() != 16) ||
      family == 0) {
    return false;
  }
  const std::size_t whole = length / 8U;
  for (std::size_t i = 0; i < whole; ++i) {
    if (address[i] != bytes[i]) {
      return false;
    }
  }
  const unsigned rest = length % 8U;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xffU << (8U - rest));
  return (address[whole] & mask) == bytes[whole];
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, std::string* why) {
  auto error = [&](std::string message) -> std::optional<IpPrefix> {
    if (why != nullptr) {
      *why = std::move(message);
    }
    return std::nullopt;
  };
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return error("expected a prefix such as 192.0.2.0/24 or 2001:db8::/32");
  }
  const std::string address(text.substr(0, slash));
  const std::string_view length_text = text.substr(slash + 1);
  IpPrefix out;
  unsigned max = 0;
  if (::inet_pton(AF_INET, address.c_str(), out.bytes.data()) == 1) {
    out.family = 4;
    max = 32;
  } else if (::inet_pton(AF_INET6, address.c_str(), out.bytes.data()) == 1) {
    out.family = 6;
    max = 128;
  } else {
    return error("\"" + address + "\" is not an IPv4 or IPv6 address");
  }
  unsigned length = 0;
  const auto [end, ec] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (length_text.empty() || ec != std::errc() || end != length_text.data() + length_text.size() ||
      length > max) {
    return error("prefix length \"" + std::string(length_text) + "\" is not 0.." +
                 std::to_string(max));
  }
  out.length = static_cast<std::uint8_t>(length);
  const std::size_t size = out.family == 4 ? 4 : 16;
  for (std::size_t bit = length; bit < size * 8; ++bit) {
    if ((out.bytes[bit / 8] & (0x80U >> (bit % 8))) != 0) {
      return error("host bits are set: the network is not aligned to /" + std::to_string(length));
    }
  }
  return out;
}

std::string IpPrefix::to_string() const {
  std::array<char, INET6_ADDRSTRLEN> text{};
  ::inet_ntop(family == 4 ? AF_INET : AF_INET6, bytes.data(), text.data(), text.size());
  return std::string(text.data()) + "/" + std::to_string(length);
}

Result<std::optional<IpListEntry>, std::string> parse_ip_list_line(std::string_view line) {
  const std::size_t hash = line.find('#');
  if (hash != std::string_view::npos) {
    line = line.substr(0, hash);
  }
  line = trim(line);
  if (line.empty()) {
    return std::optional<IpListEntry>();
  }
  if (line.find_first_of(" \t") != std::string_view::npos) {
    return fail("\"" + std::string(line) + "\" has more than one field: one ASN or prefix a line");
  }
  IpListEntry entry;
  std::string why;
  if (line.find('/') != std::string_view::npos) {
    auto prefix = IpPrefix::parse(line, &why);
    if (!prefix) {
      return fail("invalid prefix \"" + std::string(line) + "\": " + why);
    }
    entry.prefix = *prefix;
    return std::optional<IpListEntry>(entry);
  }
  auto asn = parse_asn(line, &why);
  if (!asn) {
    return fail("invalid ASN \"" + std::string(line) + "\": " + why);
  }
  entry.asn = *asn;
  return std::optional<IpListEntry>(entry);
}

Result<IpList, std::vector<std::string>> parse_ip_list(std::string_view text,
                                                       const std::string& path) {
  IpList out;
  out.path = path;
  std::vector<std::string> errors;
  std::uint32_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    auto entry = parse_ip_list_line(line);
    if (!entry) {
      errors.push_back(path + ":" + std::to_string(number) + ": " + entry.error());
      continue;
    }
    if (*entry) {
      (*entry)->line = number;
      out.entries.push_back(**entry);
    }
  }
  if (!errors.empty()) {
    return fail(std::move(errors));
  }
  return out;
}

Result<IpList, std::vector<std::string>> load_ip_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(std::vector<std::string>{path + ": cannot open IP list: " + std::strerror(errno)});
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_ip_list(text.str(), path);
}

}  // namespace egressguard::geoip
