#include "filter/app/config.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

#include "geoip/ip_list.h"

namespace egressguard::app {

namespace {

// Collects `file:line:col: what: why` messages while walking the TOML tree.
class Checker {
 public:
  Checker(std::string file, std::string base_dir)
      : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  std::string at(const toml::source_region& where) const {
    return file_ + ":" + std::to_string(where.begin.line) + ":" +
           std::to_string(where.begin.column);
  }
  void error(const toml::source_region& where, const std::string& what) {
    errors_.push_back(at(where) + ": " + what);
  }
  std::vector<std::string>& errors() { return errors_; }

  // Every key of `table` must be in `allowed`.
  void check_keys(const toml::table& table, std::initializer_list<std::string_view> allowed,
                  const std::string& context) {
    for (auto&& [key, node] : table) {
      if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
        std::string list;
        for (std::string_view a : allowed) {
          list += list.empty() ? "" : ", ";
          list += a;
        }
        error(key.source(), "unknown key \"" + std::string(key.str()) + "\" in " + context +
                                ": expected one of " + list);
      }
    }
  }

  std::string string(const toml::table& table, std::string_view key, const std::string& context,
                     bool required, const toml::source_region& table_where) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      if (required) {
        error(table_where, context + "." + std::string(key) + " is missing: it is required");
      }
      return {};
    }
    if (!node->is_string()) {
      error(node->source(),
            context + "." + std::string(key) + " must be a string: got " + type_name(*node));
      return {};
    }
    return **node->as_string();
  }

  std::vector<std::string> strings(const toml::table& table, std::string_view key,
                                   const std::string& context,
                                   std::vector<toml::source_region>* where = nullptr) {
    std::vector<std::string> out;
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return out;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      error(node->source(), context + "." + std::string(key) +
                                " must be an array of strings: got " + type_name(*node));
      return out;
    }
    for (const toml::node& item : *array) {
      if (!item.is_string()) {
        error(item.source(),
              context + "." + std::string(key) + " must hold only strings: got " + type_name(item));
        continue;
      }
      out.push_back(**item.as_string());
      if (where != nullptr) {
        where->push_back(item.source());
      }
    }
    return out;
  }

  bool boolean(const toml::table& table, std::string_view key, const std::string& context,
               bool fallback) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    if (!node->is_boolean()) {
      error(node->source(),
            context + "." + std::string(key) + " must be true or false: got " + type_name(*node));
      return fallback;
    }
    return **node->as_boolean();
  }

  std::int64_t integer(const toml::table& table, std::string_view key, const std::string& context,
                       std::int64_t fallback, std::int64_t min, std::int64_t max) {
    const toml::node* node = table.get(key);
    if (node == nullptr) {
      return fallback;
    }
    if (!node->is_integer()) {
      error(node->source(),
            context + "." + std::string(key) + " must be an integer: got " + type_name(*node));
      return fallback;
    }
    const std::int64_t value = **node->as_integer();
    if (value < min || value > max) {
      error(node->source(), context + "." + std::string(key) + " " + std::to_string(value) +
                                " is out of range: must be " + std::to_string(min) + ".." +
                                std::to_string(max));
      return fallback;
    }
    return value;
  }

  std::string resolve(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative() && !base_dir_.empty()) {
      p = std::filesystem::path(base_dir_) / p;
    }
    return p.lexically_normal().string();
  }

  static std::string type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::table:
        return "a table";
      default:
        return "a date or time";
    }
  }

 private:
  std::string file_;
  std::string base_dir_;
  std::vector<std::string> errors_;
};

void parse_list(Checker& c, const toml::table& t, const std::string& context,
                inspect::ListSpec& out) {
  c.check_keys(t, {"name", "path", "format", "skip_invalid", "subdomains"}, context);
  const std::string path = c.string(t, "path", context, true, t.source());
  out.path = path.empty() ? "" : c.resolve(path);
  out.name = c.string(t, "name", context, false, t.source());
  if (out.name.empty() && !path.empty()) {
    out.name = std::filesystem::path(path).stem().string();
  }
  const std::string format = c.string(t, "format", context, false, t.source());
  out.options.format = domains::ListFormat::Plain;
  if (!format.empty()) {
    auto parsed = domains::parse_list_format(format);
    if (!parsed) {
      c.error(t.get("format")->source(), context + ".format \"" + format +
                                             "\" is not a list format: expected plain, hosts, "
                                             "adblock or rpz");
    } else {
      out.options.format = *parsed;
    }
  }
  out.options.skip_invalid = c.boolean(t, "skip_invalid", context, false);
  out.options.subdomains = c.boolean(t, "subdomains", context, false);
}

void parse_category(Checker& c, const toml::table& t, const std::string& context,
                    inspect::CategorySpec& out) {
  c.check_keys(t,
               {"name", "title", "owner", "jurisdiction", "sources", "reviewed", "lists", "asns"},
               context);
  out.name = c.string(t, "name", context, true, t.source());
  out.title = c.string(t, "title", context, false, t.source());
  out.owner = c.string(t, "owner", context, false, t.source());
  out.jurisdiction = c.string(t, "jurisdiction", context, false, t.source());
  out.sources = c.strings(t, "sources", context);
  out.reviewed = c.string(t, "reviewed", context, false, t.source());
  for (const std::string& path : c.strings(t, "asns", context)) {
    out.ip_lists.push_back(c.resolve(path));  // IP lists: geoip/ip_list.h
  }
  const toml::node* lists = t.get("lists");
  if (lists == nullptr) {
    c.error(t.source(), context + ".lists is missing: a category needs at least one list");
    return;
  }
  const toml::array* array = lists->as_array();
  if (array == nullptr || array->empty()) {
    c.error(lists->source(), context +
                                 ".lists must be a non-empty array of tables such as "
                                 "{ path = \"x.txt\", format = \"plain\" }");
    return;
  }
  std::size_t i = 0;
  for (const toml::node& item : *array) {
    const std::string item_context = context + ".lists[" + std::to_string(i++) + "]";
    const toml::table* lt = item.as_table();
    if (lt == nullptr) {
      c.error(item.source(), item_context + " must be a table such as { path = \"x.txt\" }");
      continue;
    }
    inspect::ListSpec list;
    parse_list(c, *lt, item_context, list);
    out.lists.push_back(std::move(list));
  }
}

// A group's GeoIP rules: block_countries, flag_countries (ISO 3166-1 alpha-2, upper case) and
// block_asns (1..4294967294).
void parse_group_geoip(Checker& c, const toml::table& t, const std::string& context,
                       inspect::GroupSpec& out) {
  for (std::string_view key : {"block_countries", "flag_countries"}) {
    std::vector<toml::source_region> where;
    const auto codes = c.strings(t, key, context, &where);
    for (std::size_t i = 0; i < codes.size(); ++i) {
      const std::string& code = codes[i];
      const bool ok =
          code.size() == 2 && code[0] >= 'A' && code[0] <= 'Z' && code[1] >= 'A' && code[1] <= 'Z';
      if (!ok) {
        c.error(where[i], context + "." + std::string(key) + " \"" + code +
                              "\" is not a country code: expected ISO 3166-1 alpha-2 in upper "
                              "case, such as \"CN\"");
        continue;
      }
      (key == "block_countries" ? out.block_countries : out.flag_countries).push_back(code);
    }
  }
  if (const toml::node* node = t.get("block_asns")) {
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      c.error(node->source(), context +
                                  ".block_asns must be an array of AS numbers such as "
                                  "[396986, 138699]");
      return;
    }
    for (const toml::node& item : *array) {
      const auto v = item.value<std::int64_t>();
      if (!item.is_integer() || !v) {
        c.error(item.source(),
                context + ".block_asns must hold only integers: got " + Checker::type_name(item));
        continue;
      }
      if (*v < 1 || *v > std::int64_t{geoip::kMaxAsn}) {
        c.error(item.source(), context + ".block_asns " + std::to_string(*v) +
                                   " is out of range: an AS number is 1..4294967294");
        continue;
      }
      out.block_asns.push_back(static_cast<std::uint32_t>(*v));
    }
  }
}

// [geoip]: the MaxMind databases (geoip/geoip_config.h), resolved like list paths.
void parse_geoip(Checker& c, const toml::table& t, geoip::GeoipConfig& out) {
  c.check_keys(t, {"country_db", "asn_db"}, "[geoip]");
  const std::string country = c.string(t, "country_db", "geoip", false, t.source());
  const std::string asn = c.string(t, "asn_db", "geoip", false, t.source());
  out.country_db = country.empty() ? "" : c.resolve(country);
  out.asn_db = asn.empty() ? "" : c.resolve(asn);
  if (t.get("country_db") == nullptr && t.get("asn_db") == nullptr) {
    c.error(t.source(),
            "[geoip] names no database: set country_db (GeoIP2/GeoLite2 Country or City) "
            "and/or asn_db (GeoLite2-ASN)");
  }
}

void parse_group(Checker& c, const toml::table& t, const std::string& context,
                 inspect::GroupSpec& out) {
  c.check_keys(t,
               {"name", "description", "cidrs", "interfaces", "macs", "vlans", "block", "allow",
                "mode", "enforce_action", "strip_ech", "anti_bypass", "block_countries",
                "flag_countries", "block_asns"},
               context);
  out.name = c.string(t, "name", context, true, t.source());
  out.description = c.string(t, "description", context, false, t.source());
  std::vector<toml::source_region> where;
  const auto cidrs = c.strings(t, "cidrs", context, &where);
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    std::string why;
    auto cidr = inspect::Cidr::parse(cidrs[i], &why);
    if (!cidr) {
      c.error(where[i], context + ".cidrs \"" + cidrs[i] + "\" is not a CIDR: " + why);
      continue;
    }
    out.members.cidrs.push_back(*cidr);
  }
  out.members.interfaces = c.strings(t, "interfaces", context);
  where.clear();
  const auto macs = c.strings(t, "macs", context, &where);
  for (std::size_t i = 0; i < macs.size(); ++i) {
    auto mac = inspect::parse_mac(macs[i]);
    if (!mac) {
      c.error(where[i], context + ".macs \"" + macs[i] +
                            "\" is not a MAC address: expected six hex pairs like "
                            "02:00:5e:10:00:01");
      continue;
    }
    out.members.macs.push_back(*mac);
  }
  if (const toml::node* vlans = t.get("vlans")) {
    const toml::array* array = vlans->as_array();
    if (array == nullptr) {
      c.error(vlans->source(), context + ".vlans must be an array of integers");
    } else {
      for (const toml::node& item : *array) {
        const auto v = item.value<std::int64_t>();
        if (!item.is_integer() || !v || *v < 1 || *v > 4094) {
          c.error(item.source(), context + ".vlans entry is out of range: a VLAN id is 1..4094");
          continue;
        }
        out.members.vlans.push_back(static_cast<std::uint16_t>(*v));
      }
    }
  }
  out.block = c.strings(t, "block", context);
  out.allow = c.strings(t, "allow", context);
  const std::string mode = c.string(t, "mode", context, false, t.source());
  if (mode.empty() || mode == "enforce") {
    out.mode = inspect::Mode::Enforce;
  } else if (mode == "monitor") {
    out.mode = inspect::Mode::Monitor;
  } else {
    c.error(t.get("mode")->source(),
            context + ".mode \"" + mode + "\" is not a mode: expected \"enforce\" or \"monitor\"");
  }
  out.strip_ech = c.boolean(t, "strip_ech", context, false);
  out.anti_bypass = c.boolean(t, "anti_bypass", context, true);
  parse_group_geoip(c, t, context, out);
  const std::string action = c.string(t, "enforce_action", context, false, t.source());
  if (action == "drop") {
    out.enforce_action = inspect::EnforceAction::Drop;
  } else if (!action.empty() && action != "reject") {
    c.error(t.get("enforce_action")->source(),
            context + ".enforce_action \"" + action +
                "\" is not an action: expected \"reject\" (TCP reset, ICMP) or \"drop\"");
  }
}

// An array of "addr:port" strings (filter/datapath/dnsproxy/dns_proxy_config.h).
std::vector<dnsproxy::Endpoint> parse_endpoints(Checker& c, const toml::table& t,
                                                std::string_view key, bool required) {
  std::vector<dnsproxy::Endpoint> out;
  std::vector<toml::source_region> where;
  const auto texts = c.strings(t, key, "dns", &where);
  const toml::node* node = t.get(key);
  if (texts.empty() && required &&
      (node == nullptr || (node->as_array() != nullptr && node->as_array()->empty()))) {
    c.error(node != nullptr ? node->source() : t.source(),
            "dns." + std::string(key) + (node != nullptr ? " is empty" : " is missing") +
                ": give at least one address such as \"192.0.2.53:53\" or \"[::1]:53\"");
  }
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string why;
    auto endpoint = dnsproxy::parse_endpoint(texts[i], 53, &why);
    if (!endpoint) {
      c.error(where[i],
              "dns." + std::string(key) + " \"" + texts[i] + "\" is not an address: " + why);
      continue;
    }
    out.push_back(*endpoint);
  }
  return out;
}

// [dns]: the DNS proxy (filter/datapath/dnsproxy/dns_proxy_config.h).
void parse_dns(Checker& c, const toml::table& t, dnsproxy::DnsProxyConfig& out) {
  c.check_keys(t,
               {"listen", "upstreams", "block_answer", "block_ttl", "workers",
                "upstream_timeout_ms", "query_timeout_ms", "tcp_idle_timeout_ms",
                "max_tcp_connections", "max_tcp_pipeline", "max_pending", "udp_payload"},
               "[dns]");
  out.enabled = true;
  out.listen = parse_endpoints(c, t, "listen", true);
  out.upstreams = parse_endpoints(c, t, "upstreams", true);
  const std::string answer = c.string(t, "block_answer", "dns", false, t.source());
  if (!answer.empty()) {
    auto parsed = dnsproxy::parse_block_answer(answer);
    if (!parsed) {
      c.error(t.get("block_answer")->source(),
              "dns.block_answer \"" + answer +
                  "\" is not a block answer: expected \"nxdomain\", \"null\" or \"refused\"");
    } else {
      out.block_answer = *parsed;
    }
  }
  auto u32 = [&](std::string_view key, std::uint32_t fallback, std::int64_t min, std::int64_t max) {
    return static_cast<std::uint32_t>(c.integer(t, key, "dns", fallback, min, max));
  };
  out.block_ttl = u32("block_ttl", out.block_ttl, 0, 86400);
  out.workers = u32("workers", out.workers, 1, 256);
  out.upstream_timeout_ms = u32("upstream_timeout_ms", out.upstream_timeout_ms, 10, 60000);
  out.query_timeout_ms = u32("query_timeout_ms", out.query_timeout_ms, 10, 120000);
  out.tcp_idle_timeout_ms = u32("tcp_idle_timeout_ms", out.tcp_idle_timeout_ms, 100, 3600000);
  out.max_tcp_connections = u32("max_tcp_connections", out.max_tcp_connections, 1, 1 << 20);
  out.max_tcp_pipeline = u32("max_tcp_pipeline", out.max_tcp_pipeline, 1, 1024);
  out.max_pending = u32("max_pending", out.max_pending, 1, 1 << 20);
  out.udp_payload = static_cast<std::uint16_t>(u32("udp_payload", out.udp_payload, 512, 4096));
}

// [nfqueue]: the inline datapath (filter/datapath/nfqueue/nfqueue_config.h).
void parse_nfqueue(Checker& c, const toml::table& t, nfqueue::NfqueueConfig& out) {
  c.check_keys(t, {"queues", "fail_mode", "max_packets", "queue_maxlen", "batch", "socket_buffer"},
               "[nfqueue]");
  out.enabled = true;
  if (const toml::node* node = t.get("queues")) {
    const toml::array* array = node->as_array();
    if (array == nullptr || array->empty()) {
      c.error(node->source(), "nfqueue.queues must be a non-empty array of queue numbers");
    } else {
      out.queues.clear();
      for (const toml::node& item : *array) {
        const auto v = item.value<std::int64_t>();
        if (!item.is_integer() || !v || *v < 0 || *v > 65535) {
          c.error(item.source(), "nfqueue.queues entry is out of range: must be 0..65535");
          continue;
        }
        if (!out.queues.empty() && *v != out.queues.back() + 1) {
          c.error(item.source(), "nfqueue.queues " + std::to_string(*v) + " does not follow " +
                                     std::to_string(out.queues.back()) +
                                     ": queues must be consecutive (--queue-balance first:last)");
          continue;
        }
        out.queues.push_back(static_cast<std::uint16_t>(*v));
      }
    }
  }
  const std::string mode = c.string(t, "fail_mode", "nfqueue", false, t.source());
  if (t.get("fail_mode") == nullptr) {
    c.error(t.source(),
            "nfqueue.fail_mode is missing: set \"open\" (traffic passes uninspected while "
            "egressguard is down) or \"closed\" (it stops)");
  } else if (mode == "open" || mode == "closed") {
    out.fail_open = mode == "open";
  } else if (t.get("fail_mode")->is_string()) {
    c.error(t.get("fail_mode")->source(), "nfqueue.fail_mode \"" + mode +
                                              "\" is not a mode: expected \"open\" or "
                                              "\"closed\"");
  }
  out.max_packets =
      static_cast<std::uint32_t>(c.integer(t, "max_packets", "nfqueue", out.max_packets, 1, 1000));
  out.queue_maxlen = static_cast<std::uint32_t>(
      c.integer(t, "queue_maxlen", "nfqueue", out.queue_maxlen, 16, 1 << 20));
  out.batch = static_cast<std::uint32_t>(c.integer(t, "batch", "nfqueue", out.batch, 1, 1024));
  out.socket_buffer = static_cast<std::uint32_t>(
      c.integer(t, "socket_buffer", "nfqueue", out.socket_buffer, 1 << 16, 1 << 30));
}

// [firewall]: what `egressguard firewall` generates (filter/datapath/firewall/firewall_config.h).
// [metrics]: the Prometheus endpoint; a non-loopback listen needs allow_remote = true.
void parse_metrics(Checker& c, const toml::table& t, metrics::MetricsConfig& out) {
  c.check_keys(t, {"listen", "allow_remote"}, "[metrics]");
  out.enabled = true;
  out.allow_remote = c.boolean(t, "allow_remote", "metrics", false);
  const std::string listen = c.string(t, "listen", "metrics", false, t.source());
  if (!listen.empty()) {
    out.listen = listen;
  }
  auto parsed = metrics::parse_listen(out.listen, out.allow_remote);
  if (!parsed) {
    const toml::node* node = t.get("listen");
    c.error(node != nullptr ? node->source() : t.source(), "metrics.listen " + parsed.error());
  }
}

// [run]: the user (and group) the daemon switches to once its sockets are open.
void parse_run(Checker& c, const toml::table& t, RunConfig& out) {
  c.check_keys(t, {"user", "group"}, "[run]");
  out.user = c.string(t, "user", "run", true, t.source());
  out.group = c.string(t, "group", "run", false, t.source());
}

void parse_firewall(Checker& c, const toml::table& t, firewall::FirewallConfig& out) {
  c.check_keys(t, {"learn_ips", "learn_timeout", "doh_category", "doh_timeout", "doh_addresses"},
               "[firewall]");
  out.learn_ips = c.boolean(t, "learn_ips", "firewall", false);
  out.learn_timeout_s = static_cast<std::uint32_t>(
      c.integer(t, "learn_timeout", "firewall", out.learn_timeout_s, 1, 7 * 86400));
  out.doh_timeout_s = static_cast<std::uint32_t>(
      c.integer(t, "doh_timeout", "firewall", out.doh_timeout_s, 1, 30 * 86400));
  if (t.get("doh_category") != nullptr) {
    out.doh_category = c.string(t, "doh_category", "firewall", false, t.source());
  }
  std::vector<toml::source_region> where;
  const auto addresses = c.strings(t, "doh_addresses", "firewall", &where);
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    auto ip = parse::IpAddress::parse(addresses[i]);
    if (!ip) {
      c.error(where[i], "firewall.doh_addresses \"" + addresses[i] +
                            "\" is not an IP address: expected e.g. 1.1.1.1 or 2606:4700::1111");
      continue;
    }
    out.doh_addresses.push_back(*ip);
  }
}

// [events] and [[events.syslog]]: the event pipeline (filter/events/events_config.h).
void parse_events(Checker& c, const toml::table& t, events::EventsConfig& out) {
  c.check_keys(t,
               {"path", "log_allowed", "sensor", "queue_capacity", "rotate_size", "rotate_daily",
                "keep", "max_age_days", "compress", "aggregate_window", "stdout", "syslog"},
               "[events]");
  const std::string path = c.string(t, "path", "events", false, t.source());
  out.path = path.empty() || path == "-" ? path : c.resolve(path);
  out.log_allowed = c.boolean(t, "log_allowed", "events", false);
  out.sensor = c.string(t, "sensor", "events", false, t.source());
  out.queue_capacity = static_cast<std::uint32_t>(
      c.integer(t, "queue_capacity", "events", out.queue_capacity, 16, 1 << 24));
  out.rotate_daily = c.boolean(t, "rotate_daily", "events", false);
  out.keep = static_cast<std::uint32_t>(c.integer(t, "keep", "events", 0, 0, 100000));
  out.max_age_days =
      static_cast<std::uint32_t>(c.integer(t, "max_age_days", "events", 0, 0, 36500));
  out.compress = c.boolean(t, "compress", "events", false);
  out.to_stdout = c.boolean(t, "stdout", "events", false);
  // A size or duration: a string with a unit, or a plain integer (bytes, seconds).
  auto measure = [&](std::string_view key, bool size) -> std::uint64_t {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      return 0;
    }
    const std::string what = "events." + std::string(key);
    if (const auto v = node->value<std::int64_t>(); node->is_integer() && v) {
      if (*v < 0) {
        c.error(node->source(), what + " " + std::to_string(*v) + " is out of range: must be >= 0");
        return 0;
      }
      return static_cast<std::uint64_t>(*v) * (size ? 1U : 1000U);
    }
    if (!node->is_string()) {
      c.error(node->source(), what + " must be a string such as " +
                                  (size ? "\"100MB\"" : "\"10s\"") + ": got " +
                                  Checker::type_name(*node));
      return 0;
    }
    const std::string text = **node->as_string();
    auto parsed = size ? events::parse_size(text) : events::parse_duration_ms(text);
    if (!parsed) {
      c.error(node->source(), what + " \"" + text + "\" is not a " + (size ? "size" : "duration") +
                                  ": " + parsed.error());
      return 0;
    }
    return *parsed;
  };
  out.rotate_size = measure("rotate_size", true);
  if (out.rotate_size != 0 && out.rotate_size < 4096) {
    c.error(t.get("rotate_size")->source(),
            "events.rotate_size " + std::to_string(out.rotate_size) +
                " bytes is too small: rotate at 4KB or more (0 = never)");
  }
  const std::uint64_t window = measure("aggregate_window", false);
  if (window > 3'600'000) {
    c.error(t.get("aggregate_window")->source(),
            "events.aggregate_window is too long: at most 1h (0 = off)");
  } else {
    out.aggregate_window_ms = static_cast<std::uint32_t>(window);
  }
  const toml::node* syslog = t.get("syslog");
  if (syslog == nullptr) {
    return;
  }
  std::vector<const toml::table*> tables;
  if (const toml::table* one = syslog->as_table()) {
    tables.push_back(one);
  } else if (const toml::array* many = syslog->as_array(); many && many->is_array_of_tables()) {
    for (const toml::node& item : *many) {
      tables.push_back(item.as_table());
    }
  } else {
    c.error(syslog->source(),
            "events.syslog must be a table: write [[events.syslog]] with address = \"host:514\"");
    return;
  }
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const toml::table& st = *tables[i];
    const std::string context =
        syslog->is_array() ? "events.syslog[" + std::to_string(i) + "]" : "events.syslog";
    c.check_keys(st, {"address", "protocol", "facility", "app_name"}, context);
    const std::string address = c.string(st, "address", context, true, st.source());
    events::SyslogOutputConfig item;
    if (!address.empty()) {
      auto parsed = events::parse_syslog_address(address);
      if (!parsed) {
        c.error(st.get("address")->source(),
                context + ".address \"" + address + "\" is not host:port: " + parsed.error());
      } else {
        item = *parsed;
      }
    }
    const std::string protocol = c.string(st, "protocol", context, false, st.source());
    if (protocol == "tcp") {
      item.protocol = events::SyslogProtocol::Tcp;
    } else if (!protocol.empty() && protocol != "udp") {
      c.error(st.get("protocol")->source(), context + ".protocol \"" + protocol +
                                                "\" is not a protocol: expected \"udp\" or "
                                                "\"tcp\"");
    }
    const std::string facility = c.string(st, "facility", context, false, st.source());
    if (!facility.empty()) {
      auto parsed = events::parse_facility(facility);
      if (!parsed) {
        c.error(st.get("facility")->source(),
                context + ".facility \"" + facility + "\" is unknown: " + parsed.error());
      } else {
        item.facility = *parsed;
      }
    }
    if (st.get("app_name") != nullptr) {
      const std::string app = c.string(st, "app_name", context, false, st.source());
      if (auto ok = events::check_app_name(app); !ok && st.get("app_name")->is_string()) {
        c.error(st.get("app_name")->source(), context + ".app_name \"" + app + "\" " + ok.error());
      } else if (ok) {
        item.app_name = app;
      }
    }
    out.syslog.push_back(std::move(item));
  }
}

// Cross-references: unique names, known categories and lists, the default group.
void check_references(Checker& c, const toml::table& root, const Config& config) {
  std::set<std::string> categories;
  std::set<std::string> names;  // categories and lists
  const toml::array* category_array = root["category"].as_array();
  for (std::size_t i = 0; i < config.policy.categories.size(); ++i) {
    const auto& category = config.policy.categories[i];
    const toml::source_region where =
        category_array != nullptr ? (*category_array)[i].source() : root.source();
    if (!category.name.empty() && !categories.insert(category.name).second) {
      c.error(where, "category \"" + category.name + "\" is defined twice: names must be unique");
    }
    names.insert(category.name);
    for (const auto& list : category.lists) {
      if (list.name != category.name && !names.insert(list.name).second) {
        c.error(where, "list name \"" + list.name +
                           "\" is used twice: give one of them a distinct name = \"...\"");
      }
    }
  }
  const toml::array* group_array = root["group"].as_array();
  std::set<std::string> groups;
  for (std::size_t i = 0; i < config.policy.groups.size(); ++i) {
    const auto& group = config.policy.groups[i];
    const toml::table* gt = group_array != nullptr ? (*group_array)[i].as_table() : nullptr;
    const toml::source_region where = gt != nullptr ? gt->source() : root.source();
    if (!group.name.empty() && !groups.insert(group.name).second) {
      c.error(where, "group \"" + group.name + "\" is defined twice: names must be unique");
    }
    auto check_names = [&](std::string_view key, const std::vector<std::string>& values,
                           bool lists_too) {
      const toml::array* arr = gt != nullptr ? (*gt)[key].as_array() : nullptr;
      for (std::size_t j = 0; j < values.size(); ++j) {
        const bool known = lists_too ? names.count(values[j]) > 0 : categories.count(values[j]) > 0;
        if (!known) {
          const toml::source_region at =
              arr != nullptr && j < arr->size() ? (*arr)[j].source() : where;
          c.error(at, "group \"" + group.name + "\" " + std::string(key) + "s unknown " +
                          (lists_too ? "category or list" : "category") + " \"" + values[j] +
                          "\": no [[category]] " + (lists_too ? "or list " : "") + "has that name");
        }
      }
    };
    check_names("block", group.block, false);
    check_names("allow", group.allow, true);
    // GeoIP rules need their database: a rule that silently never matches is a hole.
    const geoip::GeoipConfig& geo = config.policy.geoip;
    for (const auto& [key, used, missing, db] :
         {std::tuple<std::string_view, bool, bool, std::string_view>{
              "block_countries", !group.block_countries.empty(), geo.country_db.empty(),
              "country_db"},
          {"flag_countries", !group.flag_countries.empty(), geo.country_db.empty(), "country_db"},
          {"block_asns", !group.block_asns.empty(), geo.asn_db.empty(), "asn_db"}}) {
      if (used && missing) {
        const toml::node* node = gt != nullptr ? gt->get(key) : nullptr;
        c.error(node != nullptr ? node->source() : where,
                "group \"" + group.name + "\" " + std::string(key) +
                    " needs a GeoIP database: set " + std::string(db) + " in [geoip]");
      }
    }
    // (A blocked category's `asns` lists are checked when they are loaded: PolicySnapshot.)
  }
  const toml::node* def = root.get("default_group");
  if (def == nullptr) {
    c.error(root.source(),
            "default_group is missing: set it explicitly to the group of sources that match no "
            "group");
  } else if (!def->is_string()) {
    c.error(def->source(), "default_group must be a string naming a group");
  } else if (groups.count(config.policy.default_group) == 0) {
    c.error(def->source(), "default_group \"" + config.policy.default_group +
                               "\" is not a configured group: define it with [[group]]");
  }
  if (config.policy.groups.empty()) {
    c.error(root.source(), "no [[group]] is configured: at least the default group is needed");
  }
}

}  // namespace

Result<Config, std::vector<std::string>> parse_config(std::string_view text,
                                                      const std::string& display_path,
                                                      const std::string& base_dir) {
  Checker c(display_path, base_dir);
  toml::table root;
  try {
    root = toml::parse(text, display_path);
  } catch (const toml::parse_error& e) {
    return fail(std::vector<std::string>{c.at(e.source()) +
                                         ": invalid TOML: " + std::string(e.description())});
  }
  Config config;
  config.path = display_path;
  c.check_keys(root,
               {"default_group", "inspect", "events", "category", "group", "nfqueue", "firewall",
                "dns", "control", "geoip", "metrics", "run"},
               "the top level");
  if (const auto* def = root.get("default_group"); def != nullptr && def->is_string()) {
    config.policy.default_group = **def->as_string();
  }

  if (const toml::node* node = root.get("inspect")) {
    if (const toml::table* t = node->as_table()) {
      c.check_keys(*t, {"max_flows", "flow_idle_timeout", "stream_bytes", "reassembly_memory"},
                   "[inspect]");
      auto& in = config.inspect;
      in.max_flows = static_cast<std::uint32_t>(
          c.integer(*t, "max_flows", "inspect", in.max_flows, 1024, 64 << 20));
      in.flow_idle_timeout_s = static_cast<std::uint32_t>(
          c.integer(*t, "flow_idle_timeout", "inspect", in.flow_idle_timeout_s, 1, 86400));
      in.stream_bytes = static_cast<std::uint32_t>(
          c.integer(*t, "stream_bytes", "inspect", in.stream_bytes, 2048, 65536));
      in.reassembly_memory = static_cast<std::uint64_t>(c.integer(
          *t, "reassembly_memory", "inspect", static_cast<std::int64_t>(in.reassembly_memory),
          1 << 20, std::int64_t{16} << 30));
    } else {
      c.error(node->source(), "inspect must be a table: write [inspect]");
    }
  }
  if (const toml::node* node = root.get("events")) {
    if (const toml::table* t = node->as_table()) {
      parse_events(c, *t, config.events);
    } else {
      c.error(node->source(), "events must be a table: write [events]");
    }
  }

  if (const toml::node* node = root.get("nfqueue")) {
    if (const toml::table* t = node->as_table()) {
      parse_nfqueue(c, *t, config.nfqueue);
    } else {
      c.error(node->source(), "nfqueue must be a table: write [nfqueue]");
    }
  }
  if (const toml::node* node = root.get("dns")) {
    if (const toml::table* t = node->as_table()) {
      parse_dns(c, *t, config.dns);
    } else {
      c.error(node->source(), "dns must be a table: write [dns]");
    }
  }
  if (const toml::node* node = root.get("control")) {
    if (const toml::table* t = node->as_table()) {
      c.check_keys(*t, {"socket"}, "[control]");
      const std::string path = c.string(*t, "socket", "control", true, t->source());
      config.control.socket = path.empty() ? "" : c.resolve(path);
    } else {
      c.error(node->source(), "control must be a table: write [control]");
    }
  }
  if (const toml::node* node = root.get("metrics")) {
    if (const toml::table* t = node->as_table()) {
      parse_metrics(c, *t, config.metrics);
    } else {
      c.error(node->source(), "metrics must be a table: write [metrics]");
    }
  }
  if (const toml::node* node = root.get("run")) {
    if (const toml::table* t = node->as_table()) {
      parse_run(c, *t, config.run);
    } else {
      c.error(node->source(), "run must be a table: write [run]");
    }
  }
  if (const toml::node* node = root.get("geoip")) {
    if (const toml::table* t = node->as_table()) {
      parse_geoip(c, *t, config.policy.geoip);
    } else {
      c.error(node->source(), "geoip must be a table: write [geoip]");
    }
  }
  if (const toml::node* node = root.get("firewall")) {
    if (const toml::table* t = node->as_table()) {
      parse_firewall(c, *t, config.firewall);
    } else {
      c.error(node->source(), "firewall must be a table: write [firewall]");
    }
  }

  auto each_table = [&](std::string_view key, auto&& fn) {
    const toml::node* node = root.get(key);
    if (node == nullptr) {
      return;
    }
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      c.error(node->source(),
              std::string(key) + " must be an array of tables: write [[" + std::string(key) + "]]");
      return;
    }
    std::size_t i = 0;
    for (const toml::node& item : *array) {
      fn(*item.as_table(), std::string(key) + "[" + std::to_string(i++) + "]");
    }
  };
  each_table("category", [&](const toml::table& t, const std::string& context) {
    inspect::CategorySpec category;
    parse_category(c, t, context, category);
    config.policy.categories.push_back(std::move(category));
  });
  each_table("group", [&](const toml::table& t, const std::string& context) {
    inspect::GroupSpec group;
    parse_group(c, t, context, group);
    config.policy.groups.push_back(std::move(group));
  });
  check_references(c, root, config);

  if (!c.errors().empty()) {
    return fail(std::move(c.errors()));
  }
  return config;
}

Result<Config, std::vector<std::string>> load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(std::vector<std::string>{path + ": cannot open: " + std::strerror(errno)});
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string base = std::filesystem::path(path).parent_path().string();
  return parse_config(text.str(), path, base);
}

}  // namespace egressguard::app
