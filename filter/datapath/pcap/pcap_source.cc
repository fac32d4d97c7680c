#include "filter/datapath/pcap/pcap_source.h"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <pcap/pcap.h>

namespace egressguard::datapath {

struct PcapSource::Handle {
  // stdio buffer of an offline capture: libpcap's default FILE buffer makes a read() per 4 KiB,
  // a third of scan time on large captures (bench/scan). Freed after pcap_close().
  std::unique_ptr<char[]> file_buffer;
  pcap_t* pcap = nullptr;
  ~Handle() {
    if (pcap != nullptr) {
      pcap_close(pcap);
    }
  }
};

PcapSource::~PcapSource() = default;

namespace {

Result<parse::LinkType, std::string> link_for(pcap_t* pcap, const std::string& name) {
  const int dlt = pcap_datalink(pcap);
  auto link = parse::link_type_from_dlt(dlt);
  if (!link) {
    const char* dlt_name = pcap_datalink_val_to_name(dlt);
    return fail(name + ": unsupported link type " + std::to_string(dlt) + " (" +
                (dlt_name != nullptr ? dlt_name : "unknown") +
                "): supported are Ethernet, Linux SLL/SLL2, raw IP, BSD loopback");
  }
  return *link;
}

}  // namespace

Result<std::unique_ptr<PcapSource>, std::string> PcapSource::open_file(const std::string& path,
                                                                       std::size_t stdio_buffer) {
  std::array<char, PCAP_ERRBUF_SIZE> err{};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return fail(path + ": cannot read capture: " + std::strerror(errno));
  }
  std::unique_ptr<PcapSource> source(new PcapSource());
  source->handle_ = std::make_unique<Handle>();
  // Uninitialised: stdio fills it; zeroing 1 MiB per open costs more than reading a small file.
  source->handle_->file_buffer = std::make_unique_for_overwrite<char[]>(stdio_buffer);
  std::setvbuf(file, source->handle_->file_buffer.get(), _IOFBF, stdio_buffer);
  pcap_t* pcap =
      pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_MICRO, err.data());
  if (pcap == nullptr) {
    std::string why = err.data();
    // libpcap's wording for an empty file ("truncated dump file; tried to read 4 file header
    // bytes, only got 0") and for a wrong magic number do not say what the user has.
    if (std::fseek(file, 0, SEEK_END) == 0 && std::ftell(file) == 0) {
      why = "the file is empty";
    } else if (why == "unknown file format") {
      why += ": not a pcap or pcapng file";
    }
    std::fclose(file);
    return fail(path + ": cannot read capture: " + why);
  }
  source->handle_->pcap = pcap;
  source->name_ = path;
  source->dlt_ = pcap_datalink(pcap);
  auto link = link_for(pcap, path);
  if (!link) {
    return fail(std::move(link).error());
  }
  source->link_ = *link;
  return source;
}

Result<std::unique_ptr<PcapSource>, std::string> PcapSource::open_live(const std::string& interface,
                                                                       const std::string& bpf) {
  std::array<char, PCAP_ERRBUF_SIZE> err{};
  pcap_t* pcap = pcap_create(interface.c_str(), err.data());
  if (pcap == nullptr) {
    return fail(interface + ": cannot open interface: " + err.data());
  }
  std::unique_ptr<PcapSource> source(new PcapSource());
  source->handle_ = std::make_unique<Handle>();
  source->handle_->pcap = pcap;
  source->name_ = interface;
  source->live_ = true;
  pcap_set_snaplen(pcap, 65535);
  pcap_set_promisc(pcap, 0);
  pcap_set_immediate_mode(pcap, 1);
  pcap_set_buffer_size(pcap, 16 << 20);
  pcap_set_timeout(pcap, 100);
  const int rc = pcap_activate(pcap);
  if (rc < 0) {
    return fail(interface + ": cannot capture: " + pcap_geterr(pcap) +
                (rc == PCAP_ERROR_PERM_DENIED ? " (needs CAP_NET_RAW, or run as root)" : ""));
  }
  source->dlt_ = pcap_datalink(pcap);
  auto link = link_for(pcap, interface);
  if (!link) {
    return fail(std::move(link).error());
  }
  source->link_ = *link;
  if (!bpf.empty()) {
    bpf_program program{};
    if (pcap_compile(pcap, &program, bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(pcap, &program) != 0) {
      std::string why = pcap_geterr(pcap);
      pcap_freecode(&program);
      return fail(interface + ": bad capture filter \"" + bpf + "\": " + why);
    }
    pcap_freecode(&program);
  }
  return source;
}

Result<void, std::string> PcapSource::run(const std::function<void(const Frame&)>& on_frame,
                                          const std::atomic<bool>* stop) {
  pcap_t* pcap = handle_->pcap;
  while (stop == nullptr || !stop->load(std::memory_order_relaxed)) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(pcap, &header, &data);
    if (rc == 1) {
      ++stats_.frames;
      Frame frame{link_, ByteSpan(data, header->caplen),
                  static_cast<std::uint64_t>(header->ts.tv_sec) * 1000000ULL +
                      static_cast<std::uint64_t>(header->ts.tv_usec),
                  header->len};
      on_frame(frame);
      continue;
    }
    if (rc == 0) {  // live: timeout with no packet
      continue;
    }
    if (rc == PCAP_ERROR_BREAK) {
      if (live_) {
        break;
      }
      return {};  // end of file
    }
    const std::string why = pcap_geterr(pcap);
    if (!live_) {
      return fail(name_ + ": truncated or corrupt capture after " + std::to_string(stats_.frames) +
                  (stats_.frames == 1 ? " packet: " : " packets: ") + why);
    }
    return fail(name_ + ": capture failed after " + std::to_string(stats_.frames) +
                " packets: " + why);
  }
  if (live_) {
    pcap_stat ps{};
    if (pcap_stats(pcap, &ps) == 0) {
      stats_.kernel_drops = ps.ps_drop + ps.ps_ifdrop;
    }
  }
  return {};
}

void PcapSource::break_loop() noexcept {
  pcap_breakloop(handle_->pcap);
}

}  // namespace egressguard::datapath
