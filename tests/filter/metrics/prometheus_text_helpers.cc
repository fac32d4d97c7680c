#include "tests/filter/metrics/prometheus_text_helpers.h"

#include <cstdlib>
#include <set>
#include <sstream>

namespace egressguard::testing {

namespace {

bool metric_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      const std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") {
        return base;
      }
    }
  }
  return name;
}

Result<double, std::string> parse_value(const std::string& text) {
  if (text == "+Inf") {
    return 1e308 * 10;
  }
  if (text == "-Inf") {
    return -1e308 * 10;
  }
  if (text == "NaN") {
    return 0.0;
  }
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') {
    return fail("bad value \"" + text + "\"");
  }
  return v;
}

}  // namespace

double PromText::value(const std::string& name,
                       const std::vector<std::pair<std::string, std::string>>& labels) const {
  for (const PromSample& s : samples) {
    if (s.name != name) {
      continue;
    }
    bool all = true;
    for (const auto& want : labels) {
      bool found = false;
      for (const auto& have : s.labels) {
        found = found || have == want;
      }
      all = all && found;
    }
    if (all) {
      return s.value;
    }
  }
  return -1;
}

std::size_t PromText::count(const std::string& name) const {
  std::size_t n = 0;
  for (const PromSample& s : samples) {
    n += s.name == name ? 1U : 0U;
  }
  return n;
}

Result<PromText, std::string> parse_prometheus_text(const std::string& text) {
  PromText out;
  if (!text.empty() && text.back() != '\n') {
    return fail(std::string("the text does not end with a line feed"));
  }
  std::istringstream in(text);
  std::string line;
  std::size_t number = 0;
  std::string current;  // family of the previous sample
  std::set<std::string> done;
  std::set<std::pair<std::string, std::string>> series;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = "line " + std::to_string(number) + ": ";
    if (line.empty()) {
      continue;
    }
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (kind == "TYPE") {
        std::string type;
        words >> type;
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          return fail(where + "unknown type " + type);
        }
        if (out.types.count(name) != 0) {
          return fail(where + "second TYPE for " + name);
        }
        out.types[name] = type;
        if (!current.empty() && current != name) {
          done.insert(current);
        }
        current = name;
      } else if (kind == "HELP") {
        if (out.help.count(name) != 0) {
          return fail(where + "second HELP for " + name);
        }
        const std::size_t start = line.find(name) + name.size() + 1;
        std::string help;
        for (std::size_t i = start; i < line.size(); ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) {
            const char n = line[++i];
            help.push_back(n == 'n' ? '\n' : n);
          } else {
            help.push_back(line[i]);
          }
        }
        out.help[name] = help;
      }
      continue;
    }
    PromSample s;
    std::size_t i = 0;
    while (i < line.size() && metric_char(line[i], i == 0)) {
      s.name.push_back(line[i++]);
    }
    if (s.name.empty()) {
      return fail(where + "no metric name");
    }
    std::string label_text;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::string lname;
        while (i < line.size() && line[i] != '=') {
          if (!metric_char(line[i], lname.empty()) || line[i] == ':') {
            return fail(where + "bad label name character");
          }
          lname.push_back(line[i++]);
        }
        if (i + 1 >= line.size() || line[i + 1] != '"') {
          return fail(where + "label value not quoted");
        }
        i += 2;
        std::string value;
        for (;;) {
          if (i >= line.size()) {
            return fail(where + "unterminated label value");
          }
          const char c = line[i++];
          if (c == '"') {
            break;
          }
          if (c == '\\') {
            if (i >= line.size()) {
              return fail(where + "dangling backslash");
            }
            const char n = line[i++];
            if (n == 'n') {
              value.push_back('\n');
            } else if (n == '\\' || n == '"') {
              value.push_back(n);
            } else {
              return fail(where + "bad escape \\" + std::string(1, n));
            }
          } else {
            value.push_back(c);
          }
        }
        s.labels.emplace_back(lname, value);
        label_text += lname + "=" + value + ",";
        if (i < line.size() && line[i] == ',') {
          ++i;
        }
      }
      if (i >= line.size()) {
        return fail(where + "unterminated label set");
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      return fail(where + "expected a space before the value");
    }
    auto value = parse_value(line.substr(i + 1));
    if (!value) {
      return fail(where + value.error());
    }
    s.value = *value;
    const std::string family = family_of(s.name, out.types);
    if (out.types.count(family) == 0) {
      return fail(where + "sample of " + s.name + " before its # TYPE");
    }
    if (done.count(family) != 0 || family != current) {
      return fail(where + "family " + family + " is split or out of place");
    }
    if (!series.emplace(s.name, label_text).second) {
      return fail(where + "duplicate series " + s.name + "{" + label_text + "}");
    }
    out.samples.push_back(std::move(s));
  }
  return out;
}

}  // namespace egressguard::testing
