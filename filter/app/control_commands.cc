#include "filter/app/control_commands.h"

#include <vector>

#include "domains/name.h"
#include "filter/app/control_command.h"
#include "filter/app/explain.h"

namespace egressguard::app {

std::string control_explain(const inspect::PolicySnapshot& policy, std::string_view arguments) {
  std::vector<std::string_view> words;
  while (!arguments.empty()) {
    const std::size_t start = arguments.find_first_not_of(kControlBlanks);
    if (start == std::string_view::npos) {
      break;
    }
    arguments.remove_prefix(start);
    const std::size_t end = arguments.find_first_of(kControlBlanks);
    words.push_back(arguments.substr(0, end));
    arguments.remove_prefix(end == std::string_view::npos ? arguments.size() : end);
  }
  bool text = false;
  if (!words.empty() && words.front() == "--text") {
    text = true;
    words.erase(words.begin());
  }
  if (words.size() != 2) {
    return "error usage: explain [--text] GROUP NAME\n";
  }
  const int group = policy.find_group(words[0]);
  if (group < 0) {
    std::string known;
    for (const auto& g : policy.groups()) {
      known += known.empty() ? "" : ", ";
      known += g.spec.name;
    }
    return "error group \"" + domains::escape_for_message(words[0]) +
           "\" is not a configured group: expected one of " + known + "\n";
  }
  auto name = domains::normalize_rule_name(words[1]);
  if (!name) {
    return "error " + name.error() + "\n";
  }
  const auto decision = policy.decide_name(*name, static_cast<std::uint32_t>(group));
  if (text) {
    return "ok\n" + explain_text(policy, *name, decision);
  }
  return "ok\n" + explain_json(policy, *name, decision) + "\n";
}

std::string nfqueue_stats_text(const nfqueue::NfqueueStats& s) {
  std::string out;
  const auto line = [&](std::string_view name, std::uint64_t value) {
    out += "nfqueue_";
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  line("packets", s.packets);
  line("allowed", s.allowed);
  line("dropped", s.dropped);
  line("rejected", s.rejected);
  line("undecided", s.undecided);
  line("decode_errors", s.decode_errors);
  line("verdict_batches", s.verdict_batches);
  line("enobufs", s.enobufs);
  line("verdict_errors", s.verdict_errors);
  return out;
}

}  // namespace egressguard::app
