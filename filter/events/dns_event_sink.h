// DnsEventPipelineSink: the DNS proxy's block events into the event pipeline (datapath
// "dnsproxy"), with the proxy's own fields. Called on worker threads; never blocks.
#pragma once

#include <string>

#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/events/event_pipeline.h"

namespace egressguard::events {

class DnsEventPipelineSink : public dnsproxy::DnsEventSink {
 public:
  explicit DnsEventPipelineSink(EventPipeline& pipeline) : pipeline_(pipeline) {}
  bool on_dns_block(const inspect::Observation& observation,
                    const dnsproxy::DnsBlockInfo& info) noexcept override {
    return pipeline_.submit(observation, "dnsproxy", &info);
  }

 private:
  EventPipeline& pipeline_;
};

// The DNS proxy's extra event fields, appended to a line from append_event_json (which must end
// with '}'): "dns_answer", "ede" (when sent), "block_cause", "cname_target" (when a CNAME
// target decided).
void append_dns_fields(std::string& line, const dnsproxy::DnsBlockInfo& info);

}  // namespace egressguard::events
