// Prometheus metrics over HTTP: a minimal, read-only /metrics endpoint.
//
// The event loop owns every counter; it renders the exposition text about once
// a second (publish()) and the server thread only hands out the latest text,
// so serving a scrape never touches pipeline state or BPF maps.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

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

class MetricsServer {
 public:
  // listen: "ADDR:PORT" (IPv4), e.g. 127.0.0.1:9464. Port 0 picks a free port.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> start(const std::string& listen);
  ~MetricsServer();
  void publish(std::string text);
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void serve();

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string text_;
  std::thread thread_;
};

}  // namespace vigil
