// The daemon's control socket (DESIGN section 7): a Unix stream socket, mode 0600, one command
// per connection. The client writes one line ("reload", "stats"); the server answers with text
// whose first line is "ok ..." or "error ..." and closes. Commands run one at a time on the
// server's own thread, never on a datapath thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"

namespace egressguard::app {

class ControlServer {
 public:
  // Maps a command line (without the newline) to the answer text.
  using Handler = std::function<std::string(std::string_view command)>;

  // Binds `path` (mode 0600). A stale socket file is replaced; a live one (another daemon
  // answers there) is an error.
  static Result<std::unique_ptr<ControlServer>, std::string> open(const std::string& path,
                                                                  Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Stops the thread and removes the socket file. Idempotent.
  void stop();

 private:
  ControlServer() = default;
  void run();

  std::string path_;
  Handler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop() wakes the poll
  std::thread thread_;
  bool stopped_ = false;
};

// Sends `command` to the control socket at `path` and returns the answer text.
Result<std::string, std::string> control_request(const std::string& path, std::string_view command,
                                                 int timeout_ms);

}  // namespace egressguard::app
