// libFuzzer target for the event line reader of `egressguard logs`: parse_event_line on
// arbitrary bytes, then what the query engine does with an accepted line (decode strings,
// filter, format a table row), which must stay terminal-safe.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "filter/logs/event_filter.h"
#include "filter/logs/event_line.h"
#include "filter/logs/event_stats.h"
#include "filter/logs/event_table.h"

namespace {

egressguard::logs::EventFilter make_filter() {
  egressguard::logs::FilterSpec spec;
  spec.groups = {"gov-managed"};
  spec.names = {"*.tiktok.com", "www.example.com"};
  spec.srcs = {"10.0.0.0/8", "2001:db8::/32"};
  spec.since_us = 0;
  auto f = egressguard::logs::EventFilter::compile(spec);
  if (!f) {
    std::abort();
  }
  return std::move(*f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard::logs;
  static EventFilter filter = make_filter();
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  (void)filter.may_match(line);
  auto event = parse_event_line(line);
  if (!event) {
    return 0;
  }
  // Every view lies inside the line.
  for (const RawValue* v : {&event->timestamp, &event->group, &event->name, &event->src_ip,
                            &event->count, &event->rule, &event->list, &event->line}) {
    if (v->kind != RawValue::Kind::Absent &&
        (v->raw.data() < line.data() || v->raw.data() + v->raw.size() > line.data() + size)) {
      std::abort();
    }
  }
  (void)filter.matches(*event);
  std::string scratch;
  std::string row;
  append_table_row(row, *event, scratch);
  for (std::size_t i = 0; i + 1 < row.size(); ++i) {
    const auto c = static_cast<unsigned char>(row[i]);
    if (c < 0x20 || c >= 0x7f) {
      std::abort();  // a control byte would reach the analyst's terminal
    }
  }
  std::string key;
  for (const TopField f : {TopField::Name, TopField::Src, TopField::Group, TopField::Category}) {
    key.clear();
    append_count_key(key, *event, f);
  }
  (void)event_weight(*event);
  return 0;
}
