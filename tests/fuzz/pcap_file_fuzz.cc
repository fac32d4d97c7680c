// libFuzzer target: a capture file (pcap or pcapng) read by PcapSource::open_file + run through
// libpcap, each frame decoded. The input is the whole file, handed over as an in-memory file
// (memfd) so the real open path (fopen, setvbuf, pcap_fopen_offline) runs. A file must open and
// read to its end, or fail with a "<file>: ..." message, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <sys/mman.h>
#include <unistd.h>

#include "filter/datapath/pcap/pcap_source.h"
#include "filter/parse/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace egressguard;
  const int fd = ::memfd_create("capture", MFD_CLOEXEC);
  if (fd < 0) {
    std::abort();
  }
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n <= 0) {
      std::abort();
    }
    written += static_cast<std::size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  // A 4 KiB stdio buffer: larger inputs cross refills (and a 1 MiB one per input is slow).
  auto source = datapath::PcapSource::open_file(path, 4096);
  if (!source) {
    if (source.error().rfind(path + ": ", 0) != 0) {
      std::abort();  // errors name the file
    }
    ::close(fd);
    return 0;
  }
  unsigned sum = 0;
  std::uint64_t frames = 0;
  auto read = (*source)->run([&](const datapath::Frame& frame) {
    ++frames;
    for (const std::uint8_t byte : frame.bytes) {
      sum += byte;  // ASan: every byte of the frame is readable
    }
    static_cast<void>(parse::decode_packet(frame.link, frame.bytes));
  });
  if ((*source)->stats().frames != frames || (!read && read.error().rfind(path + ": ", 0) != 0)) {
    std::abort();
  }
  static_cast<void>(sum);
  ::close(fd);
  return 0;
}
