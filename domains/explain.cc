#include "domains/explain.h"

namespace egressguard::domains {

std::string format_rule(const RuleInfo& rule, ListFormat format) {
  std::string name(rule.name);
  switch (format) {
    case ListFormat::Plain:
    case ListFormat::Hosts:
      switch (rule.kind) {
        case RuleKind::Exact:
          return name;
        case RuleKind::Suffix:
          return "*." + name;
        case RuleKind::Below:
          return "*." + name + " (below)";
      }
      break;
    case ListFormat::Adblock: {
      const std::string prefix = rule.action == Action::Allow ? "@@" : "";
      switch (rule.kind) {
        case RuleKind::Exact:
          return prefix + "|" + name + "^";
        case RuleKind::Suffix:
          return prefix + "||" + name + "^";
        case RuleKind::Below:
          return prefix + "||*." + name + "^";
      }
      break;
    }
    case ListFormat::Rpz: {
      const std::string target = rule.action == Action::Allow ? "rpz-passthru." : ".";
      switch (rule.kind) {
        case RuleKind::Exact:
          return name + " CNAME " + target;
        case RuleKind::Suffix:
          return name + " CNAME " + target + " + *." + name + " CNAME " + target;
        case RuleKind::Below:
          return "*." + name + " CNAME " + target;
      }
      break;
    }
  }
  return name;
}

std::string describe_rule(const RuleInfo& rule) {
  const std::string action(describe(rule.action));
  std::string name(rule.name);
  switch (rule.kind) {
    case RuleKind::Exact:
      return action + " exactly " + name;
    case RuleKind::Suffix:
      return action + " " + name + " and its subdomains";
    case RuleKind::Below:
      return action + " names below " + name;
  }
  return action + " " + name;
}

}  // namespace egressguard::domains
