// Syslog sinks against a real rsyslogd (Debian's package): RFC 5424 over UDP,
// TCP (octet counting), TLS and RELP (imrelp, package rsyslog-relp), written by
// rsyslog to files the test reads back event by event. rsyslogd runs as a child on free loopback ports with its own
// config in a temp dir and is killed at the end.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporters/exporter.h"
#include "exporters/formats.h"
#include "tests/exporters/it_util.h"
#include "tests/exporters/test_events.h"

namespace vigil::exporters {
namespace {

using namespace vigil::exporters::testing;

api::Event numbered(int i) {
  api::Event ev = lsmEvent(i % 2 ? api::OUTCOME_DENIED : api::OUTCOME_WOULD_DENY,
                           i % 2 ? api::POLICY_MODE_ENFORCE : api::POLICY_MODE_MONITOR);
  ev.mutable_process_lsm()->mutable_process()->set_pid(10000 + i);
  return ev;
}

class Rsyslog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsyslogd_ = it::findProgram({"/usr/sbin/rsyslogd", "/sbin/rsyslogd"});
    if (rsyslogd_.empty()) return;
    dir_ = new std::string(it::tempDir("vigil-rsyslog"));
    ASSERT_TRUE(it::makeCerts(*dir_));
    udp_ = it::freePort(true);
    tcp_ = it::freePort();
    tls_ = it::freePort();
    relp_ = it::freePort();
    relp_tls_ = it::freePort();
    ::signal(SIGPIPE, SIG_IGN);  // as vigild does: a TLS write to a dead peer is an error, not a signal
    const std::string& d = *dir_;
    std::ofstream(d + "/rsyslog.conf") << absl::StrCat(
        "global(workDirectory=\"", d, "\" maxMessageSize=\"64k\"\n",
        "  defaultNetstreamDriverCAFile=\"", d, "/ca.pem\"\n",
        "  defaultNetstreamDriverCertFile=\"", d, "/server.pem\"\n",
        "  defaultNetstreamDriverKeyFile=\"", d, "/server.key\")\n",
        "module(load=\"imudp\")\nmodule(load=\"imtcp\" maxSessions=\"32\")\n",
        "template(name=\"t\" type=\"string\" string=\"%pri% %timestamp:::date-rfc3339% %hostname% "
        "%app-name% %procid% %msgid% %msg%\\n\")\n",
        "ruleset(name=\"udp\") { action(type=\"omfile\" file=\"", d, "/udp.log\" template=\"t\") }\n",
        "ruleset(name=\"tcp\") { action(type=\"omfile\" file=\"", d, "/tcp.log\" template=\"t\") }\n",
        "ruleset(name=\"tls\") { action(type=\"omfile\" file=\"", d, "/tls.log\" template=\"t\") }\n",
        "input(type=\"imudp\" address=\"127.0.0.1\" port=\"", udp_, "\" ruleset=\"udp\" rcvbufSize=\"8m\")\n",
        "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"", tcp_, "\" ruleset=\"tcp\")\n",
        "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"", tls_, "\" ruleset=\"tls\" streamDriver.name=\"gtls\" "
        "streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n", relpConfig(d, "relp", relp_),
        relpConfig(d, "relptls", relp_tls_, true));
    child_ = new it::Child({rsyslogd_, "-n", "-f", d + "/rsyslog.conf", "-i", d + "/rsyslogd.pid"},
                           d + "/rsyslogd.out");
    ASSERT_TRUE(it::waitForTcpPort(tcp_, absl::Seconds(20))) << "rsyslogd did not start; see " << d;
    ASSERT_TRUE(it::waitForTcpPort(tls_, absl::Seconds(20)));
    ASSERT_TRUE(it::waitForTcpPort(relp_, absl::Seconds(20)));
    ASSERT_TRUE(it::waitForTcpPort(relp_tls_, absl::Seconds(20)));
  }
  // An imrelp input on `port` writing to DIR/NAME.log; with TLS, mutual: the
  // client must show a certificate of the test CA named vigil-client.
  static std::string relpConfig(const std::string& d, const std::string& name, int port, bool tls = false) {
    std::string out;
    if (name == "relp" || name == "solo") out = "module(load=\"imrelp\")\n";
    absl::StrAppend(&out, "ruleset(name=\"", name, "\") { action(type=\"omfile\" file=\"", d, "/", name,
                    ".log\" template=\"t\") }\n", "input(type=\"imrelp\" address=\"127.0.0.1\" port=\"", port,
                    "\" ruleset=\"", name, "\"");
    if (tls)
      absl::StrAppend(&out, " tls=\"on\" tls.caCert=\"", d, "/ca.pem\" tls.myCert=\"", d, "/server.pem\" tls.myPrivKey=\"",
                      d, "/server.key\" tls.authMode=\"name\" tls.permittedPeer=[\"vigil-client\"]");
    out += ")\n";
    return out;
  }
  static void TearDownTestSuite() {
    delete child_;
    child_ = nullptr;
    if (dir_) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (rsyslogd_.empty()) GTEST_FAIL() << "rsyslogd not installed (scripts/install-deps installs rsyslog)";
  }

  std::unique_ptr<Exporter> exporter(const std::string& sink_yaml) {
    std::string yaml = absl::StrCat("exporters:\n  spool_dir: ", *dir_, "/spool-", ++n_, "\n  sinks:\n", sink_yaml);
    auto cfg = parseExportersConfigString(yaml, "test.yaml");
    EXPECT_TRUE(cfg.ok()) << cfg.status();
    ExporterOptions opts;
    opts.node_name = "web-1";
    auto ex = Exporter::create(*cfg, opts);
    EXPECT_TRUE(ex.ok()) << ex.status();
    return ex.ok() ? *std::move(ex) : nullptr;
  }

  // rsyslog writes: PRI TIMESTAMP HOST APP PROCID MSGID MSG
  void expectEvents(const std::string& file, int n, Format fmt, int pri_facility) {
    auto lines = it::waitForLines(*dir_ + "/" + file, n, absl::Seconds(30));
    ASSERT_EQ(lines.size(), static_cast<size_t>(n)) << file;
    for (int i = 0; i < n; ++i) {
      api::Event ev = numbered(i);
      std::vector<std::string> f = absl::StrSplit(lines[i], absl::MaxSplits(' ', 6));
      ASSERT_EQ(f.size(), 7u) << lines[i];
      EXPECT_EQ(f[0], std::to_string(pri_facility * 8 + syslogSeverity(ev))) << lines[i];
      EXPECT_EQ(f[1], "2026-11-23T18:40:12.123456Z");
      EXPECT_EQ(f[2], "web-1");
      EXPECT_EQ(f[3], "vigil");
      EXPECT_EQ(f[4], std::to_string(::getpid()));
      EXPECT_EQ(f[5], "process_lsm");
      EXPECT_EQ(f[6], render(fmt, ev)) << "event " << i;
    }
  }

  static inline std::string rsyslogd_;
  static inline std::string* dir_ = nullptr;
  static inline it::Child* child_ = nullptr;
  static inline int udp_ = 0, tcp_ = 0, tls_ = 0, relp_ = 0, relp_tls_ = 0;
  int n_ = 0;
};

TEST_F(Rsyslog, UdpJson) {
  auto ex = exporter(absl::StrCat("    - name: udp\n      type: syslog\n      address: udp://127.0.0.1:", udp_, "\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 100; ++i) {
    ex->submit(numbered(i));
    if (i % 20 == 19) {
      ASSERT_TRUE(ex->flush(absl::Seconds(10)));  // gentle: UDP has no flow control
    }
  }
  ASSERT_TRUE(ex->flush(absl::Seconds(10)));
  expectEvents("udp.log", 100, Format::kJson, 16);
  EXPECT_EQ(ex->stats().sinks[0].delivered, 100u);
}

TEST_F(Rsyslog, TcpOctetCountingCef) {
  auto ex = exporter(absl::StrCat("    - name: tcp\n      type: syslog\n      address: tcp://127.0.0.1:", tcp_,
                                  "\n      format: cef\n      facility: authpriv\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 1000; ++i) ex->submit(numbered(i));
  ASSERT_TRUE(ex->flush(absl::Seconds(20)));
  expectEvents("tcp.log", 1000, Format::kCef, 10);
}

TEST_F(Rsyslog, TlsJsonVerifiesTheServer) {
  auto ex = exporter(absl::StrCat("    - name: tls\n      type: syslog\n      address: tls://localhost:", tls_,
                                  "\n      tls: {ca_file: ", *dir_, "/ca.pem}\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 500; ++i) ex->submit(numbered(i));
  ASSERT_TRUE(ex->flush(absl::Seconds(20)));
  expectEvents("tls.log", 500, Format::kJson, 16);
}

TEST_F(Rsyslog, TlsWithTheWrongCaDeliversNothingAndSaysWhy) {
  auto ex = exporter(absl::StrCat("    - name: badtls\n      type: syslog\n      address: tls://localhost:", tls_,
                                  "\n      tls: {ca_file: ", *dir_, "/other-ca.pem}\n"
                                  "      retry: {initial_backoff: 50ms, max_backoff: 200ms}\n"));
  ASSERT_TRUE(ex);
  size_t before = it::readLines(*dir_ + "/tls.log").size();
  for (int i = 0; i < 10; ++i) ex->submit(numbered(i));
  EXPECT_FALSE(ex->flush(absl::Seconds(1)));
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.spool_records, 10u);
  EXPECT_NE(s.last_error.find("certificate"), std::string::npos) << s.last_error;
  EXPECT_EQ(it::readLines(*dir_ + "/tls.log").size(), before);
}

// RELP: every event is answered by imrelp before it leaves the spool.
TEST_F(Rsyslog, RelpJson) {
  auto ex = exporter(absl::StrCat("    - name: relp\n      type: syslog\n      address: relp://127.0.0.1:", relp_, "\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 1000; ++i) ex->submit(numbered(i));
  ASSERT_TRUE(ex->flush(absl::Seconds(20)));
  expectEvents("relp.log", 1000, Format::kJson, 16);
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.delivered, 1000u);
  EXPECT_EQ(s.retries, 0u);
}

TEST_F(Rsyslog, RelpOverTlsCef) {
  auto ex = exporter(absl::StrCat("    - name: relptls\n      type: syslog\n      address: relp+tls://localhost:",
                                  relp_tls_, "\n      format: cef\n      facility: authpriv\n      tls: {ca_file: ",
                                  *dir_, "/ca.pem, cert_file: ", *dir_, "/client.pem, key_file: ", *dir_,
                                  "/client.key}\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 300; ++i) ex->submit(numbered(i));
  ASSERT_TRUE(ex->flush(absl::Seconds(20))) << ex->stats().sinks[0].last_error;
  expectEvents("relptls.log", 300, Format::kCef, 10);
}

// The reason for RELP: rsyslogd is stopped while events flow and started again
// seconds later. Plain TCP can lose what it had written into the dead
// connection; over RELP every event arrives, in order. At least once: an event rsyslog took
// but whose answer was lost with the connection is sent again, so a duplicate
// may follow itself; nothing is missing and nothing is out of order.
TEST_F(Rsyslog, RelpReceiverRestartLosesNothing) {
  const std::string d = *dir_ + "/solo";
  std::filesystem::create_directories(d);
  const int port = it::freePort();
  std::ofstream(d + "/rsyslog.conf") << absl::StrCat(
      "global(workDirectory=\"", d, "\" maxMessageSize=\"64k\")\n",
      // What imrelp answered for sits in rsyslog's memory queue: let it reach the file at SIGTERM.
      "main_queue(queue.timeoutShutdown=\"4000\")\n",
      "template(name=\"t\" type=\"string\" string=\"%pri% %timestamp:::date-rfc3339% %hostname% "
      "%app-name% %procid% %msgid% %msg%\\n\")\n",
      relpConfig(d, "solo", port));
  auto startRsyslog = [&](it::Child& c) {
    c.start({rsyslogd_, "-n", "-f", d + "/rsyslog.conf", "-i", d + "/rsyslogd.pid"}, d + "/rsyslogd.out");
    ASSERT_TRUE(it::waitForTcpPort(port, absl::Seconds(20))) << "rsyslogd did not start; see " << d;
  };
  it::Child rs;
  startRsyslog(rs);
  auto ex = exporter(absl::StrCat("    - name: solo\n      type: syslog\n      address: relp://127.0.0.1:", port,
                                  "\n      timeout: 2s\n      retry: {initial_backoff: 50ms, max_backoff: 500ms}\n"));
  ASSERT_TRUE(ex);
  std::atomic<int> next{0};
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    while (feeding.load()) {
      for (int k = 0; k < 10; ++k) ex->submit(numbered(next++));
      absl::SleepFor(absl::Milliseconds(5));  // ~2000 events/s
    }
  });
  absl::SleepFor(absl::Seconds(1));
  rs.stop();  // SIGTERM while events flow
  absl::SleepFor(absl::Seconds(3));
  startRsyslog(rs);
  absl::SleepFor(absl::Seconds(1));
  feeding = false;
  feeder.join();
  const int total = next.load();
  ASSERT_TRUE(ex->flush(absl::Seconds(30)));
  auto s = ex->stats().sinks[0];
  EXPECT_GE(s.retries, 1u);
  EXPECT_EQ(s.dropped(), 0u);
  auto lines = it::waitForLines(d + "/solo.log", total, absl::Seconds(20));
  std::vector<int> seq;
  int duplicates = 0;
  for (const auto& line : lines) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(' ', 6));
    ASSERT_EQ(f.size(), 7u) << line;
    size_t at = f[6].find("\"pid\":");
    ASSERT_NE(at, std::string::npos) << line;
    int seqno = std::atoi(f[6].c_str() + at + 6) - 10000;
    if (!seq.empty() && seqno <= seq.back()) {
      ++duplicates;
      continue;
    }
    seq.push_back(seqno);
  }
  ASSERT_EQ(static_cast<int>(seq.size()), total) << "events missing";
  for (int i = 0; i < total; ++i) ASSERT_EQ(seq[i], i) << "missing or out of order at " << i;
  EXPECT_LE(duplicates, 1024) << "at most one unanswered window is resent";
  std::cerr << total << " events, " << duplicates << " resent and stored twice by rsyslog\n";
}

}  // namespace
}  // namespace vigil::exporters
