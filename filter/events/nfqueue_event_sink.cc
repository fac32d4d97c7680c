#include "filter/events/nfqueue_event_sink.h"

#include "filter/events/event_json.h"

namespace egressguard::events {

void NfqueueEventSink::on_observation(const inspect::Observation& observation) {
  const std::string_view type = event_type(observation);
  if (type != "block" && !(log_allowed_ && type == "name")) {
    return;
  }
  static_cast<void>(pipeline_.submit(observation, "nfqueue"));
}

}  // namespace egressguard::events
