// Transports: how a sink hands records to its receiver. Each is used by one
// delivery thread; send() may block (bounded by the configured timeouts).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporters/config.h"
#include "exporters/spool.h"

namespace vigil::exporters {

struct SendResult {
  size_t done = 0;      // leading records finished (delivered, or rejected for good)
  size_t rejected = 0;  // of those, how many the receiver refused for good (counted, logged)
  absl::Status status;  // not OK: retry the rest after a backoff
  // With a failed status: the receiver asked to wait this long before the next
  // attempt (HTTP Retry-After); zero when it did not say.
  absl::Duration retry_after = absl::ZeroDuration();
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual SendResult send(const std::vector<Record>& batch) = 0;
  // From another thread: make a send() in progress give up soon (at stop).
  virtual void abort() {}
};

absl::StatusOr<std::unique_ptr<Transport>> makeTransport(const SinkConfig& cfg);

// ---- payload shapes (exposed for tests) -------------------------------------

// RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG (no framing).
std::string syslogMessage(const SinkConfig& cfg, const Record& r, int pid);
// One Splunk HEC event object.
std::string hecEvent(const SinkConfig& cfg, const Record& r);
// Elasticsearch _bulk body (action + document lines), ids from recordId().
std::string bulkBody(const SinkConfig& cfg, const std::vector<Record>& batch);
// Loki push body: one stream per (static labels, node, event type).
std::string lokiBody(const SinkConfig& cfg, const std::vector<Record>& batch);
// Generic webhook body: NDJSON or a JSON array.
std::string webhookBody(const SinkConfig& cfg, const std::vector<Record>& batch);
// Deterministic document id of a record (idempotent retries into Elasticsearch).
std::string recordId(const Record& r);
// gzip (RFC 1952) of `data`.
absl::StatusOr<std::string> gzipCompress(const std::string& data);

}  // namespace vigil::exporters
