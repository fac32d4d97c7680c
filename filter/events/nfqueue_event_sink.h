// NfqueueEventSink: events of the inline datapath's worker threads (one Inspector each) into the
// event pipeline, datapath "nfqueue": blocks, and allowed names with `log_allowed`. Never
// blocks a worker (the pipeline's queue drops and counts). Only the first packets of a flow
// reach user space, so the event rate is bounded by new flows, not by traffic.
#pragma once

#include "filter/events/event_pipeline.h"
#include "filter/inspect/observation.h"

namespace egressguard::events {

class NfqueueEventSink : public inspect::ObservationSink {
 public:
  NfqueueEventSink(EventPipeline& pipeline, bool log_allowed)
      : pipeline_(pipeline), log_allowed_(log_allowed) {}

  void on_observation(const inspect::Observation& observation) override;

 private:
  EventPipeline& pipeline_;
  bool log_allowed_ = false;
};

}  // namespace egressguard::events
