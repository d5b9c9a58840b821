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
#include <set>
#include <string_view>
#include <random>
#include <unordered_map>

#include <curl/curl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
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
    if (tlsScheme()) {
      auto ctx = SslCtx::make(cfg_.tls);
      if (!ctx.ok()) return ctx.status();
      ctx_ = *ctx;
    }
    return absl::OkStatus();
  }

  SendResult send(const std::vector<Record>& batch) override {
    if (ep_.scheme == "udp" || ep_.scheme == "unix") return sendDatagrams(batch);
    if (relp()) return sendRelp(batch);
    return sendStream(batch);
  }

 private:
  bool tlsScheme() const { return ep_.scheme == "tls" || ep_.scheme == "relp+tls"; }
  bool relp() const { return ep_.scheme == "relp" || ep_.scheme == "relp+tls"; }

  void disconnect() {
    if (fd_ >= 0 && relp() && relp_open_ && !peerClosed()) {
      // Polite close; the receiver's answer is not needed (nothing is pending).
      std::string frame = absl::StrCat(nextTxnr(), " close 0\n");
      (void)writeRaw(frame.data(), frame.size());
    }
    relp_open_ = false;
    rbuf_.clear();
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
    if (tlsScheme()) {
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
    if (relp())
      if (auto st = relpOpen(); !st.ok()) {
        disconnect();
        return st;
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
    if (std::string why; !writeRaw(buf.data(), buf.size(), &why)) {
      disconnect();
      return {0, 0, absl::UnavailableError(absl::StrCat("write to ", cfg_.address, ": ", why))};
    }
    return {batch.size(), 0, absl::OkStatus()};
  }

  // All of p[0, n) to the socket (through TLS when on).
  bool writeRaw(const char* p, size_t n, std::string* why = nullptr) {
    while (n > 0) {
      int w;
      if (ssl_) {
        w = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
      } else {
        w = static_cast<int>(::send(fd_, p, n, MSG_NOSIGNAL));
        if (w < 0 && errno == EINTR) continue;
      }
      if (w <= 0) {
        if (why) *why = ssl_ ? SslCtx::lastError() : errnoText(errno);
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  // ---- RELP (the Reliable Event Logging Protocol of rsyslog's imrelp) ------
  // Frames: TXNR SP COMMAND SP DATALEN [SP DATA] LF. Every `syslog` frame is
  // answered by a `rsp` frame with the same TXNR and "200 OK": an event leaves
  // the spool only once the receiver answered for it.

  uint64_t nextTxnr() {
    uint64_t t = txnr_;
    txnr_ = txnr_ >= 999'999'999 ? 1 : txnr_ + 1;
    return t;
  }

  static std::string relpFrame(uint64_t txnr, const std::string& cmd, const std::string& data) {
    if (data.empty()) return absl::StrCat(txnr, " ", cmd, " 0\n");
    return absl::StrCat(txnr, " ", cmd, " ", data.size(), " ", data, "\n");
  }

  struct RelpFrame {
    uint64_t txnr = 0;
    std::string command, data;
  };

  // Reads one frame (bounded by the socket's receive timeout).
  absl::Status readFrame(RelpFrame* f) {
    for (;;) {
      // Header: TXNR SP COMMAND SP DATALEN, then SP DATA or LF.
      size_t sp1 = rbuf_.find(' ');
      size_t sp2 = sp1 == std::string::npos ? sp1 : rbuf_.find(' ', sp1 + 1);
      if (sp2 != std::string::npos) {
        size_t end = sp2 + 1;
        while (end < rbuf_.size() && absl::ascii_isdigit(static_cast<unsigned char>(rbuf_[end]))) ++end;
        uint64_t len = 0;
        if (end < rbuf_.size()) {
          if (!absl::SimpleAtoi(rbuf_.substr(0, sp1), &f->txnr) ||
              !absl::SimpleAtoi(rbuf_.substr(sp2 + 1, end - sp2 - 1), &len) || len > (1u << 24))
            return absl::DataLossError(absl::StrCat("RELP: malformed frame from ", cfg_.address));
          size_t data_at = len ? end + 1 : end;  // the SP before DATA
          if (rbuf_.size() >= data_at + len + 1) {
            if (rbuf_[data_at + len] != '\n')
              return absl::DataLossError(absl::StrCat("RELP: frame without its LF from ", cfg_.address));
            f->command = rbuf_.substr(sp1 + 1, sp2 - sp1 - 1);
            f->data = rbuf_.substr(data_at, len);
            rbuf_.erase(0, data_at + len + 1);
            return absl::OkStatus();
          }
        }
      }
      char buf[4096];
      int n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : static_cast<int>(::recv(fd_, buf, sizeof buf, 0));
      if (n < 0 && !ssl_ && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = n == 0 ? "connection closed" : ssl_ ? SslCtx::lastError() : errnoText(errno);
        return absl::UnavailableError(absl::StrCat("RELP: reading from ", cfg_.address, ": ", why));
      }
      rbuf_.append(buf, static_cast<size_t>(n));
    }
  }

  absl::Status relpOpen() {
    txnr_ = 1;
    rbuf_.clear();
    uint64_t t = nextTxnr();
    std::string frame = relpFrame(t, "open", "relp_version=0\nrelp_software=vigil," VIGIL_VERSION "\ncommands=syslog");
    if (std::string why; !writeRaw(frame.data(), frame.size(), &why))
      return absl::UnavailableError(absl::StrCat("RELP open to ", cfg_.address, ": ", why));
    RelpFrame rsp;
    if (auto st = readFrame(&rsp); !st.ok()) return st;
    if (rsp.command != "rsp" || rsp.txnr != t || rsp.data.rfind("200", 0) != 0)
      return absl::UnavailableError(absl::StrCat("RELP open refused by ", cfg_.address, ": ", rsp.command, " ",
                                                 rsp.data.substr(0, 200)));
    if (rsp.data.find("commands=") != std::string::npos && rsp.data.find("syslog") == std::string::npos)
      return absl::UnavailableError(absl::StrCat("RELP: ", cfg_.address, " does not offer the syslog command"));
    relp_open_ = true;
    return absl::OkStatus();
  }

  // The batch goes out as one window of frames; the answers come back in order.
  // Events answered 200 are done; the first one not answered (connection lost,
  // timeout) or refused ends the batch and the rest is resent (at least once:
  // the receiver may have kept an event whose answer was lost).
  SendResult sendRelp(const std::vector<Record>& batch) {
    // Between batches the receiver says nothing; anything readable is a
    // serverclose or the connection's end.
    if (fd_ >= 0 && (!relp_open_ || peerClosed())) disconnect();
    if (fd_ < 0)
      if (auto st = connectSocket(); !st.ok()) return {0, 0, st};
    std::string buf;
    std::vector<uint64_t> txnrs;
    txnrs.reserve(batch.size());
    for (const auto& rec : batch) {
      txnrs.push_back(nextTxnr());
      buf += relpFrame(txnrs.back(), "syslog", syslogMessage(cfg_, rec, pid_));
    }
    if (std::string why; !writeRaw(buf.data(), buf.size(), &why)) {
      disconnect();
      return {0, 0, absl::UnavailableError(absl::StrCat("RELP write to ", cfg_.address, ": ", why))};
    }
    SendResult r;
    std::set<uint64_t> acked;
    while (r.done < batch.size()) {
      RelpFrame f;
      if (auto st = readFrame(&f); !st.ok()) {
        disconnect();
        r.status = st;
        return r;
      }
      if (f.command == "serverclose") {
        disconnect();
        r.status = absl::UnavailableError(absl::StrCat("RELP: ", cfg_.address, " closed the session"));
        return r;
      }
      if (f.command != "rsp") continue;
      if (f.data.rfind("200", 0) != 0) {
        // Refused (e.g. 500 on a message too large or a receiver shutting down):
        // the session is not trusted any more; resent on a new one.
        disconnect();
        r.status = absl::UnavailableError(absl::StrCat("RELP: ", cfg_.address, " answered ", f.data.substr(0, 200)));
        return r;
      }
      acked.insert(f.txnr);
      while (r.done < batch.size() && acked.count(txnrs[r.done])) ++r.done;
    }
    return r;
  }

  SinkConfig cfg_;
  Endpoint ep_;
  int pid_;
  int fd_ = -1;
  std::shared_ptr<SSL_CTX> ctx_;
  SSL* ssl_ = nullptr;
  // RELP session.
  bool relp_open_ = false;
  uint64_t txnr_ = 1;
  std::string rbuf_;  // received, not yet parsed
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

// Statuses worth retrying: the receiver is overloaded, down or timed out, plus
// the ones the sink's retry.on_status adds (401/403 while credentials are fixed).
// A redirect (not followed) is a URL to fix: events stay spooled meanwhile.
bool retryableStatus(const SinkConfig& cfg, long code) {
  if (code == 408 || code == 429 || code >= 500 || code < 200 || (code >= 300 && code < 400)) return true;
  return std::find(cfg.retry_on_status.begin(), cfg.retry_on_status.end(), code) != cfg.retry_on_status.end();
}

// A UUID v4 (HEC request channels).
std::string randomUuid() {
  std::random_device rd;
  uint8_t b[16];
  for (auto& x : b) x = static_cast<uint8_t>(rd());
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    absl::StrAppend(&out, absl::Hex(b[i], absl::kZeroPad2));
  }
  return out;
}

absl::StatusOr<google::protobuf::Struct> parseJsonObject(const std::string& s) {
  google::protobuf::Struct out;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(s, &out, opts);
  if (!st.ok()) return absl::InvalidArgumentError(std::string(st.message()));
  return out;
}

class HttpTransport : public Transport {
 public:
  void abort() override { abort_.store(true); }

  explicit HttpTransport(const SinkConfig& cfg) : cfg_(cfg) {}
  ~HttpTransport() override {
    if (headers_) curl_slist_free_all(headers_);
    if (ack_headers_) curl_slist_free_all(ack_headers_);
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
    // Headers of every request; the ack polls get the same minus the body's encoding.
    std::vector<std::string> common = {"Expect:"};
    if (!cfg_.token.empty()) common.push_back(absl::StrCat("Authorization: ", cfg_.auth_scheme, " ", cfg_.token));
    for (const auto& [k, v] : cfg_.headers) common.push_back(absl::StrCat(k, ": ", v));
    if (cfg_.hec_ack) {
      channel_ = randomUuid();
      common.push_back(absl::StrCat("X-Splunk-Request-Channel: ", channel_));
      ack_url_ = absl::StrCat(url_.substr(0, url_.find("/services/collector")), "/services/collector/ack?channel=",
                              channel_);
      ack_headers_ = curl_slist_append(ack_headers_, "Content-Type: application/json");
      for (const auto& h : common) ack_headers_ = curl_slist_append(ack_headers_, h.c_str());
    }
    headers_ = curl_slist_append(headers_, ctype);
    if (cfg_.gzip) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
    for (const auto& h : common) headers_ = curl_slist_append(headers_, h.c_str());
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
    if (cfg_.type == SinkType::kElasticsearch) return sendBulk(batch);
    return sendBatch(batch);
  }

 private:
  struct Reply {
    long code = 0;              // 0: no HTTP answer (connection error, timeout)
    std::string error;          // why there is no answer
    absl::Duration retry_after = absl::ZeroDuration();
    std::string snippet() const { return body.substr(0, 300); }
    std::string body;
  };

  Reply post(const std::string& url, curl_slist* headers, const std::string& body) {
    Reply r;
    response_.clear();
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    CURLcode rc = curl_easy_perform(curl_);
    if (rc != CURLE_OK) {
      r.error = absl::StrCat("POST ", url, ": ", curl_easy_strerror(rc));
      return r;
    }
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &r.code);
    curl_off_t after = 0;  // Retry-After, seconds or an HTTP date, parsed by curl
    if (curl_easy_getinfo(curl_, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
      r.retry_after = std::min(absl::Seconds(after), kMaxRetryAfter);
    r.body = std::move(response_);
    response_.clear();
    return r;
  }

  // The outcome of a whole-request failure: retried (with the receiver's
  // Retry-After) or, for a status that will not change, refused for good.
  SendResult failed(const Reply& r, size_t n) {
    if (r.code == 0) return {0, 0, absl::UnavailableError(r.error)};
    if (retryableStatus(cfg_, r.code)) {
      SendResult res{0, 0, absl::UnavailableError(absl::StrCat("POST ", url_, ": HTTP ", r.code, ": ", r.snippet()))};
      res.retry_after = r.retry_after;
      return res;
    }
    spdlog::error("sink {}: receiver refused a batch of {} events for good (dropped, counted): HTTP {}: {}",
                  cfg_.name, n, r.code, r.snippet());
    return {n, n, absl::OkStatus()};
  }

  absl::StatusOr<std::string> bodyOf(const std::vector<Record>& batch) {
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
    if (cfg_.gzip) return gzipCompress(body);
    return body;
  }

  // HEC, Loki, webhook: the batch is one unit. 413 (too large) splits it in
  // halves until a single event is refused for good.
  SendResult sendBatch(const std::vector<Record>& batch) {
    auto body = bodyOf(batch);
    if (!body.ok()) return {0, 0, body.status()};
    Reply r = post(url_, headers_, *body);
    if (r.code >= 200 && r.code < 300) {
      if (cfg_.hec_ack)
        if (auto st = waitForAck(r); !st.ok()) return {0, 0, st};
      return {batch.size(), 0, absl::OkStatus()};
    }
    if (r.code == 413 && batch.size() > 1) {
      size_t mid = batch.size() / 2;
      SendResult a = sendBatch(std::vector<Record>(batch.begin(), batch.begin() + mid));
      if (!a.status.ok() || a.done < mid) return a;
      SendResult b = sendBatch(std::vector<Record>(batch.begin() + mid, batch.end()));
      b.done += a.done;
      b.rejected += a.rejected;
      return b;
    }
    return failed(r, batch.size());
  }

  // Splunk indexer acknowledgement: the 200 carries an ackId; the batch counts
  // as delivered once /services/collector/ack on the same channel says it was
  // indexed. Not acknowledged within ack.timeout: resent (at least once).
  absl::Status waitForAck(const Reply& sent) {
    auto resp = parseJsonObject(sent.body);
    const google::protobuf::Value* id = nullptr;
    if (resp.ok())
      if (auto it = resp->fields().find("ackId"); it != resp->fields().end()) id = &it->second;
    if (id == nullptr) {
      if (!warned_no_ack_)
        spdlog::warn("sink {}: ack is enabled but HEC answered without an ackId (is indexer acknowledgement "
                     "enabled on the token?); treating HTTP 200 as delivered", cfg_.name);
      warned_no_ack_ = true;
      return absl::OkStatus();
    }
    const std::string ack_id = absl::StrCat(static_cast<int64_t>(id->number_value()));
    const std::string query = absl::StrCat("{\"acks\":[", ack_id, "]}");
    absl::Time deadline = absl::Now() + cfg_.hec_ack_timeout;
    absl::Duration pause = absl::Milliseconds(100);
    std::string last = "no answer yet";
    while (!abort_.load()) {
      absl::SleepFor(std::min(pause, std::max(deadline - absl::Now(), absl::ZeroDuration())));
      pause = std::min(pause * 2, absl::Seconds(1));
      Reply r = post(ack_url_, ack_headers_, query);
      if (r.code >= 200 && r.code < 300) {
        auto ack = parseJsonObject(r.body);
        if (ack.ok()) {
          auto acks = ack->fields().find("acks");
          if (acks != ack->fields().end()) {
            auto v = acks->second.struct_value().fields().find(ack_id);
            if (v != acks->second.struct_value().fields().end() && v->second.bool_value()) return absl::OkStatus();
          }
        }
        last = absl::StrCat("ack ", ack_id, " still pending");
      } else {
        last = r.code ? absl::StrCat("HTTP ", r.code, ": ", r.snippet()) : r.error;
      }
      if (absl::Now() >= deadline) break;
    }
    return absl::UnavailableError(absl::StrCat("HEC ackId ", ack_id, " not acknowledged within ",
                                               absl::FormatDuration(cfg_.hec_ack_timeout), " (", last,
                                               "); resending the batch"));
  }

  // _bulk: the request can succeed while items fail. Items stored or refused
  // for good are remembered (by _id) until they reach the head of the batch and
  // are committed; only the items refused transiently (429, 5xx) are resent.
  SendResult sendBulk(const std::vector<Record>& batch) {
    // The common case: nothing settled from an earlier attempt, send all.
    std::vector<Record> rest;
    const std::vector<Record>* pending = &batch;
    if (!settled_.empty()) {
      for (const auto& rec : batch)
        if (!settled_.count(recordId(rec))) rest.push_back(rec);
      pending = &rest;
    }
    SendResult res;
    if (!pending->empty()) {
      auto body = bodyOf(*pending);
      if (!body.ok()) return {0, 0, body.status()};
      Reply r = post(url_, headers_, *body);
      if (r.code < 200 || r.code >= 300) {
        res = failed(r, pending->size());
        if (res.status.ok())  // the whole request refused for good
          for (const auto& rec : *pending) settled_[recordId(rec)] = true;
      } else {
        bool all_stored = false;
        res.status = bulkItems(r, *pending, &all_stored);
        if (all_stored && pending == &batch) return {batch.size(), 0, absl::OkStatus()};
        if (all_stored)
          for (const auto& rec : *pending) settled_[recordId(rec)] = false;
      }
    }
    // The settled prefix is done.
    size_t done = 0, rejected = 0;
    for (; done < batch.size(); ++done) {
      auto it = settled_.find(recordId(batch[done]));
      if (it == settled_.end()) break;
      rejected += it->second ? 1 : 0;
      settled_.erase(it);
    }
    res.done = done;
    res.rejected = rejected;
    return res;
  }

  // Settles the items of a 2xx _bulk answer; *all_stored when it had no errors
  // (nothing recorded then: the caller knows every item is stored).
  absl::Status bulkItems(const Reply& r, const std::vector<Record>& sent, bool* all_stored) {
    auto resp = parseJsonObject(r.body);
    if (!resp.ok()) return absl::UnavailableError("_bulk: response is not JSON");
    auto errors = resp->fields().find("errors");
    if (errors == resp->fields().end() || !errors->second.bool_value()) {
      *all_stored = true;
      return absl::OkStatus();
    }
    auto items = resp->fields().find("items");
    if (items == resp->fields().end() || items->second.list_value().values_size() != static_cast<int>(sent.size()))
      return absl::UnavailableError("_bulk: errors without matching items");
    size_t retry = 0;
    std::string first_reason;
    for (size_t i = 0; i < sent.size(); ++i) {
      int status = 0;
      std::string reason;
      for (const auto& [op, v] : items->second.list_value().values(static_cast<int>(i)).struct_value().fields()) {
        auto s = v.struct_value().fields().find("status");
        if (s != v.struct_value().fields().end()) status = static_cast<int>(s->second.number_value());
        auto e = v.struct_value().fields().find("error");
        if (e != v.struct_value().fields().end()) {
          std::string js;
          (void)google::protobuf::util::MessageToJsonString(e->second, &js);
          reason = js.substr(0, 300);
        }
      }
      const std::string id = recordId(sent[i]);
      if ((status >= 200 && status < 300) || (status == 409 && cfg_.es_op_type == "create")) {
        settled_[id] = false;  // stored (409 on create: stored by an earlier attempt)
      } else if (status == 0 || retryableStatus(cfg_, status)) {
        if (retry++ == 0) first_reason = absl::StrCat("HTTP ", status, " ", reason);
      } else {
        spdlog::error("sink {}: Elasticsearch refused a document for good (dropped, counted): HTTP {} {}",
                      cfg_.name, status, reason);
        settled_[id] = true;
      }
    }
    if (retry == 0) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("_bulk: ", retry, " of ", sent.size(),
                                               " items refused for now, resending them: ", first_reason));
  }

  static constexpr absl::Duration kMaxRetryAfter = absl::Minutes(5);

  SinkConfig cfg_;
  std::string url_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string response_;
  std::atomic<bool> abort_{false};
  // HEC indexer acknowledgement.
  std::string channel_, ack_url_;
  curl_slist* ack_headers_ = nullptr;
  bool warned_no_ack_ = false;
  // _bulk: items of the spool's head settled by an earlier attempt: id -> refused for good.
  std::unordered_map<std::string, bool> settled_;
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
