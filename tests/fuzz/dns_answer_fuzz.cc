// Fuzzes what the DNS proxy does with untrusted DNS messages: queries from clients (parse,
// blocked answers built with ldns) and responses from upstreams (the answer walk that checks
// CNAME chains and addresses, and the HTTPS/SVCB `ech` removal).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "filter/datapath/dnsproxy/answer_builder.h"
#include "filter/datapath/dnsproxy/dns_message.h"

namespace {

class CountingVisitor : public egressguard::dnsproxy::ResponseVisitor {
 public:
  void on_cname(std::string_view owner, std::string_view target) override {
    sizes_ += owner.size() + target.size();
  }
  void on_address(std::string_view owner, const egressguard::parse::IpAddress& address) override {
    sizes_ += owner.size() + address.family;
  }
  std::size_t sizes_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard;
  const ByteSpan bytes(data, size);
  parse::DnsNameBuffer qname{};
  if (auto query = dnsproxy::parse_query(bytes, qname); query.has_value()) {
    dnsproxy::AnswerOptions options;
    options.rcode = 3;
    options.edns = (size & 1U) != 0;
    options.ede = dnsproxy::ExtendedError{dnsproxy::kEdeBlocked, "blocked"};
    static_cast<void>(dnsproxy::build_answer(bytes, options));
    options.null_address = true;
    options.rcode = 0;
    static_cast<void>(dnsproxy::build_answer(bytes, options));
  }
  if (size >= 12) {
    const auto header = dnsproxy::header_only_answer(bytes, 1);
    if (header.size() < 12) {
      __builtin_trap();
    }
  }
  CountingVisitor visitor;
  if (auto scan = dnsproxy::scan_response(bytes, qname, &visitor); scan.has_value()) {
    auto stripped = dnsproxy::strip_ech(bytes);
    if (stripped.has_value()) {
      // The rewritten response must still be a well-formed response without ech.
      parse::DnsNameBuffer again{};
      auto rescan =
          dnsproxy::scan_response(ByteSpan(stripped->data(), stripped->size()), again, nullptr);
      if (!rescan.has_value() || rescan->has_ech) {
        __builtin_trap();
      }
    }
  }
  std::vector<std::uint8_t> out(size);
  static_cast<void>(dnsproxy::strip_ech_params(bytes, out.data()));
  static_cast<void>(dnsproxy::params_have_ech(bytes));
  return 0;
}
