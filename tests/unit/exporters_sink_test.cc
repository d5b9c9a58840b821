// Sinks end to end through Exporter, with local receivers that need nothing
// installed: files, and a unix datagram socket standing in for /dev/log.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>

#include "absl/strings/str_split.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "exporters/exporter.h"
#include "exporters/formats.h"
#include "exporters/spool.h"
#include "exporters/transport.h"
#include "tests/exporters/test_events.h"
#include "tests/lib/temp_dir.h"

namespace vigil::exporters {
namespace {

namespace fs = std::filesystem;
using namespace vigil::exporters::testing;

std::vector<std::string> readLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::vector<std::string> readGzLines(const std::string& path) {
  std::vector<std::string> out;
  gzFile gz = gzopen(path.c_str(), "rb");
  if (!gz) return out;
  std::string data;
  char buf[4096];
  int n;
  while ((n = gzread(gz, buf, sizeof buf)) > 0) data.append(buf, n);
  gzclose(gz);
  size_t start = 0;
  for (size_t nl; (nl = data.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(data.substr(start, nl - start));
  return out;
}

api::Event numbered(int i) {
  api::Event ev = execEvent();
  ev.mutable_process_exec()->mutable_process()->set_pid(10000 + i);
  return ev;
}

ExportersConfig parse(const std::string& yaml) {
  auto cfg = parseExportersConfigString(yaml, "test.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return cfg.ok() ? *cfg : ExportersConfig{};
}

TEST(ExportersSink, FileSinkWritesEveryEventInOrderMode0600) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto cfg = parse("exporters:\n  spool_dir: " + dir + "/spool\n  sinks:\n    - name: f\n      type: file\n      path: " +
                   dir + "/events.json\n");
  auto ex = Exporter::create(cfg);
  ASSERT_TRUE(ex.ok()) << ex.status();
  for (int i = 0; i < 500; ++i) (*ex)->submit(numbered(i));
  ASSERT_TRUE((*ex)->flush(absl::Seconds(10)));
  auto lines = readLines(dir + "/events.json");
  ASSERT_EQ(lines.size(), 500u);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(lines[i], api::renderJson(numbered(i)));
  struct stat st{};
  ASSERT_EQ(::stat((dir + "/events.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto s = (*ex)->stats().sinks[0];
  EXPECT_EQ(s.delivered, 500u);
  EXPECT_EQ(s.dropped(), 0u);
  (*ex)->stop();
}

TEST(ExportersSink, FileRotationBySizeKeepsBackupsCompressed) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  size_t line = api::renderJson(numbered(0)).size() + 1;
  auto cfg = parse("exporters:\n  spool_dir: " + dir + "/spool\n  sinks:\n    - name: f\n      type: file\n      path: " +
                   dir + "/ev.json\n      max_size: " + std::to_string(line * 10) +
                   "\n      max_backups: 2\n      compress: true\n");
  auto ex = Exporter::create(cfg);
  ASSERT_TRUE(ex.ok()) << ex.status();
  for (int i = 0; i < 35; ++i) (*ex)->submit(numbered(i));
  ASSERT_TRUE((*ex)->flush(absl::Seconds(10)));
  (*ex)->stop();
  // 35 events, 10 per file: ev.json.2.gz (10..19), ev.json.1.gz (20..29), ev.json (30..34); 0..9 rotated out.
  EXPECT_FALSE(fs::exists(dir + "/ev.json.3.gz"));
  EXPECT_FALSE(fs::exists(dir + "/ev.json.1"));
  auto b2 = readGzLines(dir + "/ev.json.2.gz");
  auto b1 = readGzLines(dir + "/ev.json.1.gz");
  auto cur = readLines(dir + "/ev.json");
  ASSERT_EQ(b2.size(), 10u);
  ASSERT_EQ(b1.size(), 10u);
  ASSERT_EQ(cur.size(), 5u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(b2[i], api::renderJson(numbered(10 + i)));
    EXPECT_EQ(b1[i], api::renderJson(numbered(20 + i)));
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(cur[i], api::renderJson(numbered(30 + i)));
  struct stat st{};
  ASSERT_EQ(::stat((dir + "/ev.json.1.gz").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ExportersSink, FileRotationByAge) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto cfg = parse("exporters:\n  spool_dir: " + dir + "/spool\n  sinks:\n    - name: f\n      type: file\n      path: " +
                   dir + "/ev.json\n      max_age: 300ms\n      max_backups: 1\n      format: cef\n");
  auto ex = Exporter::create(cfg);
  ASSERT_TRUE(ex.ok());
  (*ex)->submit(numbered(1));
  ASSERT_TRUE((*ex)->flush(absl::Seconds(5)));
  absl::SleepFor(absl::Milliseconds(400));
  (*ex)->submit(numbered(2));
  ASSERT_TRUE((*ex)->flush(absl::Seconds(5)));
  (*ex)->stop();
  auto old = readLines(dir + "/ev.json.1");
  auto cur = readLines(dir + "/ev.json");
  ASSERT_EQ(old.size(), 1u);
  ASSERT_EQ(cur.size(), 1u);
  EXPECT_NE(old[0].find("spid=10001 "), std::string::npos) << old[0];
  EXPECT_NE(cur[0].find("spid=10002 "), std::string::npos) << cur[0];
}

TEST(ExportersSink, FiltersRedactionFieldsAndRateLimitWithExactDropReport) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto cfg = parse("exporters:\n  spool_dir: " + dir + "/spool\n  report_interval: 1h\n  sinks:\n"
                   "    - name: f\n      type: file\n      path: " + dir + "/ev.json\n"
                   "      filters:\n        allow: {event_types: [process_lsm]}\n        deny: {actions: [posted]}\n"
                   "      redact:\n        - pattern: 'echo a=\\w+'\n          replacement: 'echo [SECRET]'\n"
                   "      exclude_fields: [process.cap, parent]\n"
                   "      rate_limit: {events_per_second: 0.001, burst: 10}\n");
  std::mutex mu;
  std::vector<api::Event> reports;
  ExporterOptions opts;
  opts.node_name = "web-1";
  opts.on_status = [&](const api::Event& ev) {
    std::lock_guard<std::mutex> l(mu);
    reports.push_back(ev);
  };
  auto ex = Exporter::create(cfg, opts);
  ASSERT_TRUE(ex.ok()) << ex.status();
  for (int i = 0; i < 5; ++i) (*ex)->submit(execEvent());                                   // filtered: type
  for (int i = 0; i < 5; ++i) (*ex)->submit(lsmEvent(api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE));  // filtered: deny
  for (int i = 0; i < 50; ++i) (*ex)->submit(lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE));
  ASSERT_TRUE((*ex)->flush(absl::Seconds(10)));
  auto s = (*ex)->stats().sinks[0];
  EXPECT_EQ(s.submitted, 60u);
  EXPECT_EQ(s.filtered, 10u);
  EXPECT_EQ(s.delivered, 10u);
  EXPECT_EQ(s.dropped_rate_limited, 40u);
  auto lines = readLines(dir + "/ev.json");
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_NE(lines[0].find("echo [SECRET]"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("echo a=b"), std::string::npos);
  EXPECT_EQ(lines[0].find("CAP_SYS_ADMIN"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("/usr/sbin/sshd"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"policy_name\":\"no-exec-from-tmp\""), std::string::npos);
  (*ex)->reportDrops();
  {
    std::lock_guard<std::mutex> l(mu);
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].status().kind(), api::Status::KIND_EXPORTER_DROPPED);
    EXPECT_EQ(reports[0].status().subject(), "f");
    EXPECT_EQ(reports[0].status().count(), 40u);
    EXPECT_EQ(reports[0].node_name(), "web-1");
  }
  // No new drops: no new report.
  (*ex)->reportDrops();
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(reports.size(), 1u);
  }
  (*ex)->stop();
}

// A unix datagram receiver (what /dev/log is).
class DgramReceiver {
 public:
  explicit DgramReceiver(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~DgramReceiver() { ::close(fd_); }
  std::vector<std::string> receive(size_t n, absl::Duration timeout) {
    std::vector<std::string> out;
    absl::Time until = absl::Now() + timeout;
    char buf[65536];
    while (out.size() < n && absl::Now() < until) {
      ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
      if (got > 0) out.emplace_back(buf, got);
    }
    return out;
  }

 private:
  int fd_;
};

TEST(ExportersSink, SyslogUnixSpoolsWhileDownAndDeliversInOrderAfterRestart) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  std::string sock = dir + "/log.sock";
  std::string yaml = "exporters:\n  spool_dir: " + dir + "/spool\n  stop_timeout: 200ms\n  sinks:\n"
                     "    - name: sys\n      type: syslog\n      address: unix://" + sock + "\n"
                     "      retry: {initial_backoff: 20ms, max_backoff: 100ms}\n";
  {
    auto ex = Exporter::create(parse(yaml));
    ASSERT_TRUE(ex.ok()) << ex.status();
    for (int i = 0; i < 200; ++i) (*ex)->submit(numbered(i));
    // Until all 200 are spooled and a delivery has failed and been retried
    // (up to 10 s), not a fixed sleep that a busy host outlasts.
    absl::Time until = absl::Now() + absl::Seconds(10);
    while (absl::Now() < until) {
      auto s = (*ex)->stats().sinks[0];
      if (s.spool_records >= 200u && s.retries > 0u && !s.last_error.empty()) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    auto s = (*ex)->stats().sinks[0];
    EXPECT_EQ(s.spool_records, 200u);
    EXPECT_GT(s.retries, 0u);
    EXPECT_NE(s.last_error.find(sock), std::string::npos) << s.last_error;
    (*ex)->stop();  // the daemon restarts: the spool stays on disk
  }
  DgramReceiver rx(sock);
  auto ex = Exporter::create(parse(yaml));
  ASSERT_TRUE(ex.ok());
  for (int i = 200; i < 250; ++i) (*ex)->submit(numbered(i));
  auto got = rx.receive(250, absl::Seconds(10));
  ASSERT_EQ(got.size(), 250u);
  for (int i = 0; i < 250; ++i) {
    std::string want = api::renderJson(numbered(i));
    ASSERT_GE(got[i].size(), want.size());
    EXPECT_EQ(got[i].substr(got[i].size() - want.size()), want) << i;
    EXPECT_EQ(got[i].rfind("<134>1 2026-11-23T18:40:12.123456Z web-1 vigil ", 0), 0u) << got[i];
  }
  EXPECT_TRUE((*ex)->flush(absl::Seconds(5)));
  EXPECT_EQ((*ex)->stats().sinks[0].dropped(), 0u);
  (*ex)->stop();
}

TEST(ExportersSink, DamagedSpoolRecordIsCountedInTheSinkStats) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  std::string payload;
  {
    auto sp = DiskSpool::open(dir + "/spool/sys", 1 << 20);
    ASSERT_TRUE(sp.ok()) << sp.status();
    for (int i = 0; i < 10; ++i) {
      Record r{1, 6, "process_exec", "web-1", "{\"n\":" + std::to_string(1000 + i) + "}"};
      ASSERT_TRUE((*sp)->append(encodeRecord(r)));
      if (i == 4) payload = encodeRecord(r);
    }
  }
  // One bit of record 4 flipped on disk.
  std::string seg;
  for (const auto& e : fs::directory_iterator(dir + "/spool/sys"))
    if (e.path().extension() == ".seg") seg = e.path().string();
  std::string data;
  {
    std::ifstream in(seg, std::ios::binary);
    data.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t at = data.find("{\"n\":1004}");
  ASSERT_NE(at, std::string::npos);
  data[at + 3] ^= 1;
  {
    std::ofstream out(seg, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  // The receiver is down: the records stay spooled, the loss is in the stats.
  auto ex = Exporter::create(parse("exporters:\n  spool_dir: " + dir + "/spool\n  stop_timeout: 100ms\n"
                                   "  sinks:\n    - name: sys\n      type: syslog\n      address: unix://" +
                                   dir + "/nobody.sock\n"));
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto s = (*ex)->stats().sinks[0];
  EXPECT_EQ(s.dropped_corrupt, 1u);
  EXPECT_EQ(s.spool_corrupt_bytes, DiskSpool::kFrameHeader + payload.size());
  EXPECT_EQ(s.spool_records, 9u);
  (*ex)->stop();
}

// fsync: interval syncs records written just before the sink went idle, within
// the interval, with nothing else happening: the intake thread wakes for it.
TEST(ExportersSink, IntervalFsyncHappensWhenIdle) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  // The receiver is down and the first retry an hour away: the delivery
  // thread does not touch the spool again, only the intake thread can sync.
  auto ex = Exporter::create(parse("exporters:\n  spool_dir: " + dir + "/spool\n  stop_timeout: 100ms\n"
                                   "  sinks:\n    - name: sys\n      type: syslog\n      address: unix://" + dir +
                                   "/nobody.sock\n      retry: {initial_backoff: 1h, max_backoff: 1h}\n"
                                   "      spool: {fsync: interval, fsync_interval: 300ms}\n"));
  ASSERT_TRUE(ex.ok()) << ex.status();
  // Waits (not a timing assertion: any delay passes) until pred holds.
  auto waitFor = [&](const std::function<bool(const SinkStats&)>& pred) {
    for (int i = 0; i < 6000 && !pred((*ex)->stats().sinks[0]); ++i) absl::SleepFor(absl::Milliseconds(10));
    return pred((*ex)->stats().sinks[0]);
  };
  (*ex)->submit(numbered(0));
  // The first batch is synced at once (no sync yet in the interval).
  ASSERT_TRUE(waitFor([](const SinkStats& s) { return s.spool_records == 1 && s.spool_fsyncs >= 1; }));
  uint64_t before = (*ex)->stats().sinks[0].spool_fsyncs;
  (*ex)->submit(numbered(1));
  ASSERT_TRUE(waitFor([](const SinkStats& s) { return s.spool_records == 2; }));
  // Written, maybe not synced yet (within the interval); with no more events
  // it is synced once the interval has passed.
  EXPECT_TRUE(waitFor([&](const SinkStats& s) { return s.spool_fsyncs > before; }));
  (*ex)->stop();
}

TEST(ExportersSink, StdoutWritesOneEventPerLine) {
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  int saved = ::dup(STDOUT_FILENO);
  std::fflush(stdout);
  ::dup2(pipefd[1], STDOUT_FILENO);
  {
    auto ex = Exporter::create(parse("exporters:\n  sinks:\n    - name: out\n      type: stdout\n      format: cef\n"));
    if (ex.ok()) {
      for (int i = 0; i < 3; ++i) (*ex)->submit(numbered(i));
      (*ex)->flush(absl::Seconds(5));
      (*ex)->stop();
    }
  }
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) out.append(buf, n);
  ::close(pipefd[0]);
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << out;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(lines[i], renderCef(numbered(i)));
}

// A queue far too small for the burst: whatever is dropped is counted and
// reported exactly, and whatever is kept arrives in order.
TEST(ExportersSink, QueueOverflowIsCountedExactly) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto cfg = parse("exporters:\n  report_interval: 1h\n  sinks:\n    - name: f\n      type: file\n      path: " + dir +
                   "/ev.json\n      queue_events: 4\n      format: cef\n");
  uint64_t reported = 0;
  ExporterOptions opts;
  opts.on_status = [&](const api::Event& ev) { reported += ev.status().count(); };
  auto ex = Exporter::create(cfg, opts);
  ASSERT_TRUE(ex.ok());
  const int n = 20000;
  for (int i = 0; i < n; ++i) (*ex)->submit(numbered(i));
  ASSERT_TRUE((*ex)->flush(absl::Seconds(20)));
  auto s = (*ex)->stats().sinks[0];
  EXPECT_EQ(s.submitted, static_cast<uint64_t>(n));
  EXPECT_GT(s.dropped_queue_full, 0u);
  EXPECT_EQ(s.delivered + s.dropped_queue_full, static_cast<uint64_t>(n));
  auto lines = readLines(dir + "/ev.json");
  EXPECT_EQ(lines.size(), s.delivered);
  int last = -1;
  for (const auto& l : lines) {
    size_t p = l.find("spid=");
    ASSERT_NE(p, std::string::npos);
    int pid = std::atoi(l.c_str() + p + 5) - 10000;
    ASSERT_GT(pid, last);
    last = pid;
  }
  (*ex)->reportDrops();  // the report itself goes to the sink, after the flush
  EXPECT_EQ(reported, s.dropped_queue_full);
  (*ex)->stop();
}

// Several sinks at once, each with its own format and filters; one whose
// receiver is down neither blocks submit() nor delays the others.
TEST(ExportersSink, SeveralSinksAndADeadOneBlocksNothing) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto cfg = parse("exporters:\n  spool_dir: " + dir + "/spool\n  stop_timeout: 100ms\n  sinks:\n"
                   "    - name: all\n      type: file\n      path: " + dir + "/all.json\n"
                   "    - name: alerts\n      type: file\n      path: " + dir + "/alerts.ocsf\n      format: ocsf\n"
                   "      filters: {allow: {event_types: [process_lsm]}}\n"
                   "    - name: dead\n      type: syslog\n      address: unix://" + dir + "/nobody-listens.sock\n"
                   "      format: cef\n");
  auto ex = Exporter::create(cfg);
  ASSERT_TRUE(ex.ok()) << ex.status();
  absl::Time start = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    (*ex)->submit(numbered(i));
    if (i % 10 == 0) (*ex)->submit(lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE));
  }
  absl::Duration submit_time = absl::Now() - start;
  EXPECT_LT(submit_time, absl::Seconds(2)) << "submit() must not wait for sinks";
  EXPECT_FALSE((*ex)->flush(absl::Seconds(2)));  // the dead sink cannot finish
  EXPECT_EQ(readLines(dir + "/all.json").size(), 1100u);
  auto alerts = readLines(dir + "/alerts.ocsf");
  ASSERT_EQ(alerts.size(), 100u);
  EXPECT_NE(alerts[0].find("\"class_uid\":2004"), std::string::npos);
  auto st = (*ex)->stats();
  EXPECT_EQ(st.sinks[0].delivered, 1100u);
  EXPECT_EQ(st.sinks[1].filtered, 1000u);
  EXPECT_EQ(st.sinks[2].delivered, 0u);
  EXPECT_EQ(st.sinks[2].spool_records, 1100u);
  EXPECT_EQ(st.sinks[2].dropped(), 0u);
  (*ex)->stop();
}

// A receiver that accepts the connection and never answers: stop() does not
// wait for the request timeout, and the unconfirmed events stay spooled.
TEST(ExportersSink, StopAbortsARequestInFlight) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len);
  ASSERT_EQ(::listen(lfd, 4), 0);  // accepted and read, never answered
  std::string yaml = "exporters:\n  spool_dir: " + dir + "/spool\n  stop_timeout: 200ms\n  sinks:\n"
                     "    - name: hook\n      type: webhook\n      url: http://127.0.0.1:" +
                     std::to_string(ntohs(sa.sin_port)) + "/x\n      timeout: 60s\n      batch: {max_delay: 10ms}\n";
  {
    auto ex = Exporter::create(parse(yaml));
    ASSERT_TRUE(ex.ok());
    for (int i = 0; i < 5; ++i) (*ex)->submit(numbered(i));
    // The request is in flight once its headers have arrived here (up to
    // 10 s): wait for that instead of sleeping.
    pollfd pl{lfd, POLLIN, 0};
    ASSERT_EQ(::poll(&pl, 1, 10000), 1) << "the sink did not connect";
    int cfd = ::accept(lfd, nullptr, nullptr);
    ASSERT_GE(cfd, 0);
    std::string req;
    absl::Time until = absl::Now() + absl::Seconds(10);
    while (req.find("\r\n\r\n") == std::string::npos && absl::Now() < until) {
      pollfd pc{cfd, POLLIN, 0};
      if (::poll(&pc, 1, 100) != 1) continue;
      char buf[4096];
      ssize_t got = ::recv(cfd, buf, sizeof buf, 0);
      if (got <= 0) break;
      req.append(buf, got);
    }
    ASSERT_NE(req.find("\r\n\r\n"), std::string::npos) << "no request headers: " << req;
    absl::Time t0 = absl::Now();
    (*ex)->stop();
    EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
    EXPECT_EQ((*ex)->stats().sinks[0].delivered, 0u);
    ::close(cfd);
  }
  ::close(lfd);
  // The next start finds all five in the spool.
  auto ex = Exporter::create(parse(yaml));
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ((*ex)->stats().sinks[0].spool_records, 5u);
  (*ex)->stop();
}

TEST(ExportersSink, PayloadShapes) {
  SinkConfig c;
  c.facility = 10;
  c.app_name = "vigil";
  Record r{1795459212123456789LL, 3, "process_lsm", "web-1", "{\"a\":1}"};
  EXPECT_EQ(syslogMessage(c, r, 42), "<83>1 2026-11-23T18:40:12.123456Z web-1 vigil 42 process_lsm - {\"a\":1}");
  r.host = "";
  EXPECT_EQ(syslogMessage(c, r, 42), "<83>1 2026-11-23T18:40:12.123456Z - vigil 42 process_lsm - {\"a\":1}");
  r.host = "web-1";

  c.type = SinkType::kSplunkHec;
  c.index = "sec";
  EXPECT_EQ(hecEvent(c, r),
            "{\"time\":1795459212.123,\"host\":\"web-1\",\"source\":\"vigil\",\"sourcetype\":\"vigil:event\","
            "\"index\":\"sec\",\"event\":{\"a\":1}}");
  c.format = Format::kCef;
  Record cef = r;
  cef.payload = "CEF:0|V|\"x\"";
  EXPECT_NE(hecEvent(c, cef).find("\"event\":\"CEF:0|V|\\\"x\\\"\""), std::string::npos);
  c.format = Format::kJson;

  c.type = SinkType::kElasticsearch;
  c.index = "vigil-events";
  EXPECT_EQ(bulkBody(c, {r}), "{\"create\":{\"_index\":\"vigil-events\",\"_id\":\"" + recordId(r) + "\"}}\n{\"a\":1}\n");
  EXPECT_EQ(recordId(r).size(), 32u);
  Record r2 = r;
  r2.payload = "{\"a\":2}";
  EXPECT_NE(recordId(r), recordId(r2));

  c.type = SinkType::kLoki;
  c.labels = {{"env", "prod"}};
  Record x = r;
  x.type = "process_exec";
  EXPECT_EQ(lokiBody(c, {r, x, r2}),
            "{\"streams\":[{\"stream\":{\"env\":\"prod\",\"event_type\":\"process_lsm\",\"job\":\"vigil\",\"node_name\":\"web-1\"},"
            "\"values\":[[\"1795459212123456789\",\"{\\\"a\\\":1}\"],[\"1795459212123456789\",\"{\\\"a\\\":2}\"]]},"
            "{\"stream\":{\"env\":\"prod\",\"event_type\":\"process_exec\",\"job\":\"vigil\",\"node_name\":\"web-1\"},"
            "\"values\":[[\"1795459212123456789\",\"{\\\"a\\\":1}\"]]}]}");

  c.type = SinkType::kWebhook;
  c.webhook_body = "array";
  EXPECT_EQ(webhookBody(c, {r, r2}), "[{\"a\":1},{\"a\":2}]");
  c.webhook_body = "ndjson";
  EXPECT_EQ(webhookBody(c, {r, r2}), "{\"a\":1}\n{\"a\":2}\n");

  auto z = gzipCompress("hello hello hello");
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>((*z)[1]), 0x8b);
}

TEST(ExportersSink, CreateFailsWithActionableErrors) {
  auto cfg = parse("exporters:\n  spool_dir: /proc/vigil-cannot\n  sinks:\n    - name: s\n      type: syslog\n      address: udp://127.0.0.1:9\n");
  auto ex = Exporter::create(cfg);
  ASSERT_FALSE(ex.ok());
  EXPECT_NE(std::string(ex.status().message()).find("sink s: spool: mkdir /proc/vigil-cannot"), std::string::npos)
      << ex.status();
  auto cfg2 = parse("exporters:\n  sinks:\n    - name: f\n      type: file\n      path: /nonexistent-dir/x.json\n");
  auto ex2 = Exporter::create(cfg2);
  ASSERT_FALSE(ex2.ok());
  EXPECT_NE(std::string(ex2.status().message()).find("sink f: open /nonexistent-dir/x.json"), std::string::npos)
      << ex2.status();
}

}  // namespace
}  // namespace vigil::exporters
