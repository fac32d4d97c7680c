// [geoip] in egressguard.toml: where the MaxMind databases are. Paths are resolved against the
// config file's folder, like list paths. Either may be empty (no such database).
#pragma once

#include <string>

namespace egressguard::geoip {

struct GeoipConfig {
  std::string country_db;  // GeoIP2/GeoLite2 Country or City
  std::string asn_db;      // GeoLite2-ASN (or GeoIP2-ISP)

  bool enabled() const noexcept { return !country_db.empty() || !asn_db.empty(); }
};

}  // namespace egressguard::geoip
