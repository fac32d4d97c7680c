// `egressguard logs [FILES|DIRS...] [--config C] [filters]`: the events of current and rotated
// (.gz) event files in time order, as a table or raw JSON lines; `logs top --by FIELD` and
// `logs stats` count them. For the SOC (docs/soc-analysts.md). Exit 0; 1 when an input could
// not be read (the rest is still read and printed); 2 on a usage error.
#include <cstdio>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "base/json.h"
#include "filter/app/commands.h"
#include "filter/app/config.h"
#include "filter/app/load_policy.h"
#include "filter/logs/event_filter.h"
#include "filter/logs/event_stats.h"
#include "filter/logs/event_table.h"
#include "filter/logs/line_reader.h"
#include "filter/logs/log_query.h"
#include "filter/logs/time_spec.h"

namespace egressguard::app {

namespace {

enum class LogsMode : std::uint8_t { List, Top, Stats };

struct LogsOptions {
  std::vector<std::string> inputs;
  std::string config;
  std::string since;
  std::string until;
  std::string now;  // hidden: the clock for relative times (tests)
  std::vector<std::string> groups;
  std::vector<std::string> names;
  std::vector<std::string> categories;
  std::vector<std::string> srcs;
  std::vector<std::string> actions;
  std::vector<std::string> types;
  bool json = false;
  std::string by = "name";
  std::size_t limit = 10;
};

// Output through one buffer: a query may print millions of rows.
class Output {
 public:
  ~Output() { flush(); }
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  std::string& buffer() noexcept { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) {
      flush();
    }
  }
  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kFlushBytes = 1U << 20;
  std::string buffer_;
};

void append_uint(std::string& out, std::uint64_t n) {
  out += std::to_string(n);
}

void append_padded(std::string& out, std::uint64_t n, std::size_t width) {
  const std::string text = std::to_string(n);
  out.append(text.size() < width ? width - text.size() : 0, ' ');
  out += text;
}

std::string megabytes(std::uint64_t bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return buffer;
}

// The files to read: the arguments, or the config's [events] path and its rotated siblings.
// Returns false (after printing why) when there is nothing to read.
bool resolve_files(const LogsOptions& o, std::vector<std::string>& files,
                   std::vector<std::string>& errors, int& status) {
  if (!o.inputs.empty()) {
    files = logs::expand_inputs(o.inputs, errors);
    return true;
  }
  if (o.config.empty()) {
    std::fprintf(stderr, "logs: give event files or directories, or --config\n");
    status = 2;
    return false;
  }
  auto config = load_config(o.config);
  if (!config) {
    status = report_errors(config.error());
    return false;
  }
  if (config->events.path.empty() || config->events.path == "-") {
    std::fprintf(stderr, "%s: [events] path is not set: no event file to read\n", o.config.c_str());
    status = 1;
    return false;
  }
  files = logs::rotated_siblings(config->events.path);
  if (files.empty()) {
    std::fprintf(stderr, "%s: no event files (%s and its rotated files)\n", o.config.c_str(),
                 config->events.path.c_str());
    status = 1;
    return false;
  }
  return true;
}

// Malformed lines and unreadable files, on stderr (list and top) or in the stats text.
void append_problems(std::string& out, const logs::ReadSummary& summary) {
  for (const std::string& e : summary.errors) {
    out += "error: ";
    logs::append_terminal_safe(out, e);
    out += '\n';
  }
  if (summary.malformed == 0) {
    return;
  }
  out += "malformed lines: ";
  append_uint(out, summary.malformed);
  out += summary.first_malformed.size() < summary.malformed ? " (first ones below)\n" : "\n";
  for (const logs::MalformedLine& m : summary.first_malformed) {
    out += "  ";
    logs::append_terminal_safe(out, m.file);
    out += ':';
    append_uint(out, m.line);
    out += ": ";
    out += m.why;
    out += '\n';
  }
}

void append_tally(std::string& out, std::string_view title, const logs::Tally& tally) {
  out += title;
  out += ":\n";
  for (const auto& [key, count] : tally.top(0)) {
    out += "  ";
    append_padded(out, count, 12);
    out += "  ";
    logs::append_terminal_safe(out, key);
    out += '\n';
  }
}

void append_tally_json(std::string& out, std::string_view key, const logs::Tally& tally) {
  out += ",\"";
  out += key;
  out += "\":{";
  bool first = true;
  for (const auto& [name, count] : tally.top(0)) {
    out += first ? "" : ",";
    first = false;
    append_json_string(out, name);
    out += ':';
    append_uint(out, count);
  }
  out += '}';
}

void print_stats(Output& output, const logs::Stats& stats, const logs::ReadSummary& summary,
                 bool json) {
  std::string& out = output.buffer();
  if (json) {
    out += "{\"files\":[";
    for (std::size_t i = 0; i < summary.files.size(); ++i) {
      out += i == 0 ? "" : ",";
      append_json_string(out, summary.files[i]);
    }
    out += "],\"lines\":";
    append_uint(out, summary.lines);
    out += ",\"event_lines\":";
    append_uint(out, stats.lines);
    out += ",\"events\":";
    append_uint(out, stats.events);
    out += ",\"malformed\":";
    append_uint(out, summary.malformed);
    if (stats.lines > 0) {
      out += ",\"first\":\"" + logs::format_time_us(stats.first_us) + "\",\"last\":\"" +
             logs::format_time_us(stats.last_us) + "\"";
    }
    append_tally_json(out, "action", stats.by_action);
    append_tally_json(out, "event_type", stats.by_type);
    append_tally_json(out, "group", stats.by_group);
    append_tally_json(out, "category", stats.by_category);
    append_tally_json(out, "datapath", stats.by_datapath);
    out += "}\n";
    return;
  }
  out += "files read: ";
  append_uint(out, summary.files.size());
  out += " (" + megabytes(summary.file_bytes) + " on disk, " + megabytes(summary.text_bytes) +
         " of events)\n";
  for (const std::string& f : summary.files) {
    out += "  ";
    logs::append_terminal_safe(out, f);
    out += '\n';
  }
  out += "lines read: ";
  append_uint(out, summary.lines);
  out += "\nevents: ";
  append_uint(out, stats.events);
  out += " in ";
  append_uint(out, stats.lines);
  out += " lines (aggregated events count their \"count\")\n";
  out += "time range: ";
  out += stats.lines == 0
             ? std::string("-")
             : logs::format_time_us(stats.first_us) + " .. " + logs::format_time_us(stats.last_us);
  out += '\n';
  append_problems(out, summary);
  append_tally(out, "by action", stats.by_action);
  append_tally(out, "by event_type", stats.by_type);
  append_tally(out, "by group", stats.by_group);
  append_tally(out, "by category", stats.by_category);
  append_tally(out, "by datapath", stats.by_datapath);
}

int run_logs(const LogsOptions& o, LogsMode mode) {
  std::int64_t now = logs::system_now_us();
  if (!o.now.empty()) {
    auto parsed = logs::parse_time_spec(o.now, 0);
    if (!parsed) {
      std::fprintf(stderr, "logs: --now: %s\n", parsed.error().c_str());
      return 2;
    }
    now = *parsed;
  }
  logs::FilterSpec spec;
  for (const auto& [text, target, flag] : {std::tuple{&o.since, &spec.since_us, "--since"},
                                           std::tuple{&o.until, &spec.until_us, "--until"}}) {
    if (text->empty()) {
      continue;
    }
    auto parsed = logs::parse_time_spec(*text, now);
    if (!parsed) {
      std::fprintf(stderr, "logs: %s: %s\n", flag, parsed.error().c_str());
      return 2;
    }
    *target = *parsed;
  }
  spec.groups = o.groups;
  spec.names = o.names;
  spec.categories = o.categories;
  spec.srcs = o.srcs;
  spec.actions = o.actions;
  spec.types = o.types;
  auto filter = logs::EventFilter::compile(spec);
  if (!filter) {
    std::fprintf(stderr, "logs: %s\n", filter.error().c_str());
    return 2;
  }
  logs::TopField by = logs::TopField::Name;
  if (mode == LogsMode::Top && !logs::parse_top_field(o.by, by)) {
    std::fprintf(stderr, "logs top: --by \"%s\": expected name, src, group or category\n",
                 o.by.c_str());
    return 2;
  }

  std::vector<std::string> files;
  std::vector<std::string> input_errors;
  int status = 0;
  if (!resolve_files(o, files, input_errors, status)) {
    return status;
  }

  Output output;
  logs::ReadSummary summary;
  switch (mode) {
    case LogsMode::List: {
      if (!o.json) {
        output.buffer() = logs::table_header();
      }
      std::string scratch;
      summary = logs::read_events_in_order(
          files, *filter, [&](std::string_view line, const logs::EventLine& event) {
            if (o.json) {
              output.buffer().append(line);  // parse_event_line rejected raw control bytes
              output.buffer().push_back('\n');
            } else {
              logs::append_table_row(output.buffer(), event, scratch);
            }
            output.maybe_flush();
          });
      break;
    }
    case LogsMode::Top: {
      logs::Tally tally;
      std::string key;
      summary = logs::read_events(files, *filter, [&](std::string_view, const logs::EventLine& e) {
        key.clear();
        logs::append_count_key(key, e, by);
        tally.add(key, logs::event_weight(e));
      });
      std::string& out = output.buffer();
      if (o.json) {
        out += "{\"by\":";
        append_json_string(out, o.by);
        out += ",\"top\":[";
      } else {
        out += "       COUNT  " + std::string(o.by == "src" ? "SRC" : o.by) + "\n";
      }
      bool first = true;
      for (const auto& [value, count] : tally.top(o.limit)) {
        if (o.json) {
          out += first ? "{\"value\":" : ",{\"value\":";
          append_json_string(out, value);
          out += ",\"count\":";
          append_uint(out, count);
          out += '}';
        } else {
          append_padded(out, count, 12);
          out += "  ";
          logs::append_terminal_safe(out, value);
          out += '\n';
        }
        first = false;
      }
      if (o.json) {
        out += "]}\n";
      }
      break;
    }
    case LogsMode::Stats: {
      logs::Stats stats;
      summary = logs::read_events(
          files, *filter, [&](std::string_view, const logs::EventLine& e) { stats.add(e); });
      summary.errors.insert(summary.errors.begin(), input_errors.begin(), input_errors.end());
      input_errors.clear();
      print_stats(output, stats, summary, o.json);
      break;
    }
  }
  output.flush();
  std::fflush(stdout);
  summary.errors.insert(summary.errors.begin(), input_errors.begin(), input_errors.end());
  if (mode != LogsMode::Stats || o.json) {
    std::string problems;
    append_problems(problems, summary);
    std::fputs(problems.c_str(), stderr);
  }
  return summary.errors.empty() ? 0 : 1;
}

// The inputs and filters every `logs` form takes, bound to one shared options object.
void add_query_options(CLI::App* cmd, LogsOptions& o) {
  cmd->add_option("inputs", o.inputs,
                  "Event files (plain or gzip), directories (their *.json* files) or glob "
                  "patterns; default: --config's [events] path and its rotated files");
  cmd->add_option("-c,--config", o.config, "Configuration file: read its [events] path");
  cmd->add_option("--since", o.since,
                  "Only events at or after: RFC 3339, a date (UTC) or a duration ago (1h, 30m, "
                  "7d)");
  cmd->add_option("--until", o.until, "Only events before: same forms as --since");
  cmd->add_option("--group", o.groups, "Device group (repeat or comma-separate for several)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--name", o.names,
                  "Name, exact or *.suffix (the suffix and its subdomains); case-insensitive")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--category", o.categories, "Category of the deciding rule")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--src", o.srcs, "Client address or CIDR (10.8.0.0/16, 2001:db8::/32)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--action", o.actions, "block or allow")->delimiter(',')->allow_extra_args(false);
  cmd->add_option("--type", o.types, "event_type: block, name, unnamed_flow")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--json", o.json, "Print JSON (the raw event lines; top and stats: one object)");
  cmd->add_option("--now", o.now, "The current time for relative --since/--until (testing)")
      ->group("");
}

}  // namespace

Command add_logs_command(CLI::App& root) {
  auto o = std::make_shared<LogsOptions>();
  auto* cmd = root.add_subcommand("logs", "Query event files for the SOC (current, rotated, .gz)");
  add_query_options(cmd, *o);
  auto* top = cmd->add_subcommand("top", "The most frequent names, sources, groups or categories");
  add_query_options(top, *o);
  top->add_option("--by", o->by, "name, src, group or category")->capture_default_str();
  top->add_option("-n", o->limit, "How many rows")->capture_default_str();
  auto* stats = cmd->add_subcommand(
      "stats", "Totals by action, type, group, category, datapath; time range; malformed lines");
  add_query_options(stats, *o);
  cmd->footer(
      "Examples:\n"
      "  egressguard logs --config /etc/egressguard/egressguard.toml --since 1h --action block\n"
      "  egressguard logs /var/log/egressguard/ --group gov-managed --name '*.tiktok.com'\n"
      "  egressguard logs events.json events.json.1 events.json.2.gz --src 10.8.0.0/16 --json\n"
      "  egressguard logs top --by src --since 7d --category tiktok /var/log/egressguard/\n"
      "  egressguard logs stats /var/log/egressguard/\n"
      "Events print in time order across files. Times are UTC; --since is inclusive, --until "
      "exclusive. Exit status: 0, or 1 when an input could not be read (the rest is still "
      "read), 2 on a usage error.");
  return {cmd, [o, top, stats] {
            if (top->parsed()) {
              return run_logs(*o, LogsMode::Top);
            }
            if (stats->parsed()) {
              return run_logs(*o, LogsMode::Stats);
            }
            return run_logs(*o, LogsMode::List);
          }};
}

}  // namespace egressguard::app
