// `egressguard scan` (capture files, offline) and `egressguard monitor` (a live interface,
// passive): the libpcap datapath. Both write would-block events (with --all, every name) and end
// with a per-group summary on stderr.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "filter/app/commands.h"
#include "filter/app/load_policy.h"
#include "filter/datapath/pcap/pcap_datapath.h"
#include "filter/events/event_file_sink.h"
#include "filter/inspect/inspector.h"

namespace egressguard::app {

namespace {

struct PassiveOptions {
  std::string config;
  std::string events;
  bool all = false;
  bool stats = false;
  std::vector<std::string> captures;
  std::string interface;
  std::string bpf;
};

std::atomic<bool> g_stop{false};
std::atomic<datapath::PcapSource*> g_live{nullptr};

extern "C" void on_stop_signal(int /*signal*/) {
  g_stop.store(true);
  if (auto* source = g_live.load()) {
    source->break_loop();
  }
}

std::string default_sensor() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) {
    return "egressguard";
  }
  return host;
}

void print_stats(const inspect::InspectStats& s) {
  std::fprintf(stderr, "counters:");
  inspect::for_each_counter(s, [](std::string_view name, std::uint64_t value) {
    if (value != 0) {
      std::fprintf(stderr, " %.*s=%llu", static_cast<int>(name.size()), name.data(),
                   static_cast<unsigned long long>(value));
    }
  });
  std::fprintf(stderr, "\n");
}

int run_passive(const PassiveOptions& o, bool live) {
  auto loaded = load_policy(o.config);
  if (!loaded) {
    return report_errors(loaded.error());
  }
  const Config& config = loaded->config;
  events::EventsConfig events = config.events;
  if (!o.events.empty()) {
    events.path = o.events;
  } else if (events.path.empty()) {
    events.path = "-";
  }
  auto sink = events::EventFileSink::open(
      events, o.all || config.events.log_allowed,
      config.events.sensor.empty() ? default_sensor() : config.events.sensor, "pcap");
  if (!sink) {
    std::fprintf(stderr, "%s\n", sink.error().c_str());
    return 1;
  }
  inspect::PolicyStore store(loaded->policy);
  inspect::Inspector inspector(store, config.inspect, sink->get());

  int status = 0;
  std::uint64_t packets = 0;
  if (live) {
    auto source = datapath::PcapSource::open_live(o.interface, o.bpf);
    if (!source) {
      std::fprintf(stderr, "%s\n", source.error().c_str());
      return 1;
    }
    g_live.store(source->get());
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    std::fprintf(stderr, "monitor: listening on %s (passive); stop with Ctrl-C\n",
                 o.interface.c_str());
    auto ran = datapath::run_pcap(**source, inspector, o.interface, &g_stop);
    g_live.store(nullptr);
    if (!ran) {
      std::fprintf(stderr, "%s\n", ran.error().c_str());
      status = 1;
    }
    packets = (*source)->stats().frames;
    if ((*source)->stats().kernel_drops > 0) {
      std::fprintf(stderr, "monitor: the kernel dropped %llu packets\n",
                   static_cast<unsigned long long>((*source)->stats().kernel_drops));
    }
  } else {
    for (const std::string& capture : o.captures) {
      auto source = datapath::PcapSource::open_file(capture);
      if (!source) {
        std::fprintf(stderr, "%s\n", source.error().c_str());
        status = 1;
        continue;
      }
      auto ran = datapath::run_pcap(**source, inspector, {});
      packets += (*source)->stats().frames;
      if (!ran) {
        std::fprintf(stderr, "%s\n", ran.error().c_str());
        status = 1;
      }
    }
  }
  inspector.flush();
  auto flushed = (*sink)->flush();
  if (!flushed) {
    std::fprintf(stderr, "%s\n", flushed.error().c_str());
    status = 1;
  }
  std::fprintf(stderr, "%s: %llu packets, %llu events written\n", live ? "monitor" : "scan",
               static_cast<unsigned long long>(packets),
               static_cast<unsigned long long>((*sink)->events_written()));
  std::fputs((*sink)->summary(*loaded->policy).c_str(), stderr);
  if (o.stats) {
    print_stats(inspector.stats());
  }
  return status;
}

void add_common(CLI::App* cmd, PassiveOptions& o) {
  cmd->add_option("-c,--config", o.config, "Configuration file")->required();
  cmd->add_option("-e,--events", o.events,
                  "Where to write JSON events: a file (appended) or - for stdout "
                  "(default: [events] path, else stdout)");
  cmd->add_flag("-a,--all", o.all, "Log every name seen, allowed ones too");
  cmd->add_flag("--stats", o.stats, "Print the inspection counters at the end");
}

}  // namespace

Command add_scan_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("scan", "Inspect capture files (pcap, pcapng) offline");
  auto o = std::make_shared<PassiveOptions>();
  add_common(cmd, *o);
  cmd->add_option("captures", o->captures, "Capture files")->required()->check(CLI::ExistingFile);
  cmd->footer("Exit status: 0 when every capture was read to its end, 1 otherwise.");
  return {cmd, [o] { return run_passive(*o, false); }};
}

Command add_monitor_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("monitor", "Inspect a live interface passively (read-only)");
  auto o = std::make_shared<PassiveOptions>();
  add_common(cmd, *o);
  cmd->add_option("-i,--interface", o->interface, "Interface to listen on")->required();
  cmd->add_option("--filter", o->bpf, "BPF capture filter (default: everything)");
  cmd->footer("Stops cleanly on SIGINT/SIGTERM and prints the summary. Needs CAP_NET_RAW.");
  return {cmd, [o] { return run_passive(*o, true); }};
}

}  // namespace egressguard::app
