#include "domains/rpz_format.h"

#include <array>

#include <arpa/inet.h>

#include "domains/line_text.h"
#include "domains/name.h"

namespace egressguard::domains {
namespace {

using Parsed = Result<std::optional<ParsedLine>, std::string>;

Parsed skipped() {
  return std::optional<ParsedLine>();
}

Parsed unsupported(std::string why) {
  ParsedLine parsed;
  parsed.unsupported = std::move(why);
  return std::optional<ParsedLine>(std::move(parsed));
}

// RFC 1035 TTL, with the BIND unit extension: "300", "1h", "1h30m".
bool is_ttl(std::string_view word) {
  if (word.empty() || word.front() < '0' || word.front() > '9') {
    return false;
  }
  for (const char c : word) {
    const char l = text::lower(c);
    if (!((c >= '0' && c <= '9') || l == 's' || l == 'm' || l == 'h' || l == 'd' || l == 'w')) {
      return false;
    }
  }
  return true;
}

bool is_class(std::string_view word) {
  return text::iequals(word, "IN") || text::iequals(word, "CH") || text::iequals(word, "HS") ||
         text::iequals(word, "CS");
}

bool ends_with_label(std::string_view name, std::string_view suffix) {
  return name.size() > suffix.size() && name[name.size() - suffix.size() - 1] == '.' &&
         text::iequals(name.substr(name.size() - suffix.size()), suffix);
}

std::string_view last_label(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

bool is_local_data_type(std::string_view type) {
  for (const std::string_view known :
       {"TXT",   "MX",   "SRV", "PTR",    "HTTPS", "SVCB", "CAA", "NAPTR", "DNAME", "HINFO",
        "SSHFP", "TLSA", "DS",  "DNSKEY", "LOC",   "URI",  "SPF", "RP",    "NSEC",  "RRSIG"}) {
    if (text::iequals(type, known)) {
      return true;
    }
  }
  return false;
}

bool is_address(int family, const std::string& text) {
  std::array<unsigned char, 16> buffer{};
  return inet_pton(family, text.c_str(), buffer.data()) == 1;
}

}  // namespace

Parsed RpzParser::parse_line(std::string_view line) {
  // Cut the comment and turn parentheses into blanks, tracking depth (RFC 1035 section 5.1).
  std::string cleaned;
  cleaned.reserve(line.size());
  bool quoted = false;
  for (const char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && c == ';') {
      break;
    } else if (!quoted && c == '(') {
      ++depth_;
      cleaned += ' ';
      continue;
    } else if (!quoted && c == ')') {
      if (depth_ == 0) {
        return fail(std::string("unbalanced \")\": no \"(\" is open"));
      }
      --depth_;
      cleaned += ' ';
      continue;
    }
    cleaned += c;
  }
  const auto words = text::split_words(cleaned);
  if (pending_.empty()) {
    pending_owner_omitted_ = !line.empty() && text::is_space(line.front());
  }
  for (const std::string_view word : words) {
    pending_.emplace_back(word);
  }
  if (depth_ > 0) {
    return skipped();
  }
  std::vector<std::string> record;
  record.swap(pending_);
  if (record.empty()) {
    return skipped();
  }
  return parse_record(record, pending_owner_omitted_);
}

Result<void, std::string> RpzParser::finish() const {
  if (depth_ > 0) {
    return fail(std::string("unterminated \"(\": the record never closes"));
  }
  return {};
}

Parsed RpzParser::parse_record(std::vector<std::string>& words, bool owner_omitted) {
  if (!owner_omitted && words[0].front() == '$') {
    const std::string& directive = words[0];
    if (text::iequals(directive, "$ORIGIN")) {
      if (words.size() != 2) {
        return fail(std::string("$ORIGIN needs exactly one name"));
      }
      std::string name = words[1];
      if (name == ".") {
        origin_.clear();
        return skipped();
      }
      if (name.back() != '.') {
        if (origin_.empty()) {
          return fail("$ORIGIN " + escape_for_message(name) +
                      " is relative and no absolute $ORIGIN came before");
        }
        name += "." + origin_;
      }
      auto normalized = normalize_rule_name(name);
      if (!normalized) {
        return fail("$ORIGIN: " + std::move(normalized).error());
      }
      origin_ = std::move(*normalized);
      return skipped();
    }
    if (text::iequals(directive, "$TTL")) {
      if (words.size() != 2 || !is_ttl(words[1])) {
        return fail(std::string("$TTL needs one TTL value, e.g. \"$TTL 300\""));
      }
      return skipped();
    }
    if (text::iequals(directive, "$INCLUDE")) {
      return fail(std::string("$INCLUDE is not supported: inline the included file"));
    }
    return fail("unknown directive \"" + escape_for_message(directive) + "\"");
  }

  std::size_t index = 0;
  if (owner_omitted) {
    if (!have_owner_) {
      return fail(std::string("record without an owner name (the line starts with a blank)"));
    }
  } else {
    const std::string& owner = words[0];
    index = 1;
    if (owner == "@") {
      owner_ = "@";
    } else if (owner.back() == '.') {
      const std::string_view absolute(owner.data(), owner.size() - 1);
      if (origin_.empty()) {
        owner_ = std::string(absolute);
      } else if (text::iequals(absolute, origin_)) {
        owner_ = "@";
      } else if (ends_with_label(absolute, origin_)) {
        owner_ = std::string(absolute.substr(0, absolute.size() - origin_.size() - 1));
      } else {
        return fail("owner \"" + escape_for_message(owner) + "\" is outside the zone origin \"" +
                    origin_ + ".\"");
      }
    } else {
      owner_ = owner;
    }
    have_owner_ = true;
  }
  for (int fields = 0; fields < 2 && index < words.size(); ++fields) {
    if (!is_ttl(words[index]) && !is_class(words[index])) {
      break;
    }
    ++index;
  }
  if (index >= words.size()) {
    return fail("record for \"" + escape_for_message(owner_) + "\" has no type");
  }
  const std::string& type = words[index];
  const std::vector<std::string> rdata(words.begin() + static_cast<std::ptrdiff_t>(index) + 1,
                                       words.end());

  if (text::iequals(type, "SOA") || text::iequals(type, "NS")) {
    return skipped();
  }
  if (owner_ == "@") {
    return fail(type + " record at the zone apex: a policy rule needs an owner below the origin");
  }
  const std::string_view trigger = last_label(owner_);
  if (text::iequals(trigger, "rpz-ip") || text::iequals(trigger, "rpz-nsip") ||
      text::iequals(trigger, "rpz-nsdname") || text::iequals(trigger, "rpz-client-ip")) {
    return unsupported(std::string(trigger) + " trigger (only QNAME triggers are supported)");
  }

  ParsedRule rule;
  rule.kind = RuleKind::Exact;
  rule.action = Action::Block;
  if (text::iequals(type, "CNAME")) {
    if (rdata.size() != 1) {
      return fail(std::string("CNAME needs exactly one target"));
    }
    const std::string& target = rdata[0];
    if (text::iequals(target, "rpz-passthru.")) {
      rule.action = Action::Allow;
    } else if (text::iequals(target, "rpz-tcp-only.")) {
      return unsupported("rpz-tcp-only. action");
    } else if (text::iequals(target.substr(0, 4), "rpz-") && !text::iequals(target, "rpz-drop.")) {
      // "rpz-" names are the draft's policy actions: taken as a local redirect, a typo such as
      // "rpz-passthur." would silently turn an exception into a block.
      return fail("unknown RPZ action \"" + escape_for_message(target) +
                  "\": expected rpz-passthru., rpz-drop., rpz-tcp-only., \".\" or \"*.\"");
    }
    // ".", "*.", "rpz-drop." and any other target (a local redirect) block the name.
  } else if (text::iequals(type, "A") || text::iequals(type, "AAAA")) {
    const bool v4 = text::iequals(type, "A");
    if (rdata.size() != 1 || !is_address(v4 ? AF_INET : AF_INET6, rdata[0])) {
      return fail(type + " record needs one " + (v4 ? "IPv4" : "IPv6") + " address");
    }
  } else if (is_local_data_type(type)) {
    return unsupported("local data of type " + type);
  } else {
    return fail("unknown record type \"" + escape_for_message(type) + "\"");
  }

  std::string_view name = owner_;
  if (name == "*") {
    return fail(std::string("wildcard owner \"*\" would match every name of the zone"));
  }
  if (text::starts_with(name, "*.")) {
    rule.kind = RuleKind::Below;
    name.remove_prefix(2);
  }
  auto normalized = normalize_rule_name(name);
  if (!normalized) {
    return fail(std::move(normalized).error());
  }
  rule.name = std::move(*normalized);
  if (last_rule_ && *last_rule_ == rule) {
    return skipped();  // another record of the same policy (e.g. A and AAAA local data)
  }
  last_rule_ = rule;
  ParsedLine parsed;
  parsed.rules.push_back(std::move(rule));
  return std::optional<ParsedLine>(std::move(parsed));
}

}  // namespace egressguard::domains
