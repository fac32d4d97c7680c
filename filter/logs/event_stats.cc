#include "filter/logs/event_stats.h"

#include <algorithm>

#include "filter/logs/event_filter.h"

namespace egressguard::logs {

namespace {

// Appends a string field's decoded bytes, or kNoValue when it is null, absent or undecodable.
void append_value(std::string& out, const RawValue& value) {
  const std::size_t size = out.size();
  if (!value.is_string()) {
    out.append(kNoValue);
  } else if (!value.escaped) {
    out.append(value.raw);
  } else if (!append_json_unescaped(out, value.raw)) {
    out.resize(size);
    out.append(kNoValue);
  }
}

}  // namespace

std::uint64_t event_weight(const EventLine& event) noexcept {
  const std::uint64_t n = raw_uint(event.count, 1);
  return n == 0 ? 1 : n;
}

void Tally::add(std::string_view key, std::uint64_t n) {
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    counts_.emplace(std::string(key), n);
  } else {
    it->second += n;
  }
}

std::vector<std::pair<std::string, std::uint64_t>> Tally::top(std::size_t limit) const {
  std::vector<std::pair<std::string, std::uint64_t>> rows(counts_.begin(), counts_.end());
  auto order = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (limit != 0 && limit < rows.size()) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(limit), rows.end(),
                      order);
    rows.resize(limit);
  } else {
    std::sort(rows.begin(), rows.end(), order);
  }
  return rows;
}

bool parse_top_field(std::string_view text, TopField& out) noexcept {
  if (text == "name") {
    out = TopField::Name;
  } else if (text == "src") {
    out = TopField::Src;
  } else if (text == "group") {
    out = TopField::Group;
  } else if (text == "category") {
    out = TopField::Category;
  } else {
    return false;
  }
  return true;
}

void append_count_key(std::string& out, const EventLine& event, TopField field) {
  switch (field) {
    case TopField::Name: {
      if (!event.name.is_string()) {
        out.append(kNoValue);
        return;
      }
      std::string decoded;
      std::string_view bytes = event.name.raw;
      if (event.name.escaped) {
        if (!append_json_unescaped(decoded, event.name.raw)) {
          out.append(kNoValue);
          return;
        }
        bytes = decoded;
      }
      append_name_key(out, bytes);
      return;
    }
    case TopField::Src:
      append_value(out, event.src_ip);
      return;
    case TopField::Group:
      append_value(out, event.group);
      return;
    case TopField::Category:
      append_value(out, event.category);
      return;
  }
}

void Stats::add(const EventLine& event) {
  const std::uint64_t n = event_weight(event);
  ++lines;
  events += n;
  first_us = std::min(first_us, event.ts_us);
  last_us = std::max(last_us, event.ts_us);
  auto count = [&](Tally& tally, const RawValue& value) {
    scratch_.clear();
    append_value(scratch_, value);
    tally.add(scratch_, n);
  };
  count(by_action, event.action);
  count(by_type, event.event_type);
  count(by_group, event.group);
  count(by_category, event.category);
  count(by_datapath, event.datapath);
}

}  // namespace egressguard::logs
