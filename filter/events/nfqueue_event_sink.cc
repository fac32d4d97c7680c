#include "filter/events/nfqueue_event_sink.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "filter/events/event_json.h"

namespace egressguard::events {

Result<std::unique_ptr<NfqueueEventSink>, std::string> NfqueueEventSink::open(
    const std::string& path, std::string sensor, bool log_allowed) {
  std::unique_ptr<NfqueueEventSink> sink(new NfqueueEventSink());
  if (path == "-") {
    sink->fd_ = STDOUT_FILENO;
  } else {
    sink->fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (sink->fd_ < 0) {
      return fail(path + ": cannot open for events: " + std::strerror(errno));
    }
    sink->owns_fd_ = true;
  }
  sink->sensor_ = std::move(sensor);
  sink->log_allowed_ = log_allowed;
  sink->line_.reserve(1024);
  return sink;
}

NfqueueEventSink::~NfqueueEventSink() {
  if (owns_fd_) {
    ::close(fd_);
  }
}

void NfqueueEventSink::on_observation(const inspect::Observation& observation) {
  const std::string_view type = event_type(observation);
  if (type != "block" && !(log_allowed_ && type == "name")) {
    return;
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  line_.clear();
  append_event_json(line_, observation, EventContext{sensor_, "nfqueue"});
  line_ += '\n';
  const ssize_t n = ::write(fd_, line_.data(), line_.size());
  if (n == static_cast<ssize_t>(line_.size())) {
    written_.fetch_add(1, std::memory_order_relaxed);
  } else {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace egressguard::events
