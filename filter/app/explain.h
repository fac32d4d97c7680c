// Explanations of decisions for people: which rule, list, file:line and category decided, in
// text or JSON. Used by `egressguard explain` and, later, by the control socket.
#pragma once

#include <string>
#include <string_view>

#include "filter/inspect/policy.h"

namespace egressguard::app {

std::string explain_text(const inspect::PolicySnapshot& policy, std::string_view name,
                         const inspect::Decision& decision);
// One JSON object: name, group, action, mode, reason, category, rule, list, line, exception,
// and the category's owner and jurisdiction.
std::string explain_json(const inspect::PolicySnapshot& policy, std::string_view name,
                         const inspect::Decision& decision);

}  // namespace egressguard::app
