// GeoDatabases: the country and ASN databases of one policy snapshot, opened together. The
// policy snapshot owns them, so they are reloaded with the lists (PolicyStore::reload): a
// database that fails to open refuses the whole reload and the previous snapshot, databases
// included, stays live.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/byte_span.h"
#include "base/result.h"
#include "geoip/database.h"
#include "geoip/geoip_config.h"

namespace egressguard::geoip {

class GeoDatabases {
 public:
  // Opens every configured database; all errors are returned (`path: what: why`).
  static Result<std::shared_ptr<const GeoDatabases>, std::vector<std::string>> open(
      const GeoipConfig& config);
  // From databases already open (tests); either may be null.
  GeoDatabases(std::shared_ptr<const Database> country, std::shared_ptr<const Database> asn)
      : country_(std::move(country)), asn_(std::move(asn)) {}

  // Fills `out` from both databases (4 or 16 bytes, network order); true when either knew the
  // address. No allocation.
  bool lookup(ByteSpan address, GeoInfo& out) const noexcept {
    bool found = false;
    if (country_ != nullptr) {
      found = country_->lookup(address, out);
    }
    if (asn_ != nullptr) {
      found = asn_->lookup(address, out) || found;
    }
    return found;
  }

  const Database* country() const noexcept { return country_.get(); }
  const Database* asn() const noexcept { return asn_.get(); }

 private:
  std::shared_ptr<const Database> country_;
  std::shared_ptr<const Database> asn_;
};

}  // namespace egressguard::geoip
