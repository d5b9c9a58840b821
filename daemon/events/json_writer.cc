#include "daemon/events/json_writer.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "daemon/compiler/compiler.h"
#include "daemon/events/kernel_args.h"

namespace vigil::events {
namespace {

api::Action actionOf(uint8_t a) {
  switch (a) {
    case VG_ACT_POST: return api::ACTION_POST;
    case VG_ACT_OVERRIDE: return api::ACTION_OVERRIDE;
    case VG_ACT_SIGKILL: return api::ACTION_SIGKILL;
    case VG_ACT_SIGNAL: return api::ACTION_SIGNAL;
    case VG_ACT_NOTIFY_ENFORCER: return api::ACTION_NOTIFY_ENFORCER;
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
    case VG_OUT_SIGNALED: return api::OUTCOME_SIGNALED;
    case VG_OUT_WOULD_SIGNAL: return api::OUTCOME_WOULD_SIGNAL;
  }
  return api::OUTCOME_UNSPECIFIED;
}

const char* mechanismOf(uint8_t m) { return compiler::mechanismName(m); }

// The caller as the kernel record names it; the process cache adds the rest.
template <typename Ev>
void fillCaller(const Ev& ev, api::Process* proc) {
  proc->set_pid(ev.pid);
  proc->set_tid(ev.tid);
  proc->set_ppid(ev.ppid);
  proc->set_uid(ev.uid);
  proc->set_gid(ev.gid);
  proc->set_binary(ev.binary);
  proc->set_binary_truncated(ev.binary_truncated);
  proc->set_comm(ev.comm);
}

}  // namespace

PolicyInfo PolicyInfo::from(const policy::Policy& p) {
  PolicyInfo info{p.name, p.effectiveMode(), {}};
  for (const auto& h : p.hooks) {
    Hook& out = info.hooks[h.ref()];
    for (const auto& a : h.args) {
      out.labels[a.index] = a.label;
      out.types[a.index] = a.type;
    }
    for (size_t i = 0; i < h.selectors.size(); i++) {
      PolicyInfo::Hook::Fetch f;
      for (const auto& act : h.selectors[i].match_actions) {
        if (act.kind == policy::ActionKind::kGetUrl) f.urls.push_back(act.url);
        if (act.kind == policy::ActionKind::kDnsLookup) f.fqdns.push_back(act.fqdn);
        if (act.kind == policy::ActionKind::kNoPost) f.nopost = true;
      }
      if (!f.urls.empty() || !f.fqdns.empty()) out.fetches[static_cast<uint32_t>(i)] = std::move(f);
    }
    out.message = h.message;
    out.tags = h.tags;
  }
  return info;
}

JsonRenderer::JsonRenderer(std::string node_name, std::vector<PolicyInfo> policies,
                           bool audit_all, int64_t boot_to_realtime_ns)
    : node_name_(std::move(node_name)),
      policies_(std::move(policies)),
      audit_all_(audit_all),
      boot_to_realtime_ns_(boot_to_realtime_ns) {}

void JsonRenderer::setPolicies(uint32_t base, const std::vector<PolicyInfo>& policies) {
  if (policies_.size() < base + policies.size()) policies_.resize(base + policies.size());
  for (size_t i = 0; i < policies.size(); i++) policies_[base + i] = policies[i];
}

std::string JsonRenderer::render(const HookEvent& ev) const { return api::renderJson(toProto(ev)); }

const PolicyInfo::Hook* JsonRenderer::hookInfo(uint32_t policy, const std::string& ref) const {
  if (policy >= policies_.size()) return nullptr;
  const auto& hooks = policies_[policy].hooks;
  auto it = hooks.find(ref);
  return it == hooks.end() ? nullptr : &it->second;
}

// One argument's value as the kernel read it (its label is the caller's;
// type: the policy's declared type, for kinds several types share).
void fillArg(const HookArgValue& a, std::string_view type, api::Arg* arg);

const PolicyInfo::Hook::Fetch* JsonRenderer::fetchOf(const HookEvent& ev) const {
  auto r = hook_refs_.find(ev.hook);
  if (r == hook_refs_.end()) return nullptr;
  const PolicyInfo::Hook* info = hookInfo(ev.policy, r->second);
  if (!info) return nullptr;
  auto f = info->fetches.find(ev.selector);
  return f == info->fetches.end() ? nullptr : &f->second;
}

namespace {

// Fills the fields process_lsm, process_kprobe and process_uprobe share.
template <typename Msg>
void fillPolicyEvent(const HookEvent& ev, const PolicyInfo::Hook* info, Msg* m) {
  fillCaller(ev, m->mutable_process());
  m->set_selector(ev.selector);
  m->set_action(actionOf(ev.action));
  m->set_outcome(outcomeOf(ev.outcome));
  if constexpr (requires { m->set_return_errno(0); }) m->set_return_errno(ev.error);
  m->set_mechanism(mechanismOf(ev.mechanism));
  if (ev.action == VG_ACT_SIGNAL || ev.action == VG_ACT_NOTIFY_ENFORCER) m->set_signal(ev.signal);
  if (info) {
    if (!info->message.empty()) m->set_message(info->message);
    for (const auto& t : info->tags) m->add_tags(t);
  }
  for (const auto& a : ev.args) {
    if (a.is_return) continue;  // the return value's own field
    auto* arg = m->add_args();
    std::string_view type;
    if (info) {
      if (auto l = info->labels.find(a.index); l != info->labels.end()) arg->set_label(l->second);
      if (auto t = info->types.find(a.index); t != info->types.end()) type = t->second;
    }
    fillArg(a, type, arg);
  }
}

}  // namespace

void fillArg(const HookArgValue& a, std::string_view type, api::Arg* arg) {
  if (fillKernelArg(a, type, arg)) return;
    switch (a.kind) {
      case VG_ARG_S8:
      case VG_ARG_S16:
      case VG_ARG_S32:
      case VG_ARG_S64: arg->set_int_arg(static_cast<int64_t>(a.num)); break;
      case VG_ARG_U8:
      case VG_ARG_U16:
      case VG_ARG_U32:
      case VG_ARG_U64:
      case VG_ARG_CRED: arg->set_uint_arg(a.num); break;
      case VG_ARG_TASK: arg->set_int_arg(static_cast<int64_t>(a.num)); break;
      case VG_ARG_FILE:
      case VG_ARG_PATH:
      case VG_ARG_BINPRM:
      case VG_ARG_DENTRY: arg->set_file_arg(a.unreadable ? "" : a.str); break;
      case VG_ARG_STR:
      case VG_ARG_USTR: arg->set_string_arg(a.str); break;
      case VG_ARG_SOCK:
      case VG_ARG_SOCKET:
      case VG_ARG_SOCKADDR: arg->set_sock_arg(describeSocket(a)); break;
      case VG_ARG_SYSCALL64: {
        auto* id = arg->mutable_syscall_id();
        id->set_id(static_cast<uint32_t>(a.num & ~uint64_t{VG_SYSCALL_IA32}));
        id->set_abi(a.num & VG_SYSCALL_IA32 ? "i386" : "x64");
        break;
      }
    }
}

api::Event JsonRenderer::toProto(const HookEvent& ev) const {
  api::Event out;
  auto r = hook_refs_.find(ev.hook);
  const std::string ref = r == hook_refs_.end() ? "unknown/" + std::to_string(ev.hook) : r->second;
  const std::string name = ref.substr(ref.find('/') + 1);
  const PolicyInfo::Hook* info = hookInfo(ev.policy, ref);
  bool monitor = audit_all_;
  std::string policy_name = "unknown-policy-" + std::to_string(ev.policy);
  if (ev.policy < policies_.size() && !policies_[ev.policy].name.empty()) {
    policy_name = policies_[ev.policy].name;
    monitor |= policies_[ev.policy].mode == policy::Mode::kMonitor;
  }
  const api::PolicyMode mode = monitor ? api::POLICY_MODE_MONITOR : api::POLICY_MODE_ENFORCE;
  if (ref.starts_with("tracepoint/")) {
    auto* t = out.mutable_process_tracepoint();
    fillPolicyEvent(ev, info, t);
    // The policy's own args[], in its order, from the slots it reads.
    if (auto p = tp_slots_.find(ev.policy); p != tp_slots_.end()) {
      if (auto s = p->second.find(ref); s != p->second.end()) {
        t->clear_args();
        for (size_t pos = 0; pos < s->second.size(); pos++) {
          auto* arg = t->add_args();
          if (info) {
            if (auto l = info->labels.find(static_cast<int>(pos)); l != info->labels.end())
              arg->set_label(l->second);
          }
          for (const auto& a : ev.args) {
            if (a.index == s->second[pos]) fillArg(a, {}, arg);
          }
        }
      }
    }
    t->set_subsys(name.substr(0, name.find('/')));
    t->set_event(name.substr(name.find('/') + 1));
    t->set_policy_name(policy_name);
    t->set_mode(mode);
  } else if (ref.starts_with("uprobe/")) {
    // "uprobe/<path>:<symbol>[#return]": paths hold no ':' (the parser refuses them).
    auto* u = out.mutable_process_uprobe();
    fillPolicyEvent(ev, info, u);
    const std::string at = name.ends_with("#return") ? name.substr(0, name.size() - 7) : name;
    const size_t colon = at.rfind(':');
    u->set_path(at.substr(0, colon));
    u->set_symbol(colon == std::string::npos ? std::string() : at.substr(colon + 1));
    if (ev.has_return) u->mutable_return_()->set_int_arg(ev.return_value);
    u->set_policy_name(policy_name);
    u->set_mode(mode);
  } else if (ref.starts_with("kprobe/")) {
    auto* k = out.mutable_process_kprobe();
    fillPolicyEvent(ev, info, k);
    k->set_function_name(name.substr(0, name.find('#')));
    if (ev.has_return) {
      const HookArgValue* ret = nullptr;
      for (const auto& a : ev.args) {
        if (a.is_return) ret = &a;
      }
      if (ret) {
        k->mutable_return_()->set_sock_arg(describeSocket(*ret));
      } else {
        k->mutable_return_()->set_int_arg(ev.return_value);
      }
    }
    k->set_policy_name(policy_name);
    k->set_mode(mode);
  } else {
    auto* l = out.mutable_process_lsm();
    fillPolicyEvent(ev, info, l);
    l->set_hook(name);
    l->set_policy_name(policy_name);
    l->set_mode(mode);
    // The hook's path: the entry a path_* hook acts on (its dentry), else
    // the first file or path argument (file_open's file, bprm_check's program).
    const HookArgValue* subject = nullptr;
    for (const auto& a : ev.args) {
      if (a.kind == VG_ARG_DENTRY) {
        subject = &a;
        break;
      }
      if (!subject && (a.kind == VG_ARG_FILE || a.kind == VG_ARG_PATH || a.kind == VG_ARG_BINPRM)) {
        subject = &a;
      }
    }
    if (subject && !subject->unreadable) {
      l->set_path(subject->str);
      l->set_path_truncated(subject->truncated);
    }
    // file_open: the open's flags, carried with its file argument.
    if (subject && subject->kind == VG_ARG_FILE) l->set_file_flags(subject->file_flags);
  }
  out.set_node_name(node_name_);
  out.set_schema_version(api::SCHEMA_VERSION_1);
  out.set_time(api::formatRfc3339Nanos(static_cast<int64_t>(ev.ktime_ns) + boot_to_realtime_ns_));
  return out;
}

int64_t bootToRealtimeOffsetNs() {
  timespec rt{}, bt{};
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  return (rt.tv_sec - bt.tv_sec) * 1'000'000'000LL + (rt.tv_nsec - bt.tv_nsec);
}

}  // namespace vigil::events
