#include "filter/inspect/policy.h"

#include <algorithm>
#include <unordered_map>

#include "domains/name.h"

namespace egressguard::inspect {

std::string_view describe(Mode mode) noexcept {
  return mode == Mode::Enforce ? "enforce" : "monitor";
}

std::string_view describe(Verdict verdict) noexcept {
  return verdict == Verdict::Block ? "block" : "allow";
}

std::string_view describe(ReasonKind kind) noexcept {
  switch (kind) {
    case ReasonKind::NoRule:
      return "no_rule";
    case ReasonKind::Rule:
      return "rule";
    case ReasonKind::NoName:
      return "no_name";
    case ReasonKind::BadName:
      return "bad_name";
  }
  return "unknown";
}

Result<std::shared_ptr<const PolicySnapshot>, std::vector<std::string>> PolicySnapshot::build(
    const PolicySpec& spec, std::uint64_t version) {
  std::vector<std::string> errors;
  std::shared_ptr<PolicySnapshot> out(new PolicySnapshot());
  out->version_ = version;
  out->categories_ = spec.categories;

  // Lists get ids in configuration order; names map to the lists they stand for.
  std::vector<domains::ListSource> sources;
  std::unordered_map<std::string, std::vector<std::uint32_t>> by_name;  // category or list name
  for (std::uint32_t c = 0; c < out->categories_.size(); ++c) {
    const CategorySpec& category = out->categories_[c];
    for (const ListSpec& list : category.lists) {
      const auto id = static_cast<std::uint32_t>(out->lists_.size());
      out->lists_.push_back(&list);
      out->list_category_.push_back(c);
      sources.push_back(domains::ListSource{list.path, category.name, list.options});
      by_name[category.name].push_back(id);
      if (list.name != category.name) {
        by_name[list.name].push_back(id);
      }
    }
  }

  int default_index = -1;
  std::vector<GroupMembers> members;
  for (std::size_t g = 0; g < spec.groups.size(); ++g) {
    const GroupSpec& group = spec.groups[g];
    if (group.name == spec.default_group) {
      default_index = static_cast<int>(g);
    }
    CompiledGroup compiled{
        group, std::vector<domains::ListUse>(out->lists_.size(), domains::ListUse::Ignore)};
    for (const std::string& name : group.block) {
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        errors.push_back("group \"" + group.name + "\" blocks unknown category \"" + name + "\"");
        continue;
      }
      for (std::uint32_t id : it->second) {
        if (compiled.uses[id] == domains::ListUse::Ignore) {
          compiled.uses[id] = domains::ListUse::Apply;
        }
      }
    }
    for (const std::string& name : group.allow) {
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        errors.push_back("group \"" + group.name + "\" allows unknown category or list \"" + name +
                         "\"");
        continue;
      }
      for (std::uint32_t id : it->second) {
        compiled.uses[id] = domains::ListUse::Except;
      }
    }
    members.push_back(group.members);
    out->groups_.push_back(std::move(compiled));
  }
  if (default_index < 0) {
    errors.push_back("default_group \"" + spec.default_group + "\" is not a configured group");
  }
  if (!errors.empty()) {
    return fail(std::move(errors));
  }

  auto domains = domains::build_snapshot(sources);
  if (!domains) {
    return fail(std::move(domains).error());
  }
  out->domains_ = std::make_shared<const domains::Snapshot>(std::move(*domains));
  out->resolver_ = GroupResolver(std::move(members), static_cast<std::size_t>(default_index));
  return std::shared_ptr<const PolicySnapshot>(std::move(out));
}

int PolicySnapshot::find_group(std::string_view name) const noexcept {
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].spec.name == name) {
      return static_cast<int>(g);
    }
  }
  return -1;
}

Decision PolicySnapshot::from_match(const domains::Match& match,
                                    std::uint32_t group) const noexcept {
  Decision d;
  d.group = group;
  d.mode = groups_[group].spec.mode;
  if (!match.matched) {
    d.reason.kind = ReasonKind::NoRule;
    return d;
  }
  const domains::RuleInfo info = domains_->matcher.rule_info(match.rule);
  d.verdict = match.action == domains::Action::Block ? Verdict::Block : Verdict::Allow;
  d.reason.kind = ReasonKind::Rule;
  d.reason.rule = match.rule;
  d.reason.list = info.list;
  d.reason.line = info.line;
  d.reason.category = list_category_[info.list];
  d.reason.exception = groups_[group].uses[info.list] == domains::ListUse::Except ||
                       match.action == domains::Action::Allow;
  return d;
}

Decision PolicySnapshot::decide_name(std::string_view name, std::uint32_t group) const noexcept {
  const auto match = domains_->matcher.lookup(name, groups_[group].uses);
  return from_match(match, group);
}

Decision PolicySnapshot::decide_raw_name(std::string_view raw, std::uint32_t group) const noexcept {
  domains::NameBuffer buffer;
  auto name = domains::normalize_name(raw, buffer);
  if (!name) {
    Decision d;
    d.group = group;
    d.mode = groups_[group].spec.mode;
    d.reason.kind = ReasonKind::BadName;
    return d;
  }
  return decide_name(*name, group);
}

Decision PolicySnapshot::decide_unnamed(std::uint32_t group) const noexcept {
  Decision d;
  d.group = group;
  d.mode = groups_[group].spec.mode;
  d.reason.kind = ReasonKind::NoName;
  return d;
}

PolicyStore::PolicyStore(std::shared_ptr<const PolicySnapshot> initial)
    : current_(std::move(initial)) {}

Result<std::uint64_t, std::vector<std::string>> PolicyStore::reload(
    const std::function<Result<std::shared_ptr<const PolicySnapshot>, std::vector<std::string>>(
        std::uint64_t)>& build) {
  std::lock_guard lock(reload_mutex_);
  const std::uint64_t next = current()->version() + 1;
  auto built = build(next);
  if (!built) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    return fail(std::move(built).error());
  }
  current_.store(std::move(*built));
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return next;
}

std::string rule_text(const PolicySnapshot& policy, const Decision& decision) {
  if (decision.reason.kind != ReasonKind::Rule) {
    return {};
  }
  const auto info = policy.domains().matcher.rule_info(decision.reason.rule);
  switch (info.kind) {
    case domains::RuleKind::Exact:
      return std::string(info.name);
    case domains::RuleKind::Suffix:
      return "*." + std::string(info.name);
    case domains::RuleKind::Below:
      return "*." + std::string(info.name) + " (subdomains only)";
  }
  return std::string(info.name);
}

}  // namespace egressguard::inspect
