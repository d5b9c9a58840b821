#include "tests/exporters/it_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/time/clock.h"

namespace vigil::exporters::it {

std::string tempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  return ::mkdtemp(tmpl.data());
}

namespace {

// The low end of the kernel's ephemeral range: ports the kernel hands out to
// connect() and bind(0) anywhere on the host are at or above it.
int ephemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0;
  if (!(in >> lo) || lo < 12000) lo = 32768;
  return lo;
}

bool bindable(int port, int type) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// Binding port 0 and closing the socket (what this did before) hands out a
// port from the ephemeral range, which any connect() on the host, or another
// test doing the same, may take before the server the port is meant for
// (rsyslogd, the Python receiver: programs that cannot be passed a bound fd)
// binds it; waitForTcpPort then even talks to the wrong server. Instead: a
// random port below the ephemeral range (the kernel never hands those out),
// reserved among parallel test processes by an flock()ed lock file held until
// this process exits, and bindable for both TCP and UDP right now.
int freePort(bool udp) {
  (void)udp;
  static const int hi = ephemeralLow() - 1;
  const int lo = hi - 8000;
  static unsigned seed = static_cast<unsigned>(::getpid()) * 2654435761u ^
                         static_cast<unsigned>(absl::ToUnixNanos(absl::Now()));
  const std::string dir = std::filesystem::temp_directory_path().string();
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int port = lo + static_cast<int>(::rand_r(&seed) % static_cast<unsigned>(hi - lo));
    std::string lock = dir + "/vigil-test-port-" + std::to_string(port) + ".lock";
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {  // another test process has it
      ::close(fd);
      continue;
    }
    if (bindable(port, SOCK_STREAM) && bindable(port, SOCK_DGRAM)) {
      return port;  // fd stays open: the reservation lasts as long as this process
    }
    ::close(fd);
  }
  std::abort();  // no free port in 1000 tries: nothing sensible to test with
}

bool waitForTcpPort(int port, absl::Duration timeout) {
  absl::Time until = absl::Now() + timeout;
  while (absl::Now() < until) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    if (ok) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

// Complete lines only: the receivers append to these files while the tests
// poll them, and a line still being written is not yet a line (reading it
// half-written made http_test fail now and then with a truncated JSON document).
std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t start = 0;
  for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1) {
    out.push_back(all.substr(start, nl - start));
  }
  return out;
}

std::vector<std::string> waitForLines(const std::string& path, size_t n, absl::Duration timeout) {
  absl::Time until = absl::Now() + timeout;
  std::vector<std::string> lines;
  for (;;) {
    lines = readLines(path);
    if (lines.size() >= n || absl::Now() >= until) return lines;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

bool makeCerts(const std::string& d) {
  std::string script =
      "set -e; cd '" + d + "'\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vigil-test-ca -keyout ca.key -out ca.pem 2>/dev/null\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other-ca.key -out other-ca.pem 2>/dev/null\n"
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext\n"
      "printf 'extendedKeyUsage=clientAuth\\n' > client.ext\n"
      "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null\n"
      "openssl req -newkey rsa:2048 -nodes -subj /CN=vigil-client -keyout client.key -out client.csr 2>/dev/null\n"
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext -out client.pem 2>/dev/null\n"
      "chmod 0644 *.key\n";
  std::string path = d + "/mkcerts.sh";
  std::ofstream(path) << script;
  return std::system(("bash '" + path + "'").c_str()) == 0;
}

std::string findProgram(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) return c;
  return "";
}

Child::Child(const std::vector<std::string>& argv, const std::string& log_file) { start(argv, log_file); }

void Child::start(const std::vector<std::string>& argv, const std::string& log_file) {
  stop();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    if (!log_file.empty()) {
      int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

void Child::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

}  // namespace vigil::exporters::it
