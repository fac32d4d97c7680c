// Accuracy on real captures: `egressguard scan --all` over every capture of the shared data set
// must recover every name in the capture's ground truth (truth/<src>/<capture>.tsv, made by
// tshark): kinds sni, quic_sni, dns (queries, mDNS and LLMNR included) and http_host, compared
// case-insensitively without a trailing dot. Exclusions are listed below with their reasons.
// The recall per kind is printed.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/run_helpers.h"
#include "tests/support/temp_dir.h"

namespace egressguard::testing {
namespace {

namespace fs = std::filesystem;

struct Exclusion {
  const char* capture;  // file name under pcaps/<src>/
  const char* kind;     // truth kind
  const char* name;     // "*" = every name of that kind in the capture
  const char* reason;
};

// Names the filter does not (and need not) recover, with the reason.
const Exclusion kExclusions[] = {
    {"dns-over-http2-post__dns_over_https_POST.pcap", "dns", "*",
     "DoH over cleartext HTTP/2 (h2c): the filter does not decode HTTP/2; DoH endpoints are "
     "blocked by name through the doh-bypass category and by the firewall"},
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// tshark prints name bytes that are not printable as C escapes: \ooo (octal), \t, \n, \r and
// \\ (e.g. "www.allyourba\004\005\006arebelongto.cn"). Decodes them back to the wire bytes.
std::string unescape_tshark(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 >= text.size()) {
      out.push_back(text[i]);
      continue;
    }
    const char next = text[i + 1];
    if (next >= '0' && next <= '7' && i + 3 < text.size() && text[i + 2] >= '0' &&
        text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out.push_back(static_cast<char>(std::stoi(text.substr(i + 1, 3), nullptr, 8)));
      i += 3;
      continue;
    }
    switch (next) {
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '\\':
        out.push_back('\\');
        break;
      default:
        out.push_back('\\');  // not an escape tshark writes: keep it
        out.push_back(next);
        break;
    }
    ++i;
  }
  return out;
}

std::string canonical(std::string name) {
  name = lower(std::move(name));
  while (!name.empty() && name.back() == '.') {
    name.pop_back();
  }
  return name;
}

// Reads the string value of "key" from one JSON line written by append_json_string.
bool json_string_field(const std::string& line, const std::string& key, std::string& out) {
  const std::string needle = "\"" + key + "\":\"";
  const auto at = line.find(needle);
  if (at == std::string::npos) {
    return false;
  }
  out.clear();
  for (std::size_t i = at + needle.size(); i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      return true;
    }
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= line.size()) {
      return false;
    }
    switch (line[i]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'u': {
        if (i + 4 >= line.size()) {
          return false;
        }
        out.push_back(static_cast<char>(std::stoi(line.substr(i + 1, 4), nullptr, 16)));
        i += 4;
        break;
      }
      default:
        out.push_back(line[i]);
    }
  }
  return false;
}

std::string kind_of(const std::string& app_proto) {
  if (app_proto == "tls") {
    return "sni";
  }
  if (app_proto == "quic") {
    return "quic_sni";
  }
  if (app_proto == "http") {
    return "http_host";
  }
  return app_proto;  // dns
}

bool excluded(const std::string& capture, const std::string& kind, const std::string& name,
              std::string* reason) {
  for (const Exclusion& e : kExclusions) {
    if (capture == e.capture && kind == e.kind && (std::string(e.name) == "*" || name == e.name)) {
      *reason = e.reason;
      return true;
    }
  }
  return false;
}

TEST(Recall, ScanRecoversEveryNameInTheSharedCaptures) {
  const std::string data = shared_data("");
  if (data.empty()) {
    if (in_ci()) {
      FAIL() << "../shared/data is missing: under CI=true the shared data set is required";
    }
    GTEST_SKIP() << "../shared/data (the shared captures and truth) is not beside this checkout";
  }
  const TempDir tmp("eg-recall");
  // Every name is logged (--all); the policy itself does not matter for recall.
  const std::string config =
      tmp.write("eg-recall.toml", "default_group = \"all\"\n[[group]]\nname = \"all\"\n");
  const std::string events = tmp.file("eg-recall-events.json");

  const std::vector<std::string> kinds = {"sni", "quic_sni", "dns", "http_host"};
  std::map<std::string, std::size_t> total;
  std::map<std::string, std::size_t> found;
  std::map<std::string, std::size_t> skipped;
  std::vector<std::string> missing;
  std::size_t captures = 0;

  for (const std::string src : {"ndpi", "zeek", "suricata-verify"}) {
    const fs::path truth_dir = fs::path(data) / "truth" / src;
    for (const auto& entry : fs::directory_iterator(truth_dir)) {
      const std::string file = entry.path().filename().string();
      if (file.size() < 4 || file.substr(file.size() - 4) != ".tsv" ||
          file.find(".ndpi_flows.tsv") != std::string::npos) {
        continue;
      }
      const std::string capture = file.substr(0, file.size() - 4);
      const fs::path pcap = fs::path(data) / "pcaps" / src / capture;
      if (!fs::exists(pcap)) {
        continue;
      }
      ++captures;
      // Expected (kind, name) pairs.
      std::set<std::pair<std::string, std::string>> expected;
      std::ifstream truth(entry.path());
      std::string line;
      std::getline(truth, line);  // header
      while (std::getline(truth, line)) {
        std::vector<std::string> cols;
        std::stringstream ss(line);
        std::string col;
        while (std::getline(ss, col, '\t')) {
          cols.push_back(col);
        }
        if (cols.size() < 8) {
          continue;
        }
        const std::string& kind = cols[6];
        if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
          continue;
        }
        expected.emplace(kind, canonical(unescape_tshark(cols[7])));
      }
      if (expected.empty()) {
        continue;
      }
      fs::remove(events);
      const auto r = run_command(egressguard_binary() + " scan --all --config '" + config +
                                 "' --events '" + events + "' '" + pcap.string() + "'");
      EXPECT_TRUE(r.exit_code == 0 || r.err.find("truncated") != std::string::npos)
          << capture << ": " << r.err;
      std::set<std::pair<std::string, std::string>> seen;
      std::ifstream ev(events);
      while (std::getline(ev, line)) {
        std::string app;
        std::string name;
        if (json_string_field(line, "app_proto", app) && json_string_field(line, "name", name)) {
          seen.emplace(kind_of(app), canonical(name));
        }
      }
      for (const auto& [kind, name] : expected) {
        std::string reason;
        if (excluded(capture, kind, name, &reason)) {
          ++skipped[kind];
          continue;
        }
        ++total[kind];
        // tshark prints http.host verbatim, with a :port; the filter reports the host too.
        bool hit = seen.count({kind, name}) > 0;
        if (!hit && kind == "http_host") {
          const auto colon = name.rfind(':');
          hit = colon != std::string::npos && name.find(']') == std::string::npos &&
                seen.count({kind, name.substr(0, colon)}) > 0;
        }
        if (hit) {
          ++found[kind];
        } else {
          missing.push_back(src + "/" + capture + ": " + kind + " " + name);
        }
      }
    }
  }

  std::printf("recall over %zu captures:\n", captures);
  for (const std::string& kind : kinds) {
    const double recall = total[kind] == 0 ? 1.0 : double(found[kind]) / double(total[kind]);
    std::printf("  %-10s %5zu / %5zu = %6.2f%%  (%zu excluded)\n", kind.c_str(), found[kind],
                total[kind], 100.0 * recall, skipped[kind]);
  }
  for (const std::string& m : missing) {
    ADD_FAILURE() << "not recovered: " << m;
  }
  EXPECT_GT(captures, 100U);
}

}  // namespace
}  // namespace egressguard::testing
