#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "exporters/config.h"
#include "tests/lib/temp_dir.h"

namespace vigil::exporters {
namespace {

TEST(ExportersConfig, ParsesEverySinkType) {
  vigil::test::TempDir tmp;
  std::string token = tmp.file("hec-token");
  std::ofstream(token) << "  s3cr3t\n";
  std::string yaml = R"(
exporters:
  spool_dir: /tmp/vigil-spool
  report_interval: 5s
  sinks:
    - name: out
      type: stdout
    - name: file
      type: file
      path: /var/log/vigil/events.json
      max_size: 10MiB
      max_age: 24h
      max_backups: 3
      compress: true
      format: ocsf
    - name: syslog
      type: syslog
      address: tls://siem.example:6514
      format: cef
      facility: authpriv
      tls: {insecure_skip_verify: true}
    - name: splunk
      type: splunk_hec
      url: https://splunk:8088
      token_file: )" + token + R"(
      gzip: true
      batch: {max_events: 100, max_delay: 250ms}
      retry: {initial_backoff: 100ms, max_backoff: 10s}
      spool: {max_bytes: 1GiB}
      rate_limit: {events_per_second: 500}
      filters:
        allow: {event_types: [process_lsm, status]}
        deny: {binaries: ["/usr/bin/noisy*"], actions: [posted]}
      redact:
        - pattern: 'password=\S+'
          replacement: 'password=***'
      exclude_fields: [process.cap]
    - name: es
      type: elasticsearch
      url: http://es:9200
      index: vigil
    - name: loki
      type: loki
      url: http://loki:3100
      labels: {env: prod}
    - name: hook
      type: webhook
      url: http://hook/x
      body: array
      headers: {X-Team: sec}
)";
  auto cfg = parseExportersConfigString(yaml, "vigil.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->sinks.size(), 7u);
  EXPECT_EQ(cfg->spool_dir, "/tmp/vigil-spool");
  EXPECT_EQ(cfg->report_interval, absl::Seconds(5));
  const auto& out = cfg->sinks[0];
  EXPECT_EQ(out.type, SinkType::kStdout);
  EXPECT_FALSE(out.spool_on_disk);
  const auto& file = cfg->sinks[1];
  EXPECT_EQ(file.max_size_bytes, 10u << 20);
  EXPECT_EQ(file.max_age, absl::Hours(24));
  EXPECT_EQ(file.max_backups, 3);
  EXPECT_TRUE(file.compress);
  EXPECT_EQ(file.mode, 0600u);
  EXPECT_EQ(file.format, Format::kOcsf);
  const auto& sys = cfg->sinks[2];
  EXPECT_EQ(sys.facility, 10);
  EXPECT_TRUE(sys.tls.enabled);
  EXPECT_TRUE(sys.spool_on_disk);
  EXPECT_EQ(sys.format, Format::kCef);
  const auto& hec = cfg->sinks[3];
  EXPECT_EQ(hec.token, "s3cr3t");
  EXPECT_EQ(hec.auth_scheme, "Splunk");
  EXPECT_TRUE(hec.gzip);
  EXPECT_EQ(hec.batch_max_events, 100u);
  EXPECT_EQ(hec.batch_max_delay, absl::Milliseconds(250));
  EXPECT_EQ(hec.spool_max_bytes, 1ull << 30);
  EXPECT_EQ(hec.rate_limit_per_sec, 500);
  EXPECT_EQ(hec.allow.event_types, (std::vector<std::string>{"process_lsm", "status"}));
  EXPECT_EQ(hec.deny.binaries, std::vector<std::string>{"/usr/bin/noisy*"});
  ASSERT_EQ(hec.redact.size(), 1u);
  EXPECT_EQ(hec.redact[0].replacement, "password=***");
  EXPECT_EQ(hec.exclude_fields, std::vector<std::string>{"process.cap"});
  EXPECT_EQ(cfg->sinks[4].format, Format::kEcs);  // elasticsearch default
  EXPECT_EQ(cfg->sinks[4].index, "vigil");
  EXPECT_EQ(cfg->sinks[5].labels.at("env"), "prod");
  EXPECT_EQ(cfg->sinks[6].webhook_body, "array");
  EXPECT_EQ(cfg->sinks[6].headers[0].first, "X-Team");
}

struct BadCase {
  std::string yaml;
  std::string error;  // expected prefix-free substring, with FILE:LINE:COL
};

TEST(ExportersConfig, ErrorsNameFileLineColumn) {
  std::vector<BadCase> cases = {
      {"exporters:\n  sinks:\n    - name: a\n      type: carrier_pigeon\n",
       "vigil.yaml:4:13: unknown sink type \"carrier_pigeon\""},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n      colour: red\n",
       "vigil.yaml:5:7: unknown key \"colour\" in sink"},
      {"exporters:\n  sinks:\n    - name: a\n      type: file\n", "vigil.yaml:3:7: file sink: missing \"path\""},
      {"exporters:\n  sinks:\n    - name: a\n      type: syslog\n      address: tcp://host\n",
       "vigil.yaml:5:16: syslog address \"tcp://host\": missing :port"},
      {"exporters:\n  sinks:\n    - name: a\n      type: elasticsearch\n      url: http://x\n      format: cef\n",
       "vigil.yaml:6:15: elasticsearch needs a JSON format"},
      {"exporters:\n  sinks:\n    - name: a\n      type: webhook\n      url: http://x\n      token_file: /nonexistent/t\n",
       "vigil.yaml:6:19: cannot read token file /nonexistent/t"},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n      redact:\n        - pattern: '(unclosed'\n",
       "vigil.yaml:6:20: redact pattern: missing )"},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n      filters:\n        allow: {event_types: [process_open]}\n",
       "vigil.yaml:6:31: unknown event type \"process_open\""},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n    - name: a\n      type: stdout\n",
       "vigil.yaml:5:13: duplicate sink name \"a\""},
      {"exporters:\n  sinks:\n    - name: a\n      type: webhook\n      url: http://x\n      batch: {max_delay: soon}\n",
       "vigil.yaml:6:26: max_delay: expected a duration"},
      {"exporters:\n  sinks:\n    - name: ../etc\n      type: stdout\n", "vigil.yaml:3:13: sink name \"../etc\""},
      {"exporters:\n  sinks: [\n", "vigil.yaml:3:1: "},
      {"exporters:\n  sinks:\n    - name: a\n      type: webhook\n      url: http://x\n      retry: {on_status: [503]}\n",
       "vigil.yaml:6:27: retry.on_status: expected 4xx statuses"},
      {"exporters:\n  sinks:\n    - name: a\n      type: webhook\n      url: http://x\n      ack: {enabled: true}\n",
       "vigil.yaml:6:12: ack: only for splunk_hec"},
      {"exporters:\n  sinks:\n    - name: a\n      type: syslog\n      address: relp:/host:2514\n",
       "vigil.yaml:5:16: syslog address \"relp:/host:2514\": expected unix:///path"},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n      spool: {fsync: always}\n",
       "vigil.yaml:5:22: spool.fsync: unknown policy \"always\" (batch | interval | never)"},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n      spool: {fsync_interval: 0s}\n",
       "vigil.yaml:5:31: spool.fsync_interval must be more than 0"},
      {"exporters:\n  sinks:\n    - name: a\n      type: stdout\n      spool: {fsync: batch, fsync_interval: 2s}\n",
       "vigil.yaml:5:45: spool.fsync_interval applies to fsync: interval, not \"batch\""},
  };
  for (const auto& c : cases) {
    auto cfg = parseExportersConfigString(c.yaml, "vigil.yaml");
    ASSERT_FALSE(cfg.ok()) << c.yaml;
    EXPECT_NE(std::string(cfg.status().message()).find(c.error), std::string::npos)
        << "got: " << cfg.status().message() << "\nwant: " << c.error;
  }
}

TEST(ExportersConfig, SpoolFsyncPolicy) {
  auto cfg = parseExportersConfigString(
      "exporters:\n  sinks:\n    - {name: a, type: syslog, address: 'udp://h:514'}\n"
      "    - {name: b, type: syslog, address: 'udp://h:514', spool: {fsync: batch}}\n"
      "    - {name: c, type: syslog, address: 'udp://h:514', spool: {fsync: interval, fsync_interval: 250ms}}\n"
      "    - {name: d, type: syslog, address: 'udp://h:514', spool: {fsync: never}}\n",
      "vigil.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  ASSERT_EQ(cfg->sinks.size(), 4u);
  EXPECT_EQ(cfg->sinks[0].spool_fsync, FsyncPolicy::kInterval);  // the default
  EXPECT_EQ(cfg->sinks[0].spool_fsync_interval, absl::Seconds(1));
  EXPECT_EQ(cfg->sinks[1].spool_fsync, FsyncPolicy::kBatch);
  EXPECT_EQ(cfg->sinks[2].spool_fsync, FsyncPolicy::kInterval);
  EXPECT_EQ(cfg->sinks[2].spool_fsync_interval, absl::Milliseconds(250));
  EXPECT_EQ(cfg->sinks[3].spool_fsync, FsyncPolicy::kNever);
}

TEST(ExportersConfig, EmptySectionIsNoSinks) {
  auto cfg = parseExportersConfigString("other: 1\n", "vigil.yaml");
  ASSERT_TRUE(cfg.ok());
  EXPECT_TRUE(cfg->sinks.empty());
}

}  // namespace
}  // namespace vigil::exporters
