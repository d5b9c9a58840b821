// The exporters: every sink of the `exporters:` configuration, each with its own
// bounded queue, worker threads, format, filters, redaction, rate limit and
// spool. The daemon calls submit() for every event; it never blocks.
//
//   auto cfg = parseExportersConfig(yaml["exporters"], "/etc/vigil/vigil.yaml");
//   auto ex = Exporter::create(*cfg, {.on_status = ...});
//   (*ex)->submit(event);          // pipeline thread, never blocks
//   (*ex)->stats();                // counters per sink
//   (*ex)->stop();                 // at shutdown: drain to receivers / spool
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exporters/config.h"
#include "vigil/events.pb.h"

namespace vigil::exporters {

struct SinkStats {
  std::string name;
  std::string type;
  uint64_t submitted = 0;             // events offered to this sink
  uint64_t filtered = 0;              // not for this sink (allow/deny filters)
  uint64_t spooled = 0;               // rendered and queued for delivery
  uint64_t delivered = 0;             // confirmed by the receiver (or written)
  uint64_t retries = 0;               // failed delivery attempts (retried)
  // Drops, each counted exactly and reported (Status KIND_EXPORTER_DROPPED):
  uint64_t dropped_queue_full = 0;    // in-memory queue full at submit()
  uint64_t dropped_spool_full = 0;    // spool bound reached
  uint64_t dropped_rate_limited = 0;  // over the sink's rate limit
  uint64_t dropped_rejected = 0;      // refused for good by the receiver (HTTP 4xx, too large)
  uint64_t dropped_at_stop = 0;       // memory spool still holding events at stop()
  uint64_t dropped_corrupt = 0;       // disk spool: damaged regions skipped (each lost >= 1 record)
  uint64_t spool_corrupt_bytes = 0;   // disk spool: bytes in them
  uint64_t spool_fsyncs = 0;          // disk spool: fdatasync calls (spool.fsync)
  uint64_t queue_depth = 0;           // events waiting in memory
  uint64_t spool_bytes = 0;           // bytes waiting in the spool
  uint64_t spool_records = 0;
  std::string last_error;             // last delivery error, empty once delivery works again
  uint64_t dropped() const {
    return dropped_queue_full + dropped_spool_full + dropped_rate_limited + dropped_rejected +
           dropped_at_stop + dropped_corrupt;
  }
};

struct Stats {
  std::vector<SinkStats> sinks;
};

struct ExporterOptions {
  // node_name of the Status events the exporters emit (the host name when empty).
  std::string node_name;
  // Called (from the exporter's reporter thread) with every Status event the
  // exporters emit (KIND_EXPORTER_DROPPED). The exporter already delivers these
  // to its own sinks: use this for counters/logs, do not submit() them again.
  std::function<void(const api::Event&)> on_status;
};

class Sink;

class Exporter {
 public:
  // Opens every sink (spool directories, files, TLS material). Fails with an
  // actionable message; nothing is started then.
  static absl::StatusOr<std::unique_ptr<Exporter>> create(const ExportersConfig& cfg,
                                                          ExporterOptions opts = {});
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Hands the event to every sink. Never blocks (a full sink queue counts a drop).
  // Thread-safe. After stop() it does nothing.
  void submit(const api::Event& ev);
  Stats stats() const;
  // Waits until every sink has delivered everything queued so far; false on timeout.
  bool flush(absl::Duration timeout);
  // Emits the drop report now (also done every report_interval and at stop()).
  void reportDrops();
  // Stops accepting, drains memory queues into the spools, delivers for up to
  // stop_timeout, and leaves what remains in the disk spools for the next start.
  // Idempotent.
  void stop();

 private:
  Exporter(ExportersConfig cfg, ExporterOptions opts);
  void reporterLoop();

  ExportersConfig cfg_;
  ExporterOptions opts_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::atomic<bool> stopped_{false};
  absl::Mutex report_mu_;
  std::vector<uint64_t> reported_ ABSL_GUARDED_BY(report_mu_);  // drops reported, per sink
  absl::Mutex stop_mu_;
  absl::CondVar stop_cv_;
  bool stop_requested_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread reporter_;
};

}  // namespace vigil::exporters
