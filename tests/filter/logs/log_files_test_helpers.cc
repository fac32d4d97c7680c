#include "tests/filter/logs/log_files_test_helpers.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include <zlib.h>

namespace egressguard::logs::testing {

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    throw std::runtime_error("cannot write " + path);
  }
}

std::string gzip_bytes(const std::string& text) {
  z_stream s{};
  if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&s, static_cast<uLong>(text.size())) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  s.avail_in = static_cast<uInt>(text.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  if (rc != Z_STREAM_END) {
    throw std::runtime_error("deflate");
  }
  return out;
}

std::string event_at(int second, const std::string& tag, const std::string& group,
                     const std::string& name) {
  char ts[64];
  std::snprintf(ts, sizeof ts, "2026-11-29T%02d:%02d:%02d.000001Z", 9 + second / 3600,
                second / 60 % 60, second % 60);
  return std::string("{\"timestamp\":\"") + ts + "\",\"event_type\":\"block\",\"sensor\":\"" + tag +
         "\",\"datapath\":\"pcap\",\"src_ip\":\"10.8.0.10\",\"group\":\"" + group +
         "\",\"name\":\"" + name +
         "\",\"action\":\"block\",\"category\":\"tiktok\",\"rule\":\"*.tiktok.com\","
         "\"list\":\"tiktok.txt\",\"line\":3,\"flags\":[]}\n";
}

}  // namespace egressguard::logs::testing
