#include "filter/events/file_output.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace egressguard::events {

namespace {

constexpr std::uint64_t kUsPerDay = 86'400ULL * 1'000'000ULL;
constexpr std::uint64_t kReopenDelayUs = 1'000'000;

// "20261129T094012Z" for `now_us`.
std::string stamp(std::uint64_t now_us) {
  const auto seconds = static_cast<std::time_t>(now_us / 1'000'000U);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  std::array<char, 32> text{};
  const std::size_t n = std::strftime(text.data(), text.size(), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(text.data(), n);
}

// A rotated file's name after "<base>.": "YYYYmmddTHHMMSSZ", optional "-N", optional ".gz".
// Returns false for anything else (other files beside the log are never touched).
struct RotatedName {
  std::string stamp;
  std::uint64_t sequence = 0;
  bool gz = false;
};
bool parse_rotated(std::string_view rest, RotatedName& out) {
  if (rest.size() < 16) {
    return false;
  }
  for (std::size_t i = 0; i < 16; ++i) {
    const char c = rest[i];
    const bool ok = i == 8 ? c == 'T' : i == 15 ? c == 'Z' : (c >= '0' && c <= '9');
    if (!ok) {
      return false;
    }
  }
  out.stamp = std::string(rest.substr(0, 16));
  rest.remove_prefix(16);
  if (rest.size() >= 3 && rest.substr(rest.size() - 3) == ".gz") {
    out.gz = true;
    rest.remove_suffix(3);
  }
  if (!rest.empty()) {
    if (rest.front() != '-' || rest.size() < 2) {
      return false;
    }
    for (const char c : rest.substr(1)) {
      if (c < '0' || c > '9') {
        return false;
      }
      out.sequence = out.sequence * 10 + static_cast<std::uint64_t>(c - '0');
    }
  }
  return true;
}

// Seconds since the epoch of a "YYYYmmddTHHMMSSZ" stamp.
std::uint64_t stamp_seconds(const std::string& s) {
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(4, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(6, 2));
  tm.tm_hour = std::stoi(s.substr(9, 2));
  tm.tm_min = std::stoi(s.substr(11, 2));
  tm.tm_sec = std::stoi(s.substr(13, 2));
  const std::time_t t = timegm(&tm);
  return t < 0 ? 0 : static_cast<std::uint64_t>(t);
}

struct RotatedFile {
  std::string path;
  RotatedName name;
};

std::vector<RotatedFile> list_rotated(const std::string& path) {
  namespace fs = std::filesystem;
  std::vector<RotatedFile> out;
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".";
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    RotatedName name;
    if (file.size() > prefix.size() && file.compare(0, prefix.size(), prefix) == 0 &&
        parse_rotated(std::string_view(file).substr(prefix.size()), name)) {
      out.push_back({it->path().string(), std::move(name)});
    }
  }
  std::sort(out.begin(), out.end(), [](const RotatedFile& a, const RotatedFile& b) {
    if (a.name.stamp != b.name.stamp) {
      return a.name.stamp > b.name.stamp;
    }
    return a.name.sequence > b.name.sequence;
  });
  return out;
}

// Compresses `path` into `path`.gz (through a .tmp name, so a crash never leaves a truncated
// .gz), then removes `path`.
bool gzip_file(const std::string& path) {
  const std::string target = path + ".gz";
  const std::string tmp = target + ".tmp";
  std::FILE* in = std::fopen(path.c_str(), "rbe");
  if (in == nullptr) {
    return false;
  }
  gzFile out = gzopen(tmp.c_str(), "wb6");
  if (out == nullptr) {
    std::fclose(in);
    return false;
  }
  std::vector<char> chunk(1 << 16);
  bool ok = true;
  for (;;) {
    const std::size_t n = std::fread(chunk.data(), 1, chunk.size(), in);
    if (n > 0 && gzwrite(out, chunk.data(), static_cast<unsigned>(n)) != static_cast<int>(n)) {
      ok = false;
      break;
    }
    if (n < chunk.size()) {
      ok = std::ferror(in) == 0;
      break;
    }
  }
  std::fclose(in);
  ok = gzclose(out) == Z_OK && ok;
  if (!ok || std::rename(tmp.c_str(), target.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  std::remove(path.c_str());
  return true;
}

}  // namespace

std::uint64_t system_clock_us(void* /*context*/) noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

std::string_view describe(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::Block:
      return "block";
    case EventKind::Name:
      return "name";
    case EventKind::UnnamedFlow:
      return "unnamed_flow";
  }
  return "block";
}

Result<std::unique_ptr<FileOutput>, std::string> FileOutput::open(FileOutputOptions options,
                                                                  std::uint64_t now_us) {
  std::unique_ptr<FileOutput> out(new FileOutput());
  out->options_ = std::move(options);
  out->day_ = now_us / kUsPerDay;
  out->buffer_.reserve(out->options_.buffer_bytes + 4096);
  if (out->options_.path == "-") {
    out->stdout_ = true;
    out->fd_ = STDOUT_FILENO;
    return out;
  }
  if (!out->reopen()) {
    return fail(out->options_.path + ": cannot open for events: " + out->last_error_);
  }
  out->last_error_.clear();
  out->housekeeping({}, now_us);  // leftovers of an earlier run; inline, before the first event
  return out;
}

FileOutput::~FileOutput() {
  close(system_clock_us(nullptr));
}

bool FileOutput::reopen() {
  fd_ = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd_ < 0) {
    last_error_ = std::strerror(errno);
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (size_ > 0 && st.st_mtime > 0) {
    // A file left by an earlier run belongs to the day it was last written: a restart after
    // midnight rotates it at the first event instead of mixing two days.
    day_ = static_cast<std::uint64_t>(st.st_mtime) / 86'400U;
  }
  return true;
}

void FileOutput::write(const EventLine& line, std::uint64_t now_us) {
  if (closed_) {
    count_dropped(line.events);
    return;
  }
  if (fd_ < 0) {  // a reopen after rotation failed; retry at most once a second
    if (now_us < reopen_after_us_ || !reopen()) {
      reopen_after_us_ = now_us + kReopenDelayUs;
      count_dropped(line.events);
      return;
    }
  }
  if (!stdout_) {
    if (options_.rotate_daily && now_us / kUsPerDay != day_) {
      rotate(now_us);
    }
    if (options_.rotate_size != 0 && size_ + buffer_.size() > 0 &&
        size_ + buffer_.size() + line.json.size() + 1 > options_.rotate_size) {
      rotate(now_us);
    }
    if (fd_ < 0) {
      count_dropped(line.events);
      return;
    }
  }
  buffer_.append(line.json);
  buffer_.push_back('\n');
  buffered_events_.push_back(line.events);
  if (buffer_.size() >= options_.buffer_bytes) {
    write_buffer();
  }
}

void FileOutput::write_buffer() {
  if (buffer_.empty()) {
    return;
  }
  std::size_t done = 0;
  while (done < buffer_.size() && fd_ >= 0) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      last_error_ = n < 0 ? std::strerror(errno) : "short write";
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  std::size_t whole = done;  // bytes of whole lines written
  if (done < buffer_.size()) {
    const std::size_t newline = done == 0 ? std::string::npos : buffer_.rfind('\n', done - 1);
    whole = newline == std::string::npos ? 0 : newline + 1;
    if (whole < done && !stdout_) {
      // Cut the partial line off again: the file holds whole lines only.
      if (::ftruncate(fd_, static_cast<off_t>(size_ + whole)) != 0) {
        whole = done;  // cannot cut: the partial line stays (counted as lost below)
      }
    }
  }
  size_ += whole;
  std::size_t line_start = 0;
  for (const std::uint64_t events : buffered_events_) {
    const std::size_t end = buffer_.find('\n', line_start) + 1;
    if (end <= whole) {
      count_written(events);
    } else {
      count_dropped(events);
    }
    line_start = end;
  }
  buffer_.clear();
  buffered_events_.clear();
}

void FileOutput::flush(std::uint64_t /*now_us*/) {
  write_buffer();
}

void FileOutput::rotate(std::uint64_t now_us) {
  if (stdout_ || closed_) {
    return;
  }
  write_buffer();
  day_ = now_us / kUsPerDay;
  if (size_ == 0 && fd_ >= 0) {
    return;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  const std::string base = options_.path + "." + stamp(now_us);
  std::string target = base;
  for (int i = 1; std::filesystem::exists(target) || std::filesystem::exists(target + ".gz"); ++i) {
    target = base + "-" + std::to_string(i);
  }
  bool rotated = true;
  if (std::rename(options_.path.c_str(), target.c_str()) != 0) {
    last_error_ = std::string("cannot rotate: ") + std::strerror(errno);
    rotated = false;  // keep appending to the same file
  }
  if (!reopen()) {
    reopen_after_us_ = now_us + kReopenDelayUs;
  }
  if (rotated) {
    count_rotation();
    join_housekeeper();
    if (options_.background) {
      housekeeper_ = std::thread([this, target, now_us] { housekeeping(target, now_us); });
    } else {
      housekeeping(target, now_us);
    }
  }
}

void FileOutput::housekeeping(std::string rotated, std::uint64_t now_us) {
  std::vector<RotatedFile> files = list_rotated(options_.path);
  const std::filesystem::path rotated_name = std::filesystem::path(rotated).filename();
  if (options_.compress) {
    for (RotatedFile& f : files) {
      const bool wanted =
          rotated.empty() || std::filesystem::path(f.path).filename() == rotated_name;
      if (!f.name.gz && wanted && gzip_file(f.path)) {
        f.path += ".gz";
        f.name.gz = true;
      }
    }
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const bool too_many = options_.keep != 0 && i >= options_.keep;
    const bool too_old =
        options_.max_age_days != 0 &&
        stamp_seconds(files[i].name.stamp) + std::uint64_t{options_.max_age_days} * 86'400U <
            now_us / 1'000'000U;
    if (too_many || too_old) {
      std::remove(files[i].path.c_str());
    }
  }
}

void FileOutput::join_housekeeper() {
  if (housekeeper_.joinable()) {
    housekeeper_.join();
  }
}

void FileOutput::close(std::uint64_t /*now_us*/) {
  if (closed_) {
    return;
  }
  write_buffer();
  closed_ = true;
  join_housekeeper();
  if (fd_ >= 0 && !stdout_) {
    ::close(fd_);
  }
  fd_ = -1;
}

std::vector<std::string> FileOutput::rotated_files(const std::string& path) {
  std::vector<std::string> out;
  for (RotatedFile& f : list_rotated(path)) {
    out.push_back(std::move(f.path));
  }
  return out;
}

}  // namespace egressguard::events
