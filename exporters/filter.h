// Per-sink event selection and shaping: allow/deny filters, field exclusion,
// RE2 redaction of the rendered payload, and a token-bucket rate limit.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "exporters/config.h"
#include "vigil/events.pb.h"

namespace vigil::exporters {

// True when `spec` (an allow list) matches the event on every non-empty dimension.
bool matchesAll(const FilterSpec& spec, const api::Event& ev);
// True when `spec` (a deny list) matches the event on any non-empty dimension.
bool matchesAny(const FilterSpec& spec, const api::Event& ev);
// allow/deny combined: true when the sink takes the event.
bool passes(const SinkConfig& cfg, const api::Event& ev);

// Clears the listed fields (protobuf names, dotted) in the event. A path is
// tried from the event root ("node_name", "process_exec.parent") and from inside
// the event's payload ("process.cap" clears process_exec.process.cap,
// process_lsm.process.cap, ...); repeated messages on the way apply to each item.
void excludeFields(const std::vector<std::string>& paths, api::Event* ev);

class Redactor {
 public:
  explicit Redactor(const std::vector<RedactRule>& rules);
  bool empty() const { return rules_.empty(); }
  // Returns the number of replacements made.
  int apply(std::string* payload) const;

 private:
  std::vector<std::pair<std::unique_ptr<RE2>, std::string>> rules_;
};

// Token bucket; not thread-safe (used by the sink's intake thread only).
class RateLimiter {
 public:
  RateLimiter(double per_sec, double burst);
  bool unlimited() const { return per_sec_ <= 0; }
  bool allow(std::chrono::steady_clock::time_point now);
  bool allow() { return allow(std::chrono::steady_clock::now()); }

 private:
  double per_sec_, burst_, tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace vigil::exporters
