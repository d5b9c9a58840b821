#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
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

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen) {
  size_t colon = listen.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  char* end = nullptr;
  long port = colon == std::string::npos ? -1 : strtol(listen.c_str() + colon + 1, &end, 10);
  if (colon == std::string::npos || !end || *end || port < 0 || port > 65535 ||
      inet_pton(AF_INET, listen.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError("--metrics-listen wants IPV4:PORT, got '" + listen + "'");
  }
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (s->fd_ < 0 || bind(s->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(s->fd_, 16) != 0) {
    return absl::UnavailableError(absl::StrCat("metrics: cannot listen on ", listen, ": ",
                                               strerror(errno)));
  }
  socklen_t len = sizeof(addr);
  getsockname(s->fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  s->port_ = ntohs(addr.sin_port);
  s->thread_ = std::thread([p = s.get()] { p->serve(); });
  return s;
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) close(fd_);
}

void MetricsServer::publish(std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  text_ = std::move(text);
}

void MetricsServer::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // One request per connection; a slow client gets 2 s, then is dropped.
    timeval tv{2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    char buf[2048];
    ssize_t n = recv(c, buf, sizeof(buf) - 1, 0);
    std::string req(buf, n > 0 ? n : 0);
    std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", body;
    if (req.rfind("GET /metrics ", 0) == 0 || req.rfind("GET /metrics?", 0) == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      body = text_;
    } else if (req.rfind("GET ", 0) == 0) {
      status = "404 Not Found";
      type = "text/plain";
      body = "vigild serves /metrics only\n";
    } else {
      status = "405 Method Not Allowed";
      type = "text/plain";
      body = "GET /metrics\n";
    }
    std::string resp = absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", type,
                                    "\r\nContent-Length: ", body.size(),
                                    "\r\nConnection: close\r\n\r\n", body);
    for (size_t off = 0; off < resp.size();) {
      ssize_t w = send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
      if (w <= 0) break;
      off += w;
    }
    close(c);
  }
}

}  // namespace vigil
