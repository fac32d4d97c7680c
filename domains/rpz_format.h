// Response Policy Zones (draft-vixie-dnsop-dns-rpz) as master files, the subset that Unbound
// and BIND read for QNAME policies:
//   $ORIGIN rpz.example.      $TTL 300      ; comments      ( multi-line records )
//   @ SOA ns. admin. ( 1 3600 600 86400 300 )   NS records    -> skipped
//   example.com   CNAME .              block example.com (NXDOMAIN)
//   *.example.com CNAME .              block strictly below example.com
//   example.com   CNAME *.             block (NODATA)
//   example.com   CNAME rpz-drop.      block (drop)
//   example.com   CNAME rpz-passthru.  allow
//   example.com   CNAME walled.garden. block (local redirect)
//   example.com   CNAME rpz-passthur.  error: other "rpz-" targets are unknown actions
//   example.com   A 10.0.0.1           block (local data; also AAAA)
// Owner names are relative to $ORIGIN; an absolute owner must end in the origin, which is
// removed. Without $ORIGIN (zone name set in the server config), owners are taken as written.
// TTL and class fields are optional in either order. Triggers other than QNAME (rpz-ip,
// rpz-nsdname, rpz-nsip, rpz-client-ip), rpz-tcp-only and local data of other types (TXT, MX,
// ...) are skipped and counted as unsupported. Anything else is an error with the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "domains/rule.h"

namespace egressguard::domains {

// Parser state for one zone file: origin, last owner, an open "(" record.
class RpzParser {
 public:
  // One line without its line break. std::nullopt for blank, comment, directive and skipped
  // lines, and for the first lines of a record continued with "(": the record's result comes
  // with its closing line.
  Result<std::optional<ParsedLine>, std::string> parse_line(std::string_view line);

  // True while inside "( ... )": the loader reports the record at its first line.
  bool in_record() const noexcept { return depth_ > 0; }

  // After the last line: an error if a "(" is still open.
  Result<void, std::string> finish() const;

 private:
  Result<std::optional<ParsedLine>, std::string> parse_record(std::vector<std::string>& words,
                                                              bool owner_omitted);

  std::string origin_;  // normalised, without trailing dot; empty = none
  std::string owner_;   // last owner as resolved relative text; "@" for the apex
  bool have_owner_ = false;
  std::vector<std::string> pending_;  // words of a record spanning lines
  bool pending_owner_omitted_ = false;
  int depth_ = 0;
  std::optional<ParsedRule> last_rule_;  // to fold repeated records (several A records)
};

}  // namespace egressguard::domains
