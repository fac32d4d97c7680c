#include "tests/support/run_helpers.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

namespace egressguard::testing {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  char err_path[] = "/tmp/eg-test-stderr-XXXXXX";
  const int fd = mkstemp(err_path);
  if (fd < 0) {
    return result;
  }
  close(fd);
  const std::string full = command + " 2>" + err_path;
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    return result;
  }
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.out.append(buffer.data(), n);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  std::ostringstream text;
  text << err.rdbuf();
  result.err = text.str();
  std::remove(err_path);
  return result;
}

std::string egressguard_binary() {
  return std::string("'") + EGRESSGUARD_BINARY + "'";
}

std::string source_path(const std::string& path) {
  return std::string(EGRESSGUARD_SOURCE_DIR) + "/" + path;
}

std::string shared_data(const std::string& path) {
  const std::filesystem::path p =
      std::filesystem::path(EGRESSGUARD_SOURCE_DIR) / ".." / "shared" / "data" / path;
  if (!std::filesystem::exists(p)) {
    return {};
  }
  return p.lexically_normal().string();
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

}  // namespace egressguard::testing
