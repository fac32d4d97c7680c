// The passive datapath: frames from a PcapSource into an Inspector, with flow expiry driven by
// packet time. Used by `scan` (files) and `monitor` (a live interface); it never changes
// traffic, so its decisions are would-block events.
#pragma once

#include <atomic>
#include <string>

#include "base/result.h"
#include "filter/datapath/pcap/pcap_source.h"
#include "filter/inspect/inspector.h"

namespace egressguard::datapath {

// Feeds every frame of `source` to `inspector` until the source ends or `stop` is set.
// `interface` is reported as the ingress interface of every packet (empty for files).
Result<void, std::string> run_pcap(PcapSource& source, inspect::Inspector& inspector,
                                   std::string_view interface,
                                   const std::atomic<bool>* stop = nullptr);

}  // namespace egressguard::datapath
