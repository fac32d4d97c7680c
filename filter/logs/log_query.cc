#include "filter/logs/log_query.h"

#include <memory>
#include <queue>

#include "filter/logs/line_reader.h"

namespace egressguard::logs {

namespace {

// One open file and its next matching event.
class EventStream {
 public:
  EventStream(std::unique_ptr<LineReader> reader, std::size_t index)
      : reader_(std::move(reader)), index_(index) {}

  // Reads up to the next event the filter accepts; false at the end of the file.
  bool advance(EventFilter& filter, ReadSummary& summary) {
    if (!reader_) {
      return false;
    }
    for (;;) {
      if (!reader_->next(line_)) {
        summary.file_bytes += reader_->file_bytes();
        summary.text_bytes += reader_->text_bytes();
        if (!reader_->error().empty()) {
          summary.errors.push_back(reader_->error());
        }
        reader_.reset();  // frees the buffers; a merge over many files keeps few open
        return false;
      }
      ++summary.lines;
      if (line_.too_long) {
        malformed(summary, "line longer than 1 MiB");
        continue;
      }
      if (!filter.may_match(line_.text)) {
        continue;
      }
      LineError error = LineError::Empty;
      if (!parse_event_line(line_.text, event_, error)) {
        if (error == LineError::Empty) {
          continue;
        }
        std::string why(to_string(error));
        if (line_.unterminated) {
          why += " (last line, no newline: still being written?)";
        }
        malformed(summary, why);
        continue;
      }
      ++summary.parsed;
      if (filter.matches(event_)) {
        ++summary.matched;
        return true;
      }
    }
  }

  std::string_view text() const noexcept { return line_.text; }
  const EventLine& event() const noexcept { return event_; }
  std::size_t index() const noexcept { return index_; }

 private:
  void malformed(ReadSummary& summary, std::string why) {
    ++summary.malformed;
    if (summary.first_malformed.size() < ReadSummary::kMaxMalformedReported) {
      summary.first_malformed.push_back({reader_->path(), line_.number, std::move(why)});
    }
  }

  std::unique_ptr<LineReader> reader_;
  std::size_t index_;
  FileLine line_;
  EventLine event_;
};

std::unique_ptr<EventStream> open_stream(const std::string& path, std::size_t index,
                                         ReadSummary& summary) {
  auto reader = LineReader::open(path);
  if (!reader) {
    summary.errors.push_back(reader.error());
    return nullptr;
  }
  summary.files.push_back(path);
  return std::make_unique<EventStream>(std::move(*reader), index);
}

}  // namespace

ReadSummary read_events_in_order(const std::vector<std::string>& files, EventFilter& filter,
                                 const EventSink& sink) {
  ReadSummary summary;
  std::vector<std::unique_ptr<EventStream>> streams;
  auto later = [](const EventStream* a, const EventStream* b) {
    if (a->event().ts_us != b->event().ts_us) {
      return a->event().ts_us > b->event().ts_us;
    }
    return a->index() > b->index();
  };
  std::priority_queue<EventStream*, std::vector<EventStream*>, decltype(later)> heads(later);
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto stream = open_stream(files[i], i, summary);
    if (stream && stream->advance(filter, summary)) {
      heads.push(stream.get());
    }
    if (stream) {
      streams.push_back(std::move(stream));
    }
  }
  while (!heads.empty()) {
    EventStream* s = heads.top();
    heads.pop();
    sink(s->text(), s->event());
    if (s->advance(filter, summary)) {
      heads.push(s);
    }
  }
  return summary;
}

ReadSummary read_events(const std::vector<std::string>& files, EventFilter& filter,
                        const EventSink& sink) {
  ReadSummary summary;
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto stream = open_stream(files[i], i, summary);
    while (stream && stream->advance(filter, summary)) {
      sink(stream->text(), stream->event());
    }
  }
  return summary;
}

}  // namespace egressguard::logs
