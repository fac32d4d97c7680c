// `egressguard run --config C`: the daemon. Starts the configured datapaths (for now the DNS
// proxy, `[dns]`), the event writer and the control socket; reloads the policy on SIGHUP and on
// `egressguard reload`; stops cleanly on SIGTERM/SIGINT, writing out every queued event.
#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "filter/app/commands.h"
#include "filter/app/control_command.h"
#include "filter/app/control_commands.h"
#include "filter/app/control_socket.h"
#include "filter/app/daemon_metrics.h"
#include "filter/app/drop_privileges.h"
#include "filter/app/geo_answer_hook.h"
#include "filter/app/load_policy.h"
#include "filter/datapath/dnsproxy/dns_proxy.h"
#include "filter/datapath/firewall/background_learner.h"
#include "filter/datapath/firewall/learned_addresses.h"
#include "filter/datapath/firewall/nft_set_writer.h"
#include "filter/datapath/nfqueue/nfqueue_datapath.h"
#include "filter/events/dns_event_sink.h"
#include "filter/events/event_pipeline.h"
#include "filter/events/nfqueue_event_sink.h"

namespace egressguard::app {

namespace {

struct RunOptions {
  std::string config;
  std::string events;  // overrides [events] path
  std::string log_level = "info";
};

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) {
    return "egressguard";
  }
  return name.data();
}

std::string counters_text(const dnsproxy::DnsProxyCounters& counters) {
  std::string out;
  counters.for_each([&](std::string_view name, std::uint64_t value) {
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  });
  return out;
}

std::string geo_text(const GeoAnswerCounters& c) {
  return "geoip_answers_blocked " + std::to_string(c.blocked) + "\ngeoip_answers_would_block " +
         std::to_string(c.would_block) + "\ngeoip_answers_flagged " + std::to_string(c.flagged) +
         "\n";
}

int run(const RunOptions& o) {
  // Every thread started below inherits this mask; the main thread takes the signals with
  // sigwait, so no handler runs inside a worker.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto logger = spdlog::stderr_color_mt("egressguard");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(o.log_level));

  auto loaded = load_policy(o.config, 1);
  if (!loaded) {
    for (const std::string& e : loaded.error()) {
      spdlog::error("{}", e);
    }
    return 1;
  }
  const Config& config = loaded->config;
  if (!config.dns.enabled) {
    spdlog::error("{}: nothing to run: configure a datapath ([dns])", o.config);
    return 1;
  }
  inspect::PolicyStore store(loaded->policy);
  // [run] user: looked up now, switched to once every socket is open (drop_privileges.h).
  std::optional<RunIdentity> run_as;
  if (!config.run.user.empty()) {
    auto identity = resolve_run_identity(config.run);
    if (!identity) {
      spdlog::error("{}: {}", o.config, identity.error());
      return 1;
    }
    run_as = *identity;
  }
  // Metrics, /healthz, `status` and decision counting (daemon_metrics.h).
  DaemonMetrics observability(config, store);

  // One event pipeline for every datapath ([events]: file, stdout, syslog; filter/events).
  std::unique_ptr<events::EventPipeline> event_pipeline;
  std::unique_ptr<events::DnsEventPipelineSink> events;
  events::EventsConfig events_config = config.events;
  if (!o.events.empty()) {
    events_config.path = o.events;
  }
  if (!events_config.path.empty() || events_config.to_stdout || !events_config.syslog.empty()) {
    events::EventPipelineOptions options;
    options.sensor = config.events.sensor.empty() ? host_name() : config.events.sensor;
    options.log = [](std::string_view message) { spdlog::warn("{}", message); };
    auto pipeline = events::EventPipeline::open(events_config, std::move(options));
    if (!pipeline) {
      spdlog::error("{}", pipeline.error());
      return 1;
    }
    event_pipeline = std::move(*pipeline);
    events =
        std::make_unique<events::DnsEventPipelineSink>(*event_pipeline, config.events.log_allowed);
  }

  // [firewall] sets filled from DNS: doh_v4/v6 (the doh category's addresses) whenever the
  // inline datapath runs, learned_v4/v6 with learn_ips (docs/inline.md).
  std::unique_ptr<firewall::NftSetWriter> set_writer;
  std::unique_ptr<firewall::LearnedAddresses> learned;
  std::unique_ptr<firewall::BackgroundLearner> background;
  std::unique_ptr<firewall::LearningEventSink> learning_events;
  if (config.nfqueue.enabled || config.firewall.learn_ips) {
    auto backend = firewall::open_libnftables_backend();
    if (!backend) {
      spdlog::error("{}", backend.error());
      return 1;
    }
    firewall::NftSetWriterOptions writer_options;
    writer_options.log = [](std::string_view message) { spdlog::warn("{}", message); };
    set_writer = std::make_unique<firewall::NftSetWriter>(std::move(*backend), writer_options);
    learned = std::make_unique<firewall::LearnedAddresses>(config.firewall, *set_writer);
    firewall::BackgroundLearnerOptions learner_options;
    learner_options.upstreams = config.dns.upstreams;
    learner_options.timeout = std::chrono::milliseconds(config.dns.upstream_timeout_ms);
    learner_options.learn_blocked = config.firewall.learn_ips;
    learner_options.log = [](std::string_view message) { spdlog::warn("{}", message); };
    learner_options.missing_table_count = [writer = set_writer.get()] {
      return writer->counters().table_missing;
    };
    background = std::make_unique<firewall::BackgroundLearner>(store, *learned, learner_options);
    learning_events = std::make_unique<firewall::LearningEventSink>(events.get(), *background);
  }

  dnsproxy::DnsEventSink* proxy_events = events.get();
  if (learning_events) {
    proxy_events = learning_events.get();
  }
  proxy_events = observability.wrap_dns(proxy_events);
  // GeoIP/ASN rules on answer addresses (reloaded with the policy), then the firewall's sets.
  GeoAnswerHook geo_hook(learned.get());
  auto proxy = dnsproxy::DnsProxy::open(config.dns, store, proxy_events, &geo_hook);
  if (!proxy) {
    spdlog::error("{}", proxy.error());
    return 1;
  }

  // [nfqueue]: the inline datapath (one worker per queue); its events go to the same file.
  std::unique_ptr<events::NfqueueEventSink> inline_events;
  std::unique_ptr<nfqueue::NfqueueDatapath> inline_path;
  if (config.nfqueue.enabled) {
    if (event_pipeline) {
      inline_events =
          std::make_unique<events::NfqueueEventSink>(*event_pipeline, config.events.log_allowed);
    }
    auto opened = nfqueue::NfqueueDatapath::open(config.nfqueue, store, config.inspect,
                                                 observability.wrap_inline(inline_events.get()));
    if (!opened) {
      spdlog::error("{}", opened.error());
      return 1;
    }
    inline_path = std::move(*opened);
  }

  std::mutex reload_log;
  auto reload = [&](std::string_view origin) -> std::string {
    auto result = store.reload(
        [&](std::uint64_t version)
            -> Result<std::shared_ptr<const inspect::PolicySnapshot>, std::vector<std::string>> {
          auto next = load_policy(o.config, version);
          if (!next) {
            return fail(std::move(next).error());
          }
          return std::move(next->policy);
        });
    std::lock_guard<std::mutex> lock(reload_log);
    observability.reloaded(origin, result);
    if (result && set_writer) {
      set_writer->forget_recent();  // `firewall apply` may have emptied the sets
      background->refresh_doh();    // the category may have new names
    }
    if (result) {
      spdlog::info("reload ({}): policy version {} is live", origin, *result);
      return "ok policy version " + std::to_string(*result) + "\n";
    }
    std::string answer = "error reload refused, the previous policy stays live (" +
                         std::to_string(store.reload_failures()) + " failed reloads)\n";
    for (const std::string& e : result.error()) {
      spdlog::error("reload ({}) refused: {}", origin, e);
      answer += e + "\n";
    }
    return answer;
  };

  const auto firewall_text = [&] {
    std::string out;
    const auto line = [&](std::string_view prefix, std::string_view name, std::uint64_t value) {
      out += prefix;
      out += name;
      out += ' ';
      out += std::to_string(value);
      out += '\n';
    };
    if (set_writer) {
      learned->counters().for_each([&](auto name, auto value) { line("", name, value); });
      background->counters().for_each([&](auto name, auto value) { line("", name, value); });
      set_writer->counters().for_each([&](auto name, auto value) { line("nft_", name, value); });
    }
    return out;
  };

  // accepted, written, dropped_queue_full, dropped_write_error ... (filter/events/event_pipeline.h)
  const auto events_text = [&] {
    std::string out;
    if (event_pipeline) {
      event_pipeline->for_each_counter([&](std::string_view name, std::uint64_t value) {
        out += name;
        out += ' ';
        out += std::to_string(value);
        out += '\n';
      });
    }
    return out;
  };

  std::unique_ptr<ControlServer> control;
  if (!config.control.socket.empty()) {
    auto server = ControlServer::open(config.control.socket, [&](std::string_view line) {
      const auto command = parse_control_command(line);
      if (!command) {
        return std::string(command.error());
      }
      switch (command->verb) {
        case ControlVerb::Reload:
          return reload("control socket");
        case ControlVerb::Stats:
          return "ok\n" + counters_text((*proxy)->counters()) + "reloads " +
                 std::to_string(store.reloads()) + "\nreload_failures " +
                 std::to_string(store.reload_failures()) + "\n" + events_text() + firewall_text() +
                 geo_text(geo_hook.counters()) +
                 (inline_path ? nfqueue_stats_text(inline_path->stats()) +
                                    inspect_stats_text(inline_path->inspect_stats())
                              : std::string());
        case ControlVerb::Status:
          return observability.status();
        case ControlVerb::Explain:
          return control_explain(*store.current(), command->arguments);
      }
      return std::string("error unknown command\n");
    });
    if (!server) {
      spdlog::error("{}", server.error());
      return 1;
    }
    control = std::move(*server);
    spdlog::info("control socket {}", config.control.socket);
  }

  // [metrics]: bound now, served once the datapaths run; then privileges are dropped.
  observability.add_dns_proxy(**proxy);
  if (inline_path) {
    observability.add_nfqueue(*inline_path, inline_path->workers());
  }
  if (event_pipeline) {
    observability.add_counters("events", "Event pipeline counter", [&](const CounterVisitor& v) {
      event_pipeline->for_each_counter(v);
    });
  }
  if (set_writer) {
    observability.add_counters("firewall", "Firewall set counter", [&](const CounterVisitor& v) {
      learned->counters().for_each(v);
      background->counters().for_each(v);
      set_writer->counters().for_each([&](std::string_view name, std::uint64_t value) {
        v("nft_" + std::string(name), value);
      });
    });
  }
  if (auto opened = observability.open_server(); !opened) {
    spdlog::error("{}", opened.error());
    return 1;
  }
  if (run_as || ::geteuid() != 0) {
    DropPlan plan;
    plan.identity = run_as;
    plan.keep_net_admin = config.nfqueue.enabled || set_writer != nullptr;
    plan.chown_paths = {config.control.socket, events_config.path};
    auto dropped = drop_privileges(plan);
    if (!dropped) {
      spdlog::error("{}", dropped.error());
      return 1;
    }
    spdlog::info("privileges: {}", *dropped);
    observability.set_privileges(*dropped);
  } else {
    spdlog::warn("running as root: set [run] user to drop privileges after start-up");
    observability.set_privileges("uid=0 (root): no [run] user");
  }

  if (set_writer) {
    set_writer->start();
    background->start();
  }
  (*proxy)->start();
  if (inline_path) {
    inline_path->start();
    spdlog::info("nfqueue: {} queue(s) from {}, fail-{}", inline_path->workers(),
                 config.nfqueue.queues.front(), config.nfqueue.fail_open ? "open" : "closed");
  }
  for (const auto& endpoint : (*proxy)->endpoints()) {
    spdlog::info("dns proxy listening on {} (udp, tcp)", endpoint.to_string());
  }
  observability.start();
  if (!observability.endpoint().empty()) {
    spdlog::info("metrics on http://{}/metrics", observability.endpoint());
  }
  spdlog::info("policy version 1: {} groups, {} workers, {} upstreams",
               loaded->policy->groups().size(), config.dns.workers, config.dns.upstreams.size());

  for (;;) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) {
      continue;
    }
    if (signal == SIGHUP) {
      reload("SIGHUP");
      continue;
    }
    spdlog::info("signal {}: stopping", signal == SIGTERM ? "TERM" : "INT");
    break;
  }
  observability.stop();
  if (control) {
    control->stop();
  }
  if (inline_path) {
    inline_path->stop();
    const nfqueue::NfqueueStats s = inline_path->stats();
    spdlog::info(
        "nfqueue: {} packets, {} allowed, {} rejected, {} dropped, {} undecided, {} "
        "verdict messages, {} overflows",
        s.packets, s.allowed, s.rejected, s.dropped, s.undecided, s.verdict_batches, s.enobufs);
  }
  (*proxy)->stop();
  const dnsproxy::DnsProxyCounters counters = (*proxy)->counters();
  if (set_writer) {
    background->stop();
    set_writer->stop();  // sends what is queued
    std::string text = firewall_text();
    for (std::size_t start = 0, end = 0; start < text.size(); start = end + 1) {
      end = text.find('\n', start);
      spdlog::info("counter {}", std::string_view(text).substr(start, end - start));
    }
  }
  if (event_pipeline) {
    event_pipeline->close();  // everything accepted is written out before this returns
    const events::EventCounters c = event_pipeline->counters();
    spdlog::info(
        "events: {} accepted, {} written, {} dropped_queue_full, {} dropped_write_error, {} "
        "aggregated",
        c.accepted, c.written, c.dropped_queue_full, c.dropped_write_error, c.aggregated);
  }
  counters.for_each([](std::string_view name, std::uint64_t value) {
    spdlog::info("counter {} {}", name, value);
  });
  spdlog::info("counter reloads {}", store.reloads());
  spdlog::info("counter reload_failures {}", store.reload_failures());
  spdlog::info("stopped");
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& root) {
  auto* cmd = root.add_subcommand("run", "Run the configured datapaths (the DNS proxy, [dns])");
  auto o = std::make_shared<RunOptions>();
  cmd->add_option("-c,--config", o->config, "Configuration file (egressguard.toml)")->required();
  cmd->add_option("--events", o->events, "Write block events here (JSON lines; - = stdout)");
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->footer(
      "Signals: SIGHUP reloads the policy (as `egressguard reload`), SIGTERM/SIGINT stop.\n"
      "Exit status: 0 after a clean stop, 1 when the configuration or a socket is unusable.");
  return {cmd, [o] { return run(*o); }};
}

}  // namespace egressguard::app
