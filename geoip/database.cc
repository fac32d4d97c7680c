#include "geoip/database.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

namespace egressguard::geoip {

namespace {

constexpr std::uint32_t kEmptySlot = 0xffffffffU;
// Bytes of zeros between the search tree and the data section (MaxMind DB spec).
constexpr std::uint64_t kDataSectionSeparator = 16;

// One distinct data record, reduced to what a lookup returns.
struct Record {
  std::array<char, 2> country{};
  std::uint32_t asn = 0;
  std::uint32_t org_offset = 0;  // into Impl::org_pool
  std::uint8_t org_size = 0;
};

std::uint32_t hash_offset(std::uint32_t offset) noexcept {
  return static_cast<std::uint32_t>((std::uint64_t{offset} * 0x9e3779b97f4a7c15ULL) >> 32);
}

// Cuts `text` to at most `max` bytes without splitting a UTF-8 sequence.
std::size_t utf8_cut(std::string_view text, std::size_t max) noexcept {
  if (text.size() <= max) {
    return text.size();
  }
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0U) == 0x80U) {
    --n;
  }
  return n;
}

bool is_alpha(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

char upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string_view entry_string(const MMDB_entry_data_s& data) noexcept {
  return {data.utf8_string, data.data_size};
}

}  // namespace

std::string_view describe(DatabaseKind kind) noexcept {
  return kind == DatabaseKind::Country ? "country" : "asn";
}

struct Database::Impl {
  MMDB_s mmdb{};
  bool open = false;
  std::vector<std::uint32_t> keys;    // data offsets (open addressing); kEmptySlot = free
  std::vector<std::uint32_t> values;  // index into records
  std::uint32_t mask = 0;
  std::vector<Record> records;
  std::string org_pool;

  ~Impl() {
    if (open) {
      MMDB_close(&mmdb);
    }
  }

  // Index of the record at `offset`, or kEmptySlot.
  std::uint32_t find(std::uint32_t offset) const noexcept {
    if (keys.empty()) {
      return kEmptySlot;
    }
    for (std::uint32_t slot = hash_offset(offset) & mask;; slot = (slot + 1) & mask) {
      if (keys[slot] == offset) {
        return values[slot];
      }
      if (keys[slot] == kEmptySlot) {
        return kEmptySlot;
      }
    }
  }

  // Inserts `offset` unless present; true when it was new.
  bool insert(std::uint32_t offset, std::uint32_t value) {
    if ((records.size() + 1) * 2 > keys.size()) {
      grow();
    }
    for (std::uint32_t slot = hash_offset(offset) & mask;; slot = (slot + 1) & mask) {
      if (keys[slot] == offset) {
        return false;
      }
      if (keys[slot] == kEmptySlot) {
        keys[slot] = offset;
        values[slot] = value;
        return true;
      }
    }
  }

  void grow() {
    const std::size_t size = std::max<std::size_t>(64, keys.size() * 2);
    std::vector<std::uint32_t> old_keys(size, kEmptySlot);
    std::vector<std::uint32_t> old_values(size, 0);
    old_keys.swap(keys);
    old_values.swap(values);
    mask = static_cast<std::uint32_t>(size - 1);
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] == kEmptySlot) {
        continue;
      }
      std::uint32_t slot = hash_offset(old_keys[i]) & mask;
      while (keys[slot] != kEmptySlot) {
        slot = (slot + 1) & mask;
      }
      keys[slot] = old_keys[i];
      values[slot] = old_values[i];
    }
  }
};

Database::Database() : impl_(std::make_unique<Impl>()) {}
Database::~Database() = default;

Result<std::shared_ptr<const Database>, std::string> Database::open(const std::string& path,
                                                                    DatabaseKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(path + ": cannot open GeoIP database: " + std::strerror(errno));
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) {
    return fail(path + ": cannot read GeoIP database: " + std::strerror(errno));
  }
  return open_bytes(bytes, path, kind);
}

Result<std::shared_ptr<const Database>, std::string> Database::open_bytes(
    ByteSpan bytes, const std::string& display_path, DatabaseKind kind) {
  if (bytes.empty()) {
    return fail(display_path + ": not a MaxMind DB: the file is empty");
  }
  // A private copy: later writes to the file never reach this snapshot.
  const int fd = ::memfd_create("egressguard-geoip", MFD_CLOEXEC);
  if (fd < 0) {
    return fail(display_path +
                ": cannot load GeoIP database: memfd_create: " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      return fail(display_path + ": cannot load GeoIP database: " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  auto out = open_fd(fd, display_path, kind);
  ::close(fd);  // libmaxminddb keeps its own mapping
  return out;
}

Result<std::shared_ptr<const Database>, std::string> Database::open_fd(int fd,
                                                                       const std::string& path,
                                                                       DatabaseKind kind) {
  std::shared_ptr<Database> db(new Database());
  db->path_ = path;
  db->kind_ = kind;
  Impl& impl = *db->impl_;
  const std::string proc_path = "/proc/self/fd/" + std::to_string(fd);
  const int status = MMDB_open(proc_path.c_str(), MMDB_MODE_MMAP, &impl.mmdb);
  if (status != MMDB_SUCCESS) {
    return fail(path + ": not a MaxMind DB: " + MMDB_strerror(status));
  }
  impl.open = true;
  const MMDB_metadata_s& meta = impl.mmdb.metadata;
  db->database_type_ = meta.database_type != nullptr ? meta.database_type : "";
  db->build_epoch_ = meta.build_epoch;
  db->ip_version_ = meta.ip_version;
  db->node_count_ = meta.node_count;
  const std::string where = path + ": ";

  // Every node of the search tree, in order (the IPv4 subtree is shared by aliases, so a walk
  // from the root would visit it many times); each data record decoded once.
  std::vector<const char*> country_path = {"country", "iso_code", nullptr};
  std::vector<const char*> registered_path = {"registered_country", "iso_code", nullptr};
  std::vector<const char*> asn_path = {"autonomous_system_number", nullptr};
  std::vector<const char*> org_path = {"autonomous_system_organization", nullptr};
  std::uint64_t with_field = 0;

  auto decode = [&](MMDB_entry_s entry, Record& record) -> std::string {
    MMDB_entry_data_s data{};
    auto failed = [&](int st, std::string_view field) {
      return "bad data record at offset " + std::to_string(entry.offset) + ": " +
             std::string(field) + ": " + MMDB_strerror(st);
    };
    if (kind == DatabaseKind::Country) {
      int st = MMDB_aget_value(&entry, &data, country_path.data());
      if (st != MMDB_SUCCESS && st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
        return failed(st, "country.iso_code");
      }
      if (st != MMDB_SUCCESS || !data.has_data) {
        st = MMDB_aget_value(&entry, &data, registered_path.data());
        if (st != MMDB_SUCCESS && st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
          return failed(st, "registered_country.iso_code");
        }
        if (st != MMDB_SUCCESS) {
          data.has_data = false;
        }
      }
      if (data.has_data) {
        if (data.type != MMDB_DATA_TYPE_UTF8_STRING) {
          return "bad data record at offset " + std::to_string(entry.offset) +
                 ": country iso_code is not a string";
        }
        const std::string_view code = entry_string(data);
        if (code.size() != 2 || !is_alpha(code[0]) || !is_alpha(code[1])) {
          return "bad data record at offset " + std::to_string(entry.offset) +
                 ": country iso_code is not an ISO 3166-1 alpha-2 code";
        }
        record.country = {upper(code[0]), upper(code[1])};
        ++with_field;
      }
      return {};
    }
    int st = MMDB_aget_value(&entry, &data, asn_path.data());
    if (st != MMDB_SUCCESS && st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
      return failed(st, "autonomous_system_number");
    }
    if (st == MMDB_SUCCESS && data.has_data) {
      std::uint64_t asn = 0;
      switch (data.type) {
        case MMDB_DATA_TYPE_UINT16:
          asn = data.uint16;
          break;
        case MMDB_DATA_TYPE_UINT32:
          asn = data.uint32;
          break;
        case MMDB_DATA_TYPE_UINT64:
          asn = data.uint64;
          break;
        default:
          return "bad data record at offset " + std::to_string(entry.offset) +
                 ": autonomous_system_number is not an unsigned integer";
      }
      if (asn == 0 || asn > 0xffffffffULL) {
        return "bad data record at offset " + std::to_string(entry.offset) +
               ": autonomous_system_number " + std::to_string(asn) + " is out of range";
      }
      record.asn = static_cast<std::uint32_t>(asn);
      ++with_field;
    }
    st = MMDB_aget_value(&entry, &data, org_path.data());
    if (st != MMDB_SUCCESS && st != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR) {
      return failed(st, "autonomous_system_organization");
    }
    if (st == MMDB_SUCCESS && data.has_data) {
      if (data.type != MMDB_DATA_TYPE_UTF8_STRING) {
        return "bad data record at offset " + std::to_string(entry.offset) +
               ": autonomous_system_organization is not a string";
      }
      const std::string_view org = entry_string(data);
      const std::size_t size = utf8_cut(org, kMaxOrgSize);
      record.org_offset = static_cast<std::uint32_t>(impl.org_pool.size());
      record.org_size = static_cast<std::uint8_t>(size);
      impl.org_pool.append(org.substr(0, size));
    }
    return {};
  };

  const std::uint32_t data_size = impl.mmdb.data_section_size;
  for (std::uint32_t node = 0; node < meta.node_count; ++node) {
    MMDB_search_node_s n{};
    const int st = MMDB_read_node(&impl.mmdb, node, &n);
    if (st != MMDB_SUCCESS) {
      return fail(where + "corrupt search tree: node " + std::to_string(node) + ": " +
                  MMDB_strerror(st));
    }
    const std::array<std::pair<std::uint64_t, std::uint8_t>, 2> sides = {
        {{n.left_record, n.left_record_type}, {n.right_record, n.right_record_type}}};
    const std::array<MMDB_entry_s, 2> entries = {n.left_record_entry, n.right_record_entry};
    for (std::size_t side = 0; side < 2; ++side) {
      const auto [value, type] = sides[side];
      if (type == MMDB_RECORD_TYPE_SEARCH_NODE || type == MMDB_RECORD_TYPE_EMPTY) {
        continue;
      }
      const std::uint64_t data_offset = value - meta.node_count;  // > node_count here
      if (type != MMDB_RECORD_TYPE_DATA || data_offset < kDataSectionSeparator ||
          data_offset - kDataSectionSeparator >= data_size) {
        if (value == 0) {
          return fail(where + "corrupt search tree: node " + std::to_string(node) +
                      " points back at the root node");
        }
        return fail(where + "corrupt search tree: node " + std::to_string(node) +
                    " points at record " + std::to_string(value) + ", beyond the data section (" +
                    std::to_string(data_size) + " bytes)");
      }
      const MMDB_entry_s entry = entries[side];
      if (impl.find(entry.offset) != kEmptySlot) {
        continue;
      }
      Record record;
      std::string error = decode(entry, record);
      if (!error.empty()) {
        return fail(where + error);
      }
      impl.insert(entry.offset, static_cast<std::uint32_t>(impl.records.size()));
      impl.records.push_back(record);
    }
  }
  if (with_field == 0) {
    return fail(where + "not a " + std::string(describe(kind)) + " database: database_type \"" +
                db->database_type_ + "\" has no " +
                (kind == DatabaseKind::Country ? "country.iso_code" : "autonomous_system_number") +
                " in any record");
  }
  db->records_ = with_field;
  return std::shared_ptr<const Database>(std::move(db));
}

bool Database::lookup(ByteSpan address, GeoInfo& out) const noexcept {
  sockaddr_in6 v6{};
  sockaddr_in v4{};
  const sockaddr* sa = nullptr;
  if (address.size() == 4) {
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, address.data(), 4);
    sa = reinterpret_cast<const sockaddr*>(&v4);
  } else if (address.size() == 16) {
    v6.sin6_family = AF_INET6;
    std::memcpy(&v6.sin6_addr, address.data(), 16);
    sa = reinterpret_cast<const sockaddr*>(&v6);
  } else {
    return false;
  }
  int error = MMDB_SUCCESS;
  const MMDB_lookup_result_s result = MMDB_lookup_sockaddr(&impl_->mmdb, sa, &error);
  if (error != MMDB_SUCCESS || !result.found_entry) {
    return false;
  }
  const std::uint32_t index = impl_->find(result.entry.offset);
  if (index == kEmptySlot) {
    return false;  // cannot happen after validation: every data record was indexed
  }
  const Record& record = impl_->records[index];
  if (kind_ == DatabaseKind::Country) {
    out.country = record.country;
  } else {
    out.asn = record.asn;
    out.org_size = record.org_size;
    std::memcpy(out.org.data(), impl_->org_pool.data() + record.org_offset, record.org_size);
  }
  return true;
}

}  // namespace egressguard::geoip
