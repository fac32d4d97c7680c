// Test support for the firewall's address learning: a small policy on disk, DNS answers built by
// hand, and an NftBackend that records what it is asked to run.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "filter/datapath/firewall/nft_set_writer.h"
#include "filter/inspect/policy.h"
#include "tests/support/temp_dir.h"

namespace egressguard::firewall::testing {

// Lists and a policy over them:
//   tiktok: *.tiktok.com, *.tiktokcdn.com      doh-bypass: *.dns.google, cloudflare-dns.com
//   exceptions (allow list): newsroom.tiktok.com
//   gov   10.8.0.0/16 (enforce, blocks tiktok and doh-bypass, allows exceptions)
//   byod  10.30.0.0/16 (blocks nothing)
//   pilot 10.99.0.0/16 (monitor, blocks tiktok)
//   default: gov. With `gov_enforces` false gov is in monitor mode too (nothing enforced).
class PolicyFixture {
 public:
  PolicyFixture();

  inspect::PolicySpec spec(bool gov_enforces = true) const;
  std::shared_ptr<const inspect::PolicySnapshot> build(bool gov_enforces = true,
                                                       std::uint64_t version = 1) const;

 private:
  ::egressguard::testing::TempDir dir_{"eg-firewall"};
};

// One answer record: type 1 (A), 28 (AAAA) or 5 (CNAME; value is the target name).
struct Record {
  std::string owner;
  std::uint16_t type = 1;
  std::string value;
};
// The upstream answer to `query` (one question) with `records` in the answer section.
std::vector<std::uint8_t> make_response(const std::vector<std::uint8_t>& query,
                                        const std::vector<Record>& records);

// Records every transaction; fails them while `fail` is set.
class FakeBackend : public NftBackend {
 public:
  struct State {
    std::mutex mutex;
    std::vector<std::string> commands;
    bool fail = false;
    bool table = true;
    int table_checks = 0;
  };
  explicit FakeBackend(std::shared_ptr<State> state) : state_(std::move(state)) {}
  Result<void, std::string> run(const std::string& commands) override;
  bool table_exists() override;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace egressguard::firewall::testing
