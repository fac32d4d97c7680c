#include "domains/rule.h"

namespace egressguard::domains {

std::string_view describe(RuleKind kind) noexcept {
  switch (kind) {
    case RuleKind::Exact:
      return "exact";
    case RuleKind::Suffix:
      return "suffix";
    case RuleKind::Below:
      return "below";
  }
  return "unknown";
}

std::string_view describe(Action action) noexcept {
  return action == Action::Allow ? "allow" : "block";
}

std::string_view describe(ListFormat format) noexcept {
  switch (format) {
    case ListFormat::Plain:
      return "plain";
    case ListFormat::Hosts:
      return "hosts";
    case ListFormat::Adblock:
      return "adblock";
    case ListFormat::Rpz:
      return "rpz";
  }
  return "unknown";
}

std::optional<ListFormat> parse_list_format(std::string_view text) noexcept {
  for (const ListFormat format :
       {ListFormat::Plain, ListFormat::Hosts, ListFormat::Adblock, ListFormat::Rpz}) {
    if (text == describe(format)) {
      return format;
    }
  }
  return std::nullopt;
}

}  // namespace egressguard::domains
