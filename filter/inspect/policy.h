// The compiled policy: the domain snapshot, the categories behind its lists, and each group's
// view of them. Immutable once built; a reload builds a new one and swaps it (PolicyStore).
//
// Precedence, in one sentence (DESIGN section 3): the most specific matching rule among the
// group's blocked categories and its exceptions decides; at equal specificity allow beats block;
// no rule means allow. Flows without a name (and DNS answer addresses) are decided by the
// group's GeoIP/ASN rules instead (decide_address); domain rules beat GeoIP rules.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/atomic_shared_ptr.h"
#include "base/result.h"
#include "domains/matcher.h"
#include "domains/snapshot.h"
#include "filter/inspect/groups.h"
#include "filter/inspect/policy_spec.h"
#include "filter/parse/ip_address.h"
#include "geoip/geo_databases.h"
#include "geoip/ip_list.h"

namespace egressguard::inspect {

enum class Verdict : std::uint8_t { Allow, Block };
std::string_view describe(Verdict verdict) noexcept;  // "allow" | "block"

// Why a decision was made.
enum class ReasonKind : std::uint8_t {
  NoRule,   // a name was seen and no rule of the group matched it
  Rule,     // a domain rule decided (rule/list/line/category are set)
  NoName,   // nothing to match yet (no name visible); allowed until IP rules decide
  BadName,  // the name from the network could not be normalised
  // decide_address: the destination of a flow without a name, or a DNS answer address.
  GeoCountry,  // in one of the group's block_countries (block)
  GeoAsn,      // in one of the group's block_asns (block)
  IpList,      // an ASN or prefix of an IP list of a blocked category (ip_list/rule/line set)
  GeoFlag,     // in one of the group's flag_countries: allowed, flagged in the event
};
std::string_view describe(ReasonKind kind) noexcept;

inline constexpr std::uint32_t kNoIndex = 0xffffffffU;

struct Reason {
  ReasonKind kind = ReasonKind::NoRule;
  std::uint32_t rule = kNoIndex;      // index for Matcher::rule_info
  std::uint32_t list = kNoIndex;      // index into PolicySnapshot::lists()
  std::uint32_t line = 0;             // line of the rule in its list
  std::uint32_t category = kNoIndex;  // index into PolicySnapshot::categories()
  bool exception = false;             // the rule is an allow exception
  std::uint32_t ip_list = kNoIndex;   // ReasonKind::IpList: index into PolicySnapshot::ip_lists()
  std::uint32_t geo_value = 0;        // GeoAsn: the ASN; GeoCountry, GeoFlag: pack_country
};

// True for the reasons decide_address gives from a GeoIP/ASN/IP-list rule.
inline bool is_address_rule(ReasonKind kind) noexcept {
  return kind == ReasonKind::GeoCountry || kind == ReasonKind::GeoAsn ||
         kind == ReasonKind::IpList || kind == ReasonKind::GeoFlag;
}

struct Decision {
  Verdict verdict = Verdict::Allow;
  Mode mode = Mode::Enforce;
  std::uint32_t group = 0;
  Reason reason;

  // True when the datapath must actually stop the traffic (block in an enforcing group).
  bool enforced_block() const noexcept {
    return verdict == Verdict::Block && mode == Mode::Enforce;
  }
};

// A country code packed for sorted search: 'C' << 8 | 'N'.
inline std::uint16_t pack_country(char a, char b) noexcept {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(a) << 8U |
                                    static_cast<unsigned char>(b));
}

// A group's address rules, compiled: sorted for binary search, no allocation to decide.
struct AddressRules {
  struct Asn {
    std::uint32_t asn = 0;
    std::uint32_t ip_list = kNoIndex;  // kNoIndex: the group's own block_asns
    std::uint32_t entry = 0;           // index into the IP list's entries
  };
  struct Prefix {
    geoip::IpPrefix prefix;
    std::uint32_t ip_list = 0;
    std::uint32_t entry = 0;
  };
  std::vector<std::uint16_t> block_countries;  // pack_country, sorted
  std::vector<std::uint16_t> flag_countries;   // pack_country, sorted
  std::vector<Asn> block_asns;                 // sorted by asn
  std::vector<Prefix> block_prefixes;          // IP-list prefixes, in list order

  bool empty() const noexcept {
    return block_countries.empty() && flag_countries.empty() && block_asns.empty() &&
           block_prefixes.empty();
  }
};

struct CompiledGroup {
  GroupSpec spec;
  std::vector<domains::ListUse> uses;  // per list id
  AddressRules address;
};

// An IP list a category names (`asns`), loaded.
struct LoadedIpList {
  geoip::IpList list;
  std::uint32_t category = kNoIndex;
};

class PolicySnapshot {
 public:
  // Loads every list and compiles. All problems are returned, each `file:line: what: why`.
  static Result<std::shared_ptr<const PolicySnapshot>, std::vector<std::string>> build(
      const PolicySpec& spec, std::uint64_t version = 1);

  // `name` must be normalised (domains::normalize_name).
  Decision decide_name(std::string_view name, std::uint32_t group) const noexcept;
  // Normalises `raw` (a name from the network) first; an unusable name gives ReasonKind::BadName.
  Decision decide_raw_name(std::string_view raw, std::uint32_t group) const noexcept;
  // A flow without a name so far.
  Decision decide_unnamed(std::uint32_t group) const noexcept;
  // A flow that ends without a name (IP literal, no SNI, unknown protocol) to `address`, or a DNS
  // answer address: the group's IP-list prefixes, then ASNs (block_asns and its categories' IP
  // lists), then block_countries, then flag_countries; decide_unnamed when none applies.
  Decision decide_address(const parse::IpAddress& address, std::uint32_t group) const noexcept;
  // The GeoIP databases' view of `address`; false when no database knows it (or none is
  // configured). No allocation.
  bool lookup_geo(const parse::IpAddress& address, geoip::GeoInfo& out) const noexcept;

  std::uint32_t resolve_group(const SourceIdentity& source) const noexcept {
    return static_cast<std::uint32_t>(resolver_.resolve(source));
  }
  // Group index by name, or -1.
  int find_group(std::string_view name) const noexcept;

  const std::vector<CompiledGroup>& groups() const noexcept { return groups_; }
  const std::vector<CategorySpec>& categories() const noexcept { return categories_; }
  const domains::Snapshot& domains() const noexcept { return *domains_; }
  // Category index of each list id.
  std::uint32_t list_category(std::uint32_t list) const noexcept { return list_category_[list]; }
  const ListSpec& list(std::uint32_t list) const noexcept { return *lists_[list]; }
  std::size_t list_count() const noexcept { return lists_.size(); }
  std::uint64_t version() const noexcept { return version_; }
  // Null when no [geoip] database is configured.
  const geoip::GeoDatabases* geo() const noexcept { return geo_.get(); }
  const std::vector<LoadedIpList>& ip_lists() const noexcept { return ip_lists_; }

 private:
  PolicySnapshot() = default;
  Decision from_match(const domains::Match& match, std::uint32_t group) const noexcept;

  std::shared_ptr<const domains::Snapshot> domains_;
  std::vector<CategorySpec> categories_;
  std::vector<const ListSpec*> lists_;  // into categories_
  std::vector<std::uint32_t> list_category_;
  std::vector<CompiledGroup> groups_;
  GroupResolver resolver_;
  std::uint64_t version_ = 0;
  std::shared_ptr<const geoip::GeoDatabases> geo_;
  std::vector<LoadedIpList> ip_lists_;
};

// Publishes the current PolicySnapshot to the packet threads. Readers wait at most for a pointer
// swap (base/atomic_shared_ptr.h says why not std::atomic<std::shared_ptr>); reload builds
// a new snapshot off the hot path and swaps it in; a failed reload keeps the old one and is
// counted.
class PolicyStore {
 public:
  explicit PolicyStore(std::shared_ptr<const PolicySnapshot> initial);

  std::shared_ptr<const PolicySnapshot> current() const noexcept { return current_.load(); }
  // `build` runs under the reload mutex, never on a packet thread. On failure the old snapshot
  // stays and the errors are returned.
  Result<std::uint64_t, std::vector<std::string>> reload(
      const std::function<Result<std::shared_ptr<const PolicySnapshot>, std::vector<std::string>>(
          std::uint64_t next_version)>& build);

  std::uint64_t reloads() const noexcept { return reloads_.load(std::memory_order_relaxed); }
  std::uint64_t reload_failures() const noexcept {
    return reload_failures_.load(std::memory_order_relaxed);
  }

 private:
  AtomicSharedPtr<const PolicySnapshot> current_;
  std::mutex reload_mutex_;
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::uint64_t> reload_failures_{0};
};

// The decisive rule as written, in list-syntax-neutral form: "www.x.com" (exact), "*.x.com"
// (the name and its subdomains), "*.x.com (subdomains only)"; for address rules "AS396986",
// "71.18.0.0/16" (IP list), "country CN"; empty when no rule decided.
std::string rule_text(const PolicySnapshot& policy, const Decision& decision);

}  // namespace egressguard::inspect
