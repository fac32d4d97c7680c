// ListVersion: what the running policy was built from, one entry per list: its file, rule
// count, size, modification time and SHA-256. For the `egressguard_list_info` metric and the
// control socket's `status`, so that an operator can tell which version of a list is live.
// Computed at startup and after each reload (reads every list file once more), never on a
// packet thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "filter/inspect/policy.h"
#include "filter/metrics/registry.h"

namespace egressguard::metrics {

struct ListVersion {
  std::string name;
  std::string category;
  std::string path;
  std::string format;  // "plain" | "hosts" | "adblock" | "rpz"
  std::uint64_t rules = 0;
  std::uint64_t skipped_invalid = 0;
  std::uint64_t skipped_unsupported = 0;
  std::uint64_t size = 0;  // bytes
  std::int64_t mtime = 0;  // seconds since the epoch; 0 when the file cannot be read now
  std::string sha256;      // lower-case hex of the file as it is now; empty when unreadable
};

std::vector<ListVersion> list_versions(const inspect::PolicySnapshot& policy);

// Lower-case hex SHA-256 of a file's bytes; empty when it cannot be read.
std::string sha256_file(const std::string& path);

// egressguard_list_info{list,category,path,format,sha256} 1, egressguard_list_rules{list,category},
// egressguard_list_skipped_lines{list,reason}, egressguard_list_mtime_seconds{list}.
void write_list_metrics(Exposition& out, const std::vector<ListVersion>& lists);

}  // namespace egressguard::metrics
