#include "exporters/exporter.h"

#include <pthread.h>
#include <unistd.h>

#include <deque>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "exporters/filter.h"
#include "exporters/formats.h"
#include "exporters/spool.h"
#include "exporters/transport.h"
#include "spdlog/spdlog.h"

namespace vigil::exporters {

using EventPtr = std::shared_ptr<const api::Event>;

class Sink {
 public:
  Sink(const SinkConfig& cfg, std::unique_ptr<Spool> spool, std::unique_ptr<Transport> transport)
      : cfg_(cfg),
        spool_(std::move(spool)),
        transport_(std::move(transport)),
        redactor_(cfg.redact),
        limiter_(cfg.rate_limit_per_sec, cfg.rate_limit_burst) {}

  ~Sink() { joinAll(); }

  const SinkConfig& config() const { return cfg_; }

  void start() {
    intake_ = std::thread([this] { intakeLoop(); });
    delivery_ = std::thread([this] { deliveryLoop(); });
    // "vx-in-NAME" / "vx-out-NAME" in top and gdb (15 characters at most).
    ::pthread_setname_np(intake_.native_handle(), ("vx-in-" + cfg_.name).substr(0, 15).c_str());
    ::pthread_setname_np(delivery_.native_handle(), ("vx-out-" + cfg_.name).substr(0, 15).c_str());
  }

  // Never blocks beyond a short critical section.
  void offer(const EventPtr& ev) {
    submitted_.fetch_add(1, std::memory_order_relaxed);
    {
      absl::MutexLock l(&mu_);
      if (!intake_stop_ && queue_.size() < cfg_.queue_events) {
        queue_.push_back(ev);
        if (queue_.size() == 1) cv_.Signal();
        return;
      }
    }
    dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
  }

  void setUrgent(bool on) {
    absl::MutexLock l(&dmu_);
    urgent_ += on ? 1 : -1;
    dcv_.Signal();
  }

  bool idle() const {
    {
      absl::MutexLock l(&mu_);
      if (!queue_.empty() || in_flight_) return false;
    }
    return spool_->records() == 0;
  }

  // Drains the memory queue into the spool and stops the intake thread.
  void stopIntake() {
    {
      absl::MutexLock l(&mu_);
      intake_stop_ = true;
      cv_.Signal();
    }
    if (intake_.joinable()) intake_.join();
  }

  void stopDelivery() {
    {
      absl::MutexLock l(&dmu_);
      delivery_stop_ = true;
      dcv_.Signal();
    }
    if (transport_) transport_->abort();  // a request in flight gives up; its batch stays spooled
    if (delivery_.joinable()) delivery_.join();
    transport_.reset();  // closes connections and files
    uint64_t left = spool_->records();
    if (left == 0) return;
    if (cfg_.spool_on_disk) {
      spdlog::info("sink {}: {} events kept in the spool for the next start", cfg_.name, left);
    } else {
      dropped_at_stop_.fetch_add(left, std::memory_order_relaxed);
      spdlog::error("sink {}: {} events not delivered at stop (memory spool)", cfg_.name, left);
    }
  }

  SinkStats stats() const {
    SinkStats s;
    s.name = cfg_.name;
    s.type = sinkTypeName(cfg_.type);
    s.submitted = submitted_.load();
    s.filtered = filtered_.load();
    s.spooled = spooled_.load();
    s.delivered = delivered_.load();
    s.retries = retries_.load();
    s.dropped_queue_full = dropped_queue_full_.load();
    s.dropped_spool_full = dropped_spool_full_.load();
    s.dropped_rate_limited = dropped_rate_limited_.load();
    s.dropped_rejected = dropped_rejected_.load();
    s.dropped_at_stop = dropped_at_stop_.load();
    s.dropped_corrupt = dropped_corrupt_.load() + spool_->corrupt();
    s.spool_corrupt_bytes = spool_->corruptBytes();
    s.spool_fsyncs = spool_->syncs();
    {
      absl::MutexLock l(&mu_);
      s.queue_depth = queue_.size() + in_flight_;
    }
    s.spool_bytes = spool_->bytes();
    s.spool_records = spool_->records();
    {
      absl::MutexLock l(&dmu_);
      s.last_error = last_error_;
    }
    return s;
  }

 private:
  void joinAll() {
    stopIntake();
    {
      absl::MutexLock l(&dmu_);
      delivery_stop_ = true;
      dcv_.Signal();
    }
    if (delivery_.joinable()) delivery_.join();
  }

  void intakeLoop() {
    for (;;) {
      std::deque<EventPtr> batch;
      {
        absl::MutexLock l(&mu_);
        while (queue_.empty() && !intake_stop_) {
          if (!spool_->syncPending()) {
            cv_.Wait(&mu_);
            continue;
          }
          // fsync: interval: written records become durable within the
          // interval even when no more events come.
          if (cv_.WaitWithTimeout(&mu_, cfg_.spool_fsync_interval) && queue_.empty()) {
            mu_.Unlock();
            (void)spool_->flush();
            mu_.Lock();
          }
        }
        if (queue_.empty()) break;  // stopping, and drained
        batch.swap(queue_);
        in_flight_ = batch.size();
      }
      for (const auto& ev : batch) process(*ev);
      if (auto st = spool_->flush(); !st.ok())
        spdlog::error("sink {}: {}", cfg_.name, std::string(st.message()));
      {
        absl::MutexLock l(&mu_);
        in_flight_ = 0;
      }
      absl::MutexLock l(&dmu_);
      dcv_.Signal();
    }
  }

  void process(const api::Event& in) {
    if (!passes(cfg_, in)) {
      filtered_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Vigil's own status events are never rate limited: they report the limits.
    if (!in.has_status() && !limiter_.allow()) {
      dropped_rate_limited_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const api::Event* ev = &in;
    api::Event trimmed;
    if (!cfg_.exclude_fields.empty()) {
      trimmed = in;
      excludeFields(cfg_.exclude_fields, &trimmed);
      ev = &trimmed;
    }
    Record r;
    r.time_ns = api::parseRfc3339Nanos(ev->time());
    r.severity = static_cast<uint8_t>(syslogSeverity(*ev));
    r.type = std::string(api::eventTypeName(*ev));
    r.host = ev->node_name();
    r.payload = render(cfg_.format, *ev);
    if (!redactor_.empty()) redactor_.apply(&r.payload);
    if (spool_->append(encodeRecord(r)))
      spooled_.fetch_add(1, std::memory_order_relaxed);
    else
      dropped_spool_full_.fetch_add(1, std::memory_order_relaxed);
  }

  // Waits on dcv_ for at most `d`; false when stopping.
  bool waitFor(absl::Duration d) {
    absl::MutexLock l(&dmu_);
    if (delivery_stop_) return false;
    dcv_.WaitWithTimeout(&dmu_, d);
    return !delivery_stop_;
  }

  void deliveryLoop() {
    std::mt19937_64 rng(std::random_device{}());
    absl::Duration backoff = cfg_.retry_initial_backoff;
    absl::Time batch_start = absl::InfinitePast();
    absl::Time last_log = absl::InfinitePast();
    bool failing = false;
    const bool batch_by_time = isHttpSink(cfg_.type) && cfg_.batch_max_delay > absl::ZeroDuration();
    const size_t max_events = isHttpSink(cfg_.type) ? cfg_.batch_max_events : 1024;
    for (;;) {
      {
        absl::MutexLock l(&dmu_);
        if (delivery_stop_) return;
      }
      std::vector<std::string> raw = spool_->peek(max_events, cfg_.batch_max_bytes);
      if (raw.empty()) {
        batch_start = absl::InfinitePast();
        if (!waitFor(absl::Milliseconds(200))) return;
        continue;
      }
      if (batch_by_time && raw.size() < max_events) {
        bool urgent;
        {
          absl::MutexLock l(&dmu_);
          urgent = urgent_ > 0;
        }
        absl::Time now = absl::Now();
        if (batch_start == absl::InfinitePast()) batch_start = now;
        if (!urgent && now - batch_start < cfg_.batch_max_delay) {
          if (!waitFor(batch_start + cfg_.batch_max_delay - now)) return;
          continue;
        }
      }
      batch_start = absl::InfinitePast();
      std::vector<Record> records(raw.size());
      for (size_t i = 0; i < raw.size(); ++i) {
        if (!decodeRecord(raw[i], &records[i])) {
          // Cannot happen for records this build wrote; never block the queue on one.
          dropped_corrupt_.fetch_add(1, std::memory_order_relaxed);
          records.resize(i);
          if (i == 0) {
            (void)spool_->commit(1);
            records.clear();
          }
          break;
        }
      }
      if (records.empty()) continue;
      SendResult res = transport_->send(records);
      if (res.done > 0) {
        // Counted before the commit empties the spool: flush() sees an empty
        // spool only with the counters already up to date.
        delivered_.fetch_add(res.done - res.rejected, std::memory_order_relaxed);
        dropped_rejected_.fetch_add(res.rejected, std::memory_order_relaxed);
        if (auto st = spool_->commit(res.done); !st.ok())
          spdlog::error("sink {}: {}", cfg_.name, std::string(st.message()));
      }
      if (!res.status.ok()) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        std::string msg(res.status.message());
        {
          absl::MutexLock l(&dmu_);
          last_error_ = msg;
        }
        absl::Time now = absl::Now();
        if (!failing || now - last_log > absl::Seconds(30)) {
          spdlog::warn("sink {}: delivery failed, retrying{} (events are spooled): {}", cfg_.name,
                       res.retry_after > absl::ZeroDuration()
                           ? absl::StrCat(" after ", absl::FormatDuration(res.retry_after), " (Retry-After)")
                           : std::string(),
                       msg);
          last_log = now;
        }
        failing = true;
        // Exponential backoff with jitter in [backoff/2, backoff].
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        absl::Duration wait = backoff * jitter(rng);
        if (res.retry_after > wait) wait = res.retry_after;  // the receiver's Retry-After
        backoff = std::min(backoff * 2, cfg_.retry_max_backoff);
        absl::Time until = absl::Now() + wait;
        for (;;) {
          absl::Duration left = until - absl::Now();
          if (left <= absl::ZeroDuration()) break;
          absl::MutexLock l(&dmu_);
          if (delivery_stop_) return;
          dcv_.WaitWithTimeout(&dmu_, left);
          if (delivery_stop_) return;
        }
        continue;
      }
      if (failing) {
        spdlog::info("sink {}: delivering again", cfg_.name);
        failing = false;
        absl::MutexLock l(&dmu_);
        last_error_.clear();
      }
      backoff = cfg_.retry_initial_backoff;
    }
  }

  const SinkConfig cfg_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<Transport> transport_;
  Redactor redactor_;
  RateLimiter limiter_;  // intake thread only

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<EventPtr> queue_ ABSL_GUARDED_BY(mu_);
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool intake_stop_ ABSL_GUARDED_BY(mu_) = false;

  mutable absl::Mutex dmu_;
  absl::CondVar dcv_;
  bool delivery_stop_ ABSL_GUARDED_BY(dmu_) = false;
  int urgent_ ABSL_GUARDED_BY(dmu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(dmu_);

  std::atomic<uint64_t> submitted_{0}, filtered_{0}, spooled_{0}, delivered_{0}, retries_{0};
  std::atomic<uint64_t> dropped_queue_full_{0}, dropped_spool_full_{0}, dropped_rate_limited_{0},
      dropped_rejected_{0}, dropped_at_stop_{0}, dropped_corrupt_{0};

  std::thread intake_, delivery_;
};

// ---- Exporter ----------------------------------------------------------------

Exporter::Exporter(ExportersConfig cfg, ExporterOptions opts) : cfg_(std::move(cfg)), opts_(std::move(opts)) {}

absl::StatusOr<std::unique_ptr<Exporter>> Exporter::create(const ExportersConfig& cfg, ExporterOptions opts) {
  std::unique_ptr<Exporter> ex(new Exporter(cfg, std::move(opts)));
  for (const auto& sc : cfg.sinks) {
    std::unique_ptr<Spool> spool;
    if (sc.spool_on_disk) {
      SpoolOptions so;
      so.fsync = sc.spool_fsync;
      so.fsync_interval = sc.spool_fsync_interval;
      auto ds = DiskSpool::open(absl::StrCat(cfg.spool_dir, "/", sc.name), sc.spool_max_bytes, so);
      if (!ds.ok()) return absl::Status(ds.status().code(), absl::StrCat("sink ", sc.name, ": ", ds.status().message()));
      spool = *std::move(ds);
    } else {
      spool = std::make_unique<MemorySpool>(sc.spool_max_bytes);
    }
    auto t = makeTransport(sc);
    if (!t.ok()) return absl::Status(t.status().code(), absl::StrCat("sink ", sc.name, ": ", t.status().message()));
    ex->sinks_.push_back(std::make_unique<Sink>(sc, std::move(spool), *std::move(t)));
  }
  {
    absl::MutexLock l(&ex->report_mu_);
    ex->reported_.assign(ex->sinks_.size(), 0);
  }
  for (auto& s : ex->sinks_) s->start();
  Exporter* raw = ex.get();
  ex->reporter_ = std::thread([raw] { raw->reporterLoop(); });
  return ex;
}

Exporter::~Exporter() { stop(); }

void Exporter::submit(const api::Event& ev) {
  if (stopped_.load(std::memory_order_relaxed) || sinks_.empty()) return;
  auto shared = std::make_shared<const api::Event>(ev);
  for (auto& s : sinks_) s->offer(shared);
}

Stats Exporter::stats() const {
  Stats st;
  for (const auto& s : sinks_) st.sinks.push_back(s->stats());
  return st;
}

bool Exporter::flush(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  for (auto& s : sinks_) s->setUrgent(true);
  bool ok = false;
  for (;;) {
    bool idle = true;
    for (auto& s : sinks_) idle = idle && s->idle();
    if (idle) {
      ok = true;
      break;
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  for (auto& s : sinks_) s->setUrgent(false);
  return ok;
}

void Exporter::reportDrops() {
  std::vector<api::Event> reports;
  {
    absl::MutexLock l(&report_mu_);
    for (size_t i = 0; i < sinks_.size(); ++i) {
      SinkStats s = sinks_[i]->stats();
      uint64_t total = s.dropped();
      if (total <= reported_[i]) continue;
      uint64_t delta = total - reported_[i];
      reported_[i] = total;
      api::Event ev;
      auto* st = ev.mutable_status();
      st->set_kind(api::Status::KIND_EXPORTER_DROPPED);
      st->set_subject(s.name);
      st->set_count(delta);
      st->set_message(absl::StrCat(
          "sink ", s.name, " dropped ", delta, " events (total ", total, ": queue full ", s.dropped_queue_full,
          ", spool full ", s.dropped_spool_full, ", rate limited ", s.dropped_rate_limited,
          ", refused by receiver ", s.dropped_rejected, ", at stop ", s.dropped_at_stop, ", corrupt spool ",
          s.dropped_corrupt, " (", s.spool_corrupt_bytes, " bytes))"));
      std::string node = opts_.node_name;
      if (node.empty()) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        node = host;
      }
      ev.set_node_name(node);
      ev.set_time(api::formatRfc3339Nanos(absl::ToUnixNanos(absl::Now())));
      ev.set_schema_version(api::SCHEMA_VERSION_1);
      spdlog::warn("exporters: {}", st->message());
      reports.push_back(std::move(ev));
    }
  }
  for (const auto& ev : reports) {
    submit(ev);
    if (opts_.on_status) opts_.on_status(ev);
  }
}

void Exporter::reporterLoop() {
  for (;;) {
    {
      absl::MutexLock l(&stop_mu_);
      absl::Time until = absl::Now() + cfg_.report_interval;
      while (!stop_requested_ && absl::Now() < until) stop_cv_.WaitWithDeadline(&stop_mu_, until);
      if (stop_requested_) return;
    }
    reportDrops();
  }
}

void Exporter::stop() {
  {
    absl::MutexLock l(&stop_mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
    stop_cv_.Signal();
  }
  if (reporter_.joinable()) reporter_.join();
  reportDrops();  // while the sinks still take events
  stopped_.store(true);
  for (auto& s : sinks_) s->stopIntake();
  for (auto& s : sinks_) s->setUrgent(true);
  absl::Time deadline = absl::Now() + cfg_.stop_timeout;
  for (;;) {
    bool idle = true;
    for (auto& s : sinks_) idle = idle && s->idle();
    if (idle || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  for (auto& s : sinks_) s->stopDelivery();
  // Drops only known now (memory spools at stop) go to the callback and the log.
  absl::MutexLock l(&report_mu_);
  for (size_t i = 0; i < sinks_.size(); ++i) {
    SinkStats s = sinks_[i]->stats();
    if (s.dropped() <= reported_[i]) continue;
    api::Event ev;
    auto* st = ev.mutable_status();
    st->set_kind(api::Status::KIND_EXPORTER_DROPPED);
    st->set_subject(s.name);
    st->set_count(s.dropped() - reported_[i]);
    st->set_message(absl::StrCat("sink ", s.name, " dropped ", st->count(), " events at stop"));
    ev.set_node_name(opts_.node_name);
    ev.set_time(api::formatRfc3339Nanos(absl::ToUnixNanos(absl::Now())));
    ev.set_schema_version(api::SCHEMA_VERSION_1);
    reported_[i] = s.dropped();
    spdlog::error("exporters: {}", st->message());
    if (opts_.on_status) opts_.on_status(ev);
  }
}

}  // namespace vigil::exporters
