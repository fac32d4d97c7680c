// DnsEventPipelineSink: the DNS proxy's events into the event pipeline (datapath "dnsproxy"),
// with the proxy's own fields: blocks, flagged answers (GeoIP flag_countries) and, with
// `log_allowed`, every allowed query. Called on worker threads; never blocks.
#pragma once

#include <string>

#include "filter/datapath/dnsproxy/dns_proxy_core.h"
#include "filter/events/event_pipeline.h"

namespace egressguard::events {

class DnsEventPipelineSink : public dnsproxy::DnsEventSink {
 public:
  explicit DnsEventPipelineSink(EventPipeline& pipeline, bool log_allowed = false)
      : pipeline_(pipeline), log_allowed_(log_allowed) {}
  bool on_dns_block(const inspect::Observation& observation,
                    const dnsproxy::DnsBlockInfo& info) noexcept override {
    return pipeline_.submit(observation, "dnsproxy", &info);
  }
  bool on_dns_flag(const inspect::Observation& observation,
                   const dnsproxy::DnsBlockInfo& info) noexcept override {
    return pipeline_.submit(observation, "dnsproxy", &info);
  }
  void on_dns_allow(const inspect::Observation& observation) noexcept override {
    // A flagged answer was already written by on_dns_flag.
    if (log_allowed_ && observation.decision.reason.kind != inspect::ReasonKind::GeoFlag) {
      static_cast<void>(pipeline_.submit(observation, "dnsproxy"));
    }
  }

 private:
  EventPipeline& pipeline_;
  bool log_allowed_;
};

// The DNS proxy's extra event fields, appended to a line from append_event_json (which must end
// with '}'): "dns_answer", "ede" (when sent), "block_cause" (blocks only), "cname_target" (when
// a CNAME target decided).
void append_dns_fields(std::string& line, const dnsproxy::DnsBlockInfo& info, bool blocked);

}  // namespace egressguard::events
