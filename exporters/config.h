// Configuration of the exporters: the `exporters:` section of /etc/vigil/vigil.yaml.
// Schema and defaults are documented in docs/exporters.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporters/formats.h"
#include "exporters/spool.h"

namespace vigil::exporters {

// An event passes `allow` when every non-empty list matches; it is dropped by
// `deny` when any non-empty list matches.
struct FilterSpec {
  std::vector<std::string> event_types;  // process_exec | process_exit | process_lsm | process_kprobe | status | rule_alert
  std::vector<std::string> policies;     // policy (or rule) name, exact
  std::vector<std::string> binaries;     // process binary: exact, or a prefix when ending in '*'
  std::vector<std::string> actions;      // post | override | sigkill | signal | posted | denied | killed | signaled | would_*
  std::vector<std::string> namespaces;   // host | container | <ns>:<inum> (e.g. pid:4026531836)
  bool empty() const {
    return event_types.empty() && policies.empty() && binaries.empty() && actions.empty() &&
           namespaces.empty();
  }
};

struct RedactRule {
  std::string pattern;      // RE2, applied to the rendered payload
  std::string replacement;  // RE2 rewrite (\1 ...), default "[REDACTED]"
};

struct TlsConfig {
  bool enabled = false;         // syslog: tls:// address; HTTP: https:// URL
  std::string ca_file;          // PEM bundle to verify the server; system store when empty
  std::string cert_file;        // client certificate (PEM), optional
  std::string key_file;         // client key (PEM), required with cert_file
  std::string server_name;      // SNI and name to verify; host of the address when empty
  bool insecure_skip_verify = false;
};

enum class SinkType { kStdout, kFile, kSyslog, kSplunkHec, kElasticsearch, kLoki, kWebhook };
std::string sinkTypeName(SinkType t);
inline bool isHttpSink(SinkType t) {
  return t == SinkType::kSplunkHec || t == SinkType::kElasticsearch || t == SinkType::kLoki ||
         t == SinkType::kWebhook;
}

struct SinkConfig {
  std::string name;
  SinkType type = SinkType::kStdout;
  Format format = Format::kJson;

  // Delivery.
  size_t queue_events = 65536;         // in-memory queue between submit() and the sink
  uint64_t spool_max_bytes = 0;        // bound of the spool (disk or memory)
  bool spool_on_disk = false;          // default: on for syslog and HTTP sinks
  FsyncPolicy spool_fsync = FsyncPolicy::kInterval;        // disk spool: when to fdatasync
  absl::Duration spool_fsync_interval = absl::Seconds(1);  // for kInterval
  double rate_limit_per_sec = 0;       // 0: unlimited
  double rate_limit_burst = 0;         // default: one second's worth

  FilterSpec allow, deny;
  std::vector<std::string> exclude_fields;  // protobuf paths inside the event, e.g. process.cap
  std::vector<RedactRule> redact;

  // file
  std::string path;
  uint64_t max_size_bytes = 100ull << 20;
  absl::Duration max_age = absl::ZeroDuration();  // 0: no age-based rotation
  int max_backups = 5;
  bool compress = false;
  uint32_t mode = 0600;

  // syslog
  std::string address;  // unix:///dev/log | udp://host:port | tcp://host:port | tls://host:port
  int facility = 16;    // local0
  std::string app_name = "vigil";

  // HTTP
  std::string url;
  std::string token_file;   // read at start; never on the command line
  std::string token;        // filled from token_file by parseExportersConfig
  std::string auth_scheme;  // Authorization scheme; per-type default (Splunk, ApiKey, Bearer)
  std::vector<std::pair<std::string, std::string>> headers;
  bool gzip = false;
  size_t batch_max_events = 500;
  size_t batch_max_bytes = 4u << 20;
  absl::Duration batch_max_delay = absl::Seconds(1);
  absl::Duration retry_initial_backoff = absl::Milliseconds(200);
  absl::Duration retry_max_backoff = absl::Seconds(30);
  // HTTP statuses retried besides 408, 429 and 5xx (e.g. 401/403 while credentials
  // are being fixed); every other 4xx is refused for good and counted.
  std::vector<int> retry_on_status;
  absl::Duration timeout = absl::Seconds(10);
  std::string index;                    // elasticsearch: target index / data stream; HEC: index
  std::string es_op_type = "create";    // elasticsearch: create | index
  std::string sourcetype = "vigil:event";  // HEC
  std::string source = "vigil";            // HEC
  bool hec_ack = false;                        // HEC indexer acknowledgement
  absl::Duration hec_ack_timeout = absl::Seconds(60);  // resend when not acknowledged by then
  std::map<std::string, std::string> labels;  // Loki static labels
  std::string webhook_body = "ndjson";        // webhook: ndjson | array

  TlsConfig tls;
};

struct ExportersConfig {
  std::string spool_dir = "/var/lib/vigil/spool";
  absl::Duration report_interval = absl::Seconds(10);  // how often drops are reported
  absl::Duration stop_timeout = absl::Seconds(5);      // stop(): time to deliver what is queued
  std::vector<SinkConfig> sinks;
};

// Parses the `exporters:` node. Errors name FILE:LINE:COL (1-based). Reads token
// files. Never throws.
absl::StatusOr<ExportersConfig> parseExportersConfig(const YAML::Node& node,
                                                     const std::string& file);
// Convenience for tests and tools: parses the `exporters:` key of a YAML document.
absl::StatusOr<ExportersConfig> parseExportersConfigString(const std::string& yaml,
                                                           const std::string& file);

}  // namespace vigil::exporters
