// MaxMind DB (GeoIP2 / GeoLite2) readers: a country database (Country or City) and an ASN
// database, opened and validated off the packet path, looked up without allocation on it.
//
// A database is copied into private memory (a memfd) before libmaxminddb maps it, so that an
// operator (or geoipupdate) overwriting the file in place cannot change or truncate the bytes a
// live snapshot reads (a shared mapping of a truncated file faults with SIGBUS).
//
// open() walks the whole search tree and decodes, once per distinct data record, exactly the
// fields lookup() reads; a database that fails anywhere is refused with `path: what: why`. The
// bytes are immutable afterwards, so a lookup of a validated database cannot fail.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"

namespace egressguard::geoip {

// Organisation names are cut to this many bytes (at a UTF-8 boundary). GeoLite2-ASN's longest
// is under 100.
inline constexpr std::size_t kMaxOrgSize = 127;

// What the databases say about one address. Fixed size: filling it never allocates.
struct GeoInfo {
  std::array<char, 2> country{};  // ISO 3166-1 alpha-2, upper case ("NO" is Norway); 0 = unknown
  std::uint32_t asn = 0;          // autonomous system number; 0 = unknown
  std::uint8_t org_size = 0;
  std::array<char, kMaxOrgSize> org{};  // autonomous_system_organization, UTF-8, not terminated

  bool has_country() const noexcept { return country[0] != 0; }
  bool has_asn() const noexcept { return asn != 0; }
  bool empty() const noexcept { return !has_country() && !has_asn(); }
  // "CN", or empty when unknown.
  std::string_view country_code() const noexcept {
    return has_country() ? std::string_view(country.data(), 2) : std::string_view();
  }
  std::string_view as_org() const noexcept { return {org.data(), org_size}; }
};

// Which fields a database must provide.
enum class DatabaseKind : std::uint8_t {
  Country,  // country.iso_code (registered_country.iso_code when absent): Country, City DBs
  Asn,      // autonomous_system_number and _organization: GeoLite2-ASN, GeoIP2-ISP
};
std::string_view describe(DatabaseKind kind) noexcept;  // "country" | "asn"

class Database {
 public:
  // Opens and validates `path`. Errors: `path: what: why`, e.g.
  // `x.mmdb: not a MaxMind DB: The MaxMind DB file contains invalid metadata`.
  static Result<std::shared_ptr<const Database>, std::string> open(const std::string& path,
                                                                   DatabaseKind kind);
  // The same from bytes (tests, fuzzing); `display_path` names it in errors.
  static Result<std::shared_ptr<const Database>, std::string> open_bytes(
      ByteSpan bytes, const std::string& display_path, DatabaseKind kind);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // `address`: 4 (IPv4) or 16 (IPv6) bytes in network order. Fills the fields this database
  // knows (country for Country, asn and org for Asn) and returns true when the address is in
  // it. An IPv6 address in an IPv4-only database, or a bad size, is not found. No allocation.
  bool lookup(ByteSpan address, GeoInfo& out) const noexcept;

  const std::string& path() const noexcept { return path_; }
  DatabaseKind kind() const noexcept { return kind_; }
  const std::string& database_type() const noexcept { return database_type_; }
  std::uint64_t build_epoch() const noexcept { return build_epoch_; }
  unsigned ip_version() const noexcept { return ip_version_; }
  std::uint32_t node_count() const noexcept { return node_count_; }
  // Distinct data records that carry this kind's fields.
  std::uint64_t records() const noexcept { return records_; }

 private:
  struct Impl;
  Database();
  static Result<std::shared_ptr<const Database>, std::string> open_fd(int fd,
                                                                      const std::string& path,
                                                                      DatabaseKind kind);

  std::unique_ptr<Impl> impl_;
  std::string path_;
  DatabaseKind kind_ = DatabaseKind::Country;
  std::string database_type_;
  std::uint64_t build_epoch_ = 0;
  unsigned ip_version_ = 0;
  std::uint32_t node_count_ = 0;
  std::uint64_t records_ = 0;
};

}  // namespace egressguard::geoip
