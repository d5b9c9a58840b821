#include "daemon/actions/fetcher.h"

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

namespace vigil::actions {
namespace {

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

Fetcher::Fetcher(Options o) : opt_(o), tokens_(o.burst) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  last_ns_ = nowNs();
  for (int i = 0; i < std::max(1, opt_.workers); i++) threads_.emplace_back([this] { work(); });
}

Fetcher::~Fetcher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool Fetcher::submit(Kind kind, const std::string& target) {
  {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t now = nowNs();
    tokens_ = std::min(opt_.burst, tokens_ + (now - last_ns_) * 1e-9 * opt_.rate_per_sec);
    last_ns_ = now;
    if (queue_.size() >= opt_.queue || tokens_ < 1) {
      counters(kind).dropped++;
      return false;
    }
    tokens_ -= 1;
    queue_.push_back(Job{kind, target});
  }
  cv_.notify_one();
  return true;
}

Fetcher::Stats Fetcher::stats(Kind kind) const {
  const Counters& c = kind == Kind::kGetUrl ? url_ : dns_;
  return Stats{c.done.load(), c.failed.load(), c.dropped.load()};
}

void Fetcher::drain() {
  std::unique_lock<std::mutex> l(mu_);
  idle_.wait(l, [this] { return queue_.empty() && running_ == 0; });
}

void Fetcher::work() {
  for (;;) {
    Job j;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      j = std::move(queue_.front());
      queue_.pop_front();
      running_++;
    }
    const bool ok = run(j);
    (ok ? counters(j.kind).done : counters(j.kind).failed)++;
    {
      std::lock_guard<std::mutex> l(mu_);
      running_--;
      if (queue_.empty() && running_ == 0) idle_.notify_all();
    }
  }
}

bool Fetcher::run(const Job& j) {
  if (j.kind == Kind::kDnsLookup) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(j.target.c_str(), nullptr, &hints, &res);
    if (res) freeaddrinfo(res);
    if (rc != 0) spdlog::debug("DnsLookup {}: {}", j.target, gai_strerror(rc));
    return rc == 0;
  }
  CURL* c = curl_easy_init();
  if (!c) return false;
  curl_easy_setopt(c, CURLOPT_URL, j.target.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, opt_.timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, opt_.timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK) spdlog::debug("GetUrl {}: {}", j.target, curl_easy_strerror(rc));
  return rc == CURLE_OK && status > 0 && status < 400;
}

}  // namespace vigil::actions
