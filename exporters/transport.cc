#include "exporters/transport.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include <curl/curl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "exporters/fd_io.h"
#include "exporters/json_doc.h"
#include "spdlog/spdlog.h"

namespace vigil::exporters {

namespace {

std::string errnoText(int e) { return std::strerror(e); }

std::string payloadAsJsonValue(const SinkConfig& cfg, const std::string& payload) {
  return isJsonFormat(cfg.format) ? payload : jsonString(payload);
}

// ---- stdout / file ----------------------------------------------------------

class StdoutTransport : public Transport {
 public:
  SendResult send(const std::vector<Record>& batch) override {
    std::string buf;
    for (const auto& r : batch) {
      buf += r.payload;
      buf.push_back('\n');
    }
    if (!writeAllFd(STDOUT_FILENO, buf.data(), buf.size()))
      return {0, 0, absl::UnavailableError(absl::StrCat("stdout: ", errnoText(errno)))};
    return {batch.size(), 0, absl::OkStatus()};
  }
};

class FileTransport : public Transport {
 public:
  explicit FileTransport(const SinkConfig& cfg) : cfg_(cfg) {}
  ~FileTransport() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status open() {
    fd_ = ::open(cfg_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, cfg_.mode);
    if (fd_ < 0) return absl::UnavailableError(absl::StrCat("open ", cfg_.path, ": ", errnoText(errno)));
    struct stat st{};
    ::fstat(fd_, &st);
    // The configured mode, whatever the umask or an earlier file said.
    if ((st.st_mode & 0777) != cfg_.mode) ::fchmod(fd_, cfg_.mode);
    size_ = static_cast<uint64_t>(st.st_size);
    opened_ = absl::Now();
    return absl::OkStatus();
  }

  SendResult send(const std::vector<Record>& batch) override {
    if (fd_ < 0)
      if (auto st = open(); !st.ok()) return {0, 0, st};
    std::string buf;
    size_t done = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      size_t line = batch[i].payload.size() + 1;
      bool too_big = cfg_.max_size_bytes > 0 && size_ + buf.size() > 0 &&
                     size_ + buf.size() + line > cfg_.max_size_bytes;
      bool too_old = cfg_.max_age > absl::ZeroDuration() && size_ + buf.size() > 0 &&
                     absl::Now() - opened_ >= cfg_.max_age;
      if (too_big || too_old) {
        if (!flushBuf(buf)) return {done, 0, writeError()};
        done = i;
        if (auto st = rotate(); !st.ok()) return {done, 0, st};
      }
      buf += batch[i].payload;
      buf.push_back('\n');
    }
    if (!flushBuf(buf)) return {done, 0, writeError()};
    return {batch.size(), 0, absl::OkStatus()};
  }

 private:
  absl::Status writeError() { return absl::UnavailableError(absl::StrCat("write ", cfg_.path, ": ", errnoText(errno))); }

  bool flushBuf(std::string& buf) {
    if (buf.empty()) return true;
    if (!writeAllFd(fd_, buf.data(), buf.size())) return false;
    size_ += buf.size();
    buf.clear();
    return true;
  }

  std::string backup(int i) const {
    return absl::StrCat(cfg_.path, ".", i, cfg_.compress ? ".gz" : "");
  }

  absl::Status rotate() {
    ::close(fd_);
    fd_ = -1;
    if (cfg_.max_backups <= 0) {
      ::unlink(cfg_.path.c_str());
    } else {
      ::unlink(backup(cfg_.max_backups).c_str());
      for (int i = cfg_.max_backups - 1; i >= 1; --i) ::rename(backup(i).c_str(), backup(i + 1).c_str());
      std::string first = absl::StrCat(cfg_.path, ".1");
      if (::rename(cfg_.path.c_str(), first.c_str()) != 0)
        return absl::UnavailableError(absl::StrCat("rotate ", cfg_.path, ": ", errnoText(errno)));
      if (cfg_.compress) {
        if (auto st = gzipFile(first, first + ".gz"); !st.ok()) {
          spdlog::error("file sink {}: {}", cfg_.name, std::string(st.message()));
        } else {
          ::unlink(first.c_str());
        }
      }
    }
    return open();
  }

  absl::Status gzipFile(const std::string& from, const std::string& to) {
    std::string tmp = to + ".tmp";
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return absl::InternalError(absl::StrCat("gzip ", from, ": ", errnoText(errno)));
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, cfg_.mode);
    if (out < 0) {
      ::close(in);
      return absl::InternalError(absl::StrCat("gzip ", tmp, ": ", errnoText(errno)));
    }
    gzFile gz = gzdopen(out, "wb6");
    char buf[1 << 16];
    bool ok = gz != nullptr;
    ssize_t n;
    while (ok && (n = ::read(in, buf, sizeof buf)) > 0) ok = gzwrite(gz, buf, static_cast<unsigned>(n)) == n;
    if (gz) ok = gzclose(gz) == Z_OK && ok;
    ::close(in);
    if (!ok || ::rename(tmp.c_str(), to.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("gzip ", from, " failed"));
    }
    return absl::OkStatus();
  }

  SinkConfig cfg_;
  int fd_ = -1;
  uint64_t size_ = 0;
  absl::Time opened_;
};

// ---- syslog -----------------------------------------------------------------

struct Endpoint {
  std::string scheme, host, port, path;
};

Endpoint parseAddress(const std::string& a) {
  Endpoint e;
  size_t p = a.find("://");
  e.scheme = a.substr(0, p);
  std::string rest = a.substr(p + 3);
  if (e.scheme == "unix") {
    e.path = rest;
    return e;
  }
  size_t colon = rest.rfind(':');
  e.host = rest.substr(0, colon);
  e.port = rest.substr(colon + 1);
  if (e.host.size() > 2 && e.host.front() == '[' && e.host.back() == ']') e.host = e.host.substr(1, e.host.size() - 2);
  return e;
}

class SslCtx {
 public:
  static absl::StatusOr<std::shared_ptr<SSL_CTX>> make(const TlsConfig& t) {
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
    if (!ctx) return absl::InternalError("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    if (!t.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx.get(), t.ca_file.c_str(), nullptr) != 1)
        return absl::InvalidArgumentError(absl::StrCat("tls: cannot load CA file ", t.ca_file, ": ", lastError()));
    } else {
      SSL_CTX_set_default_verify_paths(ctx.get());
    }
    if (!t.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx.get(), t.cert_file.c_str()) != 1)
        return absl::InvalidArgumentError(absl::StrCat("tls: cannot load certificate ", t.cert_file, ": ", lastError()));
      if (SSL_CTX_use_PrivateKey_file(ctx.get(), t.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        return absl::InvalidArgumentError(absl::StrCat("tls: cannot load key ", t.key_file, ": ", lastError()));
    }
    SSL_CTX_set_verify(ctx.get(), t.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nullptr);
    return ctx;
  }
  static std::string lastError() {
    unsigned long e = ERR_get_error();
    if (e == 0) return "unknown error";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
  }
};

class SyslogTransport : public Transport {
 public:
  explicit SyslogTransport(const SinkConfig& cfg) : cfg_(cfg), ep_(parseAddress(cfg.address)), pid_(::getpid()) {}
  ~SyslogTransport() override { disconnect(); }

  absl::Status init() {
    if (ep_.scheme == "tls") {
      auto ctx = SslCtx::make(cfg_.tls);
      if (!ctx.ok()) return ctx.status();
      ctx_ = *ctx;
    }
    return absl::OkStatus();
  }

  SendResult send(const std::vector<Record>& batch) override {
    if (ep_.scheme == "udp" || ep_.scheme == "unix") return sendDatagrams(batch);
    return sendStream(batch);
  }

 private:
  bool stream() const { return ep_.scheme == "tcp" || ep_.scheme == "tls"; }

  void disconnect() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  absl::Status connectSocket() {
    disconnect();
    if (ep_.scheme == "unix") {
      fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_un sa{};
      sa.sun_family = AF_UNIX;
      if (ep_.path.size() >= sizeof sa.sun_path) return absl::InvalidArgumentError("unix socket path too long");
      std::memcpy(sa.sun_path, ep_.path.c_str(), ep_.path.size() + 1);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        auto st = absl::UnavailableError(absl::StrCat("connect ", ep_.path, ": ", errnoText(errno)));
        disconnect();
        return st;
      }
      return absl::OkStatus();
    }
    addrinfo hints{};
    hints.ai_socktype = ep_.scheme == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = ::getaddrinfo(ep_.host.c_str(), ep_.port.c_str(), &hints, &res);
    if (rc != 0) return absl::UnavailableError(absl::StrCat("resolve ", ep_.host, ": ", gai_strerror(rc)));
    std::string last = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd_ < 0) continue;
      timeval tv{};
      auto ms = absl::ToInt64Milliseconds(cfg_.timeout);
      tv.tv_sec = ms / 1000;
      tv.tv_usec = (ms % 1000) * 1000;
      ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0) break;
      last = errnoText(errno);
      ::close(fd_);
      fd_ = -1;
    }
    ::freeaddrinfo(res);
    if (fd_ < 0) return absl::UnavailableError(absl::StrCat("connect ", cfg_.address, ": ", last));
    if (ep_.scheme == "tls") {
      ssl_ = SSL_new(ctx_.get());
      SSL_set_fd(ssl_, fd_);
      std::string name = cfg_.tls.server_name.empty() ? ep_.host : cfg_.tls.server_name;
      SSL_set_tlsext_host_name(ssl_, name.c_str());
      if (!cfg_.tls.insecure_skip_verify) SSL_set1_host(ssl_, name.c_str());
      if (SSL_connect(ssl_) != 1) {
        long v = SSL_get_verify_result(ssl_);
        std::string why = v != X509_V_OK ? X509_verify_cert_error_string(v) : SslCtx::lastError();
        disconnect();
        return absl::UnavailableError(absl::StrCat("tls handshake with ", cfg_.address, ": ", why));
      }
    }
    return absl::OkStatus();
  }

  // A syslog receiver never writes to us: readable or hung up means it closed.
  bool peerClosed() {
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
  }

  SendResult sendDatagrams(const std::vector<Record>& batch) {
    SendResult r;
    if (fd_ < 0)
      if (auto st = connectSocket(); !st.ok()) return {0, 0, st};
    for (const auto& rec : batch) {
      std::string msg = syslogMessage(cfg_, rec, pid_);
      if (::send(fd_, msg.data(), msg.size(), MSG_NOSIGNAL) < 0) {
        int e = errno;
        if (e == EMSGSIZE) {
          spdlog::error("syslog sink {}: event of {} bytes too large for a datagram, dropped", cfg_.name, msg.size());
          ++r.done;
          ++r.rejected;
          continue;
        }
        disconnect();
        r.status = absl::UnavailableError(absl::StrCat("send to ", cfg_.address, ": ", errnoText(e)));
        return r;
      }
      ++r.done;
    }
    return r;
  }

  SendResult sendStream(const std::vector<Record>& batch) {
    if (fd_ >= 0 && peerClosed()) disconnect();
    if (fd_ < 0)
      if (auto st = connectSocket(); !st.ok()) return {0, 0, st};
    std::string buf;
    for (const auto& rec : batch) {
      std::string msg = syslogMessage(cfg_, rec, pid_);
      absl::StrAppend(&buf, msg.size(), " ", msg);  // RFC 6587 octet counting
    }
    const char* p = buf.data();
    size_t n = buf.size();
    while (n > 0) {
      int w;
      if (ssl_) {
        w = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
      } else {
        w = static_cast<int>(::send(fd_, p, n, MSG_NOSIGNAL));
        if (w < 0 && errno == EINTR) continue;
      }
      if (w <= 0) {
        std::string why = ssl_ ? SslCtx::lastError() : errnoText(errno);
        disconnect();
        return {0, 0, absl::UnavailableError(absl::StrCat("write to ", cfg_.address, ": ", why))};
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return {batch.size(), 0, absl::OkStatus()};
  }

  SinkConfig cfg_;
  Endpoint ep_;
  int pid_;
  int fd_ = -1;
  std::shared_ptr<SSL_CTX> ctx_;
  SSL* ssl_ = nullptr;
};

// ---- HTTP -------------------------------------------------------------------

size_t curlWrite(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* out = static_cast<std::string*>(userdata);
  size_t n = size * nmemb;
  if (out->size() < (4u << 20)) out->append(ptr, std::min(n, (4u << 20) - out->size()));
  return n;
}

int curlProgress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(clientp)->load() ? 1 : 0;
}

class HttpTransport : public Transport {
 public:
  void abort() override { abort_.store(true); }

  explicit HttpTransport(const SinkConfig& cfg) : cfg_(cfg) {}
  ~HttpTransport() override {
    if (headers_) curl_slist_free_all(headers_);
    if (curl_) curl_easy_cleanup(curl_);
  }

  absl::Status init() {
    url_ = cfg_.url;
    auto has = [&](const char* s) { return url_.find(s) != std::string::npos; };
    auto base = [&]() { while (!url_.empty() && url_.back() == '/') url_.pop_back(); };
    switch (cfg_.type) {
      case SinkType::kSplunkHec:
        if (!has("/services/collector")) { base(); url_ += "/services/collector/event"; }
        break;
      case SinkType::kElasticsearch:
        if (!has("/_bulk")) { base(); url_ += "/_bulk"; }
        break;
      case SinkType::kLoki:
        if (!has("/loki/api/")) { base(); url_ += "/loki/api/v1/push"; }
        break;
      default:
        break;
    }
    curl_ = curl_easy_init();
    if (!curl_) return absl::InternalError("curl_easy_init failed");
    const char* ctype = cfg_.type == SinkType::kElasticsearch ? "Content-Type: application/x-ndjson"
                        : cfg_.type == SinkType::kWebhook && cfg_.webhook_body == "ndjson"
                            ? "Content-Type: application/x-ndjson"
                            : "Content-Type: application/json";
    headers_ = curl_slist_append(headers_, ctype);
    headers_ = curl_slist_append(headers_, "Expect:");
    if (cfg_.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
    if (!cfg_.token.empty())
      headers_ = curl_slist_append(headers_, absl::StrCat("Authorization: ", cfg_.auth_scheme, " ", cfg_.token).c_str());
    for (const auto& [k, v] : cfg_.headers) headers_ = curl_slist_append(headers_, absl::StrCat(k, ": ", v).c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(cfg_.timeout)));
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(cfg_.timeout)));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, curlWrite);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response_);
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, curlProgress);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &abort_);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "vigil-exporter/" VIGIL_VERSION);
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    if (!cfg_.tls.ca_file.empty()) curl_easy_setopt(curl_, CURLOPT_CAINFO, cfg_.tls.ca_file.c_str());
    if (!cfg_.tls.cert_file.empty()) {
      curl_easy_setopt(curl_, CURLOPT_SSLCERT, cfg_.tls.cert_file.c_str());
      curl_easy_setopt(curl_, CURLOPT_SSLKEY, cfg_.tls.key_file.c_str());
    }
    if (cfg_.tls.insecure_skip_verify) {
      curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    return absl::OkStatus();
  }

  SendResult send(const std::vector<Record>& batch) override {
    std::string body;
    switch (cfg_.type) {
      case SinkType::kSplunkHec:
        for (const auto& r : batch) {
          body += hecEvent(cfg_, r);
          body.push_back('\n');
        }
        break;
      case SinkType::kElasticsearch: body = bulkBody(cfg_, batch); break;
      case SinkType::kLoki: body = lokiBody(cfg_, batch); break;
      default: body = webhookBody(cfg_, batch); break;
    }
    if (cfg_.gzip) {
      auto z = gzipCompress(body);
      if (!z.ok()) return {0, 0, z.status()};
      body = *std::move(z);
    }
    response_.clear();
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK)
      return {0, 0, absl::UnavailableError(absl::StrCat("POST ", url_, ": ", curl_easy_strerror(rc)))};
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    std::string snippet = response_.substr(0, 300);
    if (code >= 200 && code < 300) {
      if (cfg_.type == SinkType::kElasticsearch) return bulkResult(batch.size());
      return {batch.size(), 0, absl::OkStatus()};
    }
    if (code == 408 || code == 429 || code >= 500 || code == 401 || code == 403) {
      // Retryable: overload, outage, or credentials being fixed on the receiver.
      return {0, 0, absl::UnavailableError(absl::StrCat("POST ", url_, ": HTTP ", code, ": ", snippet))};
    }
    spdlog::error("sink {}: receiver refused a batch of {} events for good: HTTP {}: {}", cfg_.name,
                  batch.size(), code, snippet);
    return {batch.size(), batch.size(), absl::OkStatus()};
  }

 private:
  // _bulk answers 200 with per-item statuses. Items up to the first retryable
  // failure are done (refused ones counted); the rest are resent, and the ids
  // make the resend idempotent (409 on create = already there).
  SendResult bulkResult(size_t n) {
    google::protobuf::Struct resp;
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = true;
    if (!google::protobuf::util::JsonStringToMessage(response_, &resp, opts).ok())
      return {0, 0, absl::UnavailableError("_bulk: response is not JSON")};
    auto errors = resp.fields().find("errors");
    if (errors == resp.fields().end() || !errors->second.bool_value()) return {n, 0, absl::OkStatus()};
    auto items = resp.fields().find("items");
    if (items == resp.fields().end() || items->second.list_value().values_size() != static_cast<int>(n))
      return {0, 0, absl::UnavailableError("_bulk: errors without matching items")};
    SendResult r;
    for (const auto& item : items->second.list_value().values()) {
      int status = 0;
      std::string reason;
      for (const auto& [op, v] : item.struct_value().fields()) {
        auto s = v.struct_value().fields().find("status");
        if (s != v.struct_value().fields().end()) status = static_cast<int>(s->second.number_value());
        auto e = v.struct_value().fields().find("error");
        if (e != v.struct_value().fields().end()) {
          std::string js;
          (void)google::protobuf::util::MessageToJsonString(e->second, &js);
          reason = js.substr(0, 300);
        }
      }
      if ((status >= 200 && status < 300) || (status == 409 && cfg_.es_op_type == "create")) {
        ++r.done;
      } else if (status == 429 || status >= 500 || status == 0) {
        r.status = absl::UnavailableError(absl::StrCat("_bulk item: HTTP ", status, " ", reason));
        return r;
      } else {
        spdlog::error("sink {}: Elasticsearch refused a document for good: HTTP {} {}", cfg_.name, status, reason);
        ++r.done;
        ++r.rejected;
      }
    }
    return r;
  }

  SinkConfig cfg_;
  std::string url_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string response_;
  std::atomic<bool> abort_{false};
};

std::string timestamp5424(int64_t ns) {
  if (ns <= 0) return "-";
  time_t secs = static_cast<time_t>(ns / 1'000'000'000);
  int64_t us = (ns % 1'000'000'000) / 1000;
  tm t{};
  gmtime_r(&secs, &t);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                         t.tm_hour, t.tm_min, t.tm_sec, us);
}

// PRINTUSASCII (33..126), at most `max` characters, "-" when empty.
std::string headerField(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    out.push_back(c >= 33 && c <= 126 ? c : '_');
  }
  return out.empty() ? "-" : out;
}

}  // namespace

std::string syslogMessage(const SinkConfig& cfg, const Record& r, int pid) {
  int pri = cfg.facility * 8 + (r.severity & 7);
  return absl::StrCat("<", pri, ">1 ", timestamp5424(r.time_ns), " ", headerField(r.host, 255), " ",
                      headerField(cfg.app_name, 48), " ", pid, " ", headerField(r.type, 32), " - ",
                      r.payload);
}

std::string hecEvent(const SinkConfig& cfg, const Record& r) {
  std::string out = "{";
  if (r.time_ns > 0)
    absl::StrAppend(&out, "\"time\":", r.time_ns / 1'000'000'000, ".",
                    absl::StrFormat("%03d", (r.time_ns / 1'000'000) % 1000), ",");
  if (!r.host.empty()) absl::StrAppend(&out, "\"host\":", jsonString(r.host), ",");
  absl::StrAppend(&out, "\"source\":", jsonString(cfg.source), ",\"sourcetype\":", jsonString(cfg.sourcetype), ",");
  if (!cfg.index.empty()) absl::StrAppend(&out, "\"index\":", jsonString(cfg.index), ",");
  absl::StrAppend(&out, "\"event\":", payloadAsJsonValue(cfg, r.payload), "}");
  return out;
}

std::string recordId(const Record& r) {
  std::string key = absl::StrCat(r.time_ns, "|", r.host, "|", r.type, "|", r.payload);
  size_t a = std::hash<std::string>{}(key);
  size_t b = std::hash<std::string>{}(absl::StrCat("vigil", key));
  return absl::StrCat(absl::Hex(a, absl::kZeroPad16), absl::Hex(b, absl::kZeroPad16));
}

std::string bulkBody(const SinkConfig& cfg, const std::vector<Record>& batch) {
  std::string out;
  for (const auto& r : batch) {
    absl::StrAppend(&out, "{\"", cfg.es_op_type, "\":{\"_index\":", jsonString(cfg.index), ",\"_id\":\"",
                    recordId(r), "\"}}\n", r.payload, "\n");
  }
  return out;
}

std::string lokiBody(const SinkConfig& cfg, const std::vector<Record>& batch) {
  // Streams in first-seen order; entries in order within each.
  std::vector<std::pair<std::string, std::vector<const Record*>>> streams;
  for (const auto& r : batch) {
    std::string key = absl::StrCat(r.host, "\x1f", r.type);
    auto it = std::find_if(streams.begin(), streams.end(), [&](const auto& s) { return s.first == key; });
    if (it == streams.end()) {
      streams.push_back({key, {}});
      it = std::prev(streams.end());
    }
    it->second.push_back(&r);
  }
  std::string out = "{\"streams\":[";
  for (size_t i = 0; i < streams.size(); ++i) {
    const Record& first = *streams[i].second.front();
    std::map<std::string, std::string> labels = cfg.labels;
    labels.emplace("job", "vigil");
    if (!first.host.empty()) labels["node_name"] = first.host;
    labels["event_type"] = first.type;
    if (i) out.push_back(',');
    out += "{\"stream\":{";
    bool comma = false;
    for (const auto& [k, v] : labels) {
      if (comma) out.push_back(',');
      comma = true;
      absl::StrAppend(&out, jsonString(k), ":", jsonString(v));
    }
    out += "},\"values\":[";
    for (size_t k = 0; k < streams[i].second.size(); ++k) {
      const Record& r = *streams[i].second[k];
      int64_t ts = r.time_ns > 0 ? r.time_ns : absl::ToUnixNanos(absl::Now());
      if (k) out.push_back(',');
      absl::StrAppend(&out, "[\"", ts, "\",", jsonString(r.payload), "]");
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

std::string webhookBody(const SinkConfig& cfg, const std::vector<Record>& batch) {
  std::string out;
  if (cfg.webhook_body == "array") {
    out.push_back('[');
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i) out.push_back(',');
      out += payloadAsJsonValue(cfg, batch[i].payload);
    }
    out.push_back(']');
    return out;
  }
  for (const auto& r : batch) {
    out += payloadAsJsonValue(cfg, r.payload);
    out.push_back('\n');
  }
  return out;
}

absl::StatusOr<std::string> gzipCompress(const std::string& data) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return absl::InternalError("deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t n = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("gzip: deflate failed");
  out.resize(n);
  return out;
}

absl::StatusOr<std::unique_ptr<Transport>> makeTransport(const SinkConfig& cfg) {
  switch (cfg.type) {
    case SinkType::kStdout:
      return std::unique_ptr<Transport>(new StdoutTransport());
    case SinkType::kFile: {
      auto t = std::make_unique<FileTransport>(cfg);
      if (auto st = t->open(); !st.ok()) return st;
      return std::unique_ptr<Transport>(std::move(t));
    }
    case SinkType::kSyslog: {
      auto t = std::make_unique<SyslogTransport>(cfg);
      if (auto st = t->init(); !st.ok()) return st;
      return std::unique_ptr<Transport>(std::move(t));
    }
    default: {
      static const bool curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
      if (!curl_ok) return absl::InternalError("curl_global_init failed");
      auto t = std::make_unique<HttpTransport>(cfg);
      if (auto st = t->init(); !st.ok()) return st;
      return std::unique_ptr<Transport>(std::move(t));
    }
  }
}

}  // namespace vigil::exporters
