#include "filter/events/async_event_sink.h"

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "base/json.h"
#include "filter/events/event_json.h"

namespace egressguard::events {

void append_dns_fields(std::string& line, const dnsproxy::DnsBlockInfo& info) {
  if (line.empty() || line.back() != '}') {
    return;
  }
  line.pop_back();
  line += ",\"dns_answer\":";
  append_json_string(line, info.answer);
  if (info.ede != 0) {
    line += ",\"ede\":" + std::to_string(info.ede);
  }
  line += ",\"block_cause\":";
  append_json_string(line, dnsproxy::describe(info.cause));
  if (!info.cname_target.empty()) {
    line += ",\"cname_target\":";
    append_json_string(line, info.cname_target);
  }
  line += "}";
}

Result<std::unique_ptr<AsyncEventSink>, std::string> AsyncEventSink::open(const std::string& path,
                                                                          std::string sensor,
                                                                          std::string datapath,
                                                                          std::size_t capacity) {
  std::unique_ptr<AsyncEventSink> sink(new AsyncEventSink());
  if (path == "-") {
    sink->file_ = stdout;
  } else {
    sink->file_ = std::fopen(path.c_str(), "ae");
    if (sink->file_ == nullptr) {
      return fail(path + ": cannot open for events: " + std::strerror(errno));
    }
    sink->owns_file_ = true;
  }
  sink->sensor_ = std::move(sensor);
  sink->datapath_ = std::move(datapath);
  sink->capacity_ = capacity == 0 ? 1 : capacity;
  sink->writer_ = std::thread([s = sink.get()] { s->run(); });
  return sink;
}

AsyncEventSink::~AsyncEventSink() {
  close();
}

bool AsyncEventSink::on_dns_block(const inspect::Observation& observation,
                                  const dnsproxy::DnsBlockInfo& info) noexcept {
  try {
    std::string line;
    line.reserve(640);
    append_event_json(line, observation, EventContext{sensor_, datapath_});
    append_dns_fields(line, info);
    line += '\n';
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ || queue_.size() >= capacity_) {
        ++dropped_;
        return false;
      }
      queue_.push_back(std::move(line));
    }
    wake_.notify_one();
    return true;
  } catch (...) {  // allocation failure: drop the event, never the query
    std::lock_guard<std::mutex> lock(mutex_);
    ++dropped_;
    return false;
  }
}

void AsyncEventSink::run() {
  std::deque<std::string> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) {
        return;
      }
      batch.swap(queue_);
    }
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    for (const std::string& line : batch) {
      if (std::fwrite(line.data(), 1, line.size(), file_) == line.size()) {
        ++ok;
      } else {
        ++errors;
      }
    }
    if (std::fflush(file_) != 0) {
      ++errors;
    }
    batch.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    written_ += ok;
    write_errors_ += errors;
  }
}

void AsyncEventSink::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) {
      return;
    }
    closed_ = true;
    stopping_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) {
    writer_.join();
  }
  if (owns_file_ && file_ != nullptr) {
    std::fclose(file_);
  } else if (file_ != nullptr) {
    std::fflush(file_);
  }
  file_ = nullptr;
}

std::uint64_t AsyncEventSink::written() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return written_;
}
std::uint64_t AsyncEventSink::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}
std::uint64_t AsyncEventSink::write_errors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return write_errors_;
}

}  // namespace egressguard::events
