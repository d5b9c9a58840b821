#include "exporters/filter.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "exporters/formats.h"

namespace vigil::exporters {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool matchEventType(const std::vector<std::string>& list, const api::Event& ev) {
  const std::string_view t = api::eventTypeName(ev);
  return std::find(list.begin(), list.end(), t) != list.end();
}

bool matchPolicy(const std::vector<std::string>& list, const api::Event& ev) {
  std::string name;
  if (auto p = api::policyEvent(ev)) name = p->policy_name;
  else if (ev.has_rule_alert()) name = ev.rule_alert().rule();
  else return false;
  return std::find(list.begin(), list.end(), name) != list.end();
}

bool matchBinary(const std::vector<std::string>& list, const api::Event& ev) {
  const api::Process* p = api::processOf(ev);
  if (!p) return false;
  const std::string& bin = p->binary();
  for (const auto& b : list) {
    if (!b.empty() && b.back() == '*') {
      if (bin.compare(0, b.size() - 1, b, 0, b.size() - 1) == 0) return true;
    } else if (bin == b) {
      return true;
    }
  }
  return false;
}

bool matchAction(const std::vector<std::string>& list, const api::Event& ev) {
  auto p = api::policyEvent(ev);
  if (!p) return false;
  std::string action = lower(api::Action_Name(p->action).substr(7));     // ACTION_
  std::string outcome = lower(api::Outcome_Name(p->outcome).substr(8));  // OUTCOME_
  for (const auto& a : list)
    if (a == action || a == outcome) return true;
  return false;
}

const api::Namespace* nsByName(const api::Namespaces& ns, std::string_view kind) {
  if (kind == "uts") return ns.has_uts() ? &ns.uts() : nullptr;
  if (kind == "ipc") return ns.has_ipc() ? &ns.ipc() : nullptr;
  if (kind == "mnt") return ns.has_mnt() ? &ns.mnt() : nullptr;
  if (kind == "pid") return ns.has_pid() ? &ns.pid() : nullptr;
  if (kind == "pid_for_children") return ns.has_pid_for_children() ? &ns.pid_for_children() : nullptr;
  if (kind == "net") return ns.has_net() ? &ns.net() : nullptr;
  if (kind == "time") return ns.has_time() ? &ns.time() : nullptr;
  if (kind == "cgroup") return ns.has_cgroup() ? &ns.cgroup() : nullptr;
  if (kind == "user") return ns.has_user() ? &ns.user() : nullptr;
  return nullptr;
}

bool matchNamespace(const std::vector<std::string>& list, const api::Event& ev) {
  const api::Process* p = api::processOf(ev);
  if (!p) return false;
  bool in_container = !p->container().id().empty() || (p->ns().has_pid() && !p->ns().pid().is_host());
  for (const auto& n : list) {
    if (n == "host" && !in_container) return true;
    if (n == "container" && in_container) return true;
    std::vector<std::string> kv = absl::StrSplit(n, absl::MaxSplits(':', 1));
    uint32_t inum;
    if (kv.size() == 2 && absl::SimpleAtoi(kv[1], &inum)) {
      const api::Namespace* ns = nsByName(p->ns(), kv[0]);
      if (ns && ns->inum() == inum) return true;
    }
  }
  return false;
}

// Clears `path` (components) inside `msg`; repeated messages apply to each item.
void clearPath(google::protobuf::Message* msg, const std::vector<std::string>& path, size_t i) {
  const auto* desc = msg->GetDescriptor();
  const auto* field = desc->FindFieldByName(path[i]);
  if (!field) return;
  const auto* refl = msg->GetReflection();
  if (i + 1 == path.size()) {
    refl->ClearField(msg, field);
    return;
  }
  if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) return;
  if (field->is_repeated()) {
    for (int k = 0; k < refl->FieldSize(*msg, field); ++k)
      clearPath(refl->MutableRepeatedMessage(msg, field, k), path, i + 1);
  } else if (refl->HasField(*msg, field)) {
    clearPath(refl->MutableMessage(msg, field), path, i + 1);
  }
}

}  // namespace

bool matchesAll(const FilterSpec& s, const api::Event& ev) {
  if (!s.event_types.empty() && !matchEventType(s.event_types, ev)) return false;
  if (!s.policies.empty() && !matchPolicy(s.policies, ev)) return false;
  if (!s.binaries.empty() && !matchBinary(s.binaries, ev)) return false;
  if (!s.actions.empty() && !matchAction(s.actions, ev)) return false;
  if (!s.namespaces.empty() && !matchNamespace(s.namespaces, ev)) return false;
  return true;
}

bool matchesAny(const FilterSpec& s, const api::Event& ev) {
  return (!s.event_types.empty() && matchEventType(s.event_types, ev)) ||
         (!s.policies.empty() && matchPolicy(s.policies, ev)) ||
         (!s.binaries.empty() && matchBinary(s.binaries, ev)) ||
         (!s.actions.empty() && matchAction(s.actions, ev)) ||
         (!s.namespaces.empty() && matchNamespace(s.namespaces, ev));
}

bool passes(const SinkConfig& cfg, const api::Event& ev) {
  if (!cfg.allow.empty() && !matchesAll(cfg.allow, ev)) return false;
  if (!cfg.deny.empty() && matchesAny(cfg.deny, ev)) return false;
  return true;
}

void excludeFields(const std::vector<std::string>& paths, api::Event* ev) {
  const auto* oneof = ev->GetDescriptor()->FindOneofByName("event");
  const auto* payload_field = ev->GetReflection()->GetOneofFieldDescriptor(*ev, oneof);
  for (const auto& p : paths) {
    std::vector<std::string> parts = absl::StrSplit(p, '.');
    if (parts.empty()) continue;
    const auto* top = ev->GetDescriptor()->FindFieldByName(parts[0]);
    if (top) {
      clearPath(ev, parts, 0);
    } else if (payload_field) {
      clearPath(ev->GetReflection()->MutableMessage(ev, payload_field), parts, 0);
    }
  }
}

Redactor::Redactor(const std::vector<RedactRule>& rules) {
  for (const auto& r : rules) {
    auto re = std::make_unique<RE2>(r.pattern, RE2::Quiet);
    if (re->ok()) rules_.emplace_back(std::move(re), r.replacement);
  }
}

int Redactor::apply(std::string* payload) const {
  int n = 0;
  for (const auto& [re, rep] : rules_) n += RE2::GlobalReplace(payload, *re, rep);
  return n;
}

RateLimiter::RateLimiter(double per_sec, double burst)
    : per_sec_(per_sec),
      burst_(burst > 0 ? burst : std::max(1.0, per_sec)),
      tokens_(burst_),
      last_(std::chrono::steady_clock::now()) {}

bool RateLimiter::allow(std::chrono::steady_clock::time_point now) {
  if (per_sec_ <= 0) return true;
  double dt = std::chrono::duration<double>(now - last_).count();
  if (dt > 0) {
    tokens_ = std::min(burst_, tokens_ + dt * per_sec_);
    last_ = now;
  }
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  return false;
}

}  // namespace vigil::exporters
