// libFuzzer target for parse_dns_message, read_dns_name and the DNS-over-TCP framing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "base/byte_reader.h"
#include "filter/parse/dns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::parse;
  const egressguard::ByteSpan message(data, size);
  DnsNameBuffer buffer{};
  const auto parsed = parse_dns_message(message, buffer);
  if (parsed.has_value()) {
    if (parsed->qname.size() > 253 || parsed->question_end > size) {
      std::abort();
    }
    // Walk the names that follow, as the DNS proxy does for answers.
    std::size_t offset = parsed->question_end;
    for (int i = 0; i < 8 && offset < size; ++i) {
      const std::size_t before = offset;
      if (!read_dns_name(message, offset, buffer).has_value()) {
        break;
      }
      if (offset <= before || offset > size) {
        std::abort();
      }
    }
  }
  egressguard::ByteReader stream(message);
  while (const auto next = next_tcp_dns_message(stream)) {
    static_cast<void>(parse_dns_message(*next, buffer));
  }
  return 0;
}
