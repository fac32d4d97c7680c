#include "filter/datapath/dnsproxy/dns_proxy_core.h"

#include <chrono>
#include <utility>

#include "filter/datapath/dnsproxy/dns_message.h"

namespace egressguard::dnsproxy {

namespace {

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// EDE extra text must be readable: anything outside printable ASCII becomes '?'.
void append_printable(std::string& out, std::string_view text) {
  for (const char c : text) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
}

std::string category_text(const inspect::PolicySnapshot& policy,
                          const inspect::Decision& decision) {
  if (decision.reason.kind == inspect::ReasonKind::Rule &&
      decision.reason.category < policy.categories().size()) {
    return "category " + policy.categories()[decision.reason.category].name;
  }
  return "policy";
}

// Collects what answer inspection needs from the answer section.
class Inspection : public ResponseVisitor {
 public:
  Inspection(const inspect::PolicySnapshot& policy, std::uint32_t group,
             const PendingQuery& pending, AnswerAddressHook* hook)
      : policy_(policy), group_(group), pending_(pending), hook_(hook) {}

  void on_cname(std::string_view owner, std::string_view target) override {
    static_cast<void>(owner);
    if (blocked_) {
      return;
    }
    if (hook_ != nullptr && cnames_.size() < kMaxHookCnames) {
      cnames_.emplace_back(target);
    }
    const inspect::Decision decision = policy_.decide_raw_name(target, group_);
    if (decision.verdict == inspect::Verdict::Block) {
      if (decision.mode == inspect::Mode::Enforce) {
        blocked_ = true;
        cause_ = BlockCause::Cname;
      } else if (!would_block_) {
        would_block_ = true;
        cause_ = BlockCause::Cname;
      } else {
        return;
      }
      decision_ = decision;
      cname_target_.assign(target);
      has_address_ = false;
    }
  }

  void on_address(std::string_view owner, const parse::IpAddress& address) override {
    if (blocked_ || hook_ == nullptr) {
      return;
    }
    const AnswerAddressContext context{&policy_, group_, pending_.qname, owner, cnames_};
    const inspect::Decision decision = hook_->decide_answer_address(context, address);
    if (decision.verdict == inspect::Verdict::Block) {
      if (decision.mode == inspect::Mode::Enforce) {
        blocked_ = true;
      } else if (!would_block_) {
        would_block_ = true;
      } else {
        return;
      }
      cause_ = BlockCause::Address;
      decision_ = decision;
      decision_.group = group_;
      cname_target_.clear();
      address_ = address;
      has_address_ = true;
    } else if (decision.reason.kind == inspect::ReasonKind::GeoFlag && !flagged_) {
      flagged_ = true;
      flag_decision_ = decision;
      flag_decision_.group = group_;
      flag_address_ = address;
    }
  }

  bool blocked() const noexcept { return blocked_; }
  bool would_block() const noexcept { return would_block_ && !blocked_; }
  BlockCause cause() const noexcept { return cause_; }
  const inspect::Decision& decision() const noexcept { return decision_; }
  const std::string& cname_target() const noexcept { return cname_target_; }
  // The answer address that decided (cause Address), else null.
  const parse::IpAddress* address() const noexcept { return has_address_ ? &address_ : nullptr; }
  // The first address in one of the group's flag_countries, else null.
  const parse::IpAddress* flagged() const noexcept { return flagged_ ? &flag_address_ : nullptr; }
  const inspect::Decision& flag_decision() const noexcept { return flag_decision_; }

 private:
  const inspect::PolicySnapshot& policy_;
  std::uint32_t group_;
  const PendingQuery& pending_;
  AnswerAddressHook* hook_;
  bool blocked_ = false;
  bool would_block_ = false;
  bool has_address_ = false;
  bool flagged_ = false;
  BlockCause cause_ = BlockCause::Cname;
  inspect::Decision decision_;
  std::string cname_target_;
  parse::IpAddress address_;
  inspect::Decision flag_decision_;
  parse::IpAddress flag_address_;
  std::vector<std::string> cnames_;  // for the hook
};

}  // namespace

void DnsProxyCounters::add(const DnsProxyStats& stats) noexcept {
#define EGRESSGUARD_DNSPROXY_ADD(name) name += stats.name.load(std::memory_order_relaxed);
  EGRESSGUARD_DNSPROXY_COUNTERS(EGRESSGUARD_DNSPROXY_ADD)
#undef EGRESSGUARD_DNSPROXY_ADD
}

void DnsProxyCounters::for_each(
    const std::function<void(std::string_view, std::uint64_t)>& fn) const {
#define EGRESSGUARD_DNSPROXY_EACH(name) fn(#name, name);
  EGRESSGUARD_DNSPROXY_COUNTERS(EGRESSGUARD_DNSPROXY_EACH)
#undef EGRESSGUARD_DNSPROXY_EACH
}

std::uint64_t DnsLatencyCounts::Series::count() const noexcept {
  std::uint64_t n = 0;
  for (const std::uint64_t b : buckets) {
    n += b;
  }
  return n;
}

void DnsLatency::add_to(DnsLatencyCounts& out) const noexcept {
  for (std::size_t o = 0; o < kLatencyOutcomeCount; ++o) {
    const Histogram& h = by_outcome_[o];
    DnsLatencyCounts::Series& series = out.by_outcome[o];
    for (std::size_t i = 0; i < h.buckets.size(); ++i) {
      series.buckets[i] += h.buckets[i].load(std::memory_order_relaxed);
    }
    series.sum_ns += h.sum_ns.load(std::memory_order_relaxed);
  }
}

std::string_view describe(LatencyOutcome outcome) noexcept {
  switch (outcome) {
    case LatencyOutcome::Answered:
      return "answered";
    case LatencyOutcome::Servfail:
      return "servfail";
    case LatencyOutcome::Dropped:
      break;
  }
  return "dropped";
}

std::string_view describe(BlockCause cause) noexcept {
  switch (cause) {
    case BlockCause::List:
      return "list";
    case BlockCause::Cname:
      return "cname";
    case BlockCause::AntiBypass:
      return "anti_bypass";
    case BlockCause::Address:
      return "address";
  }
  return "list";
}

const std::array<AntiBypassName, 4>& anti_bypass_names() noexcept {
  static const std::array<AntiBypassName, 4> kNames = {{
      {"use-application-dns.net", kRcodeNxDomain, "Firefox DoH canary"},
      {"mask.icloud.com", kRcodeNxDomain, "iCloud Private Relay"},
      {"mask-h2.icloud.com", kRcodeNxDomain, "iCloud Private Relay"},
      {"_dns.resolver.arpa", kRcodeNoError, "DDR encrypted resolver discovery"},
  }};
  return kNames;
}

DnsProxyCore::DnsProxyCore(DnsProxyConfig config, inspect::PolicyStore& store, DnsEventSink* events,
                           AnswerAddressHook* hook)
    : config_(std::move(config)), store_(store), events_(events), hook_(hook) {}

std::vector<std::uint8_t> DnsProxyCore::answer_or_header(ByteSpan query,
                                                         const AnswerOptions& options,
                                                         std::uint8_t fallback_rcode,
                                                         DnsProxyStats& stats) const {
  auto answer = build_answer(query, options);
  if (answer) {
    return std::move(*answer);
  }
  bump(stats.answer_failures);
  return header_only_answer(query, fallback_rcode);
}

inspect::Observation DnsProxyCore::observation(const ClientInfo& client, std::string_view qname,
                                               std::uint16_t qtype,
                                               const inspect::Decision& decision,
                                               const inspect::PolicySnapshot& policy,
                                               const parse::IpAddress* dest) const noexcept {
  inspect::Observation o;
  o.ts_us = now_us();
  o.src = client.ip;
  o.sport = client.port;
  if (dest != nullptr) {
    o.dst = *dest;  // an answer address decided: the event says which (dest_ip, dest_country)
    o.dport = 0;
  } else {
    o.dst = client.local;
    o.dport = client.local_port;
  }
  o.l4 = client.tcp ? 6 : 17;
  o.app = inspect::AppProto::Dns;
  o.name = qname;
  o.dns_qtype = qtype;
  o.decision = decision;
  o.policy = &policy;
  o.flow_id = next_event_id_.fetch_add(1, std::memory_order_relaxed);
  return o;
}

void DnsProxyCore::emit(const ClientInfo& client, std::string_view qname, std::uint16_t qtype,
                        const inspect::Decision& decision, const inspect::PolicySnapshot& policy,
                        const DnsBlockInfo& info, DnsProxyStats& stats,
                        const parse::IpAddress* dest) const {
  if (events_ == nullptr) {
    return;
  }
  const inspect::Observation o = observation(client, qname, qtype, decision, policy, dest);
  if (!events_->on_dns_block(o, info)) {
    bump(stats.events_dropped);
  }
}

void DnsProxyCore::report_allow(const PendingQuery& pending, const inspect::Decision& decision,
                                const parse::IpAddress* dest) const noexcept {
  if (events_ == nullptr || !pending.policy) {
    return;
  }
  events_->on_dns_allow(
      observation(pending.client, pending.qname, pending.qtype, decision, *pending.policy, dest));
}

QueryOutcome DnsProxyCore::on_query(ByteSpan query, const ClientInfo& client, PendingQuery& pending,
                                    DnsProxyStats& stats) const {
  bump(client.tcp ? stats.queries_tcp : stats.queries_udp);
  QueryOutcome out;
  parse::DnsNameBuffer qname_buffer{};
  auto parsed = parse_query(query, qname_buffer);
  if (!parsed) {
    switch (parsed.error()) {
      case QueryError::NoHeader:
      case QueryError::NotQuery:
        bump(stats.dropped_malformed);
        return out;
      case QueryError::NotImplemented:
        bump(stats.notimp);
        out.kind = QueryOutcome::Kind::Answer;
        out.answer = header_only_answer(query, kRcodeNotImp);
        return out;
      case QueryError::Malformed:
        bump(stats.formerr);
        out.kind = QueryOutcome::Kind::Answer;
        out.answer = header_only_answer(query, kRcodeFormErr);
        return out;
    }
  }
  const QueryInfo& info = *parsed;
  const std::string_view qname = info.message.qname;
  std::shared_ptr<const inspect::PolicySnapshot> policy = store_.current();
  inspect::SourceIdentity source;
  source.ip = client.ip;
  const std::uint32_t group = policy->resolve_group(source);
  const inspect::CompiledGroup& spec = policy->groups()[group];

  AnswerOptions options;
  options.ttl = config_.block_ttl;
  options.edns = info.edns;
  options.edns_do = info.edns_do;
  options.udp_payload = config_.udp_payload;

  // "Enforced" = enforce mode and at least one blocked category: a group that blocks nothing
  // (byod, guest) is left alone, bypass canaries included.
  if (spec.spec.mode == inspect::Mode::Enforce && !spec.spec.block.empty() &&
      spec.spec.anti_bypass) {
    for (const AntiBypassName& name : anti_bypass_names()) {
      if (same_name(qname, name.name)) {
        options.rcode = name.rcode;
        options.ede =
            ExtendedError{kEdeFiltered, "filtered by egressguard: " + std::string(name.why)};
        bump(stats.blocked_anti_bypass);
        const inspect::Decision decision{
            inspect::Verdict::Block, inspect::Mode::Enforce, group, {}};
        emit(client, qname, info.message.qtype, decision, *policy,
             DnsBlockInfo{BlockCause::AntiBypass,
                          {},
                          name.rcode == kRcodeNxDomain ? "nxdomain" : "nodata",
                          info.edns ? kEdeFiltered : std::uint16_t{0}},
             stats);
        out.kind = QueryOutcome::Kind::Answer;
        out.answer = answer_or_header(query, options, name.rcode, stats);
        return out;
      }
    }
  }

  const inspect::Decision decision = policy->decide_raw_name(qname, group);
  if (decision.verdict == inspect::Verdict::Block) {
    if (decision.mode == inspect::Mode::Enforce) {
      bump(stats.blocked_list);
      switch (config_.block_answer) {
        case BlockAnswer::Nxdomain:
          options.rcode = kRcodeNxDomain;
          break;
        case BlockAnswer::Null:
          options.rcode = kRcodeNoError;
          options.null_address = true;
          break;
        case BlockAnswer::Refused:
          options.rcode = kRcodeRefused;
          break;
      }
      options.ede =
          ExtendedError{kEdeBlocked, "blocked by egressguard: " + category_text(*policy, decision)};
      emit(client, qname, info.message.qtype, decision, *policy,
           DnsBlockInfo{BlockCause::List,
                        {},
                        describe(config_.block_answer),
                        info.edns ? kEdeBlocked : std::uint16_t{0}},
           stats);
      out.kind = QueryOutcome::Kind::Answer;
      out.answer = answer_or_header(query, options, options.rcode, stats);
      return out;
    }
    bump(stats.monitor_would_block);
    emit(client, qname, info.message.qtype, decision, *policy,
         DnsBlockInfo{BlockCause::List, {}, "forwarded", 0}, stats);
  }

  pending.query.assign(query.begin(), query.end());
  pending.client_id = info.message.id;
  pending.qname.assign(qname);
  pending.qtype = info.message.qtype;
  pending.qclass = info.message.qclass;
  pending.edns = info.edns;
  pending.edns_do = info.edns_do;
  pending.max_udp_answer = info.max_udp_answer();
  pending.group = group;
  pending.policy = std::move(policy);
  pending.client = client;
  pending.decision = decision;
  out.kind = QueryOutcome::Kind::Forward;
  return out;
}

Result<std::vector<std::uint8_t>, ResponseError> DnsProxyCore::on_response(
    const PendingQuery& pending, ByteSpan response, DnsProxyStats& stats) const {
  parse::DnsNameBuffer qname_buffer{};
  const inspect::PolicySnapshot& policy = *pending.policy;
  Inspection inspection(policy, pending.group, pending, hook_);
  auto scan = scan_response(response, qname_buffer, &inspection);
  if (!scan) {
    // A truncated UDP answer may stop anywhere: only its header and question count.
    parse::DnsNameBuffer buffer{};
    auto header = parse::parse_dns_message(response, buffer);
    if (header && header->qr && header->tc && same_name(header->qname, pending.qname)) {
      return fail(ResponseError::Truncated);
    }
    return fail(ResponseError::Malformed);
  }
  const parse::DnsMessage& header = scan->header;
  if (!header.qr || header.qdcount != 1 || header.qtype != pending.qtype ||
      header.qclass != pending.qclass || !same_name(header.qname, pending.qname)) {
    return fail(ResponseError::Mismatch);
  }
  if (header.tc) {
    return fail(ResponseError::Truncated);
  }
  const inspect::CompiledGroup& group = policy.groups()[pending.group];
  const ByteSpan query(pending.query);

  if (inspection.blocked()) {
    AnswerOptions options;
    options.ttl = config_.block_ttl;
    options.edns = pending.edns;
    options.edns_do = pending.edns_do;
    options.udp_payload = config_.udp_payload;
    std::uint16_t ede = kEdeFiltered;
    std::string text = "filtered by egressguard: answer address";
    if (const parse::IpAddress* address = inspection.address(); address != nullptr) {
      text += " " + address->to_string();
      const std::string rule = inspect::rule_text(policy, inspection.decision());
      if (!rule.empty()) {
        text += ", " + rule;
      }
    }
    if (inspection.cause() == BlockCause::Cname) {
      bump(stats.blocked_cname);
      ede = kEdeBlocked;
      text = "blocked by egressguard: CNAME target ";
      append_printable(text, inspection.cname_target());
      text += ", " + category_text(policy, inspection.decision());
    } else {
      bump(stats.blocked_address);
    }
    switch (config_.block_answer) {
      case BlockAnswer::Nxdomain:
        options.rcode = kRcodeNxDomain;
        break;
      case BlockAnswer::Null:
        options.null_address = true;
        break;
      case BlockAnswer::Refused:
        options.rcode = kRcodeRefused;
        break;
    }
    options.ede = ExtendedError{ede, std::move(text)};
    emit(pending.client, pending.qname, pending.qtype, inspection.decision(), policy,
         DnsBlockInfo{inspection.cause(), inspection.cname_target(), describe(config_.block_answer),
                      pending.edns ? ede : std::uint16_t{0}},
         stats, inspection.address());
    std::vector<std::uint8_t> answer = answer_or_header(query, options, options.rcode, stats);
    answer[0] = static_cast<std::uint8_t>(pending.client_id >> 8);
    answer[1] = static_cast<std::uint8_t>(pending.client_id & 0xffU);
    return answer;
  }
  // A question already reported as would-block (monitor group) is not reported again.
  bool report = pending.decision.verdict == inspect::Verdict::Allow;
  if (inspection.would_block()) {
    bump(stats.monitor_would_block);
    emit(pending.client, pending.qname, pending.qtype, inspection.decision(), policy,
         DnsBlockInfo{inspection.cause(), inspection.cname_target(), "forwarded", 0}, stats,
         inspection.address());
    report = false;
  }

  std::vector<std::uint8_t> answer;
  if (scan->has_ech && group.spec.strip_ech) {
    auto stripped = strip_ech(response);
    if (!stripped) {
      bump(stats.ech_strip_failures);
      return servfail_answer(pending, stats, report);
    }
    bump(stats.ech_stripped);
    answer = std::move(*stripped);
  } else {
    answer.assign(response.begin(), response.end());
  }
  answer[0] = static_cast<std::uint8_t>(pending.client_id >> 8);
  answer[1] = static_cast<std::uint8_t>(pending.client_id & 0xffU);
  if (report) {
    const parse::IpAddress* flagged = inspection.flagged();
    if (flagged != nullptr && events_ != nullptr) {
      const inspect::Observation o = observation(pending.client, pending.qname, pending.qtype,
                                                 inspection.flag_decision(), policy, flagged);
      if (!events_->on_dns_flag(o, DnsBlockInfo{BlockCause::Address, {}, "forwarded", 0})) {
        bump(stats.events_dropped);
      }
    }
    report_allow(pending, flagged != nullptr ? inspection.flag_decision() : pending.decision,
                 flagged);
  }
  if (!pending.client.tcp && answer.size() > pending.max_udp_answer) {
    bump(stats.truncated_to_client);
    AnswerOptions options;
    options.rcode = header.rcode;
    options.truncated = true;
    options.edns = pending.edns;
    options.edns_do = pending.edns_do;
    options.udp_payload = config_.udp_payload;
    std::vector<std::uint8_t> cut = answer_or_header(query, options, header.rcode, stats);
    return cut;
  }
  bump(stats.answered_upstream);
  return answer;
}

std::vector<std::uint8_t> DnsProxyCore::servfail(const PendingQuery& pending,
                                                 DnsProxyStats& stats) const {
  return servfail_answer(pending, stats, pending.decision.verdict == inspect::Verdict::Allow);
}

std::vector<std::uint8_t> DnsProxyCore::servfail_answer(const PendingQuery& pending,
                                                        DnsProxyStats& stats, bool report) const {
  if (report) {
    report_allow(pending, pending.decision, nullptr);
  }
  bump(stats.servfail);
  AnswerOptions options;
  options.rcode = kRcodeServFail;
  options.edns = pending.edns;
  options.edns_do = pending.edns_do;
  options.udp_payload = config_.udp_payload;
  options.ede = ExtendedError{kEdeNoReachableAuthority, "egressguard: no upstream answered"};
  std::vector<std::uint8_t> answer =
      answer_or_header(ByteSpan(pending.query), options, kRcodeServFail, stats);
  answer[0] = static_cast<std::uint8_t>(pending.client_id >> 8);
  answer[1] = static_cast<std::uint8_t>(pending.client_id & 0xffU);
  return answer;
}

}  // namespace egressguard::dnsproxy
