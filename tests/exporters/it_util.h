// Helpers for the exporters' integration tests: child processes, free ports,
// temp dirs, test certificates.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace vigil::exporters::it {

std::string tempDir(const std::string& prefix);
// A loopback port free for both TCP and UDP right now, below the kernel's
// ephemeral range and reserved against other test processes until this one
// exits (see it_util.cc).
int freePort(bool udp = false);
bool waitForTcpPort(int port, absl::Duration timeout);
std::vector<std::string> readLines(const std::string& path);
// Polls `path` until it has at least n lines or the timeout passes.
std::vector<std::string> waitForLines(const std::string& path, size_t n, absl::Duration timeout);
// CA, server (localhost / 127.0.0.1) and client certificates in dir:
// ca.pem ca.key server.pem server.key client.pem client.key, plus other-ca.pem.
bool makeCerts(const std::string& dir);
// First of the names that exists and is executable ("" when none).
std::string findProgram(const std::vector<std::string>& candidates);

// A child process killed (SIGTERM, then SIGKILL) when stopped or destroyed.
class Child {
 public:
  Child() = default;
  explicit Child(const std::vector<std::string>& argv, const std::string& log_file = "");
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void stop();
  void start(const std::vector<std::string>& argv, const std::string& log_file = "");

 private:
  pid_t pid_ = -1;
};

}  // namespace vigil::exporters::it
