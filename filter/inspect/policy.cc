#include "filter/inspect/policy.h"

#include <algorithm>
#include <unordered_map>

#include "domains/name.h"

namespace egressguard::inspect {

namespace {

// "CN" -> pack_country; false unless two upper-case ASCII letters.
bool country_code(std::string_view code, std::uint16_t& out) {
  if (code.size() != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z') {
    return false;
  }
  out = pack_country(code[0], code[1]);
  return true;
}

// Compiles a group's GeoIP rules and its blocked categories' IP lists; appends errors.
void compile_address_rules(const GroupSpec& group, const geoip::GeoipConfig& geoip,
                           const std::vector<LoadedIpList>& ip_lists,
                           const std::vector<std::uint32_t>& blocked_categories, AddressRules& out,
                           std::vector<std::string>& errors) {
  auto countries = [&](const std::vector<std::string>& codes, std::string_view key,
                       std::vector<std::uint16_t>& packed) {
    for (const std::string& code : codes) {
      std::uint16_t value = 0;
      if (!country_code(code, value)) {
        errors.push_back("group \"" + group.name + "\" " + std::string(key) + " \"" + code +
                         "\" is not an ISO 3166-1 alpha-2 code such as \"CN\"");
        continue;
      }
      packed.push_back(value);
    }
    std::sort(packed.begin(), packed.end());
    packed.erase(std::unique(packed.begin(), packed.end()), packed.end());
    if (!codes.empty() && geoip.country_db.empty()) {
      errors.push_back("group \"" + group.name + "\" has " + std::string(key) +
                       " but no [geoip] country_db is configured");
    }
  };
  countries(group.block_countries, "block_countries", out.block_countries);
  countries(group.flag_countries, "flag_countries", out.flag_countries);
  for (const std::uint32_t asn : group.block_asns) {
    out.block_asns.push_back(AddressRules::Asn{asn, kNoIndex, 0});
  }
  if (!group.block_asns.empty() && geoip.asn_db.empty()) {
    errors.push_back("group \"" + group.name +
                     "\" has block_asns but no [geoip] asn_db is configured");
  }
  for (std::uint32_t l = 0; l < ip_lists.size(); ++l) {
    const LoadedIpList& loaded = ip_lists[l];
    if (std::find(blocked_categories.begin(), blocked_categories.end(), loaded.category) ==
        blocked_categories.end()) {
      continue;
    }
    for (std::uint32_t e = 0; e < loaded.list.entries.size(); ++e) {
      const geoip::IpListEntry& entry = loaded.list.entries[e];
      if (entry.asn != 0) {
        out.block_asns.push_back(AddressRules::Asn{entry.asn, l, e});
      } else {
        out.block_prefixes.push_back(AddressRules::Prefix{entry.prefix, l, e});
      }
    }
  }
  // The group's own ASN rules first at equal ASN (stable sort keeps insertion order).
  std::stable_sort(
      out.block_asns.begin(), out.block_asns.end(),
      [](const AddressRules::Asn& a, const AddressRules::Asn& b) { return a.asn < b.asn; });
}

}  // namespace

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
    case ReasonKind::GeoCountry:
      return "geo_country";
    case ReasonKind::GeoAsn:
      return "geo_asn";
    case ReasonKind::IpList:
      return "ip_list";
    case ReasonKind::GeoFlag:
      return "geo_flag";
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
        group, std::vector<domains::ListUse>(out->lists_.size(), domains::ListUse::Ignore),
        AddressRules{}};
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

  // IP lists of the categories (`asns`), then each group's address rules.
  for (std::uint32_t c = 0; c < out->categories_.size(); ++c) {
    for (const std::string& path : out->categories_[c].ip_lists) {
      auto loaded = geoip::load_ip_list(path);
      if (!loaded) {
        errors.insert(errors.end(), loaded.error().begin(), loaded.error().end());
        continue;
      }
      out->ip_lists_.push_back(LoadedIpList{std::move(*loaded), c});
    }
  }
  for (std::size_t g = 0; g < spec.groups.size() && g < out->groups_.size(); ++g) {
    std::vector<std::uint32_t> blocked;
    for (const std::string& name : spec.groups[g].block) {
      for (std::uint32_t c = 0; c < out->categories_.size(); ++c) {
        if (out->categories_[c].name == name) {
          blocked.push_back(c);
        }
      }
    }
    compile_address_rules(spec.groups[g], spec.geoip, out->ip_lists_, blocked,
                          out->groups_[g].address, errors);
    bool uses_ip_list_asn = false;
    for (const auto& rule : out->groups_[g].address.block_asns) {
      uses_ip_list_asn = uses_ip_list_asn || rule.ip_list != kNoIndex;
    }
    if (uses_ip_list_asn && spec.geoip.asn_db.empty()) {
      errors.push_back("group \"" + spec.groups[g].name +
                       "\" blocks a category with ASNs (asns = [...]) but no [geoip] asn_db is "
                       "configured");
    }
  }
  if (errors.empty() && spec.geoip.enabled()) {
    auto geo = geoip::GeoDatabases::open(spec.geoip);
    if (!geo) {
      return fail(std::move(geo).error());
    }
    out->geo_ = std::move(*geo);
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

bool PolicySnapshot::lookup_geo(const parse::IpAddress& address,
                                geoip::GeoInfo& out) const noexcept {
  if (geo_ == nullptr || address.family == 0) {
    return false;
  }
  return geo_->lookup(ByteSpan(address.bytes.data(), address.is_v4() ? 4U : 16U), out);
}

Decision PolicySnapshot::decide_address(const parse::IpAddress& address,
                                        std::uint32_t group) const noexcept {
  Decision d = decide_unnamed(group);
  const AddressRules& rules = groups_[group].address;
  if (rules.empty() || address.family == 0) {
    return d;
  }
  const ByteSpan bytes(address.bytes.data(), address.is_v4() ? 4U : 16U);
  auto from_list = [&](std::uint32_t ip_list, std::uint32_t entry) {
    const LoadedIpList& list = ip_lists_[ip_list];
    d.verdict = Verdict::Block;
    d.reason.kind = ReasonKind::IpList;
    d.reason.ip_list = ip_list;
    d.reason.rule = entry;
    d.reason.line = list.list.entries[entry].line;
    d.reason.category = list.category;
    d.reason.geo_value = list.list.entries[entry].asn;
    return d;
  };
  for (const AddressRules::Prefix& rule : rules.block_prefixes) {
    if (rule.prefix.contains(bytes)) {
      return from_list(rule.ip_list, rule.entry);
    }
  }
  geoip::GeoInfo info;
  if (geo_ == nullptr || !geo_->lookup(bytes, info)) {
    return d;
  }
  if (info.has_asn()) {
    const auto it = std::lower_bound(
        rules.block_asns.begin(), rules.block_asns.end(), info.asn,
        [](const AddressRules::Asn& rule, std::uint32_t asn) { return rule.asn < asn; });
    if (it != rules.block_asns.end() && it->asn == info.asn) {
      if (it->ip_list != kNoIndex) {
        return from_list(it->ip_list, it->entry);
      }
      d.verdict = Verdict::Block;
      d.reason.kind = ReasonKind::GeoAsn;
      d.reason.geo_value = info.asn;
      return d;
    }
  }
  if (info.has_country()) {
    const std::uint16_t country = pack_country(info.country[0], info.country[1]);
    if (std::binary_search(rules.block_countries.begin(), rules.block_countries.end(), country)) {
      d.verdict = Verdict::Block;
      d.reason.kind = ReasonKind::GeoCountry;
      d.reason.geo_value = country;
      return d;
    }
    if (std::binary_search(rules.flag_countries.begin(), rules.flag_countries.end(), country)) {
      d.reason.kind = ReasonKind::GeoFlag;
      d.reason.geo_value = country;
      return d;
    }
  }
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
  const Reason& reason = decision.reason;
  switch (reason.kind) {
    case ReasonKind::GeoCountry:
    case ReasonKind::GeoFlag:
      return std::string("country ") + static_cast<char>(reason.geo_value >> 8U) +
             static_cast<char>(reason.geo_value & 0xffU);
    case ReasonKind::GeoAsn:
      return "AS" + std::to_string(reason.geo_value);
    case ReasonKind::IpList:
      if (reason.ip_list < policy.ip_lists().size()) {
        const auto& entries = policy.ip_lists()[reason.ip_list].list.entries;
        if (reason.rule < entries.size()) {
          const geoip::IpListEntry& entry = entries[reason.rule];
          return entry.asn != 0 ? "AS" + std::to_string(entry.asn) : entry.prefix.to_string();
        }
      }
      return {};
    default:
      break;
  }
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
