#include "filter/metrics/list_versions.h"

#include <array>
#include <cstdio>
#include <memory>

#include <openssl/evp.h>
#include <sys/stat.h>

#include "domains/rule.h"

namespace egressguard::metrics {

std::string sha256_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return "";
  }
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return "";
  }
  std::array<unsigned char, 1 << 16> buffer{};
  for (;;) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (n > 0 && EVP_DigestUpdate(ctx.get(), buffer.data(), n) != 1) {
      return "";
    }
    if (n < buffer.size()) {
      if (std::ferror(file.get()) != 0) {
        return "";
      }
      break;
    }
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(ctx.get(), digest.data(), &length) != 1) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::vector<ListVersion> list_versions(const inspect::PolicySnapshot& policy) {
  std::vector<ListVersion> out;
  const auto& infos = policy.domains().lists;
  for (std::size_t i = 0; i < policy.list_count(); ++i) {
    const auto id = static_cast<std::uint32_t>(i);
    const inspect::ListSpec& spec = policy.list(id);
    ListVersion v;
    v.name = spec.name;
    v.category = policy.categories()[policy.list_category(id)].name;
    v.path = spec.path;
    v.format = std::string(domains::describe(spec.options.format));
    if (i < infos.size()) {
      v.rules = infos[i].rules;
      v.skipped_invalid = infos[i].skipped_invalid;
      v.skipped_unsupported = infos[i].skipped_unsupported;
    }
    struct stat st {};
    if (::stat(spec.path.c_str(), &st) == 0) {
      v.size = static_cast<std::uint64_t>(st.st_size);
      v.mtime = static_cast<std::int64_t>(st.st_mtime);
    }
    v.sha256 = sha256_file(spec.path);
    out.push_back(std::move(v));
  }
  return out;
}

void write_list_metrics(Exposition& out, const std::vector<ListVersion>& lists) {
  out.family("egressguard_list_info",
             "The lists of the live policy: file, format and SHA-256 of the file (value 1)",
             MetricType::Gauge);
  for (const ListVersion& v : lists) {
    const std::array<Label, 5> labels{Label{"list", v.name}, Label{"category", v.category},
                                      Label{"path", v.path}, Label{"format", v.format},
                                      Label{"sha256", v.sha256}};
    out.sample("egressguard_list_info", labels, 1.0);
  }
  out.family("egressguard_list_rules", "Rules compiled from each list of the live policy",
             MetricType::Gauge);
  for (const ListVersion& v : lists) {
    const std::array<Label, 2> labels{Label{"list", v.name}, Label{"category", v.category}};
    out.sample("egressguard_list_rules", labels, static_cast<double>(v.rules));
  }
  out.family("egressguard_list_skipped_lines",
             "Lines of each list skipped when the policy was built (invalid: skip_invalid = "
             "true; unsupported: syntax the matcher cannot express)",
             MetricType::Gauge);
  for (const ListVersion& v : lists) {
    const std::array<Label, 2> invalid{Label{"list", v.name}, Label{"reason", "invalid"}};
    out.sample("egressguard_list_skipped_lines", invalid, static_cast<double>(v.skipped_invalid));
    const std::array<Label, 2> unsupported{Label{"list", v.name}, Label{"reason", "unsupported"}};
    out.sample("egressguard_list_skipped_lines", unsupported,
               static_cast<double>(v.skipped_unsupported));
  }
  out.family("egressguard_list_mtime_seconds",
             "Modification time of each list file of the live policy (0: unreadable now)",
             MetricType::Gauge);
  for (const ListVersion& v : lists) {
    const std::array<Label, 1> labels{Label{"list", v.name}};
    out.sample("egressguard_list_mtime_seconds", labels, static_cast<double>(v.mtime));
  }
}

}  // namespace egressguard::metrics
