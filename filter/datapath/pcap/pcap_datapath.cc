#include "filter/datapath/pcap/pcap_datapath.h"

namespace egressguard::datapath {

Result<void, std::string> run_pcap(PcapSource& source, inspect::Inspector& inspector,
                                   std::string_view interface, const std::atomic<bool>* stop) {
  constexpr std::uint64_t kExpireEveryUs = 1000000;  // flow expiry runs once per second
  std::uint64_t next_expire = 0;
  return source.run(
      [&](const Frame& frame) {
        inspect::PacketMeta meta;
        meta.ts_us = frame.ts_us;
        meta.interface = interface;
        static_cast<void>(inspector.inspect_frame(frame.link, frame.bytes, meta));
        if (frame.ts_us >= next_expire) {
          inspector.expire(frame.ts_us);
          next_expire = frame.ts_us + kExpireEveryUs;
        }
      },
      stop);
}

}  // namespace egressguard::datapath
