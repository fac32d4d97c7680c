// PolicySpec: what the operator configured, before compilation — categories with their lists,
// groups with their members and policies, and the default group. The config loader
// (filter/app/config.h) produces it; build_policy() (policy.h) compiles it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "domains/list_loader.h"
#include "filter/inspect/groups.h"
#include "geoip/geoip_config.h"

namespace egressguard::inspect {

enum class Mode : std::uint8_t { Enforce, Monitor };
std::string_view describe(Mode mode) noexcept;

struct ListSpec {
  std::string name;  // unique across the config; defaults to the file's stem
  std::string path;  // resolved against the config file's folder
  domains::ListOptions options;
};

struct CategorySpec {
  std::string name;
  std::string title;
  std::string owner;
  std::string jurisdiction;
  std::vector<std::string> sources;
  std::string reviewed;
  std::vector<ListSpec> lists;
  // `asns = ["ip/tiktok.txt"]`: IP list files (geoip/ip_list.h: ASNs and prefixes), resolved like
  // list paths. A group that blocks the category blocks these for flows without a name.
  std::vector<std::string> ip_lists;
};

// How the inline datapath (NFQUEUE) stops a blocked flow of an enforcing group.
enum class EnforceAction : std::uint8_t {
  Reject,  // TCP reset to the client, ICMP administratively prohibited for UDP (default)
  Drop,    // silently dropped: the client waits for its timeout
};

struct GroupSpec {
  std::string name;
  std::string description;
  GroupMembers members;
  std::vector<std::string> block;  // category names
  std::vector<std::string> allow;  // category or list names: their rules become exceptions
  Mode mode = Mode::Enforce;
  EnforceAction enforce_action = EnforceAction::Reject;  // `enforce_action = "reject" | "drop"`
  // DNS proxy (filter/datapath/dnsproxy): remove the `ech` parameter from HTTPS/SVCB answers so
  // that the group's TLS keeps a visible SNI; answer the anti-bypass names (docs/dns-proxy.md).
  bool strip_ech = false;
  bool anti_bypass = true;
  // GeoIP rules for flows without a name and for DNS answer addresses ([geoip] databases):
  // ISO 3166-1 alpha-2 codes, upper case; flagged countries are allowed but marked in events.
  std::vector<std::string> block_countries;
  std::vector<std::string> flag_countries;
  std::vector<std::uint32_t> block_asns;
};

struct PolicySpec {
  std::vector<CategorySpec> categories;
  std::vector<GroupSpec> groups;  // in match order: the first group a source matches wins
  std::string default_group;
  geoip::GeoipConfig geoip;  // [geoip]: opened by PolicySnapshot::build
};

}  // namespace egressguard::inspect
