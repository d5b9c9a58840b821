// GetUrl and DnsLookup: actions a selector asks of vigild rather than of the
// kernel (as in Tetragon, a notification: an HTTP GET of argUrl, a lookup of
// argFqdn, e.g. a canary token). They run on a few worker threads, never on
// the event pipeline: submit() only queues, and drops (counted) when the
// queue is full or the rate limit is reached.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vigil::actions {

class Fetcher {
 public:
  struct Options {
    int workers = 2;             // concurrent requests
    size_t queue = 256;          // waiting requests; more are dropped
    double rate_per_sec = 20;    // sustained requests per second (token bucket)
    double burst = 20;
    long timeout_ms = 5000;      // per request: connect, transfer (curl)
  };
  enum class Kind { kGetUrl, kDnsLookup };
  struct Stats {
    uint64_t done = 0;          // completed (HTTP answered, name resolved)
    uint64_t failed = 0;        // errors: connection, timeout, HTTP >= 400, NXDOMAIN
    uint64_t dropped = 0;       // queue full or over the rate
  };

  explicit Fetcher(Options o);
  ~Fetcher();  // stops the workers; queued requests are abandoned
  Fetcher(const Fetcher&) = delete;
  Fetcher& operator=(const Fetcher&) = delete;

  // Queues a request; false (and counted as dropped) when it cannot.
  bool submit(Kind kind, const std::string& target);
  Stats stats(Kind kind) const;
  // Waits until nothing is queued or running (tests).
  void drain();

 private:
  struct Job {
    Kind kind;
    std::string target;
  };
  struct Counters {
    std::atomic<uint64_t> done{0}, failed{0}, dropped{0};
  };
  void work();
  bool run(const Job& j);
  Counters& counters(Kind k) { return k == Kind::kGetUrl ? url_ : dns_; }

  const Options opt_;
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_;
  std::deque<Job> queue_;
  size_t running_ = 0;
  bool stop_ = false;
  double tokens_;
  int64_t last_ns_ = 0;
  Counters url_, dns_;
  std::vector<std::thread> threads_;
};

}  // namespace vigil::actions
