// libFuzzer target for the DNS proxy's request handling (DnsProxyCore, without the Asio server):
// a client's query (on_query: parse, policy, anti-bypass names, made-up answers) and, when it is
// forwarded, the upstream's answer to it (on_response: ID and question check, CNAME and address
// inspection, ech stripping, TC cut for UDP clients) and the SERVFAIL path.
// Input: byte 0 picks the client's group, transport and block answer; bytes 1-2 the query length
// (big-endian); then the query, then the upstream's answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <unistd.h>

#include "filter/datapath/dnsproxy/dns_message.h"
#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/inspect/policy.h"

namespace {

using namespace egressguard;

// Groups: gov (10.1/16: blocks tiktok, strips ech, anti-bypass), watch (10.3/16: monitors
// tiktok), byod (default: nothing). The list covers suffix, exact and exception rules.
inspect::PolicyStore& store() {
  static inspect::PolicyStore* const kStore = [] {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("egressguard-dns-proxy-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto list = dir / "tiktok.txt";
    std::ofstream(list) << "*.tiktok.com\n*.tiktokv.com\nbytedance.com\n";
    inspect::PolicySpec spec;
    inspect::CategorySpec tiktok;
    tiktok.name = "tiktok";
    inspect::ListSpec list_spec;
    list_spec.name = "tiktok-list";
    list_spec.path = list.string();
    tiktok.lists.push_back(list_spec);
    spec.categories.push_back(tiktok);
    inspect::GroupSpec gov;
    gov.name = "gov";
    gov.members.cidrs.push_back(*inspect::Cidr::parse("10.1.0.0/16"));
    gov.block = {"tiktok"};
    gov.strip_ech = true;
    inspect::GroupSpec watch;
    watch.name = "watch";
    watch.members.cidrs.push_back(*inspect::Cidr::parse("10.3.0.0/16"));
    watch.block = {"tiktok"};
    watch.mode = inspect::Mode::Monitor;
    inspect::GroupSpec byod;
    byod.name = "byod";
    byod.members.cidrs.push_back(*inspect::Cidr::parse("10.2.0.0/16"));
    byod.anti_bypass = false;
    spec.groups = {gov, watch, byod};
    spec.default_group = "byod";
    auto snapshot = inspect::PolicySnapshot::build(spec);
    std::filesystem::remove_all(dir);
    if (!snapshot) {
      std::abort();
    }
    return new inspect::PolicyStore(*snapshot);
  }();
  return *kStore;
}

class CheckingSink : public dnsproxy::DnsEventSink {
 public:
  bool on_dns_block(const inspect::Observation& o,
                    const dnsproxy::DnsBlockInfo& info) noexcept override {
    for (const char c : o.name) {
      sum_ += static_cast<unsigned char>(c);
    }
    for (const char c : info.cname_target) {
      sum_ += static_cast<unsigned char>(c);
    }
    return (sum_ & 1U) == 0;  // sometimes "queue full"
  }
  unsigned sum_ = 0;
};

// Blocks one address so the address path is reachable.
class BlockingHook : public dnsproxy::AnswerAddressHook {
 public:
  inspect::Verdict on_answer_address(const dnsproxy::AnswerAddressContext& context,
                                     const parse::IpAddress& address) noexcept override {
    if (context.cnames.size() > dnsproxy::kMaxHookCnames) {
      std::abort();
    }
    return address.is_v4() && address.bytes[0] == 6 ? inspect::Verdict::Block
                                                    : inspect::Verdict::Allow;
  }
};

void check_answer(const std::vector<std::uint8_t>& answer, std::size_t limit) {
  if (answer.size() < dnsproxy::kDnsHeaderSize || answer.size() > limit) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  const std::uint8_t knobs = data[0];
  const std::size_t query_size =
      std::min<std::size_t>(size - 3, std::size_t{data[1]} << 8 | data[2]);
  const ByteSpan query(data + 3, query_size);
  const ByteSpan response(data + 3 + query_size, size - 3 - query_size);

  dnsproxy::DnsProxyConfig config;
  config.block_answer = static_cast<dnsproxy::BlockAnswer>((knobs >> 2) % 3);
  CheckingSink sink;
  BlockingHook hook;
  const dnsproxy::DnsProxyCore core(config, store(), &sink, &hook);
  dnsproxy::ClientInfo client;
  static const char* const kClients[] = {"10.1.0.5", "10.3.0.5", "10.2.0.5", "2001:db8::5"};
  client.ip = *parse::IpAddress::parse(kClients[knobs & 3]);
  client.port = 40000;
  client.local = *parse::IpAddress::parse("10.8.0.1");
  client.local_port = 53;
  client.tcp = (knobs & 0x20) != 0;

  dnsproxy::DnsProxyStats stats;
  dnsproxy::PendingQuery pending;
  const auto outcome = core.on_query(query, client, pending, stats);
  switch (outcome.kind) {
    case dnsproxy::QueryOutcome::Kind::Drop:
      return 0;
    case dnsproxy::QueryOutcome::Kind::Answer:
      check_answer(outcome.answer, 65535);
      return 0;
    case dnsproxy::QueryOutcome::Kind::Forward:
      break;
  }
  if (pending.policy == nullptr || pending.query.empty()) {
    std::abort();
  }
  const std::size_t limit = client.tcp ? 65535 : pending.max_udp_answer;
  auto answer = core.on_response(pending, response, stats);
  if (answer) {
    check_answer(*answer, limit);  // a UDP client never gets more than it accepts
  }
  check_answer(core.servfail(pending, stats), 65535);
  return 0;
}
