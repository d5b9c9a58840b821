#include "daemon/control.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "api/event_view.h"

namespace vigil {
namespace {

constexpr uint32_t kMaxFrame = 16 << 20;

bool writeAll(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= w;
  }
  return true;
}

bool readAll(int fd, char* p, size_t n, int timeout_ms) {
  while (n) {
    pollfd pf{fd, POLLIN, 0};
    if (poll(&pf, 1, timeout_ms) <= 0) return false;
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

}  // namespace

bool eventMatches(const api::EventsRequest& f, const api::Event& ev) {
  if (!f.type().empty() && api::eventTypeName(ev) != f.type()) return false;
  if (!f.policy().empty()) {
    auto p = api::policyEvent(ev);
    if (!p || p->policy_name != f.policy()) return false;
  }
  return true;
}

namespace {

absl::StatusOr<int> connectTo(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return absl::InvalidArgumentError("socket path too long");
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("cannot reach vigild at ", path, ": ", strerror(err),
                                               " (is it running, with --control-socket?)"));
  }
  return fd;
}

}  // namespace

bool writeFrame(int fd, const google::protobuf::Message& m) {
  std::string body;
  if (!m.SerializeToString(&body)) return false;
  uint32_t n = htobe32(static_cast<uint32_t>(body.size()));
  return writeAll(fd, reinterpret_cast<const char*>(&n), 4) && writeAll(fd, body.data(), body.size());
}

namespace {
enum class Frame { kRead, kClosed, kMalformed };

Frame readFrameOrWhy(int fd, google::protobuf::Message* m, int timeout_ms) {
  uint32_t n = 0;
  if (!readAll(fd, reinterpret_cast<char*>(&n), 4, timeout_ms)) return Frame::kClosed;
  n = be32toh(n);
  if (n > kMaxFrame) return Frame::kMalformed;
  std::string body(n, '\0');
  if (!readAll(fd, body.data(), n, timeout_ms)) return Frame::kClosed;
  return m->ParseFromString(body) ? Frame::kRead : Frame::kMalformed;
}
}  // namespace

bool readFrame(int fd, google::protobuf::Message* m, int timeout_ms) {
  return readFrameOrWhy(fd, m, timeout_ms) == Frame::kRead;
}

absl::StatusOr<std::unique_ptr<ControlServer>> ControlServer::start(const std::string& path,
                                                                    Handler handler) {
  std::unique_ptr<ControlServer> s(new ControlServer());
  s->path_ = path;
  s->handler_ = std::move(handler);
  std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) mkdir(dir.c_str(), 0700);
  unlink(path.c_str());  // a stale socket from a crashed daemon
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("control socket path too long: " + path);
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  s->fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  mode_t old = umask(0177);  // the socket is born 0600: root only
  bool ok = s->fd_ >= 0 && bind(s->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            listen(s->fd_, 16) == 0;
  int err = errno;
  umask(old);
  if (!ok) {
    return absl::UnavailableError(absl::StrCat("control socket ", path, ": ", strerror(err)));
  }
  return s;
}

ControlServer::~ControlServer() {
  for (const auto& st : streams_) close(st.fd);
  for (const auto& pc : pending_) close(pc.fd);
  if (fd_ >= 0) {
    close(fd_);
    unlink(path_.c_str());
  }
}

void ControlServer::poll() {
  const auto now = std::chrono::steady_clock::now();
  for (;;) {
    int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0) break;  // EAGAIN: nothing pending
    if (pending_.size() >= kMaxPending) {
      // The oldest half-sent request makes room: one client cannot lock others out.
      close(pending_.front().fd);
      pending_.erase(pending_.begin());
    }
    pending_.push_back({c, {}, now + kRequestDeadline});
  }
  // Read what each pending client has sent so far, never waiting for more:
  // the 4-byte length first, then the body up to that length.
  for (size_t i = 0; i < pending_.size();) {
    Pending& pc = pending_[i];
    char buf[16384];
    bool closed = false;
    uint32_t n = 0;
    for (;;) {
      size_t want = sizeof buf;
      if (pc.buf.size() >= 4) {
        memcpy(&n, pc.buf.data(), 4);
        n = be32toh(n);
        if (n > kMaxFrame || pc.buf.size() >= 4 + size_t{n}) break;
        want = std::min(want, 4 + size_t{n} - pc.buf.size());
      }
      ssize_t r = recv(pc.fd, buf, want, 0);
      if (r > 0) {
        pc.buf.append(buf, static_cast<size_t>(r));
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      closed = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      break;
    }
    const bool complete = pc.buf.size() >= 4 && n <= kMaxFrame && pc.buf.size() >= 4 + size_t{n};
    if (!complete) {
      if (closed || n > kMaxFrame || now > pc.deadline) {
        close(pc.fd);
        pending_.erase(pending_.begin() + i);
      } else {
        i++;
      }
      continue;
    }
    int c = pc.fd;
    api::Request req;
    const bool parsed = req.ParseFromArray(pc.buf.data() + 4, static_cast<int>(n));
    pending_.erase(pending_.begin() + i);
    if (!parsed) {
      close(c);
      continue;
    }
    if (req.has_events()) {
      streams_.push_back({c, req.events()});
      continue;
    }
    // The answer is small; a client that does not read it is dropped after
    // the send timeout rather than holding the loop.
    fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
    timeval tv{0, 200 * 1000};
    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    writeFrame(c, handler_(req));
    close(c);
  }
}

void ControlServer::publish(const api::Event& ev) {
  for (size_t i = 0; i < streams_.size();) {
    if (!eventMatches(streams_[i].filter, ev)) {
      i++;
      continue;
    }
    // Non-blocking socket: a full buffer means the client cannot keep up.
    if (!writeFrame(streams_[i].fd, ev)) {
      close(streams_[i].fd);
      streams_.erase(streams_.begin() + i);
      continue;
    }
    i++;
  }
}

absl::StatusOr<api::Response> controlCall(const std::string& path, const api::Request& req) {
  auto fd = connectTo(path);
  if (!fd.ok()) return fd.status();
  api::Response resp;
  bool ok = writeFrame(*fd, req) && readFrame(*fd, &resp, 10000);
  close(*fd);
  if (!ok) return absl::UnavailableError("vigild did not answer");
  return resp;
}

absl::Status controlStream(const std::string& path, const api::EventsRequest& req,
                           const std::function<bool(const api::Event&)>& on_event) {
  auto fd = connectTo(path);
  if (!fd.ok()) return fd.status();
  api::Request r;
  *r.mutable_events() = req;
  if (!writeFrame(*fd, r)) {
    close(*fd);
    return absl::UnavailableError("vigild did not take the request");
  }
  api::Event ev;
  Frame f;
  while ((f = readFrameOrWhy(*fd, &ev, -1)) == Frame::kRead) {
    if (!on_event(ev)) break;
    ev.Clear();
  }
  close(*fd);
  // vigild closing the stream (it stopped) ends it normally; a frame this
  // client cannot read must not look like that.
  if (f == Frame::kMalformed) {
    return absl::DataLossError("vigild sent an event this vigilctl cannot parse; the stream stopped");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<policy::Policy>> withPolicyAdded(
    const std::vector<policy::Policy>& running, policy::Policy added, bool replace) {
  std::vector<policy::Policy> out = running;
  for (auto& p : out) {
    if (p.name != added.name) continue;
    if (!replace) {
      return absl::AlreadyExistsError(absl::StrCat(added.file, ": policy ", added.name,
                                                   " is already loaded (from ", p.file,
                                                   "); --replace replaces it"));
    }
    p = std::move(added);
    return out;
  }
  out.push_back(std::move(added));
  return out;
}

absl::StatusOr<std::vector<policy::Policy>> withPolicyDeleted(
    const std::vector<policy::Policy>& running, const std::string& name) {
  std::vector<policy::Policy> out;
  for (const auto& p : running) {
    if (p.name != name) out.push_back(p);
  }
  if (out.size() == running.size()) return absl::NotFoundError("no loaded policy named " + name);
  return out;
}

absl::StatusOr<std::string> persistPath(const std::vector<std::string>& policy_dirs,
                                        const std::string& file_name, bool replace) {
  if (policy_dirs.empty()) {
    return absl::FailedPreconditionError(
        "--persist needs a policy directory (vigild --policy-dir); none is configured");
  }
  std::filesystem::path base = std::filesystem::path(file_name).filename();
  if (base.extension() != ".yaml" && base.extension() != ".yml") {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": --persist wants a file name ending in .yaml or .yml (vigild reads only those)"));
  }
  std::string path = (std::filesystem::path(policy_dirs.front()) / base).string();
  std::error_code ec;
  if (!replace && std::filesystem::exists(path, ec)) {
    return absl::AlreadyExistsError(path + " exists; --replace overwrites it");
  }
  return path;
}

}  // namespace vigil
