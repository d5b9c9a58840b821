#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigil {

void MetricsText::family(const std::string& name, const std::string& type,
                         const std::string& help) {
  absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void MetricsText::sample(const std::string& name, const std::string& labels, double value) {
  absl::StrAppend(&out_, name);
  if (!labels.empty()) absl::StrAppend(&out_, "{", labels, "}");
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    absl::StrAppend(&out_, " ", static_cast<int64_t>(value), "\n");
  } else {
    char buf[32];
    snprintf(buf, sizeof(buf), "%.12g", value);  // run times in seconds keep their microseconds
    absl::StrAppend(&out_, " ", buf, "\n");
  }
}

std::string MetricsText::label(const std::string& key, const std::string& value) {
  std::string v;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      v += '\\';
      v += c;
    } else if (c == '\n') {
      v += "\\n";
    } else {
      v += c;
    }
  }
  return absl::StrCat(key, "=\"", v, "\"");
}

absl::StatusOr<std::pair<std::string, int>> parseListenAddress(const std::string& listen) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        "--metrics-listen wants IPV4:PORT or [IPV6]:PORT (an address literal), got '" + listen + "'");
  };
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad();
  std::string host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  char* end = nullptr;
  const long port = strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || !end || *end || port < 0 || port > 65535) return bad();
  in6_addr a6{};
  in_addr a4{};
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (inet_pton(AF_INET6, host.c_str(), &a6) != 1) return bad();
  } else if (inet_pton(AF_INET, host.c_str(), &a4) != 1) {
    return bad();
  }
  return std::make_pair(host, static_cast<int>(port));
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen) {
  auto addr = parseListenAddress(listen);
  if (!addr.ok()) return addr.status();
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  MetricsServer* self = s.get();
  s->server_ = std::make_unique<httplib::Server>();
  auto& svr = *s->server_;
  // Scrapes are served concurrently; a request gets 1 s to arrive and 2 s to
  // be written. An idle or slow client holds one worker for that long, never
  // the others, and never the event loop (which only hands over the text).
  svr.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  svr.set_read_timeout(1, 0);
  svr.set_write_timeout(2, 0);
  svr.set_keep_alive_timeout(2);
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which would
  // let a second process bind the same port and take half the scrapes.
  svr.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_payload_max_length(4096);
  svr.Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(self->mu_);
    res.set_content(self->text_, "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/healthz", [self](const httplib::Request&, httplib::Response& res) {
    const auto age = std::chrono::steady_clock::now() - self->last_publish_.load();
    if (age > kHealthyWithin) {
      res.status = 503;
      res.set_content("stalled: the event loop has not published for " +
                          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                          " s\n",
                      "text/plain");
      return;
    }
    res.set_content("ok\n", "text/plain");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404) res.set_content("vigild serves /metrics and /healthz\n", "text/plain");
  });
  const auto& [host, port] = *addr;
  s->last_publish_ = std::chrono::steady_clock::now();
  s->port_ = port == 0 ? svr.bind_to_any_port(host) : (svr.bind_to_port(host, port) ? port : -1);
  if (s->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ", listen, ": ",
                                               strerror(errno)));
  }
  s->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  // Running before start returns, so that stop() in the destructor reaches it.
  for (int i = 0; i < 2000 && !svr.is_running(); i++) usleep(1000);
  return s;
}

MetricsServer::~MetricsServer() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void MetricsServer::publish(std::string text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    text_ = std::move(text);
  }
  last_publish_ = std::chrono::steady_clock::now();
}

}  // namespace vigil
