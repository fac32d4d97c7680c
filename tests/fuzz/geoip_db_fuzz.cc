// libFuzzer target: a MaxMind DB from untrusted bytes (geoip/database.h) must be refused with an
// error or open and answer lookups, never crash; and IP list text (geoip/ip_list.h).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "geoip/database.h"
#include "geoip/ip_list.h"

// libmaxminddb 1.7.1 (Debian 12) leaks in MMDB_open() on some invalid databases (fixed upstream
// in 1.8.0: "Fixed memory leaks in MMDB_open()"); not ours to fix, so LeakSanitizer ignores
// allocations made inside the library.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libmaxminddb.so";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const egressguard::ByteSpan bytes(data, size);
  static constexpr std::array<std::array<std::uint8_t, 16>, 4> kAddresses = {{
      {175, 16, 199, 1},
      {2, 125, 160, 216},
      {0x20, 0x01, 0x02, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff},
  }};
  for (const auto kind :
       {egressguard::geoip::DatabaseKind::Country, egressguard::geoip::DatabaseKind::Asn}) {
    auto db = egressguard::geoip::Database::open_bytes(bytes, "fuzz.mmdb", kind);
    if (!db) {
      continue;
    }
    for (std::size_t i = 0; i < kAddresses.size(); ++i) {
      egressguard::geoip::GeoInfo info;
      const std::size_t length = i < 2 ? 4 : 16;
      static_cast<void>((*db)->lookup(egressguard::ByteSpan(kAddresses[i].data(), length), info));
    }
  }
  static_cast<void>(egressguard::geoip::parse_ip_list(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.txt"));
  return 0;
}
