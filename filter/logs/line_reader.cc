#include "filter/logs/line_reader.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace egressguard::logs {

namespace {

constexpr std::size_t kInitialBuffer = 256U << 10;
constexpr std::size_t kInflateInput = 128U << 10;

// A rotated file being compressed (`<name>.gz.tmp`): its events are still in `<name>`.
bool in_progress(const std::string& name) {
  return name.ends_with(".tmp");
}

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

}  // namespace

// zlib's inflate state and its compressed input buffer.
struct LineReader::Inflater {
  z_stream stream{};
  std::vector<unsigned char> input = std::vector<unsigned char>(kInflateInput);
  bool input_eof = false;
  bool initialised = false;

  ~Inflater() {
    if (initialised) {
      inflateEnd(&stream);
    }
  }
};

LineReader::LineReader(std::string path, int fd, bool gzip)
    : path_(std::move(path)), fd_(fd), gzip_(gzip), buffer_(kInitialBuffer) {}

LineReader::~LineReader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

Result<std::unique_ptr<LineReader>, std::string> LineReader::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail(path + ": " + errno_text(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
    ::close(fd);
    return fail(path + ": is a directory");
  }
  // gzip's magic bytes (RFC 1952 section 2.3.1). pread leaves the offset at 0 for plain files.
  std::array<unsigned char, 2> magic{};
  const bool gzip =
      ::pread(fd, magic.data(), magic.size(), 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::unique_ptr<LineReader> reader(new LineReader(path, fd, gzip));
  if (gzip) {
    reader->inflater_ = std::make_unique<Inflater>();
    // 15 + 16: a gzip wrapper around a deflate stream with up to a 32 KiB window.
    if (inflateInit2(&reader->inflater_->stream, 15 + 16) != Z_OK) {
      return fail(path + ": gzip: cannot initialise zlib");
    }
    reader->inflater_->initialised = true;
  }
  return reader;
}

bool LineReader::read_raw(char* out, std::size_t capacity, std::size_t& got) {
  for (;;) {
    const ssize_t n = ::read(fd_, out, capacity);
    if (n >= 0) {
      got = static_cast<std::size_t>(n);
      file_bytes_ += got;
      return true;
    }
    if (errno != EINTR) {
      error_ = path_ + ": read: " + errno_text(errno);
      return false;
    }
  }
}

bool LineReader::fill() {
  if (eof_) {
    return false;
  }
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    scan_ -= begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) {
    buffer_.resize(std::min(buffer_.size() * 2, kMaxLineBytes + kInitialBuffer));
  }
  char* out = buffer_.data() + end_;
  const std::size_t space = buffer_.size() - end_;
  if (!gzip_) {
    std::size_t got = 0;
    if (!read_raw(out, space, got) || got == 0) {
      eof_ = true;
      return false;
    }
    end_ += got;
    text_bytes_ += got;
    return true;
  }
  Inflater& z = *inflater_;
  z_stream& s = z.stream;
  s.next_out = reinterpret_cast<Bytef*>(out);
  s.avail_out = static_cast<uInt>(space);
  for (;;) {
    if (s.avail_in == 0 && !z.input_eof) {
      std::size_t got = 0;
      if (!read_raw(reinterpret_cast<char*>(z.input.data()), z.input.size(), got)) {
        eof_ = true;
        return false;
      }
      z.input_eof = got == 0;
      s.next_in = z.input.data();
      s.avail_in = static_cast<uInt>(got);
    }
    const int rc = inflate(&s, Z_NO_FLUSH);
    const auto produced = static_cast<std::size_t>(reinterpret_cast<char*>(s.next_out) - out);
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (gzip a b > c, or a rotator appending).
      if (s.avail_in == 0 && !z.input_eof) {
        std::size_t got = 0;
        if (read_raw(reinterpret_cast<char*>(z.input.data()), z.input.size(), got)) {
          z.input_eof = got == 0;
          s.next_in = z.input.data();
          s.avail_in = static_cast<uInt>(got);
        }
      }
      if (s.avail_in == 0) {
        eof_ = produced == 0;
        end_ += produced;
        text_bytes_ += produced;
        return produced > 0;
      }
      inflateReset(&s);
    } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && s.avail_in == 0 && !z.input_eof)) {
      if (rc == Z_BUF_ERROR) {
        error_ = path_ + ": gzip: unexpected end of file (truncated or still being written)";
      } else {
        error_ = path_ + ": gzip: " + (s.msg != nullptr ? s.msg : "corrupt data");
      }
      eof_ = true;
      end_ += produced;
      text_bytes_ += produced;
      return produced > 0;
    }
    if (produced > 0) {
      end_ += produced;
      text_bytes_ += produced;
      return true;
    }
    // No output yet: more input is needed (read above), or inflate reports the end next.
  }
}

bool LineReader::next(FileLine& line) {
  line = FileLine{};
  for (;;) {
    const char* base = buffer_.data();
    const void* nl = scan_ < end_ ? std::memchr(base + scan_, '\n', end_ - scan_) : nullptr;
    if (nl != nullptr) {
      const auto pos = static_cast<std::size_t>(static_cast<const char*>(nl) - base);
      ++line_number_;
      line.number = line_number_;
      if (skipping_) {
        skipping_ = false;
        line.too_long = true;
      } else {
        std::size_t stop = pos;
        if (stop > begin_ && base[stop - 1] == '\r') {
          --stop;
        }
        line.text = std::string_view(base + begin_, stop - begin_);
      }
      begin_ = scan_ = pos + 1;
      return true;
    }
    scan_ = end_;
    if (skipping_ || end_ - begin_ >= kMaxLineBytes) {
      skipping_ = true;
      begin_ = scan_ = end_;  // drop what we have of the over-long line
    }
    if (!fill()) {
      if (skipping_) {
        skipping_ = false;
        line.too_long = true;
      } else if (begin_ < end_) {
        line.text = std::string_view(buffer_.data() + begin_, end_ - begin_);
      } else {
        return false;
      }
      ++line_number_;
      line.number = line_number_;
      line.unterminated = true;
      begin_ = scan_ = end_;
      return true;
    }
  }
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& args,
                                       std::vector<std::string>& errors) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    std::error_code ec;
    const fs::file_status status = fs::status(arg, ec);
    if (!ec && fs::is_directory(status)) {
      std::vector<std::string> found;
      for (const fs::directory_entry& entry : fs::directory_iterator(arg, ec)) {
        const std::string name = entry.path().filename().string();
        std::error_code file_ec;
        if (name.find(".json") != std::string::npos && !in_progress(name) &&
            entry.is_regular_file(file_ec)) {
          found.push_back(entry.path().string());
        }
      }
      if (ec) {
        errors.push_back(arg + ": " + ec.message());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (!ec && fs::exists(status)) {
      files.push_back(arg);
    } else if (arg.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      const int rc = ::glob(arg.c_str(), 0, nullptr, &g);
      if (rc == 0) {
        for (std::size_t i = 0; i < g.gl_pathc; ++i) {
          if (!in_progress(g.gl_pathv[i])) {
            files.emplace_back(g.gl_pathv[i]);
          }
        }
      } else {
        errors.push_back(arg + ": no file matches");
      }
      ::globfree(&g);
    } else {
      errors.push_back(arg + ": " + (ec ? ec.message() : "No such file or directory"));
    }
  }
  return files;
}

std::vector<std::string> rotated_siblings(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  const std::string base = p.filename().string();
  const std::size_t json = base.find(".json");
  const std::string stem = json == std::string::npos ? base : base.substr(0, json);
  auto sibling = [](const std::string& name, const std::string& prefix) {
    return !prefix.empty() && name.size() > prefix.size() && name.starts_with(prefix) &&
           (name[prefix.size()] == '.' || name[prefix.size()] == '-' || name[prefix.size()] == '_');
  };
  std::vector<std::string> files;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::error_code file_ec;
    if ((name == base || sibling(name, base) || sibling(name, stem)) && !in_progress(name) &&
        entry.is_regular_file(file_ec)) {
      files.push_back((p.has_parent_path() ? dir / name : fs::path(name)).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace egressguard::logs
