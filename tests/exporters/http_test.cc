// HTTP sinks (Splunk HEC, Elasticsearch _bulk, Loki push, webhook) against a
// real HTTP server process (tests/exporters/http_receiver.py) that logs every
// request it gets: request shapes, headers, gzip, batching, TLS with client
// certificates, retries, and the fault tests (receiver down for a while, a
// daemon restart in between, a spool bound exceeded).
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "exporters/exporter.h"
#include "exporters/formats.h"
#include "exporters/spool.h"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "spdlog/spdlog.h"
#include "tests/exporters/it_util.h"
#include "tests/exporters/test_events.h"

namespace vigil::exporters {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using namespace vigil::exporters::testing;

Struct parseJson(const std::string& s) {
  Struct out;
  auto st = google::protobuf::util::JsonStringToMessage(s, &out);
  EXPECT_TRUE(st.ok()) << st.message() << ": " << s.substr(0, 300);
  return out;
}

const Value* field(const Struct& s, const std::string& dotted) {
  const Struct* cur = &s;
  const Value* v = nullptr;
  std::vector<std::string> parts = absl::StrSplit(dotted, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    auto it = cur->fields().find(parts[i]);
    if (it == cur->fields().end()) return nullptr;
    v = &it->second;
    if (i + 1 < parts.size()) cur = &v->struct_value();
  }
  return v;
}

std::string fstr(const Struct& s, const std::string& path) {
  const Value* v = field(s, path);
  return v ? v->string_value() : "<missing " + path + ">";
}

api::Event numbered(int i) {
  api::Event ev = lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE);
  ev.mutable_process_lsm()->mutable_process()->set_pid(100000 + i);
  return ev;
}

// pid - 100000 of an event's JSON/ECS rendering, or -1.
int seqOf(const Struct& doc) {
  for (const char* p : {"process_lsm.process.pid", "process.pid"}) {
    const Value* v = field(doc, p);
    if (v && v->has_number_value()) return static_cast<int>(v->number_value()) - 100000;
  }
  return -1;
}

struct Request {
  std::string path;
  std::map<std::string, std::string> headers;
  std::string body;
  int status = 0;
  size_t raw_size = 0;
  double time = 0;                  // arrival, seconds since the epoch
  std::vector<std::string> stored_ids;
  int ack_id = -1;                  // hec-ack: the ackId given to this event request
  std::vector<int> acked;           // hec-ack: ackIds this poll reported as indexed
};

std::vector<Request> readRequests(const std::string& log) {
  std::vector<Request> out;
  for (const auto& line : it::readLines(log)) {
    Struct s = parseJson(line);
    Request r;
    r.path = fstr(s, "path");
    for (const auto& [k, v] : field(s, "headers")->struct_value().fields()) r.headers[k] = v.string_value();
    r.body = fstr(s, "body");
    r.status = static_cast<int>(field(s, "status")->number_value());
    r.raw_size = static_cast<size_t>(field(s, "raw_size")->number_value());
    r.time = field(s, "time")->number_value();
    if (const Value* id = field(s, "ack_id")) r.ack_id = static_cast<int>(id->number_value());
    if (const Value* a = field(s, "acked"))
      for (const auto& id : a->list_value().values()) r.acked.push_back(static_cast<int>(id.number_value()));
    if (const Value* ids = field(s, "stored_ids"))
      for (const auto& id : ids->list_value().values()) r.stored_ids.push_back(id.string_value());
    out.push_back(std::move(r));
  }
  return out;
}

class HttpSinks : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = it::findProgram({"/usr/bin/python3"});
    if (python_.empty()) {
      GTEST_FAIL() << "python3 not installed (scripts/install-deps installs it)";
    }
    dir_ = it::tempDir("vigil-http");
    std::ofstream(dir_ + "/token") << "s3cr3t\n";
  }
  void TearDown() override {
    server_.stop();
    std::filesystem::remove_all(dir_);
  }

  void startServer(int port, const std::string& log, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {python_, std::string(VIGIL_SOURCE_DIR) + "/tests/exporters/http_receiver.py",
                                     "--port", std::to_string(port), "--log", log};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_.start(argv, dir_ + "/server.out");
    ASSERT_TRUE(it::waitForTcpPort(port, absl::Seconds(20))) << "test HTTP server did not start";
  }

  std::unique_ptr<Exporter> exporter(const std::string& sink_yaml, const std::string& extra_top = "",
                                     std::function<void(const api::Event&)> on_status = nullptr) {
    std::string yaml = absl::StrCat("exporters:\n  spool_dir: ", dir_, "/spool\n  stop_timeout: 1s\n", extra_top,
                                    "  sinks:\n", sink_yaml);
    auto cfg = parseExportersConfigString(yaml, "test.yaml");
    EXPECT_TRUE(cfg.ok()) << cfg.status();
    if (!cfg.ok()) return nullptr;
    ExporterOptions opts;
    opts.node_name = "web-1";
    opts.on_status = std::move(on_status);
    auto ex = Exporter::create(*cfg, opts);
    EXPECT_TRUE(ex.ok()) << ex.status();
    return ex.ok() ? *std::move(ex) : nullptr;
  }

  // Waits until the log holds `n` documents in successful requests.
  std::vector<Request> waitForDocs(const std::string& log, size_t n, absl::Duration timeout,
                                   const std::function<size_t(const Request&)>& count) {
    absl::Time until = absl::Now() + timeout;
    for (;;) {
      auto reqs = readRequests(log);
      size_t got = 0;
      for (const auto& r : reqs)
        if (r.status == 200) got += count(r);
      if (got >= n || absl::Now() >= until) return reqs;
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  // Waits until the sink has spooled n events, so that the next flush() sends
  // full batches (flush() sends what is there without waiting for max_delay).
  static void waitSpooled(Exporter& ex, uint64_t n) {
    absl::Time until = absl::Now() + absl::Seconds(10);
    while (ex.stats().sinks[0].spooled < n && absl::Now() < until) absl::SleepFor(absl::Milliseconds(5));
    ASSERT_EQ(ex.stats().sinks[0].spooled, n);
  }

  // Submits numbered(0 .. n-1), lets them reach the spool, and delivers them.
  static void sendNumbered(Exporter& ex, int n) {
    for (int i = 0; i < n; ++i) ex.submit(numbered(i));
    waitSpooled(ex, n);
    ASSERT_TRUE(ex.flush(absl::Seconds(30))) << ex.stats().sinks[0].last_error;
  }

  std::string python_, dir_;
  it::Child server_;
};

size_t lineCount(const Request& r) {
  return std::count(r.body.begin(), r.body.end(), '\n');
}

TEST_F(HttpSinks, SplunkHecShapesHeadersGzipAndBatching) {
  int port = it::freePort();
  std::string log = dir_ + "/hec.log";
  startServer(port, log);
  auto ex = exporter(absl::StrCat("    - name: splunk\n      type: splunk_hec\n      url: http://127.0.0.1:", port,
                                  "\n      token_file: ", dir_, "/token\n      gzip: true\n      index: security\n"
                                  "      batch: {max_events: 100, max_delay: 500ms}\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 250; ++i) ex->submit(numbered(i));
  auto reqs = waitForDocs(log, 250, absl::Seconds(30), lineCount);
  ASSERT_EQ(reqs.size(), 3u);
  std::vector<size_t> sizes;
  int next = 0;
  for (const auto& r : reqs) {
    EXPECT_EQ(r.path, "/services/collector/event");
    EXPECT_EQ(r.headers.at("Authorization"), "Splunk s3cr3t");
    EXPECT_EQ(r.headers.at("Content-Encoding"), "gzip");
    EXPECT_EQ(r.headers.at("Content-Type"), "application/json");
    EXPECT_LT(r.raw_size * 5, r.body.size()) << "gzip should shrink repetitive events";
    std::vector<std::string> lines = absl::StrSplit(r.body, '\n', absl::SkipEmpty());
    sizes.push_back(lines.size());
    for (const auto& line : lines) {
      Struct e = parseJson(line);
      EXPECT_EQ(field(e, "time")->number_value(), 1795459212.123);
      EXPECT_EQ(fstr(e, "host"), "web-1");
      EXPECT_EQ(fstr(e, "source"), "vigil");
      EXPECT_EQ(fstr(e, "sourcetype"), "vigil:event");
      EXPECT_EQ(fstr(e, "index"), "security");
      Struct event = field(e, "event")->struct_value();
      EXPECT_EQ(seqOf(event), next++);
      EXPECT_EQ(fstr(event, "process_lsm.policy_name"), "no-exec-from-tmp");
    }
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{100, 100, 50}));
  EXPECT_EQ(ex->stats().sinks[0].delivered, 250u);
}

TEST_F(HttpSinks, ElasticsearchBulkShapesItemErrorsAndIdempotentRetries) {
  int port = it::freePort();
  std::string log = dir_ + "/bulk.log";
  startServer(port, log, {"--mode", "bulk"});
  auto ex = exporter(absl::StrCat("    - name: es\n      type: elasticsearch\n      url: http://127.0.0.1:", port,
                                  "\n      token_file: ", dir_, "/token\n      index: vigil-events\n"
                                  "      batch: {max_events: 50, max_delay: 100ms}\n"
                                  "      retry: {initial_backoff: 50ms}\n"));
  ASSERT_TRUE(ex);
  const int n = 120;
  for (int i = 0; i < n; ++i) {
    api::Event ev = numbered(i);
    if (i == 30) ev.mutable_process_lsm()->set_message("reject-me");  // 400: refused for good
    if (i == 70) ev.mutable_process_lsm()->set_message("retry-me");   // 429 once, then stored
    ex->submit(ev);
  }
  ASSERT_TRUE(ex->flush(absl::Seconds(30)));
  auto reqs = readRequests(log);
  ASSERT_GE(reqs.size(), 3u);
  std::vector<int> stored_seq;
  std::set<std::string> ids;
  for (const auto& r : reqs) {
    EXPECT_EQ(r.path, "/_bulk");
    EXPECT_EQ(r.headers.at("Content-Type"), "application/x-ndjson");
    EXPECT_EQ(r.headers.at("Authorization"), "ApiKey s3cr3t");
    std::vector<std::string> lines = absl::StrSplit(r.body, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size() % 2, 0u);
    std::set<std::string> stored(r.stored_ids.begin(), r.stored_ids.end());
    for (size_t i = 0; i < lines.size(); i += 2) {
      Struct action = parseJson(lines[i]);
      EXPECT_EQ(fstr(action, "create._index"), "vigil-events");
      std::string id = fstr(action, "create._id");
      EXPECT_EQ(id.size(), 32u);
      Struct doc = parseJson(lines[i + 1]);
      EXPECT_EQ(fstr(doc, "ecs.version"), "8.11.0");  // ECS is the default format for elasticsearch
      EXPECT_EQ(fstr(doc, "rule.name"), "no-exec-from-tmp");
      if (stored.count(id)) {
        EXPECT_TRUE(ids.insert(id).second) << "stored twice";
        stored_seq.push_back(seqOf(doc));
      }
    }
  }
  // Every event but the refused one is stored exactly once. _bulk applies the
  // items of a request independently, so the item retried after its 429 is
  // stored after the rest of its batch; everything else keeps its order.
  std::vector<int> want;
  for (int i = 0; i < n; ++i)
    if (i != 30 && i != 70) want.push_back(i);
  std::vector<int> without_retried;
  for (int v : stored_seq)
    if (v != 70) without_retried.push_back(v);
  EXPECT_EQ(without_retried, want);
  EXPECT_EQ(std::count(stored_seq.begin(), stored_seq.end(), 70), 1);
  // Only the item refused transiently is resent: not the items stored (or
  // refused for good) alongside it.
  std::map<int, int> sent;
  for (const auto& r : reqs) {
    std::vector<std::string> lines = absl::StrSplit(r.body, '\n', absl::SkipEmpty());
    for (size_t i = 1; i < lines.size(); i += 2) ++sent[seqOf(parseJson(lines[i]))];
  }
  ASSERT_EQ(sent.size(), static_cast<size_t>(n));
  for (const auto& [seq, times] : sent) EXPECT_EQ(times, seq == 70 ? 2 : 1) << "event " << seq;
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.delivered, static_cast<uint64_t>(n - 1));
  EXPECT_EQ(s.dropped_rejected, 1u);
  EXPECT_GE(s.retries, 1u);
}

// Grafana Loki is not packaged in Debian (Debian's `loki` is an unrelated
// genetics program), so Loki's push API is checked for shape here only.
TEST_F(HttpSinks, LokiPushShape) {
  int port = it::freePort();
  std::string log = dir_ + "/loki.log";
  startServer(port, log);
  auto ex = exporter(absl::StrCat("    - name: loki\n      type: loki\n      url: http://127.0.0.1:", port,
                                  "\n      labels: {env: prod}\n      batch: {max_events: 1000, max_delay: 100ms}\n"));
  ASSERT_TRUE(ex);
  ex->submit(numbered(0));
  ex->submit(execEvent());
  ex->submit(numbered(1));
  waitSpooled(*ex, 3);  // one request: flush() would send what it finds at once
  ASSERT_TRUE(ex->flush(absl::Seconds(10)));
  auto reqs = readRequests(log);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/loki/api/v1/push");
  EXPECT_EQ(reqs[0].headers.at("Content-Type"), "application/json");
  Struct body = parseJson(reqs[0].body);
  const auto& streams = field(body, "streams")->list_value().values();
  ASSERT_EQ(streams.size(), 2);
  const Struct& s0 = streams[0].struct_value();
  EXPECT_EQ(fstr(s0, "stream.event_type"), "process_lsm");
  EXPECT_EQ(fstr(s0, "stream.env"), "prod");
  EXPECT_EQ(fstr(s0, "stream.job"), "vigil");
  EXPECT_EQ(fstr(s0, "stream.node_name"), "web-1");
  const auto& values = field(s0, "values")->list_value().values();
  ASSERT_EQ(values.size(), 2);
  EXPECT_EQ(values[0].list_value().values(0).string_value(), "1795459212123456789");
  EXPECT_EQ(values[0].list_value().values(1).string_value(), api::renderJson(numbered(0)));
  EXPECT_EQ(values[1].list_value().values(1).string_value(), api::renderJson(numbered(1)));
  EXPECT_EQ(fstr(streams[1].struct_value(), "stream.event_type"), "process_exec");
}

TEST_F(HttpSinks, WebhookOverMutualTlsWithRetries) {
  ASSERT_TRUE(it::makeCerts(dir_));
  int port = it::freePort();
  std::string log = dir_ + "/hook.log";
  startServer(port, log,
              {"--tls-cert", dir_ + "/server.pem", "--tls-key", dir_ + "/server.key", "--tls-client-ca",
               dir_ + "/ca.pem", "--fail-first", "3"});
  auto ex = exporter(absl::StrCat("    - name: hook\n      type: webhook\n      url: https://localhost:", port,
                                  "/ingest\n      token_file: ", dir_, "/token\n      body: array\n      format: ocsf\n"
                                  "      batch: {max_events: 40, max_delay: 50ms}\n"
                                  "      retry: {initial_backoff: 50ms, max_backoff: 400ms}\n"
                                  "      tls: {ca_file: ", dir_, "/ca.pem, cert_file: ", dir_,
                                  "/client.pem, key_file: ", dir_, "/client.key}\n"));
  ASSERT_TRUE(ex);
  for (int i = 0; i < 100; ++i) ex->submit(numbered(i));
  ASSERT_TRUE(ex->flush(absl::Seconds(30)));
  auto reqs = readRequests(log);
  int failures = 0, next = 0;
  for (const auto& r : reqs) {
    EXPECT_EQ(r.path, "/ingest");
    EXPECT_EQ(r.headers.at("Authorization"), "Bearer s3cr3t");
    if (r.status != 200) {
      ++failures;
      continue;
    }
    Value arr;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.body, &arr).ok());
    for (const auto& doc : arr.list_value().values()) {
      EXPECT_EQ(field(doc.struct_value(), "class_uid")->number_value(), 2004);
      EXPECT_EQ(static_cast<int>(field(doc.struct_value(), "evidences")->list_value().values(0)
                                     .struct_value().fields().at("process").struct_value().fields().at("pid")
                                     .number_value()) - 100000,
                next++);
    }
  }
  EXPECT_EQ(failures, 3);
  EXPECT_EQ(next, 100);
  EXPECT_GE(ex->stats().sinks[0].retries, 3u);
  ex.reset();  // closes its connection (the test server serves one at a time)

  // Without the client certificate the server refuses the handshake.
  std::filesystem::remove_all(dir_ + "/spool");
  auto bad = exporter(absl::StrCat("    - name: hook\n      type: webhook\n      url: https://localhost:", port,
                                   "/ingest\n      timeout: 2s\n      retry: {initial_backoff: 50ms}\n"
                                   "      tls: {ca_file: ", dir_, "/ca.pem}\n"));
  ASSERT_TRUE(bad);
  size_t before = readRequests(log).size();
  bad->submit(numbered(0));
  EXPECT_FALSE(bad->flush(absl::Seconds(3)));
  auto s = bad->stats().sinks[0];
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_GE(s.retries, 1u);
  EXPECT_FALSE(s.last_error.empty());
  EXPECT_EQ(readRequests(log).size(), before);
}

// Captures what the exporters log (spdlog's default logger) while alive.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string find(const std::string& needle) const {
    for (const auto& line : sink_->last_formatted())
      if (line.find(needle) != std::string::npos) return line;
    return "";
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

// 429 and 503 with Retry-After: the next attempt waits what the receiver
// asked, not the (much shorter) backoff.
TEST_F(HttpSinks, RetryAfterIsHonouredOn429And503) {
  for (const char* status : {"429", "503"}) {
    SCOPED_TRACE(status);
    int port = it::freePort();
    std::string log = absl::StrCat(dir_, "/retry-after-", status, ".log");
    std::filesystem::remove_all(dir_ + "/spool");
    startServer(port, log, {"--fail-first", "2", "--fail-status", status, "--retry-after", "1"});
    auto ex = exporter(absl::StrCat("    - name: hook\n      type: webhook\n      url: http://127.0.0.1:", port,
                                    "/in\n      batch: {max_events: 10, max_delay: 200ms}\n"
                                    "      retry: {initial_backoff: 20ms, max_backoff: 100ms}\n"));
    ASSERT_TRUE(ex);
    ASSERT_NO_FATAL_FAILURE(sendNumbered(*ex, 10));
    auto reqs = readRequests(log);
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[0].status, std::atoi(status));
    EXPECT_EQ(reqs[1].status, std::atoi(status));
    EXPECT_EQ(reqs[2].status, 200);
    EXPECT_GE(reqs[1].time - reqs[0].time, 0.95);
    EXPECT_GE(reqs[2].time - reqs[1].time, 0.95);
    EXPECT_LT(reqs[2].time - reqs[0].time, 5.0);
    for (const auto& r : reqs) EXPECT_EQ(r.body, reqs[0].body);  // the same batch, resent
    auto s = ex->stats().sinks[0];
    EXPECT_EQ(s.delivered, 10u);
    EXPECT_EQ(s.retries, 2u);
    EXPECT_EQ(s.dropped(), 0u);
    ex.reset();
    server_.stop();
  }
}

// A 4xx other than 408/429 will not change by retrying: the batch is counted as
// refused (reported as a drop), logged with the status and the receiver's
// answer, and delivery goes on with the next batch. retry.on_status makes a
// status retryable (401 while a token is being fixed).
TEST_F(HttpSinks, PermanentClientErrorsAreCountedLoggedAndNotRetried) {
  LogCapture logs;
  int port = it::freePort();
  std::string log = dir_ + "/400.log";
  startServer(port, log, {"--fail-first", "1", "--fail-status", "400"});
  std::mutex mu;
  uint64_t reported = 0;
  auto ex = exporter(absl::StrCat("    - name: hook\n      type: webhook\n      url: http://127.0.0.1:", port,
                                  "/in\n      batch: {max_events: 5, max_delay: 200ms}\n"
                                  "      filters: {deny: {event_types: [status]}}\n"
                                  "      retry: {initial_backoff: 20ms, max_backoff: 100ms}\n"),
                     "  report_interval: 1h\n", [&](const api::Event& st) {
                       std::lock_guard<std::mutex> l(mu);
                       reported += st.status().count();
                     });
  ASSERT_TRUE(ex);
  ASSERT_NO_FATAL_FAILURE(sendNumbered(*ex, 10));
  auto reqs = readRequests(log);
  ASSERT_EQ(reqs.size(), 2u) << "the refused batch must not be resent";
  EXPECT_EQ(reqs[0].status, 400);
  EXPECT_EQ(reqs[1].status, 200);
  EXPECT_EQ(lineCount(reqs[0]), 5u);
  EXPECT_EQ(seqOf(parseJson(reqs[1].body.substr(0, reqs[1].body.find('\n')))), 5);
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.delivered, 5u);
  EXPECT_EQ(s.dropped_rejected, 5u);
  EXPECT_EQ(s.retries, 0u);
  std::string line = logs.find("refused a batch of 5 events");
  EXPECT_NE(line.find("HTTP 400"), std::string::npos) << line;
  EXPECT_NE(line.find("Invalid data format"), std::string::npos) << line;  // the receiver's answer
  ex->reportDrops();
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(reported, 5u);
  }
  ex.reset();
  server_.stop();

  // 401 listed in retry.on_status, and a redirect (not followed: the URL is
  // wrong): retried until it works, nothing dropped.
  for (const char* status : {"401", "307"}) {
    SCOPED_TRACE(status);
    ex.reset();
    server_.stop();
    std::filesystem::remove_all(dir_ + "/spool");
    port = it::freePort();
    log = absl::StrCat(dir_, "/", status, ".log");
    startServer(port, log, {"--fail-first", "2", "--fail-status", status});
    ex = exporter(absl::StrCat("    - name: hook\n      type: webhook\n      url: http://127.0.0.1:", port,
                               "/in\n      batch: {max_events: 5, max_delay: 200ms}\n"
                               "      retry: {initial_backoff: 20ms, max_backoff: 100ms, on_status: [401, 403]}\n"));
    ASSERT_TRUE(ex);
    ASSERT_NO_FATAL_FAILURE(sendNumbered(*ex, 5));
    reqs = readRequests(log);
    ASSERT_EQ(reqs.size(), 3u);
    EXPECT_EQ(reqs[0].status, std::atoi(status));
    EXPECT_EQ(reqs[2].status, 200);
    s = ex->stats().sinks[0];
    EXPECT_EQ(s.delivered, 5u);
    EXPECT_EQ(s.retries, 2u);
    EXPECT_EQ(s.dropped(), 0u);
  }
}

// 413: the batch is split in halves until the receiver takes it; nothing lost,
// order kept.
TEST_F(HttpSinks, PayloadTooLargeSplitsTheBatch) {
  int port = it::freePort();
  std::string log = dir_ + "/413.log";
  startServer(port, log, {"--max-events", "3"});
  auto ex = exporter(absl::StrCat("    - name: hook\n      type: webhook\n      url: http://127.0.0.1:", port,
                                  "/in\n      batch: {max_events: 10, max_delay: 200ms}\n"));
  ASSERT_TRUE(ex);
  ASSERT_NO_FATAL_FAILURE(sendNumbered(*ex, 10));
  std::vector<int> seq;
  int refused = 0;
  for (const auto& r : readRequests(log)) {
    if (r.status == 413) {
      ++refused;
      continue;
    }
    for (const auto& line : absl::StrSplit(r.body, '\n', absl::SkipEmpty()))
      seq.push_back(seqOf(parseJson(std::string(line))));
  }
  EXPECT_EQ(refused, 3);  // 10, then 5 and 5
  std::vector<int> want(10);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(seq, want);
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.delivered, 10u);
  EXPECT_EQ(s.dropped(), 0u);
}

// Splunk indexer acknowledgement. Every request carries the sink's channel;
// a batch is delivered only once /services/collector/ack says its ackId was
// indexed. The receiver never acknowledges ackId 0 (an indexer that lost the
// batch): after ack.timeout that batch is resent, and every event ends up in an
// acknowledged batch exactly once, in order.
TEST_F(HttpSinks, SplunkHecIndexerAcknowledgement) {
  int port = it::freePort();
  std::string log = dir_ + "/hec-ack.log";
  startServer(port, log, {"--mode", "hec-ack", "--ack-lose", "1"});
  auto ex = exporter(absl::StrCat("    - name: splunk\n      type: splunk_hec\n      url: http://127.0.0.1:", port,
                                  "\n      token_file: ", dir_, "/token\n      gzip: true\n"
                                  "      ack: {enabled: true, timeout: 1500ms}\n"
                                  "      batch: {max_events: 10, max_delay: 200ms}\n"
                                  "      retry: {initial_backoff: 50ms}\n"));
  ASSERT_TRUE(ex);
  ASSERT_NO_FATAL_FAILURE(sendNumbered(*ex, 30));
  auto reqs = readRequests(log);
  std::string channel;
  std::set<int> acked;
  std::map<int, std::vector<int>> events_of;  // ackId -> events
  int polls = 0;
  for (const auto& r : reqs) {
    ASSERT_EQ(r.status, 200) << r.path << " " << r.body;
    EXPECT_EQ(r.headers.at("Authorization"), "Splunk s3cr3t");
    std::string ch = r.headers.at("X-Splunk-Request-Channel");
    if (channel.empty()) channel = ch;
    EXPECT_EQ(ch, channel) << "one channel per sink";
    if (r.path.rfind("/services/collector/ack", 0) == 0) {
      ++polls;
      EXPECT_EQ(r.path, "/services/collector/ack?channel=" + channel);
      EXPECT_EQ(r.headers.count("Content-Encoding"), 0u);
      acked.insert(r.acked.begin(), r.acked.end());
      continue;
    }
    EXPECT_EQ(r.path, "/services/collector/event");
    ASSERT_GE(r.ack_id, 0);
    for (const auto& line : absl::StrSplit(r.body, '\n', absl::SkipEmpty()))
      events_of[r.ack_id].push_back(seqOf(field(parseJson(std::string(line)), "event")->struct_value()));
  }
  EXPECT_EQ(channel.size(), 36u);  // a UUID
  EXPECT_EQ(events_of.size(), 4u);  // three batches, the first one twice
  EXPECT_EQ(acked.count(0), 0u);
  EXPECT_EQ(events_of[0], events_of[1]) << "the unacknowledged batch is resent";
  std::vector<int> seq;
  for (const auto& [id, evs] : events_of)
    if (acked.count(id)) seq.insert(seq.end(), evs.begin(), evs.end());
  std::vector<int> want(30);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(seq, want);
  EXPECT_GE(polls, 6);  // at least two per acknowledged batch
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.delivered, 30u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.dropped(), 0u);
}

// Encoded size of one numbered() event in the spool, framing included: every
// numbered event renders to the same size.
uint64_t spoolFrame(Format format) {
  Record r;
  api::Event ev = numbered(0);
  r.time_ns = api::parseRfc3339Nanos(ev.time());
  r.severity = static_cast<uint8_t>(syslogSeverity(ev));
  r.type = std::string(api::eventTypeName(ev));
  r.host = ev.node_name();
  r.payload = render(format, ev);
  return encodeRecord(r).size() + DiskSpool::kFrameHeader;
}

// The fault test (ctest exporters/http_fault, label fault: it mostly sleeps).
// Events flow at a steady rate to two sinks: an Elasticsearch-shaped receiver
// with a roomy spool, and a webhook with a spool bound far smaller than the
// outage. Both receivers are stopped while events flow; in the middle of the
// outage vigild itself is restarted (a new Exporter on the same spools). The
// receivers come back VIGIL_FAULT_DOWN_SECONDS later (default 130: minutes).
// Then the first holds every event exactly once, in order, as if it had never
// gone away; the second holds an in-order subset, and the number it lacks is
// exactly the number counted and reported as dropped (spool full).
TEST_F(HttpSinks, FaultReceiversDownForMinutesAndDaemonRestart) {
  int down_s = 130;
  if (const char* env = std::getenv("VIGIL_FAULT_DOWN_SECONDS")) down_s = std::max(2, std::atoi(env));
  int port = it::freePort(), port2 = it::freePort();
  std::string log = dir_ + "/fault.log", log2 = dir_ + "/fault-bounded.log";
  it::Child hook;
  auto startHook = [&] {
    hook.start({python_, std::string(VIGIL_SOURCE_DIR) + "/tests/exporters/http_receiver.py", "--port",
                std::to_string(port2), "--log", log2},
               dir_ + "/hook.out");
    ASSERT_TRUE(it::waitForTcpPort(port2, absl::Seconds(20)));
  };
  startServer(port, log, {"--mode", "bulk"});
  startHook();
  const uint64_t bound_events = 300;
  const std::string sinks = absl::StrCat(
      "    - name: es\n      type: elasticsearch\n      url: http://127.0.0.1:", port,
      "\n      format: json\n      batch: {max_events: 200, max_delay: 100ms}\n"
      "      filters: {deny: {event_types: [status]}}\n"
      "      retry: {initial_backoff: 100ms, max_backoff: 2s}\n"
      "    - name: bounded\n      type: webhook\n      url: http://127.0.0.1:", port2,
      "/in\n      format: json\n      spool: {max_bytes: ", spoolFrame(Format::kJson) * bound_events, "}\n"
      "      batch: {max_events: 200, max_delay: 100ms}\n"
      "      filters: {deny: {event_types: [status]}}\n"
      "      retry: {initial_backoff: 100ms, max_backoff: 2s}\n");
  std::mutex mu;
  uint64_t reported_bounded = 0, reported_es = 0;
  auto on_status = [&](const api::Event& st) {
    std::lock_guard<std::mutex> l(mu);
    (st.status().subject() == "bounded" ? reported_bounded : reported_es) += st.status().count();
  };
  std::mutex ex_mu;
  std::unique_ptr<Exporter> ex = exporter(sinks, "  report_interval: 5s\n", on_status);
  ASSERT_TRUE(ex);
  std::atomic<int> next{0};
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    while (feeding.load()) {
      {
        std::lock_guard<std::mutex> l(ex_mu);
        for (int k = 0; k < 4; ++k) ex->submit(numbered(next++));
      }
      absl::SleepFor(absl::Milliseconds(20));  // ~200 events/s
    }
  });
  uint64_t bounded_dropped = 0;
  absl::SleepFor(absl::Seconds(2));
  server_.stop();
  hook.stop();
  const int at_outage = next.load();
  absl::SleepFor(absl::Seconds(down_s) / 2);
  {
    std::lock_guard<std::mutex> l(ex_mu);
    ex->stop();  // vigild restarts while the receivers are down
    auto s = ex->stats().sinks;
    EXPECT_GT(s[0].spool_records, 0u);
    EXPECT_EQ(s[0].dropped(), 0u);
    EXPECT_EQ(s[1].spool_records, bound_events);
    EXPECT_EQ(s[1].dropped(), s[1].dropped_spool_full);
    bounded_dropped += s[1].dropped_spool_full;
    ex.reset();
    ex = exporter(sinks, "  report_interval: 5s\n", on_status);
    ASSERT_TRUE(ex);
  }
  absl::SleepFor(absl::Seconds(down_s) - absl::Seconds(down_s) / 2);
  startServer(port, log, {"--mode", "bulk"});
  startHook();
  absl::SleepFor(absl::Seconds(2));
  feeding = false;
  feeder.join();
  const int total = next.load();
  ASSERT_TRUE(ex->flush(absl::Seconds(120))) << "spool not drained";
  ex->stop();
  auto s = ex->stats().sinks;
  EXPECT_EQ(s[0].dropped(), 0u);
  EXPECT_EQ(s[1].dropped(), s[1].dropped_spool_full);
  bounded_dropped += s[1].dropped_spool_full;

  // What the Elasticsearch receiver stored, in order of storage.
  std::vector<int> seq;
  for (const auto& r : readRequests(log)) {
    std::set<std::string> stored(r.stored_ids.begin(), r.stored_ids.end());
    std::vector<std::string> lines = absl::StrSplit(r.body, '\n', absl::SkipEmpty());
    for (size_t i = 0; i + 1 < lines.size(); i += 2)
      if (stored.count(fstr(parseJson(lines[i]), "create._id"))) seq.push_back(seqOf(parseJson(lines[i + 1])));
  }
  ASSERT_EQ(static_cast<int>(seq.size()), total) << "events missing or stored twice";
  for (int i = 0; i < total; ++i) ASSERT_EQ(seq[i], i) << "out of order at " << i;

  // The bounded sink: in order, and exactly the dropped ones missing. A
  // webhook is at least once: a batch the receiver kept but whose answer was
  // lost when it went down is sent again (the receiver logs a request before
  // it answers). So an event seen before may come again, but only as such a
  // resend: it was delivered earlier, and there is at most one such run per
  // outage and per daemon restart.
  std::vector<int> got;
  std::set<int> seen;
  int resend_runs = 0;
  bool in_resend = false;
  for (const auto& r : readRequests(log2)) {
    ASSERT_EQ(r.status, 200);
    for (const auto& line : absl::StrSplit(r.body, '\n', absl::SkipEmpty())) {
      const int v = seqOf(parseJson(std::string(line)));
      if (!got.empty() && v <= got.back()) {
        ASSERT_TRUE(seen.count(v)) << "out of order: " << v << " after " << got.back();
        if (!in_resend) resend_runs++;
        in_resend = true;
        continue;
      }
      in_resend = false;
      seen.insert(v);
      got.push_back(v);
    }
  }
  EXPECT_LE(resend_runs, 2) << "more resent batches than the outage and the restart explain";
  // Everything before the outage arrived; the drops began once the bound was full.
  ASSERT_GE(got.size(), static_cast<size_t>(at_outage));
  for (int i = 0; i < at_outage; ++i) ASSERT_EQ(got[i], i);
  EXPECT_GT(bounded_dropped, 1000u) << "the outage should overflow the bound";
  EXPECT_EQ(got.size() + bounded_dropped, static_cast<size_t>(total));
  std::cerr << total << " events over " << down_s << " s down; bounded sink: " << got.size() << " delivered, "
            << bounded_dropped << " dropped (spool full)\n";
  std::lock_guard<std::mutex> l(mu);
  EXPECT_EQ(reported_bounded, bounded_dropped) << "reported drops differ from the counted ones";
  EXPECT_EQ(reported_es, 0u);
}

TEST_F(HttpSinks, SpoolBoundExceededReportsTheExactDropCount) {
  int port = it::freePort();  // nothing listens yet: the receiver is down
  std::string log = dir_ + "/bound.log";
  const uint64_t frame = spoolFrame(Format::kJson);
  const int fit = 37, n = 100;
  std::mutex mu;
  uint64_t reported = 0;
  auto ex = exporter(absl::StrCat("    - name: es\n      type: elasticsearch\n      url: http://127.0.0.1:", port,
                                  "\n      format: json\n      spool: {max_bytes: ", frame * fit + frame / 2, "}\n"
                                  "      filters: {deny: {event_types: [status]}}\n"
                                  "      retry: {initial_backoff: 50ms, max_backoff: 200ms}\n"),
                     "  report_interval: 1h\n", [&](const api::Event& st) {
                       std::lock_guard<std::mutex> l(mu);
                       if (st.status().subject() == "es") reported += st.status().count();
                     });
  ASSERT_TRUE(ex);
  for (int i = 0; i < n; ++i) ex->submit(numbered(i));
  absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    auto s = ex->stats().sinks[0];
    if (s.spooled + s.dropped_spool_full == static_cast<uint64_t>(n)) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  auto s = ex->stats().sinks[0];
  EXPECT_EQ(s.spooled, static_cast<uint64_t>(fit));
  EXPECT_EQ(s.dropped_spool_full, static_cast<uint64_t>(n - fit));
  startServer(port, log, {"--mode", "bulk"});
  ASSERT_TRUE(ex->flush(absl::Seconds(30)));
  ex->reportDrops();
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(reported, static_cast<uint64_t>(n - fit));
  }
  std::vector<int> seq;
  for (const auto& req : readRequests(log)) {
    std::vector<std::string> lines = absl::StrSplit(req.body, '\n', absl::SkipEmpty());
    for (size_t i = 1; i < lines.size(); i += 2) seq.push_back(seqOf(parseJson(lines[i])));
  }
  ASSERT_EQ(seq.size(), static_cast<size_t>(fit));
  for (int i = 0; i < fit; ++i) EXPECT_EQ(seq[i], i);  // the oldest are kept, the newest dropped
  EXPECT_EQ(ex->stats().sinks[0].delivered, static_cast<uint64_t>(fit));
}

}  // namespace
}  // namespace vigil::exporters
