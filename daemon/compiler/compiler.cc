#include "daemon/compiler/compiler.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/policy/hook_catalog.h"
#include "daemon/policy/tracepoints.h"

namespace vigil::compiler {
namespace {

using policy::ArgOp;
using policy::BinOp;

absl::Status errorAt(const policy::SourcePos& pos, const std::string& msg) {
  return absl::InvalidArgumentError(absl::StrCat(pos.str(), ": ", msg));
}

// How an operator is encoded for the kernel: the op, the field it reads, and
// whether the result is negated.
struct OpCode {
  uint8_t op;
  uint8_t field;
  bool negate;
};

OpCode opCode(ArgOp op, bool string_arg) {
  switch (op) {
    case ArgOp::kEqual: return {string_arg ? uint8_t{VG_OP_EQUAL} : uint8_t{VG_OP_INT_IN}, VG_FIELD_VALUE, false};
    case ArgOp::kNotEqual: return {string_arg ? uint8_t{VG_OP_EQUAL} : uint8_t{VG_OP_INT_IN}, VG_FIELD_VALUE, true};
    case ArgOp::kPrefix: return {VG_OP_PREFIX, VG_FIELD_VALUE, false};
    case ArgOp::kNotPrefix: return {VG_OP_PREFIX, VG_FIELD_VALUE, true};
    case ArgOp::kPostfix: return {VG_OP_POSTFIX, VG_FIELD_VALUE, false};
    case ArgOp::kNotPostfix: return {VG_OP_POSTFIX, VG_FIELD_VALUE, true};
    case ArgOp::kGT: return {VG_OP_GT, VG_FIELD_VALUE, false};
    case ArgOp::kLT: return {VG_OP_LT, VG_FIELD_VALUE, false};
    case ArgOp::kMask: return {VG_OP_MASK, VG_FIELD_VALUE, false};
    case ArgOp::kInRange: return {VG_OP_RANGE, VG_FIELD_VALUE, false};
    case ArgOp::kNotInRange: return {VG_OP_RANGE, VG_FIELD_VALUE, true};
    case ArgOp::kSPort: return {VG_OP_INT_IN, VG_FIELD_SPORT, false};
    case ArgOp::kNotSPort: return {VG_OP_INT_IN, VG_FIELD_SPORT, true};
    case ArgOp::kDPort: return {VG_OP_INT_IN, VG_FIELD_DPORT, false};
    case ArgOp::kNotDPort: return {VG_OP_INT_IN, VG_FIELD_DPORT, true};
    case ArgOp::kSPortPriv: return {VG_OP_PRIV, VG_FIELD_SPORT, false};
    case ArgOp::kNotSPortPriv: return {VG_OP_PRIV, VG_FIELD_SPORT, true};
    case ArgOp::kDPortPriv: return {VG_OP_PRIV, VG_FIELD_DPORT, false};
    case ArgOp::kNotDPortPriv: return {VG_OP_PRIV, VG_FIELD_DPORT, true};
    case ArgOp::kSAddr: return {VG_OP_CIDR, VG_FIELD_SADDR, false};
    case ArgOp::kNotSAddr: return {VG_OP_CIDR, VG_FIELD_SADDR, true};
    case ArgOp::kDAddr: return {VG_OP_CIDR, VG_FIELD_DADDR, false};
    case ArgOp::kNotDAddr: return {VG_OP_CIDR, VG_FIELD_DADDR, true};
    case ArgOp::kProtocol: return {VG_OP_INT_IN, VG_FIELD_PROTOCOL, false};
    case ArgOp::kFamily: return {VG_OP_INT_IN, VG_FIELD_FAMILY, false};
    case ArgOp::kState: return {VG_OP_INT_IN, VG_FIELD_STATE, false};
    case ArgOp::kInMap: return {VG_OP_INT_IN, VG_FIELD_VALUE, false};
    case ArgOp::kNotInMap: return {VG_OP_INT_IN, VG_FIELD_VALUE, true};
  }
  return {VG_OP_NONE, VG_FIELD_VALUE, false};
}

// Integers are compared at the width the kernel reads them (sign-extended for
// signed kinds), so "-1" matches an int argument of -1 and 0xffffffff a u32.
uint64_t atWidth(uint64_t v, uint8_t kind) {
  switch (kind) {
    case VG_ARG_S8: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(v)));
    case VG_ARG_U8: return static_cast<uint8_t>(v);
    case VG_ARG_S16: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(v)));
    case VG_ARG_U16: return static_cast<uint16_t>(v);
    case VG_ARG_S32: return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(v)));
    case VG_ARG_U32: return static_cast<uint32_t>(v);
  }
  return v;
}

// What the generic hooks of a set of policies need, merged across policies.
class HookPlanner {
 public:
  absl::Status add(const policy::Hook& h) {
    const std::string ref = h.ref();
    auto [it, inserted] = specs_.try_emplace(ref);
    HookSpec& spec = it->second;
    if (inserted) {
      order_.push_back(ref);
      spec.kind = h.kind;
      spec.name = h.hook;
      spec.syscall = h.syscall;
      spec.skip_if_missing = h.skip_if_missing;
      spec.ret_kind = h.return_probe ? h.return_arg.kind : uint8_t{VG_ARG_NONE};
      spec.track_sock = h.track_sock;
      spec.pos = h.pos;
      spec.generated = h.generated;
      if (h.kind == policy::HookKind::kTracepoint) {
        spec.function = h.event;  // tp_btf attaches by event name (btf_trace_EVENT)
        if (const auto* tp = policy::findTracepoint(h.subsystem, h.event); tp && tp->nr >= 0) {
          spec.function = std::string(tp->attach);  // syscalls/*: raw_syscalls, one number
          spec.tp_nr = tp->nr;
          spec.tp_nr_src = tp->nr_src;
        }
      } else if (h.kind == policy::HookKind::kLsm) {
        const policy::LsmHookInfo* info = policy::findLsmHook(h.hook);
        if (!info) return errorAt(h.pos, absl::StrCat("unknown LSM hook ", h.hook));
        spec.function = std::string(info->function);
        spec.nargs = static_cast<int>(info->args.size());
        for (size_t i = 0; i < info->args.size() && i < VG_HOOK_ARGS; i++) {
          spec.mount_of[i] = info->args[i].mount_of;
          if (info->args[i].file_flags) spec.file_flags |= static_cast<uint8_t>(1u << i);
        }
      } else if (h.kind == policy::HookKind::kUprobe) {
        spec.function = h.offset ? std::string() : h.hook;
        spec.path = h.path;
        spec.offset = h.offset;
        spec.ref_ctr_offset = h.ref_ctr_offset;
        spec.nargs = VG_HOOK_ARGS;
      } else {
        spec.function = h.syscall ? policy::syscallSymbol(h.hook) : h.hook;
      }
    } else {
      if (spec.syscall != h.syscall) {
        return errorAt(h.pos, absl::StrCat("kprobe ", h.hook, " is declared with syscall: ",
                                           h.syscall ? "true" : "false", " here and ",
                                           spec.syscall ? "true" : "false", " at ",
                                           spec.pos.str()));
      }
      spec.skip_if_missing = spec.skip_if_missing && h.skip_if_missing;
      spec.track_sock = spec.track_sock || h.track_sock;
      if (h.return_probe && spec.ret_kind != h.return_arg.kind) {
        return errorAt(h.pos, absl::StrCat("the return value of ", h.hook, " is read as ",
                                           std::string(policy::kindName(h.return_arg.kind)),
                                           " here and as ",
                                           std::string(policy::kindName(spec.ret_kind)),
                                           " at ", spec.pos.str()));
      }
    }
    if (h.kind == policy::HookKind::kTracepoint) {
      auto& slots = tp_slots_[ref];
      for (const auto& a : h.args) {
        auto [it, fresh] = slots.try_emplace({a.field, a.kind}, static_cast<int>(slots.size()));
        if (it->second >= VG_HOOK_ARGS) {
          return errorAt(a.pos, absl::StrCat("tracepoint ", h.hook, " is read in more than ",
                                             VG_HOOK_ARGS,
                                             " distinct (field, type) ways across the loaded "
                                             "policies"));
        }
        spec.kinds[it->second] = a.kind;
        spec.src[it->second] = a.src;
      }
    }
    for (const auto& a : h.args) {
      if (a.kind == VG_ARG_NONE || h.kind == policy::HookKind::kTracepoint) continue;
      if (a.size_arg >= 0 || a.return_copy) {
        const int8_t want = static_cast<int8_t>(a.size_arg);
        const uint8_t bit = static_cast<uint8_t>(a.return_copy ? 1u << a.index : 0);
        if ((spec.kinds[a.index] != VG_ARG_NONE &&
             (spec.size_of[a.index] != want || (spec.ret_copy & (1u << a.index)) != bit))) {
          return errorAt(a.pos, absl::StrCat("argument ", a.index, " of ", h.hook,
                                             " is read with another sizeArgIndex or returnCopy "
                                             "by another policy"));
        }
        spec.size_of[a.index] = want;
        spec.ret_copy |= bit;
      }
      uint8_t& k = spec.kinds[a.index];
      if (k != VG_ARG_NONE && k != a.kind) {
        return errorAt(a.pos, absl::StrCat("argument ", a.index, " of ", h.hook,
                                           " is read as ", std::string(policy::kindName(k)),
                                           " by another policy, here as ",
                                           std::string(policy::kindName(a.kind))));
      }
      k = a.kind;
      spec.src[a.index] = a.src;
    }
    for (const auto& s : h.selectors) {
      for (const auto& act : s.match_actions) {
        if (act.kind == policy::ActionKind::kOverride) spec.overrides = true;
      }
    }
    return absl::OkStatus();
  }

  // Lays out string slots and hands out ids (kept for known keys).
  absl::Status finish(const std::map<std::string, uint32_t>& known, CompiledSet& out) {
    std::set<uint32_t> used;
    for (const auto& [key, id] : known) used.insert(id);
    for (const auto& ref : order_) {
      HookSpec& spec = specs_[ref];
      int slot = 0;
      for (int i = 0; i < VG_HOOK_ARGS; i++) {
        if (!policy::isStringKind(spec.kinds[i])) continue;
        if (slot == VG_HOOK_STR_SLOTS) {
          return errorAt(spec.pos, absl::StrCat(spec.name, ": at most ", VG_HOOK_STR_SLOTS,
                                                " string or path arguments are read per hook"));
        }
        spec.slots[i] = static_cast<uint8_t>(slot++);
      }
      if (spec.ret_kind == VG_ARG_SOCK || spec.ret_kind == VG_ARG_SOCKET) {
        // The returned object travels in the event's last unused args[] entry.
        spec.ret_slot = VG_HOOK_ARGS;
        for (int i = VG_HOOK_ARGS - 1; i >= 0; i--) {
          if (spec.kinds[i] == VG_ARG_NONE) {
            spec.ret_slot = static_cast<uint8_t>(i);
            break;
          }
        }
        if (spec.ret_slot == VG_HOOK_ARGS) {
          return errorAt(spec.pos, absl::StrCat(spec.name, ": a returnArg of type ",
                                                std::string(policy::kindName(spec.ret_kind)),
                                                " needs one of the ", VG_HOOK_ARGS,
                                                " argument entries free; all are read"));
        }
      }
      if (auto k = known.find(spec.key()); k != known.end()) {
        spec.id = k->second;
      } else {
        uint32_t id = VG_HOOK_FIRST;
        while (used.count(id)) id++;
        if (id >= VG_HOOK_MAX) {
          return errorAt(spec.pos, absl::StrCat("more than ", VG_HOOK_MAX - VG_HOOK_FIRST,
                                                " distinct hooks loaded"));
        }
        spec.id = id;
        used.insert(id);
      }
      out.hook_refs[spec.id] = ref;
      out.generic.push_back(spec);
    }
    return absl::OkStatus();
  }

  uint32_t idOf(const policy::Hook& h) const {
    return ids_.at(h.ref());
  }
  void index(const CompiledSet& out) {
    for (const auto& spec : out.generic) ids_[spec.ref()] = spec.id;
  }
  const HookSpec& spec(const policy::Hook& h) const { return specs_.at(h.ref()); }
  // Tracepoints: the program's slot of an argument.
  int tpSlot(const policy::Hook& h, const policy::HookArg& a) const {
    return tp_slots_.at(h.ref()).at({a.field, a.kind});
  }

 private:
  std::unordered_map<std::string, HookSpec> specs_;
  std::vector<std::string> order_;
  std::unordered_map<std::string, uint32_t> ids_;
  std::unordered_map<std::string, std::map<std::pair<int, uint8_t>, int>> tp_slots_;
};

class Compiler {
 public:
  explicit Compiler(const CompileOptions& options)
      : host_ns_(options.host_ns),
        gen_(options.generation & 1),
        next_slot_(gen_ * kGenSelectors),
        len_set_base_(gen_ * kGenLenSets) {
    out_.config.audit_all = options.audit_all;
    out_.config.hash_key[0] = options.hash_key[0];
    out_.config.hash_key[1] = options.hash_key[1];
    out_.policy_base = gen_ * kGenPolicies;
  }

  absl::Status planHooks(const std::vector<policy::Policy>& policies,
                         const std::map<std::string, uint32_t>& known) {
    for (const auto& p : policies) {
      for (const auto& h : p.hooks) {
        if (auto s = planner_.add(h); !s.ok()) return s;
      }
    }
    if (auto s = planner_.finish(known, out_); !s.ok()) return s;
    planner_.index(out_);
    return absl::OkStatus();
  }

  absl::Status addPolicy(uint32_t id, const policy::Policy& p) {
    if (!names_.insert(p.name).second) {
      return errorAt(p.pos, absl::StrCat("policy name \"", p.name, "\" is already loaded"));
    }
    out_.policy_names.push_back(p.name);
    vg_policy_state st{};
    st.mode = p.effectiveMode() == policy::Mode::kMonitor ? VG_MODE_MONITOR : VG_MODE_ENFORCE;
    st.enabled = 1;
    out_.policies.emplace_back(id, st);
    for (const auto& e : p.enforcers) {
      for (const auto& call : e.calls) {
        const std::string fn = policy::syscallSymbol(call);
        auto it = std::find_if(out_.enforcers.begin(), out_.enforcers.end(),
                               [&](const EnforcerSpec& x) { return x.function == fn; });
        if (it == out_.enforcers.end()) {
          out_.enforcers.push_back(EnforcerSpec{call, fn, {}, e.pos});
          it = out_.enforcers.end() - 1;
        }
        if (std::find(it->policies.begin(), it->policies.end(), p.name) == it->policies.end())
          it->policies.push_back(p.name);
      }
    }
    for (const auto& hook : p.hooks) {
      const uint32_t h = planner_.idOf(hook);
      std::array<uint8_t, VG_HOOK_ARGS> kinds{};
      for (const auto& a : hook.args) kinds[a.index] = a.kind;
      const uint8_t ret_kind = hook.return_probe ? hook.return_arg.kind : uint8_t{VG_ARG_NONE};
      std::array<uint8_t, VG_HOOK_ARGS> slot_of{0, 1, 2, 3, 4, 5};
      if (hook.kind == policy::HookKind::kTracepoint) {
        auto& slots = out_.tp_slots[id][hook.ref()];
        for (const auto& a : hook.args) {
          slot_of[a.index] = static_cast<uint8_t>(planner_.tpSlot(hook, a));
          slots.push_back(slot_of[a.index]);
        }
      }
      for (size_t i = 0; i < hook.selectors.size(); i++) {
        if (auto s = addSelector(id, h, hook.hook, kinds, ret_kind, i, hook.selectors[i], slot_of);
            !s.ok())
          return s;
      }
    }
    return absl::OkStatus();
  }

  CompiledSet take() { return std::move(out_); }

 private:
  void addStrKey(uint32_t slot, uint8_t filter, uint8_t op, const std::string& v) {
    vg_str_key key{};
    key.selector = slot;
    key.filter = filter;
    key.op = op;
    key.len = static_cast<uint16_t>(v.size());
    const auto* k = out_.config.hash_key;
    vg_hash2 h = op == VG_OP_POSTFIX ? vg_hash_rev(v.data(), v.size(), k) : vg_hash_fwd(v.data(), v.size(), k);
    key.hash = h.h;
    out_.str_keys.emplace_back(key, h.check);
  }

  // A length set for Prefix/Postfix values: which lengths the kernel tries.
  uint32_t addLenSet(const std::vector<std::string>& values) {
    uint32_t id = len_set_base_ + static_cast<uint32_t>(out_.len_sets.size());
    vg_len_set ls{};
    for (const auto& v : values) {
      ls.bits[v.size() / 8] |= static_cast<uint8_t>(1u << (v.size() % 8));
      if (v.size() > ls.max_len) ls.max_len = static_cast<uint16_t>(v.size());
    }
    out_.len_sets.emplace_back(id, ls);
    return id;
  }

  // Binary paths (matchBinaries, matchParentBinaries) under filter: returns
  // the kernel's op (VG_OP_BIN_IN/_PREFIX/_POSTFIX); Prefix/Postfix set *len_set.
  uint8_t addBinaries(uint32_t slot, uint8_t filter, BinOp op, const std::vector<std::string>& values,
                      uint32_t* len_set) {
    if (op == BinOp::kIn || op == BinOp::kNotIn) {
      for (const auto& v : values) addStrKey(slot, filter, VG_OP_BIN_IN, v);
      return VG_OP_BIN_IN;
    }
    const bool prefix = op == BinOp::kPrefix || op == BinOp::kNotPrefix;
    *len_set = addLenSet(values);
    for (const auto& v : values) addStrKey(slot, filter, prefix ? VG_OP_PREFIX : VG_OP_POSTFIX, v);
    return prefix ? VG_OP_BIN_PREFIX : VG_OP_BIN_POSTFIX;
  }

  absl::Status addFilter(uint32_t slot, uint8_t f, uint8_t kind, const policy::ArgFilter& ma,
                         vg_arg_filter& af) {
    const bool str = policy::isStringKind(kind);
    OpCode code = opCode(ma.op, str);
    af.op = code.op;
    af.field = code.field;
    af.negate = code.negate;
    af.arg = static_cast<uint8_t>(ma.index);
    switch (af.op) {
      case VG_OP_EQUAL:
      case VG_OP_PREFIX:
      case VG_OP_POSTFIX:
        for (const auto& v : ma.values) {
          if (v.empty() || v.size() >= VG_PATH_MAX) {
            return errorAt(ma.pos, absl::StrCat("value length must be 1..", VG_PATH_MAX - 1));
          }
          addStrKey(slot, f, af.op, v);
        }
        if (af.op != VG_OP_EQUAL) af.len_set = addLenSet(ma.values);
        break;
      case VG_OP_INT_IN:
        for (uint64_t n : ma.numbers) {
          vg_str_key key{};
          key.selector = slot;
          key.filter = f;
          key.op = VG_OP_INT_IN;
          key.hash = code.field == VG_FIELD_VALUE ? atWidth(n, kind) : n;
          out_.str_keys.emplace_back(key, 0);  // integers: the number is the key
        }
        break;
      case VG_OP_GT:
      case VG_OP_LT:
      case VG_OP_MASK:
        af.a = atWidth(ma.numbers.at(0), kind);
        break;
      case VG_OP_RANGE:
        af.a = atWidth(ma.numbers.at(0), kind);
        af.b = atWidth(ma.numbers.at(1), kind);
        break;
      case VG_OP_CIDR:
        for (const auto& c : ma.cidrs) {
          vg_cidr_key key{};
          key.prefixlen = 64 + c.bits;
          key.selector = slot;
          key.filter = f;
          key.family = c.family;
          std::copy(c.addr.begin(), c.addr.end(), key.addr);
          out_.cidrs.push_back(key);
        }
        break;
      case VG_OP_PRIV:
        break;
      default:
        return errorAt(ma.pos, "operator not encodable (internal error)");
    }
    return absl::OkStatus();
  }

  absl::Status addSelector(uint32_t policy_id, uint32_t hook, const std::string& hook_name,
                           const std::array<uint8_t, VG_HOOK_ARGS>& kinds, uint8_t ret_kind,
                           size_t index, const policy::Selector& s,
                           const std::array<uint8_t, VG_HOOK_ARGS>& slot_of) {
    vg_hook_selectors& hs = out_.hooks[hook];
    if (hs.count >= VG_MAX_HOOK_SELECTORS) {
      return errorAt(s.pos, absl::StrCat("hook ", hook_name, " has more than ",
                                         VG_MAX_HOOK_SELECTORS,
                                         " selectors across the loaded policies"));
    }
    if (next_slot_ >= (gen_ + 1) * kGenSelectors) {
      return errorAt(s.pos, absl::StrCat("more than ", kGenSelectors, " selectors loaded"));
    }
    if (s.match_args.size() + s.match_return_args.size() > VG_MAX_ARG_FILTERS) {
      return errorAt(s.pos, absl::StrCat("a selector holds at most ", VG_MAX_ARG_FILTERS,
                                         " matchArgs and matchReturnArgs filters"));
    }
    const uint32_t slot = next_slot_++;
    vg_selector sel{};
    sel.policy = policy_id;
    sel.index = static_cast<uint32_t>(index);
    sel.action = VG_ACT_POST;
    // Several actions: the strongest one decides (Sigkill > Override > Signal > Post).
    auto rank = [](uint8_t k) {
      switch (k) {
        case VG_ACT_SIGKILL: return 3;
        case VG_ACT_OVERRIDE:
        case VG_ACT_NOTIFY_ENFORCER: return 2;
        case VG_ACT_SIGNAL: return 1;
      }
      return 0;
    };
    for (const auto& a : s.match_actions) {
      uint8_t k = VG_ACT_POST;
      switch (a.kind) {
        case policy::ActionKind::kPost: break;
        case policy::ActionKind::kNoPost: sel.nopost = 1; break;
        case policy::ActionKind::kOverride: k = VG_ACT_OVERRIDE; sel.error = a.arg_error; break;
        case policy::ActionKind::kSigkill: k = VG_ACT_SIGKILL; break;
        case policy::ActionKind::kSignal: k = VG_ACT_SIGNAL; sel.signal = static_cast<uint8_t>(a.arg_sig); break;
        case policy::ActionKind::kNotifyEnforcer:
          k = VG_ACT_NOTIFY_ENFORCER;
          sel.error = a.arg_error;
          sel.signal = static_cast<uint8_t>(a.arg_sig);
          break;
        // Carried out by vigild when the event arrives (it needs the event).
        case policy::ActionKind::kGetUrl:
        case policy::ActionKind::kDnsLookup: break;
        case policy::ActionKind::kUntrackSock: sel.untrack_sock = static_cast<uint8_t>(a.arg_sock + 1); break;
      }
      if (rank(k) > rank(sel.action)) sel.action = k;
      if (a.kernel_stack || a.user_stack) {
        sel.stacks |= (a.kernel_stack ? VG_STACK_KERNEL : 0) | (a.user_stack ? VG_STACK_USER : 0);
      }
      if (a.rate_limit_ns) {
        sel.rate_ns = a.rate_limit_ns;
        sel.rate_scope = a.rate_scope;
      }
    }
    if (sel.action == VG_ACT_SIGKILL && sel.error == 0) sel.error = -kEperm;
    // GetUrl and DnsLookup run in vigild when the event arrives: the kernel
    // posts it even under NoPost (vigild then does not export it).
    for (const auto& a : s.match_actions) {
      if (a.kind == policy::ActionKind::kGetUrl || a.kind == policy::ActionKind::kDnsLookup) {
        sel.nopost = 0;
      }
    }
    for (size_t f = 0; f < s.match_args.size(); f++) {
      const auto& ma = s.match_args[f];
      if (auto st = addFilter(slot, static_cast<uint8_t>(f), kinds[ma.index], ma, sel.filters[f]);
          !st.ok())
        return st;
      sel.filters[f].arg = slot_of[ma.index];
      sel.nfilters++;
    }
    for (const auto& mr : s.match_return_args) {
      const uint8_t f = sel.nfilters;
      if (auto st = addFilter(slot, f, ret_kind, mr, sel.filters[f]); !st.ok()) return st;
      sel.filters[f].arg = VG_ARG_RETURN;
      sel.nfilters++;
    }
    if (s.match_task.size() > VG_MAX_TASK_FILTERS) {
      return errorAt(s.match_task[VG_MAX_TASK_FILTERS].pos,
                     absl::StrCat("a selector holds at most ", VG_MAX_TASK_FILTERS,
                                  " matchPIDs, matchNamespaces and matchCapabilities filters"));
    }
    for (const auto& t : s.match_task) {
      const uint8_t f = sel.ntask++;
      vg_task_filter& tf = sel.task[f];
      tf.negate = t.not_in;
      tf.which = t.which;
      auto addValue = [&](uint64_t v) {
        vg_str_key key{};
        key.selector = slot;
        key.filter = static_cast<uint8_t>(VG_FILTER_TASK + f);
        key.op = VG_OP_INT_IN;
        key.hash = v;
        out_.str_keys.emplace_back(key, 0);
      };
      switch (t.kind) {
        case policy::TaskFilter::Kind::kPids:
          tf.kind = VG_TF_PID;
          tf.flags = (t.follow_forks ? VG_TF_FOLLOW_FORKS : 0) | (t.namespace_pid ? VG_TF_NS_PID : 0);
          for (uint64_t v : t.values) addValue(v);
          break;
        case policy::TaskFilter::Kind::kNamespaces:
          tf.kind = VG_TF_NS;
          for (uint64_t v : t.values) addValue(v);
          if (t.host_ns && host_ns_[t.which]) addValue(host_ns_[t.which]);
          break;
        case policy::TaskFilter::Kind::kCapabilities:
          tf.kind = VG_TF_CAP;
          for (uint64_t v : t.values) tf.mask |= uint64_t{1} << v;
          break;
        case policy::TaskFilter::Kind::kCapabilityChanges:
          tf.kind = VG_TF_CAP_CHANGE;
          for (uint64_t v : t.values) tf.mask |= uint64_t{1} << v;
          tf.ns_cap = t.namespace_cap;
          break;
        case policy::TaskFilter::Kind::kNamespaceChanges:
          tf.kind = VG_TF_NS_CHANGE;
          for (uint64_t v : t.values) tf.mask |= uint64_t{1} << v;
          break;
        case policy::TaskFilter::Kind::kParentBinaries: {
          tf.kind = VG_TF_PARENT_BIN;
          uint32_t len_set = 0;
          tf.which = addBinaries(slot, static_cast<uint8_t>(VG_FILTER_TASK + f), t.bin_op,
                                 t.binaries, &len_set);
          tf.mask = len_set;
          if (tf.which != VG_OP_BIN_IN) {
            // The kernel walks one parent path per selector: a second walk
            // would not fit 6.1's stack limit (bpf/lib/strmatch.h).
            if (sel.parent_affix) {
              return errorAt(t.pos, "a selector holds at most one matchParentBinaries Prefix, "
                                    "NotPrefix, Postfix or NotPostfix filter (In and NotIn: any "
                                    "number)");
            }
            sel.parent_affix = static_cast<uint8_t>(f + 1);
          }
          break;
        }
      }
    }
    if (s.match_binaries.size() > 1) {
      return errorAt(s.match_binaries[1].pos, "a selector holds at most one matchBinaries filter");
    }
    for (const auto& mb : s.match_binaries) {
      sel.bin_negate = mb.op == BinOp::kNotIn || mb.op == BinOp::kNotPrefix ||
                       mb.op == BinOp::kNotPostfix;
      sel.bin_follow = mb.follow_children;
      sel.binaries = addBinaries(slot, VG_FILTER_BINARY, mb.op, mb.values, &sel.bin_len_set);
    }
    if (out_.len_sets.size() > kGenLenSets) {
      return errorAt(s.pos, absl::StrCat("more than ", kGenLenSets,
                                         " Prefix/Postfix filters loaded"));
    }
    if (out_.str_keys.size() > VG_STR_MATCH_ENTRIES / 2) {
      return errorAt(s.pos, absl::StrCat("more than ", VG_STR_MATCH_ENTRIES / 2,
                                         " selector values loaded"));
    }
    if (out_.cidrs.size() > VG_CIDR_ENTRIES / 2) {
      return errorAt(s.pos, absl::StrCat("more than ", VG_CIDR_ENTRIES / 2,
                                         " address prefixes loaded"));
    }
    hs.slots[hs.count++] = slot;
    out_.selectors.emplace_back(slot, sel);
    return absl::OkStatus();
  }

  static constexpr int kEperm = 1;
  const std::array<uint64_t, VG_NS_COUNT + 1> host_ns_;
  CompiledSet out_;
  HookPlanner planner_;
  std::unordered_set<std::string> names_;
  const uint32_t gen_;
  uint32_t next_slot_;
  const uint32_t len_set_base_;
};

}  // namespace

std::string HookSpec::key() const {
  const bool uprobe = kind == policy::HookKind::kUprobe;
  std::string k = absl::StrCat(kind == policy::HookKind::kLsm        ? "lsm:"
                               : kind == policy::HookKind::kKprobe   ? "kprobe:"
                               : kind == policy::HookKind::kUprobe   ? "uprobe:"
                                                                     : "tracepoint:",
                               uprobe ? absl::StrCat(path, ":", name) : function,
                               uprobe && ref_ctr_offset ? absl::StrCat("(", ref_ctr_offset, ")") : "",
                               syscall ? ":syscall" : "",
                               kind == policy::HookKind::kKprobe && overrides ? ":override" : "",
                               ret_kind ? ":return=" : "",
                               ret_kind ? std::string(policy::kindName(ret_kind)) : "",
                               track_sock ? ":tracksock" : "",
                               tp_nr >= 0 ? absl::StrCat(":nr=", tp_nr) : "", "(");
  for (int i = 0; i < VG_HOOK_ARGS; i++) {
    if (i) k += ",";
    k += std::string(policy::kindName(kinds[i]));
    if (src[i]) k += absl::StrCat("@", src[i]);
    if (size_of[i] >= 0) absl::StrAppend(&k, "/size=", size_of[i]);
    if (ret_copy & (1u << i)) k += "/ret";
  }
  return k + ")";
}

std::string HookSpec::ref() const {
  if (kind == policy::HookKind::kUprobe) {
    return "uprobe/" + path + ":" + name + (ret_kind ? "#return" : "");
  }
  return std::string(kind == policy::HookKind::kLsm      ? "lsm/"
                     : kind == policy::HookKind::kKprobe ? "kprobe/"
                                                         : "tracepoint/") +
         name +
         (ret_kind ? "#return" : "");
}

std::map<std::string, uint32_t> CompiledSet::hookIds() const {
  std::map<std::string, uint32_t> out;
  for (const auto& spec : generic) out[spec.key()] = spec.id;
  return out;
}

const char* mechanismName(uint8_t mech) {
  switch (mech) {
    case VG_MECH_LSM: return "bpf_lsm";
    case VG_MECH_FMOD_RET: return "fmod_ret";
    case VG_MECH_FENTRY: return "fentry";
    case VG_MECH_FEXIT: return "fexit";
    case VG_MECH_KPROBE: return "kprobe";
    case VG_MECH_KRETPROBE: return "kretprobe";
    case VG_MECH_TRACEPOINT: return "tp_btf";
    case VG_MECH_UPROBE: return "uprobe";
    case VG_MECH_URETPROBE: return "uretprobe";
  }
  return "unknown";
}

std::array<uint64_t, VG_NS_COUNT + 1> readHostNamespaces(const std::string& proc) {
  std::array<uint64_t, VG_NS_COUNT + 1> out{};
  for (uint8_t ns = 0; ns <= VG_NS_COUNT; ns++) {
    // /proc/1/ns/<name> is a link to "<name>:[inode]".
    static constexpr const char* kFiles[] = {"uts", "ipc", "mnt", "pid", "pid_for_children",
                                             "net", "time", "cgroup", "user", "time_for_children"};
    char target[128] = {};
    const std::string link = proc + "/1/ns/" + kFiles[ns];
    ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    const char* open = strchr(target, '[');
    if (open) out[ns] = strtoull(open + 1, nullptr, 10);
  }
  return out;
}

absl::StatusOr<CompiledSet> compile(const std::vector<policy::Policy>& policies,
                                    const CompileOptions& options) {
  if (policies.size() > kGenPolicies) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kGenPolicies, " policies loaded"));
  }
  Compiler c(options);
  if (auto s = c.planHooks(policies, options.hook_ids); !s.ok()) return s;
  const uint32_t base = (options.generation & 1) * kGenPolicies;
  for (size_t i = 0; i < policies.size(); i++) {
    if (auto s = c.addPolicy(base + static_cast<uint32_t>(i), policies[i]); !s.ok()) return s;
  }
  return c.take();
}

}  // namespace vigil::compiler
