// Test support for the DNS proxy: queries built by hand, answers read back with ldns, upstream
// answers made from presentation-format records, and a small policy on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_span.h"
#include "filter/inspect/policy.h"
#include "tests/support/temp_dir.h"

namespace egressguard::dnsproxy::testing {

struct QuerySpec {
  std::string name;
  std::uint16_t qtype = 1;
  std::uint16_t id = 0x1234;
  bool edns = false;
  std::uint16_t udp_size = 1232;
  bool rd = true;
};
std::vector<std::uint8_t> make_query(const QuerySpec& spec);

// An answer as a test looks at it. Records are "owner ttl IN TYPE rdata", single-spaced.
struct ParsedAnswer {
  bool ok = false;
  std::uint16_t id = 0;
  bool qr = false, tc = false, ra = false, rd = false;
  std::uint8_t rcode = 0;
  std::string qname;  // presentation, with trailing dot
  std::uint16_t qtype = 0;
  std::vector<std::string> answers;
  std::vector<std::string> authority;
  bool opt = false;
  std::uint16_t opt_udp = 0;
  std::optional<std::uint16_t> ede;
  std::string ede_text;
  std::vector<std::uint8_t> edns_data;  // raw options
};
ParsedAnswer parse_answer(ByteSpan wire);

// An upstream answer to `query` with `records` in the answer section (presentation format,
// e.g. "cdn.example-shop.com. 300 IN CNAME www.tiktok.com."). EDNS echoes the query's, with
// `edns_data` as options.
std::vector<std::uint8_t> make_response(ByteSpan query, const std::vector<std::string>& records,
                                        std::uint8_t rcode = 0, bool tc = false,
                                        const std::vector<std::uint8_t>& edns_data = {});

// Lists on disk and a policy over them:
//   tiktok category: *.tiktok.com, *.tiktokcdn.com; exceptions: newsroom.tiktok.com
//   gov   10.8.0.0/16 fd00:8::/64 127.0.0.8/32 ::8 (enforce, blocks tiktok, allows exceptions)
//   byod  10.30.0.0/16 127.0.0.30/32 (blocks nothing)
//   pilot 10.99.0.0/16 127.0.0.99/32 (monitor, blocks tiktok)
//   ech   10.50.0.0/16 127.0.0.50/32 (enforce, strip_ech, anti_bypass off, blocks tiktok)
//   default: gov
class PolicyFixture {
 public:
  PolicyFixture();

  inspect::PolicySpec spec() const;
  std::shared_ptr<const inspect::PolicySnapshot> build(std::uint64_t version = 1) const;
  const std::filesystem::path& dir() const noexcept { return dir_.path(); }

 private:
  ::egressguard::testing::TempDir dir_{"eg-dnsproxy"};
};

}  // namespace egressguard::dnsproxy::testing
