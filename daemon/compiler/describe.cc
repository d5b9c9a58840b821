#include "daemon/compiler/describe.h"

#include <arpa/inet.h>

#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/json.h"
#include "daemon/policy/hook_catalog.h"

namespace vigil::compiler {
namespace {

using api::jsonString;

const char* opName(uint8_t op) {
  switch (op) {
    case VG_OP_EQUAL: return "string_equal";
    case VG_OP_PREFIX: return "string_prefix";
    case VG_OP_POSTFIX: return "string_postfix";
    case VG_OP_BIN_IN: return "binary_in";
    case VG_OP_INT_IN: return "number_in";
    case VG_OP_GT: return "greater_than";
    case VG_OP_LT: return "less_than";
    case VG_OP_MASK: return "mask";
    case VG_OP_RANGE: return "in_range";
    case VG_OP_CIDR: return "address_in_prefixes";
    case VG_OP_PRIV: return "port_below_1024";
    case VG_OP_BIN_PREFIX: return "binary_prefix";
    case VG_OP_BIN_POSTFIX: return "binary_postfix";
  }
  return "none";
}

const char* fieldName(uint8_t f) {
  switch (f) {
    case VG_FIELD_VALUE: return "value";
    case VG_FIELD_FAMILY: return "family";
    case VG_FIELD_PROTOCOL: return "protocol";
    case VG_FIELD_SPORT: return "sport";
    case VG_FIELD_DPORT: return "dport";
    case VG_FIELD_SADDR: return "saddr";
    case VG_FIELD_DADDR: return "daddr";
    case VG_FIELD_STATE: return "state";
  }
  return "unknown";
}

const char* actionName(uint8_t a) {
  switch (a) {
    case VG_ACT_POST: return "Post";
    case VG_ACT_OVERRIDE: return "Override";
    case VG_ACT_SIGKILL: return "Sigkill";
    case VG_ACT_SIGNAL: return "Signal";
    case VG_ACT_NOTIFY_ENFORCER: return "NotifyEnforcer";
  }
  return "unknown";
}

std::string cidrText(const vg_cidr_key& k) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(k.family, k.addr, buf, sizeof(buf));
  return absl::StrCat(buf, "/", k.prefixlen - 64);
}

// Where a hook's program can attach, by mechanism, first choice first; the
// loader picks from the kernel's features (daemon/loader/mechanism.h): a
// kprobe that overrides has fmod_ret only (a kprobe cannot change a return
// value on kernels without CONFIG_BPF_KPROBE_OVERRIDE).
std::string attachPoints(const HookSpec& h) {
  if (h.kind == policy::HookKind::kTracepoint) {
    return absl::StrCat("{\"tp_btf\":", jsonString("tp_btf/" + h.function), "}");
  }
  if (h.kind == policy::HookKind::kLsm) {
    return absl::StrCat("{\"bpf_lsm\":", jsonString("lsm/" + h.name),
                        ",\"fmod_ret\":", jsonString("fmod_ret/" + h.function), "}");
  }
  if (h.kind == policy::HookKind::kUprobe) {
    const std::string at = absl::StrCat(h.path, ":", h.name);
    return absl::StrCat("{", h.ret_kind ? "\"uretprobe\":" : "\"uprobe\":", jsonString(at), "}");
  }
  if (h.overrides) return absl::StrCat("{\"fmod_ret\":", jsonString("fmod_ret/" + h.function), "}");
  if (h.ret_kind) {
    return absl::StrCat("{\"fexit\":", jsonString("fexit/" + h.function),
                        ",\"kretprobe\":", jsonString("kretprobe/" + h.function), "}");
  }
  return absl::StrCat("{\"fentry\":", jsonString("fentry/" + h.function),
                      ",\"kprobe\":", jsonString("kprobe/" + h.function), "}");
}

}  // namespace

std::string describeJson(const std::vector<policy::Policy>& policies, const CompiledSet& set) {
  std::vector<std::string> pols;
  for (size_t i = 0; i < policies.size(); i++) {
    const auto& p = policies[i];
    pols.push_back(absl::StrCat("{\"id\":", set.policy_base + i, ",\"name\":", jsonString(p.name),
                                ",\"file\":", jsonString(p.file), ",\"mode\":",
                                jsonString(std::string(policy::modeName(p.effectiveMode()))), "}"));
  }
  std::vector<std::string> progs;
  for (const auto& h : set.generic) {
    std::vector<std::string> args;
    for (int i = 0; i < VG_HOOK_ARGS; i++) {
      if (h.kinds[i] == VG_ARG_NONE) continue;
      std::string a = absl::StrCat("{\"index\":", i, ",\"read_as\":",
                                   jsonString(std::string(policy::kindName(h.kinds[i]))));
      if (policy::isStringKind(h.kinds[i])) absl::StrAppend(&a, ",\"string_slot\":", h.slots[i]);
      if (h.mount_of[i] >= 0) absl::StrAppend(&a, ",\"mount_of_arg\":", h.mount_of[i]);
      if (h.file_flags & (1u << i)) absl::StrAppend(&a, ",\"file_flags\":true");
      args.push_back(a + "}");
    }
    progs.push_back(absl::StrCat(
        "{\"hook\":", jsonString(h.ref()), ",\"id\":", h.id,
        ",\"program\":\"generic\",\"attach\":", attachPoints(h), ",\"syscall\":",
        h.syscall ? "true" : "false", ",\"args\":[", absl::StrJoin(args, ","),
        "],\"selectors\":", set.hooks[h.id].count, ",\"key\":", jsonString(h.key()), "}"));
  }
  // Map entries per selector slot and filter.
  std::map<std::pair<uint32_t, uint8_t>, size_t> values;
  for (const auto& [k, check] : set.str_keys) values[{k.selector, k.filter}]++;
  std::map<std::pair<uint32_t, uint8_t>, std::vector<std::string>> prefixes;
  for (const auto& k : set.cidrs) prefixes[{k.selector, k.filter}].push_back(cidrText(k));
  std::map<uint32_t, std::string> hook_of;
  for (uint32_t h = 0; h < VG_HOOK_MAX; h++) {
    for (uint32_t i = 0; i < set.hooks[h].count; i++) {
      auto r = set.hook_refs.find(h);
      hook_of[set.hooks[h].slots[i]] = r == set.hook_refs.end() ? "unknown" : r->second;
    }
  }
  std::vector<std::string> sels;
  for (const auto& [slot, sel] : set.selectors) {
    std::vector<std::string> filters;
    for (int f = 0; f < sel.nfilters; f++) {
      const vg_arg_filter& af = sel.filters[f];
      std::string s = absl::StrCat("{\"arg\":",
                                   af.arg == VG_ARG_RETURN ? std::string("\"return\"")
                                                           : std::to_string(af.arg),
                                   ",\"field\":", jsonString(fieldName(af.field)),
                                   ",\"op\":", jsonString(opName(af.op)), ",\"negate\":",
                                   af.negate ? "true" : "false");
      switch (af.op) {
        case VG_OP_GT:
        case VG_OP_LT:
        case VG_OP_MASK: absl::StrAppend(&s, ",\"operand\":", af.a); break;
        case VG_OP_RANGE: absl::StrAppend(&s, ",\"min\":", af.a, ",\"max\":", af.b); break;
        case VG_OP_CIDR: {
          std::vector<std::string> quoted;
          for (const auto& c : prefixes[{slot, f}]) quoted.push_back(jsonString(c));
          absl::StrAppend(&s, ",\"prefixes\":[", absl::StrJoin(quoted, ","), "]");
          break;
        }
        case VG_OP_PRIV: break;
        default: absl::StrAppend(&s, ",\"hash_entries\":", values[{slot, static_cast<uint8_t>(f)}]);
      }
      filters.push_back(s + "}");
    }
    std::string s = absl::StrCat(
        "{\"slot\":", slot, ",\"hook\":", jsonString(hook_of[slot]), ",\"policy_id\":", sel.policy,
        ",\"index\":", sel.index, ",\"action\":", jsonString(actionName(sel.action)));
    if (sel.action == VG_ACT_OVERRIDE || sel.action == VG_ACT_SIGKILL) {
      absl::StrAppend(&s, ",\"errno\":", -sel.error);
    }
    if (sel.action == VG_ACT_SIGNAL) absl::StrAppend(&s, ",\"signal\":", sel.signal);
    if (sel.nopost) absl::StrAppend(&s, ",\"nopost\":true");
    if (sel.rate_ns) {
      absl::StrAppend(&s, ",\"rate_limit_ns\":", sel.rate_ns, ",\"rate_limit_scope\":",
                      jsonString(sel.rate_scope == VG_RATE_GLOBAL    ? "global"
                                 : sel.rate_scope == VG_RATE_PROCESS ? "process"
                                                                     : "thread"));
    }
    if (sel.binaries != VG_OP_NONE) {
      absl::StrAppend(&s, ",\"binaries\":{\"op\":", jsonString(opName(sel.binaries)),
                      ",\"negate\":", sel.bin_negate ? "true" : "false", ",\"hash_entries\":",
                      values[{slot, static_cast<uint8_t>(VG_FILTER_BINARY)}], "}");
    }
    std::vector<std::string> task;
    for (int t = 0; t < sel.ntask; t++) {
      const vg_task_filter& tf = sel.task[t];
      std::string d = absl::StrCat(
          "{\"kind\":",
          jsonString(tf.kind == VG_TF_PID ? "pids" : tf.kind == VG_TF_NS ? "namespaces" : "capabilities"),
          ",\"negate\":", tf.negate ? "true" : "false");
      if (tf.kind == VG_TF_PID) {
        absl::StrAppend(&d, ",\"follow_forks\":", (tf.flags & VG_TF_FOLLOW_FORKS) ? "true" : "false",
                        ",\"namespace_pid\":", (tf.flags & VG_TF_NS_PID) ? "true" : "false");
      }
      if (tf.kind == VG_TF_NS) {
        absl::StrAppend(&d, ",\"namespace\":", jsonString(std::string(policy::namespaceName(tf.which))));
      }
      if (tf.kind == VG_TF_CAP) {
        absl::StrAppend(&d, ",\"set\":", jsonString(tf.which == 1 ? "permitted" : tf.which == 2 ? "inheritable" : "effective"),
                        ",\"mask\":", tf.mask);
      } else {
        absl::StrAppend(&d, ",\"hash_entries\":", values[{slot, static_cast<uint8_t>(VG_FILTER_TASK + t)}]);
      }
      task.push_back(d + "}");
    }
    if (!task.empty()) absl::StrAppend(&s, ",\"task_filters\":[", absl::StrJoin(task, ","), "]");
    absl::StrAppend(&s, ",\"filters\":[", absl::StrJoin(filters, ","), "]}");
    sels.push_back(s);
  }
  // spec.enforcers: fmod_ret where the kernel allows it on the call, else fentry (signal only).
  for (const auto& e : set.enforcers) {
    progs.push_back(absl::StrCat("{\"enforcer\":", jsonString(e.call), ",\"policies\":[",
                                 absl::StrJoin(e.policies, ",", [](std::string* o, const std::string& n) {
                                   o->append(jsonString(n));
                                 }),
                                 "],\"attach\":{\"fmod_ret\":", jsonString("fmod_ret/" + e.function),
                                 ",\"fentry\":", jsonString("fentry/" + e.function), "}}"));
  }
  return absl::StrCat("{\"policies\":[", absl::StrJoin(pols, ","), "],\"programs\":[",
                      absl::StrJoin(progs, ","), "],\"selectors\":[", absl::StrJoin(sels, ","),
                      "],\"map_entries\":{\"vg_selectors\":", set.selectors.size(),
                      ",\"vg_str_match\":", set.str_keys.size(), ",\"vg_len_sets\":",
                      set.len_sets.size(), ",\"vg_cidr\":", set.cidrs.size(), "}}");
}

}  // namespace vigil::compiler
