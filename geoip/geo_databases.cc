#include "geoip/geo_databases.h"

namespace egressguard::geoip {

Result<std::shared_ptr<const GeoDatabases>, std::vector<std::string>> GeoDatabases::open(
    const GeoipConfig& config) {
  std::vector<std::string> errors;
  std::shared_ptr<const Database> country;
  std::shared_ptr<const Database> asn;
  if (!config.country_db.empty()) {
    auto opened = Database::open(config.country_db, DatabaseKind::Country);
    if (opened) {
      country = std::move(*opened);
    } else {
      errors.push_back(std::move(opened).error());
    }
  }
  if (!config.asn_db.empty()) {
    auto opened = Database::open(config.asn_db, DatabaseKind::Asn);
    if (opened) {
      asn = std::move(*opened);
    } else {
      errors.push_back(std::move(opened).error());
    }
  }
  if (!errors.empty()) {
    return fail(std::move(errors));
  }
  return std::make_shared<const GeoDatabases>(std::move(country), std::move(asn));
}

}  // namespace egressguard::geoip
