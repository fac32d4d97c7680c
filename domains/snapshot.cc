#include "domains/snapshot.h"

#include <exception>
#include <utility>

namespace egressguard::domains {

Result<Snapshot, std::vector<std::string>> build_snapshot(const std::vector<ListSource>& sources) {
  std::vector<std::string> errors;
  std::vector<Rule> rules;
  Snapshot snapshot;
  snapshot.lists.reserve(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    const ListSource& source = sources[i];
    const auto id = static_cast<std::uint32_t>(i);
    auto loaded = load_list(source.path, id, source.options);
    ListInfo info{source.path, source.category, id, 0, 0, 0, source.options.format};
    if (!loaded) {
      auto& list_errors = loaded.error();
      errors.insert(errors.end(), std::make_move_iterator(list_errors.begin()),
                    std::make_move_iterator(list_errors.end()));
    } else if (errors.empty()) {
      info.rules = loaded->rules.size();
      info.skipped_invalid = loaded->skipped_invalid;
      info.skipped_unsupported = loaded->skipped_unsupported;
      rules.insert(rules.end(), std::make_move_iterator(loaded->rules.begin()),
                   std::make_move_iterator(loaded->rules.end()));
    }
    snapshot.lists.push_back(std::move(info));
  }
  if (!errors.empty()) {
    return fail(std::move(errors));
  }
  try {
    snapshot.matcher = Matcher::compile(std::move(rules));
  } catch (const std::exception& e) {
    return fail(std::vector<std::string>{std::string("cannot compile the rules: ") + e.what()});
  }
  return snapshot;
}

SnapshotStore::SnapshotStore() : current_(std::make_shared<const Snapshot>()) {}

std::shared_ptr<const Snapshot> SnapshotStore::current() const noexcept {
  return current_.load();
}

Result<std::uint64_t, std::vector<std::string>> SnapshotStore::reload(
    const std::function<Result<Snapshot, std::vector<std::string>>()>& build) {
  const std::lock_guard<std::mutex> lock(reload_mutex_);
  Result<Snapshot, std::vector<std::string>> built = fail(std::vector<std::string>{});
  try {
    built = build();
  } catch (const std::exception& e) {
    built = fail(std::vector<std::string>{std::string("reload failed: ") + e.what()});
  }
  if (!built) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    return fail(std::move(built).error());
  }
  auto next = std::make_shared<Snapshot>(std::move(*built));
  next->version = next_version_++;
  const std::uint64_t version = next->version;
  current_.store(std::shared_ptr<const Snapshot>(std::move(next)));
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return version;
}

}  // namespace egressguard::domains
