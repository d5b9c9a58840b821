// Exporters throughput: rendering per format, and events per second through a
// whole sink (submit -> queue -> filter/render -> spool -> transport -> a local
// receiver) per sink type. Run pinned to one core for the documented figures:
//   taskset -c 0 build-exporters/exporters/exporters_bench
// Method and figures: docs/exporters.md.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <thread>

#include "absl/strings/str_cat.h"
#include "exporters/exporter.h"
#include "exporters/formats.h"
#include "exporters/spool.h"
#include "spdlog/spdlog.h"
#include "tests/exporters/test_events.h"

namespace vigil::exporters {
namespace {

api::Event sample() { return testing::execEvent(); }

void BM_Render(benchmark::State& state) {
  Format f = static_cast<Format>(state.range(0));
  api::Event ev = sample();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string s = render(f, ev);
    bytes += s.size();
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(formatName(f));
}
BENCHMARK(BM_Render)->DenseRange(0, 3);

// Local receivers ------------------------------------------------------------

int listenOn(int type, int* port) {
  int fd = ::socket(AF_INET, type, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int big = 8 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *port = ntohs(sa.sin_port);
  if (type == SOCK_STREAM) ::listen(fd, 16);
  return fd;
}

// Reads and discards (TCP/UDP syslog), answers 200 to each request (HTTP) or
// "200 OK" to each RELP frame.
class Receiver {
 public:
  enum Mode { kDiscard, kHttp, kRelp };
  Receiver(int type, Mode mode) : type_(type), http_(mode == kHttp), relp_(mode == kRelp) {
    fd_ = listenOn(type, &port_);
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (conn_ >= 0) ::shutdown(conn_, SHUT_RDWR);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void run() {
    std::vector<char> buf(1 << 20);
    if (type_ == SOCK_DGRAM) {
      while (!stop_ && ::recv(fd_, buf.data(), buf.size(), 0) >= 0) {
      }
      return;
    }
    while (!stop_) {
      conn_ = ::accept(fd_, nullptr, nullptr);
      if (conn_ < 0) return;
      std::string pending;
      for (;;) {
        ssize_t n = ::recv(conn_, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        if (relp_) {
          pending.append(buf.data(), n);
          if (!answerRelp(pending)) break;
          continue;
        }
        if (!http_) continue;
        pending.append(buf.data(), n);
        for (;;) {  // answer every complete request
          size_t hdr_end = pending.find("\r\n\r\n");
          if (hdr_end == std::string::npos) break;
          size_t cl = 0;
          size_t p = pending.find("Content-Length: ");
          if (p != std::string::npos && p < hdr_end) cl = std::stoul(pending.substr(p + 16));
          if (pending.size() < hdr_end + 4 + cl) break;
          pending.erase(0, hdr_end + 4 + cl);
          static const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
          if (::send(conn_, kOk, sizeof kOk - 1, MSG_NOSIGNAL) < 0) break;
        }
      }
      ::close(conn_);
      conn_ = -1;
    }
  }

  // Answers every complete frame in `pending` (TXNR SP CMD SP LEN [SP DATA] LF).
  bool answerRelp(std::string& pending) {
    std::string out;
    size_t at = 0;
    for (;;) {
      size_t sp1 = pending.find(' ', at);
      size_t sp2 = sp1 == std::string::npos ? sp1 : pending.find(' ', sp1 + 1);
      if (sp2 == std::string::npos) break;
      size_t end = sp2 + 1;
      while (end < pending.size() && std::isdigit(static_cast<unsigned char>(pending[end]))) ++end;
      if (end >= pending.size()) break;
      size_t len = std::stoul(pending.substr(sp2 + 1, end - sp2 - 1));
      size_t stop = (len ? end + 1 + len : end) + 1;
      if (pending.size() < stop) break;
      std::string txnr = pending.substr(at, sp1 - at);
      std::string cmd = pending.substr(sp1 + 1, sp2 - sp1 - 1);
      std::string data = cmd == "open" ? "200 OK\nrelp_version=0\ncommands=syslog" : "200 OK";
      if (cmd != "close") absl::StrAppend(&out, txnr, " rsp ", data.size(), " ", data, "\n");
      at = stop;
    }
    pending.erase(0, at);
    return out.empty() || ::send(conn_, out.data(), out.size(), MSG_NOSIGNAL) >= 0;
  }

  int type_;
  bool http_, relp_;
  int fd_ = -1, port_ = 0;
  std::atomic<int> conn_{-1};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Whole sink ------------------------------------------------------------------

// CPU seconds of the whole process (every thread: submit, intake, delivery, receiver).
double processCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void runSink(benchmark::State& state, const std::string& sink_yaml, const std::string& dir) {
  spdlog::set_level(spdlog::level::warn);
  auto cfg = parseExportersConfigString(
      absl::StrCat("exporters:\n  spool_dir: ", dir, "/spool\n  sinks:\n", sink_yaml), "bench.yaml");
  if (!cfg.ok()) {
    state.SkipWithError(std::string(cfg.status().message()).c_str());
    return;
  }
  auto ex = Exporter::create(*cfg);
  if (!ex.ok()) {
    state.SkipWithError(std::string(ex.status().message()).c_str());
    return;
  }
  api::Event ev = sample();
  constexpr int kBatch = 20000;
  double cpu0 = processCpuSeconds();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      ev.mutable_process_exec()->mutable_process()->set_pid(i);
      (*ex)->submit(ev);
    }
    if (!(*ex)->flush(absl::Seconds(120))) state.SkipWithError("flush timed out");
  }
  auto s = (*ex)->stats().sinks[0];
  if (s.dropped() != 0) state.SkipWithError(absl::StrCat("dropped ", s.dropped()).c_str());
  double cpu = processCpuSeconds() - cpu0;
  state.SetItemsProcessed(state.iterations() * kBatch);
  // Load-independent figure: events per second of CPU, all threads counted.
  state.counters["events_per_cpu_s"] = cpu > 0 ? state.iterations() * kBatch / cpu : 0;
  (*ex)->stop();
}

std::string benchDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-bench-XXXXXX").string();
  return ::mkdtemp(tmpl.data());
}

void BM_SinkFile(benchmark::State& state) {
  std::string dir = benchDir();
  runSink(state, absl::StrCat("    - name: f\n      type: file\n      path: ", dir, "/ev.json\n      max_size: 256MiB\n"
                              "      format: ", formatName(static_cast<Format>(state.range(0))), "\n"),
          dir);
  state.SetLabel(formatName(static_cast<Format>(state.range(0))));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkFile)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SinkSyslogUdp(benchmark::State& state) {
  Receiver rx(SOCK_DGRAM, Receiver::kDiscard);
  std::string dir = benchDir();
  runSink(state, absl::StrCat("    - name: s\n      type: syslog\n      address: udp://127.0.0.1:", rx.port(), "\n"), dir);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkSyslogUdp)->Unit(benchmark::kMillisecond)->UseRealTime();

// The disk spool's fsync policy: a batch of records appended and flush()ed, as
// the sink's intake thread does for what it took from its queue. Args: policy
// (0 never, 1 batch, 2 interval of 1 s), records per batch. Records are 1 KB
// (a rendered exec event). The spool directory is under $TMPDIR (a disk, not a
// tmpfs, for the figure to mean anything). Wall time: fdatasync waits for the disk.
void BM_SpoolFsync(benchmark::State& state) {
  static const FsyncPolicy kPolicies[] = {FsyncPolicy::kNever, FsyncPolicy::kBatch, FsyncPolicy::kInterval};
  FsyncPolicy policy = kPolicies[state.range(0)];
  size_t batch = static_cast<size_t>(state.range(1));
  std::string dir = benchDir();
  SpoolOptions o;
  o.fsync = policy;
  o.fsync_interval = absl::Seconds(1);
  auto spool = DiskSpool::open(dir + "/spool", 1ull << 30, o);
  if (!spool.ok()) {
    state.SkipWithError(std::string(spool.status().message()).c_str());
    return;
  }
  std::string rec = encodeRecord(Record{1, 6, "process_exec", "web-1", std::string(1000, 'e')});
  for (auto _ : state) {
    for (size_t i = 0; i < batch; ++i) (*spool)->append(rec);
    (void)(*spool)->flush();
    if ((*spool)->bytes() > (256u << 20)) {  // stay bounded: consume, untimed
      state.PauseTiming();
      for (;;) {
        auto b = (*spool)->peek(100000, 64u << 20);
        if (b.empty()) break;
        (void)(*spool)->commit(b.size());
      }
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch));
  state.counters["fsyncs_per_batch"] =
      benchmark::Counter(static_cast<double>((*spool)->syncs()) / static_cast<double>(state.iterations()));
  state.SetLabel(fsyncPolicyName(policy));
  spool->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SpoolFsync)
    ->ArgsProduct({{0, 1, 2}, {1, 100}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Octet-counted TCP, and RELP (every event answered by the receiver).
void BM_SinkSyslogStream(benchmark::State& state) {
  const bool relp = state.range(0) != 0;
  Receiver rx(SOCK_STREAM, relp ? Receiver::kRelp : Receiver::kDiscard);
  std::string dir = benchDir();
  runSink(state, absl::StrCat("    - name: s\n      type: syslog\n      address: ", relp ? "relp" : "tcp",
                              "://127.0.0.1:", rx.port(), "\n      format: cef\n"),
          dir);
  state.SetLabel(relp ? "relp" : "tcp");
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkSyslogStream)->DenseRange(0, 1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SinkHttp(benchmark::State& state) {
  static const char* kTypes[] = {"splunk_hec", "elasticsearch", "loki", "webhook"};
  Receiver rx(SOCK_STREAM, Receiver::kHttp);
  std::string dir = benchDir();
  bool gzip = state.range(1) != 0;
  runSink(state, absl::StrCat("    - name: h\n      type: ", kTypes[state.range(0)], "\n      url: http://127.0.0.1:",
                              rx.port(), "\n      gzip: ", gzip ? "true" : "false",
                              "\n      batch: {max_events: 500, max_delay: 50ms}\n"),
          dir);
  state.SetLabel(absl::StrCat(kTypes[state.range(0)], gzip ? "+gzip" : ""));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SinkHttp)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace vigil::exporters

BENCHMARK_MAIN();
