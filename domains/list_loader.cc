#include "domains/list_loader.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "domains/adblock_format.h"
#include "domains/hosts_format.h"
#include "domains/plain_format.h"
#include "domains/rpz_format.h"

namespace egressguard::domains {
namespace {

std::string where(std::string_view path, std::size_t line) {
  return std::string(path) + ":" + std::to_string(line) + ": ";
}

}  // namespace

Result<LoadedList, std::vector<std::string>> load_list(const std::string& path,
                                                       std::uint32_t list_id,
                                                       const ListOptions& options) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) {
    return fail(std::vector<std::string>{path + ": cannot open: is a directory"});
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return fail(std::vector<std::string>{
        path + ": cannot open: " +
        (error != 0 ? std::generic_category().message(error) : std::string("unknown error"))});
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return fail(std::vector<std::string>{
        path + ": cannot read: " + std::generic_category().message(errno)});
  }
  return load_list_text(buffer.view(), path, list_id, options);
}

Result<LoadedList, std::vector<std::string>> load_list_text(std::string_view text,
                                                            std::string_view display_path,
                                                            std::uint32_t list_id,
                                                            const ListOptions& options) {
  LoadedList list;
  std::vector<std::string> errors;
  RpzParser rpz;
  std::size_t record_line = 0;  // RPZ: first line of the record being read
  const auto note_skipped = [&list](std::string message) {
    if (list.skipped_messages.size() < kMaxSkippedMessages) {
      list.skipped_messages.push_back(std::move(message));
    }
  };
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    Result<std::optional<ParsedLine>, std::string> parsed = std::optional<ParsedLine>();
    std::size_t rule_line = line_number;
    switch (options.format) {
      case ListFormat::Plain:
        parsed = parse_plain_line(line);
        break;
      case ListFormat::Hosts:
        parsed = parse_hosts_line(line);
        break;
      case ListFormat::Adblock:
        parsed = parse_adblock_line(line);
        break;
      case ListFormat::Rpz:
        if (!rpz.in_record()) {
          record_line = line_number;
        }
        parsed = rpz.parse_line(line);
        rule_line = record_line;
        break;
    }
    if (!parsed) {
      std::string message = where(display_path, rule_line) + parsed.error();
      if (options.skip_invalid) {
        ++list.skipped_invalid;
        note_skipped(std::move(message));
      } else {
        errors.push_back(std::move(message));
      }
      continue;
    }
    if (!parsed->has_value()) {
      continue;
    }
    ParsedLine& entry = **parsed;
    if (!entry.unsupported.empty()) {
      ++list.skipped_unsupported;
      note_skipped(where(display_path, rule_line) + "skipped: " + entry.unsupported);
      continue;
    }
    for (ParsedRule& rule : entry.rules) {
      RuleKind kind = rule.kind;
      if (options.subdomains && kind == RuleKind::Exact &&
          (options.format == ListFormat::Plain || options.format == ListFormat::Hosts)) {
        kind = RuleKind::Suffix;
      }
      list.rules.push_back(Rule{std::move(rule.name), kind, rule.action, list_id,
                                static_cast<std::uint32_t>(rule_line)});
    }
  }
  list.lines = line_number;
  if (options.format == ListFormat::Rpz) {
    if (auto done = rpz.finish(); !done) {
      std::string message = where(display_path, record_line) + done.error();
      if (options.skip_invalid) {
        ++list.skipped_invalid;
        note_skipped(std::move(message));
      } else {
        errors.push_back(std::move(message));
      }
    }
  }
  if (!errors.empty()) {
    return fail(std::move(errors));
  }
  return list;
}

}  // namespace egressguard::domains
