#include "filter/events/event_json.h"

#include <array>
#include <cstdio>
#include <ctime>

#include "base/json.h"

namespace egressguard::events {

namespace {

std::string_view dns_type_name(std::uint16_t qtype) noexcept {
  switch (qtype) {
    case 1:
      return "A";
    case 2:
      return "NS";
    case 5:
      return "CNAME";
    case 6:
      return "SOA";
    case 12:
      return "PTR";
    case 15:
      return "MX";
    case 16:
      return "TXT";
    case 28:
      return "AAAA";
    case 33:
      return "SRV";
    case 64:
      return "SVCB";
    case 65:
      return "HTTPS";
    case 255:
      return "ANY";
    default:
      return {};
  }
}

void append_uint(std::string& out, std::uint64_t value) {
  out += std::to_string(value);
}

void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

}  // namespace

std::string_view event_type(const inspect::Observation& o) noexcept {
  if (o.decision.verdict == inspect::Verdict::Block) {
    return "block";
  }
  return o.name.empty() ? "unnamed_flow" : "name";
}

void append_timestamp(std::string& out, std::uint64_t ts_us) {
  const auto seconds = static_cast<std::time_t>(ts_us / 1000000U);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 48> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
                              tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                              tm.tm_sec, static_cast<unsigned>(ts_us % 1000000U));
  out.append(buffer.data(), static_cast<std::size_t>(n > 0 ? n : 0));
}

void append_event_json(std::string& out, const inspect::Observation& o,
                       const EventContext& context) {
  out += "{\"timestamp\":\"";
  append_timestamp(out, o.ts_us);
  out += "\",\"event_type\":\"";
  out += event_type(o);
  out += "\"";
  append_key(out, "sensor");
  append_json_string(out, context.sensor);
  append_key(out, "datapath");
  append_json_string(out, context.datapath);
  append_key(out, "flow_id");
  append_uint(out, o.flow_id);
  append_key(out, "src_ip");
  append_json_string(out, o.src.to_string());
  append_key(out, "src_port");
  append_uint(out, o.sport);
  append_key(out, "dest_ip");
  append_json_string(out, o.dst.to_string());
  append_key(out, "dest_port");
  append_uint(out, o.dport);
  append_key(out, "proto");
  out += o.l4 == 6 ? "\"TCP\"" : o.l4 == 17 ? "\"UDP\"" : "\"" + std::to_string(o.l4) + "\"";
  append_key(out, "app_proto");
  append_json_string(out, inspect::describe(o.app));
  if (!o.interface.empty()) {
    append_key(out, "in_iface");
    append_json_string(out, o.interface);
  }
  if (o.vlan) {
    append_key(out, "vlan");
    append_uint(out, *o.vlan);
  }

  const inspect::PolicySnapshot* policy = o.policy;
  append_key(out, "group");
  if (policy != nullptr && o.decision.group < policy->groups().size()) {
    append_json_string(out, policy->groups()[o.decision.group].spec.name);
  } else {
    out += "null";
  }
  append_key(out, "name");
  if (o.name.empty()) {
    out += "null";
  } else {
    append_json_string(out, o.name);
  }
  if (o.app == inspect::AppProto::Dns) {
    append_key(out, "dns");
    out += "{\"qtype\":";
    append_uint(out, o.dns_qtype);
    const std::string_view type = dns_type_name(o.dns_qtype);
    if (!type.empty()) {
      out += ",\"qtype_name\":\"";
      out += type;
      out += "\"";
    }
    out += "}";
  }
  if (!o.alpn.empty()) {
    append_key(out, "alpn");
    append_json_string(out, o.alpn);
  }
  append_key(out, "action");
  append_json_string(out, inspect::describe(o.decision.verdict));
  append_key(out, "mode");
  append_json_string(out, inspect::describe(o.decision.mode));
  append_key(out, "reason");
  append_json_string(out, inspect::describe(o.decision.reason.kind));

  const bool has_rule = policy != nullptr && o.decision.reason.kind == inspect::ReasonKind::Rule &&
                        o.decision.reason.list < policy->list_count();
  if (has_rule) {
    const auto& category = policy->categories()[o.decision.reason.category];
    append_key(out, "category");
    append_json_string(out, category.name);
    append_key(out, "rule");
    append_json_string(out, inspect::rule_text(*policy, o.decision));
    append_key(out, "list");
    append_json_string(out, policy->list(o.decision.reason.list).path);
    append_key(out, "line");
    append_uint(out, o.decision.reason.line);
    append_key(out, "exception");
    out += o.decision.reason.exception ? "true" : "false";
    if (!category.jurisdiction.empty()) {
      append_key(out, "jurisdiction");
      append_json_string(out, category.jurisdiction);
    }
  } else if (policy != nullptr && inspect::is_address_rule(o.decision.reason.kind)) {
    // A GeoIP/ASN rule of the group, or an IP list of a blocked category.
    const inspect::Reason& reason = o.decision.reason;
    const bool listed = reason.kind == inspect::ReasonKind::IpList &&
                        reason.ip_list < policy->ip_lists().size() &&
                        reason.category < policy->categories().size();
    append_key(out, "category");
    if (listed) {
      append_json_string(out, policy->categories()[reason.category].name);
    } else {
      out += "null";
    }
    append_key(out, "rule");
    append_json_string(out, inspect::rule_text(*policy, o.decision));
    if (listed) {
      append_key(out, "list");
      append_json_string(out, policy->ip_lists()[reason.ip_list].list.path);
      append_key(out, "line");
      append_uint(out, reason.line);
    } else {
      out += ",\"list\":null,\"line\":null";
    }
  } else {
    out += ",\"category\":null,\"rule\":null,\"list\":null,\"line\":null";
  }
  // The destination's GeoIP data ([geoip] databases), whenever they know the address.
  geoip::GeoInfo geo;
  if (policy != nullptr && policy->lookup_geo(o.dst, geo)) {
    if (geo.has_country()) {
      append_key(out, "dest_country");
      append_json_string(out, geo.country_code());
    }
    if (geo.has_asn()) {
      append_key(out, "dest_asn");
      append_uint(out, geo.asn);
      if (geo.org_size != 0) {
        append_key(out, "dest_as_org");
        append_json_string(out, geo.as_org());
      }
    }
  }
  if (policy != nullptr) {
    append_key(out, "policy_version");
    append_uint(out, policy->version());
  }
  append_key(out, "flags");
  out += "[";
  std::array<std::string_view, inspect::kFlowFlagCount> names{};
  const std::size_t n = inspect::flag_names(o.flags, names);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) {
      out += ",";
    }
    append_json_string(out, names[i]);
  }
  if (o.decision.reason.kind == inspect::ReasonKind::GeoFlag) {
    out += n > 0 ? ",\"geo_flag\"" : "\"geo_flag\"";
  }
  out += "]}";
}

}  // namespace egressguard::events
