// Syslog sinks against a real rsyslogd (Debian's package): RFC 5424 over UDP,
// TCP (octet counting) and TLS, written by rsyslog to files the test reads back
// event by event. rsyslogd runs as a child on free loopback ports with its own
// config in a temp dir and is killed at the end.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "daemon/events/json_writer.h"
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
        "streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n");
    child_ = new it::Child({rsyslogd_, "-n", "-f", d + "/rsyslog.conf", "-i", d + "/rsyslogd.pid"},
                           d + "/rsyslogd.out");
    ASSERT_TRUE(it::waitForTcpPort(tcp_, absl::Seconds(20))) << "rsyslogd did not start; see " << d;
    ASSERT_TRUE(it::waitForTcpPort(tls_, absl::Seconds(20)));
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
  static inline int udp_ = 0, tcp_ = 0, tls_ = 0;
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

}  // namespace
}  // namespace vigil::exporters
