#include "daemon/events/json_writer.h"

#include <google/protobuf/util/json_util.h>

#include <ctime>

#include "absl/strings/str_format.h"
#include "daemon/compiler/compiler.h"

namespace vigil::events {
namespace {

api::Action actionOf(uint8_t a) {
  switch (a) {
    case VG_ACT_POST: return api::ACTION_POST;
    case VG_ACT_OVERRIDE: return api::ACTION_OVERRIDE;
    case VG_ACT_SIGKILL: return api::ACTION_SIGKILL;
  }
  return api::ACTION_UNSPECIFIED;
}

api::Outcome outcomeOf(uint8_t o) {
  switch (o) {
    case VG_OUT_POSTED: return api::OUTCOME_POSTED;
    case VG_OUT_DENIED: return api::OUTCOME_DENIED;
    case VG_OUT_KILLED: return api::OUTCOME_KILLED;
    case VG_OUT_WOULD_DENY: return api::OUTCOME_WOULD_DENY;
    case VG_OUT_WOULD_KILL: return api::OUTCOME_WOULD_KILL;
  }
  return api::OUTCOME_UNSPECIFIED;
}

const char* mechanismOf(uint8_t m) {
  switch (m) {
    case VG_MECH_LSM: return "bpf_lsm";
    case VG_MECH_FMOD_RET: return "fmod_ret";
  }
  return "unknown";
}

}  // namespace

JsonRenderer::JsonRenderer(std::string node_name, std::vector<PolicyInfo> policies,
                           bool audit_all, int64_t boot_to_realtime_ns)
    : node_name_(std::move(node_name)),
      policies_(std::move(policies)),
      audit_all_(audit_all),
      boot_to_realtime_ns_(boot_to_realtime_ns) {}

api::Event JsonRenderer::toProto(const LsmEvent& ev) const {
  api::Event out;
  auto* lsm = out.mutable_process_lsm();
  auto* proc = lsm->mutable_process();
  proc->set_pid(ev.pid);
  proc->set_tid(ev.tid);
  proc->set_ppid(ev.ppid);
  proc->set_uid(ev.uid);
  proc->set_gid(ev.gid);
  proc->set_binary(ev.binary);
  proc->set_binary_truncated(ev.binary_truncated);
  proc->set_comm(ev.comm);
  bool monitor = audit_all_;
  if (ev.policy < policies_.size()) {
    lsm->set_policy_name(policies_[ev.policy].name);
    monitor |= policies_[ev.policy].mode == policy::Mode::kMonitor;
  } else {
    lsm->set_policy_name("unknown-policy-" + std::to_string(ev.policy));
  }
  lsm->set_hook(compiler::hookName(ev.hook));
  lsm->set_selector(ev.selector);
  lsm->set_action(actionOf(ev.action));
  lsm->set_outcome(outcomeOf(ev.outcome));
  lsm->set_mode(monitor ? api::POLICY_MODE_MONITOR : api::POLICY_MODE_ENFORCE);
  lsm->set_return_errno(ev.error);
  lsm->set_path(ev.path);
  lsm->set_path_truncated(ev.path_truncated);
  lsm->set_mechanism(mechanismOf(ev.mechanism));
  out.set_node_name(node_name_);
  out.set_schema_version(api::SCHEMA_VERSION_1);
  out.set_time(formatRfc3339Nanos(static_cast<int64_t>(ev.ktime_ns) + boot_to_realtime_ns_));
  return out;
}

std::string JsonRenderer::render(const LsmEvent& ev) const { return renderJson(toProto(ev)); }

std::string renderJson(const api::Event& ev) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string json;
  // Cannot fail for this schema (no Any, no maps with message keys).
  (void)google::protobuf::util::MessageToJsonString(ev, &json, opts);
  return json;
}

int64_t bootToRealtimeOffsetNs() {
  timespec rt{}, bt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  return (rt.tv_sec - bt.tv_sec) * 1'000'000'000LL + (rt.tv_nsec - bt.tv_nsec);
}

std::string formatRfc3339Nanos(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1'000'000'000LL);
  int64_t nanos = unix_ns % 1'000'000'000LL;
  if (nanos < 0) {
    nanos += 1'000'000'000LL;
    secs -= 1;
  }
  tm t{};
  gmtime_r(&secs, &t);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", t.tm_year + 1900, t.tm_mon + 1,
                         t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, nanos);
}

}  // namespace vigil::events
