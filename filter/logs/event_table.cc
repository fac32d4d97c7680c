#include "filter/logs/event_table.h"

namespace egressguard::logs {

namespace {

constexpr std::size_t kTimeWidth = 27;  // 2026-11-29T09:40:12.518230Z
constexpr std::size_t kGroupWidth = 14;
constexpr std::size_t kSrcWidth = 15;
constexpr std::size_t kNameWidth = 32;
constexpr std::size_t kActionWidth = 6;
constexpr std::size_t kCategoryWidth = 12;

// Appends a field's value made terminal-safe, "-" when null or absent.
void append_field(std::string& out, const RawValue& value, std::string& scratch) {
  if (value.kind == RawValue::Kind::Absent || value.kind == RawValue::Kind::Null) {
    out.push_back('-');
    return;
  }
  if (!value.is_string() || !value.escaped) {
    append_terminal_safe(out, value.raw);
    return;
  }
  scratch.clear();
  if (!append_json_unescaped(scratch, value.raw)) {
    append_terminal_safe(out, value.raw);
    return;
  }
  append_terminal_safe(out, scratch);
}

void pad_from(std::string& out, std::size_t start, std::size_t width) {
  const std::size_t used = out.size() - start;
  out.append(used < width ? width - used : 0, ' ');
  out.push_back(' ');
}

void column(std::string& out, const RawValue& value, std::size_t width, std::string& scratch) {
  const std::size_t start = out.size();
  append_field(out, value, scratch);
  pad_from(out, start, width);
}

}  // namespace

void append_terminal_safe(std::string& out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

std::string table_header() {
  std::string out;
  auto title = [&](std::string_view text, std::size_t width) {
    const std::size_t start = out.size();
    out.append(text);
    pad_from(out, start, width);
  };
  title("TIME", kTimeWidth);
  title("GROUP", kGroupWidth);
  title("SRC", kSrcWidth);
  title("NAME", kNameWidth);
  title("ACTION", kActionWidth);
  title("CATEGORY", kCategoryWidth);
  out += "RULE LIST:LINE\n";
  return out;
}

void append_table_row(std::string& out, const EventLine& e, std::string& scratch) {
  column(out, e.timestamp, kTimeWidth, scratch);
  column(out, e.group, kGroupWidth, scratch);
  column(out, e.src_ip, kSrcWidth, scratch);
  column(out, e.name, kNameWidth, scratch);
  column(out, e.action, kActionWidth, scratch);
  column(out, e.category, kCategoryWidth, scratch);
  if (e.rule.is_string()) {
    append_field(out, e.rule, scratch);
    out.push_back(' ');
    append_field(out, e.list, scratch);
    if (e.line.kind == RawValue::Kind::Number) {
      out.push_back(':');
      append_terminal_safe(out, e.line.raw);
    }
  } else {
    out.push_back('-');
  }
  if (e.count.kind == RawValue::Kind::Number && raw_uint(e.count, 1) > 1) {
    out += " (x";
    append_terminal_safe(out, e.count.raw);
    out.push_back(')');
  }
  out.push_back('\n');
}

}  // namespace egressguard::logs
