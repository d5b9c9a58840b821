// Prometheus metrics over HTTP: read-only /metrics and /healthz endpoints.
//
// The event loop owns every counter; it renders the exposition text about once
// a second (publish()) and the server thread only hands out the latest text,
// so serving a scrape never touches pipeline state or BPF maps.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace vigil {

// Builds the text exposition format (version 0.0.4).
class MetricsText {
 public:
  // A metric family: # HELP and # TYPE once, then its samples.
  void family(const std::string& name, const std::string& type, const std::string& help);
  // labels: already rendered as key="value" pairs joined by commas (escaped by label()).
  void sample(const std::string& name, const std::string& labels, double value);
  static std::string label(const std::string& key, const std::string& value);
  std::string str() const { return out_; }

 private:
  std::string out_;
};

// "127.0.0.1:9464" or "[::1]:9464" -> (address, port); only address literals.
absl::StatusOr<std::pair<std::string, int>> parseListenAddress(const std::string& listen);

// GET /metrics (the text last published) and GET /healthz (200 while the event
// loop publishes, 503 once it has not for kHealthyWithin), on cpp-httplib's
// thread pool: concurrent scrapes, per-request timeouts.
class MetricsServer {
 public:
  static constexpr std::chrono::seconds kHealthyWithin{10};
  static constexpr int kWorkers = 16;
  // listen: see parseListenAddress. Port 0 picks a free port. The socket is
  // bound when this returns (InvalidArgument: a bad address; Unavailable: it
  // cannot be bound, e.g. the port is in use).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> start(const std::string& listen);
  ~MetricsServer();
  void publish(std::string text);
  int port() const { return port_; }

 private:
  MetricsServer() = default;

  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::mutex mu_;
  std::string text_;
  std::atomic<std::chrono::steady_clock::time_point> last_publish_{};
  std::thread thread_;
};

}  // namespace vigil
