#include "filter/app/explain.h"

#include "base/json.h"

namespace egressguard::app {

std::string explain_text(const inspect::PolicySnapshot& policy, std::string_view name,
                         const inspect::Decision& decision) {
  const auto& group = policy.groups()[decision.group].spec;
  std::string out = std::string(name) + " for group " + group.name + ": " +
                    std::string(inspect::describe(decision.verdict)) + " (mode " +
                    std::string(inspect::describe(decision.mode)) + ")\n";
  if (decision.reason.kind != inspect::ReasonKind::Rule) {
    out += "  reason:   no rule of the group's categories matches this name\n";
    return out;
  }
  const auto& category = policy.categories()[decision.reason.category];
  const auto& list = policy.list(decision.reason.list);
  out += "  rule:     " + inspect::rule_text(policy, decision) +
         (decision.reason.exception ? " (exception)\n" : "\n");
  out += "  list:     " + list.path + ":" + std::to_string(decision.reason.line) + "\n";
  out += "  category: " + category.name;
  if (!category.title.empty()) {
    out += " - " + category.title;
  }
  out += "\n";
  if (!category.owner.empty() || !category.jurisdiction.empty()) {
    out += "  owner:    " + category.owner +
           (category.jurisdiction.empty() ? "" : ", jurisdiction ") + category.jurisdiction + "\n";
  }
  return out;
}

std::string explain_json(const inspect::PolicySnapshot& policy, std::string_view name,
                         const inspect::Decision& decision) {
  const auto& group = policy.groups()[decision.group].spec;
  std::string out = "{\"name\":";
  append_json_string(out, name);
  out += ",\"group\":";
  append_json_string(out, group.name);
  out += ",\"action\":\"" + std::string(inspect::describe(decision.verdict)) + "\"";
  out += ",\"mode\":\"" + std::string(inspect::describe(decision.mode)) + "\"";
  out += ",\"reason\":\"" + std::string(inspect::describe(decision.reason.kind)) + "\"";
  if (decision.reason.kind == inspect::ReasonKind::Rule) {
    const auto& category = policy.categories()[decision.reason.category];
    const auto& list = policy.list(decision.reason.list);
    out += ",\"category\":";
    append_json_string(out, category.name);
    out += ",\"rule\":";
    append_json_string(out, inspect::rule_text(policy, decision));
    out += ",\"list\":";
    append_json_string(out, list.path);
    out += ",\"line\":" + std::to_string(decision.reason.line);
    out += ",\"exception\":";
    out += decision.reason.exception ? "true" : "false";
    out += ",\"owner\":";
    append_json_string(out, category.owner);
    out += ",\"jurisdiction\":";
    append_json_string(out, category.jurisdiction);
  } else {
    out += ",\"category\":null,\"rule\":null,\"list\":null,\"line\":null,\"exception\":false";
  }
  out += "}";
  return out;
}

}  // namespace egressguard::app
