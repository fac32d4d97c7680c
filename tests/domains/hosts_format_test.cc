#include "domains/hosts_format.h"

#include <gtest/gtest.h>

#include "format_test_helpers.h"

namespace egressguard::domains {
namespace {

using testing::block;
using testing::LineCase;
using testing::Outcome;

TEST(ParseHostsLine, HandlesTable) {
  const LineCase cases[] = {
      {"blank", "", Outcome::Nothing},
      {"comment", "# StevenBlack", Outcome::Nothing},
      {"zero address",
       "0.0.0.0 tiktok.com",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"loopback", "127.0.0.1\tTikTok.com", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"ipv6 any", ":: tiktok.com", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"ipv6 loopback", "::1 tiktok.com", Outcome::Rules, {block("tiktok.com", RuleKind::Exact)}},
      {"several names and comment",
       "0.0.0.0 a.com b.com # ads",
       Outcome::Rules,
       {block("a.com", RuleKind::Exact), block("b.com", RuleKind::Exact)}},
      {"localhost skipped", "127.0.0.1 localhost", Outcome::Nothing},
      {"localhost.localdomain skipped", "127.0.0.1 localhost.localdomain", Outcome::Nothing},
      {"broadcasthost skipped", "255.255.255.255 broadcasthost", Outcome::Nothing},
      {"link-local localhost skipped", "fe80::1%lo0 localhost", Outcome::Nothing},
      {"multicast ip6 names skipped", "ff02::1 ip6-allnodes", Outcome::Nothing},
      {"ip6 names skipped", "::1 ip6-localhost ip6-loopback", Outcome::Nothing},
      {"local skipped", "0.0.0.0 local", Outcome::Nothing},
      {"address as name skipped", "0.0.0.0 0.0.0.0", Outcome::Nothing},
      {"mixed local and real",
       "127.0.0.1 localhost tiktok.com",
       Outcome::Rules,
       {block("tiktok.com", RuleKind::Exact)}},
      {"real address",
       "1.2.3.4 tiktok.com",
       Outcome::Error,
       {},
       "address 1.2.3.4 is not a sink: use 0.0.0.0, 127.0.0.1, :: or ::1"},
      {"no address",
       "tiktok.com",
       Outcome::Error,
       {},
       "\"tiktok.com\" is not an address: a hosts line is \"0.0.0.0 NAME...\""},
      {"address only", "0.0.0.0", Outcome::Error, {}, "address 0.0.0.0 without a host name"},
      {"bad name",
       "0.0.0.0 exa_mple.com -bad.com",
       Outcome::Error,
       {},
       "invalid domain \"-bad.com\": label \"-bad\" starts with a hyphen"},
  };
  for (const auto& c : cases) {
    testing::expect_line(c, parse_hosts_line(c.line));
  }
}

}  // namespace
}  // namespace egressguard::domains
