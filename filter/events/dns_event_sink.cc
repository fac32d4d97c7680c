#include "filter/events/dns_event_sink.h"

#include "base/json.h"

namespace egressguard::events {

void append_dns_fields(std::string& line, const dnsproxy::DnsBlockInfo& info, bool blocked) {
  if (line.empty() || line.back() != '}') {
    return;
  }
  line.pop_back();
  line += ",\"dns_answer\":";
  append_json_string(line, info.answer);
  if (info.ede != 0) {
    line += ",\"ede\":" + std::to_string(info.ede);
  }
  if (blocked) {
    line += ",\"block_cause\":";
    append_json_string(line, dnsproxy::describe(info.cause));
  }
  if (!info.cname_target.empty()) {
    line += ",\"cname_target\":";
    append_json_string(line, info.cname_target);
  }
  line += "}";
}

}  // namespace egressguard::events
