// PcapSource: packets from a capture file (pcap or pcapng, read offline) or a live interface
// (passive, read-only), through libpcap. Hands each frame to a callback with its link type and
// timestamp; knows nothing about inspection.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/byte_span.h"
#include "base/result.h"
#include "filter/parse/packet.h"

namespace egressguard::datapath {

struct Frame {
  parse::LinkType link;
  ByteSpan bytes;           // valid only during the callback
  std::uint64_t ts_us = 0;  // capture timestamp, microseconds since the epoch
  std::uint32_t wire_length = 0;
};

struct PcapStats {
  std::uint64_t frames = 0;
  std::uint64_t unsupported_link = 0;  // frames of a link type we cannot decode
  std::uint64_t kernel_drops = 0;      // live capture only (pcap_stats)
};

class PcapSource {
 public:
  ~PcapSource();
  PcapSource(const PcapSource&) = delete;
  PcapSource& operator=(const PcapSource&) = delete;

  // Errors: "<file>: cannot read capture: <libpcap's reason>",
  //         "<file>: unsupported link type <n> (<name>)".
  // `stdio_buffer`: bytes read from the file at a time (a large buffer saves read() calls on
  // big captures; the fuzz target uses a small one so inputs cross buffer refills).
  static constexpr std::size_t kDefaultStdioBuffer = std::size_t{1} << 20;
  static Result<std::unique_ptr<PcapSource>, std::string> open_file(
      const std::string& path, std::size_t stdio_buffer = kDefaultStdioBuffer);
  // Live capture in promiscuous-off, immediate mode; optional BPF filter.
  static Result<std::unique_ptr<PcapSource>, std::string> open_live(const std::string& interface,
                                                                    const std::string& bpf = {});

  // Reads until end of file, `stop` becomes true, or an error. A truncated or corrupt capture
  // ends with an error that says after how many packets ("<file>: truncated capture after
  // 1234 packets: <reason>"); the packets before it have been delivered.
  Result<void, std::string> run(const std::function<void(const Frame&)>& on_frame,
                                const std::atomic<bool>* stop = nullptr);
  // Ends a live run() from a signal handler or another thread.
  void break_loop() noexcept;

  const PcapStats& stats() const noexcept { return stats_; }
  const std::string& name() const noexcept { return name_; }
  int datalink() const noexcept { return dlt_; }

 private:
  PcapSource() = default;
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::string name_;
  parse::LinkType link_ = parse::LinkType::Ethernet;
  int dlt_ = 0;
  bool live_ = false;
  PcapStats stats_;
};

}  // namespace egressguard::datapath
