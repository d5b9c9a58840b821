#include "daemon/compiler/compiler.h"

#include <set>
#include <unordered_set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vigil::compiler {
namespace {

uint8_t strOp(policy::StrOp op) {
  switch (op) {
    case policy::StrOp::kEqual: return VG_OP_EQUAL;
    case policy::StrOp::kPrefix: return VG_OP_PREFIX;
    case policy::StrOp::kPostfix: return VG_OP_POSTFIX;
  }
  return VG_OP_NONE;
}

uint8_t actionKind(policy::ActionKind kind) {
  switch (kind) {
    case policy::ActionKind::kPost: return VG_ACT_POST;
    case policy::ActionKind::kOverride: return VG_ACT_OVERRIDE;
    case policy::ActionKind::kSigkill: return VG_ACT_SIGKILL;
  }
  return VG_ACT_POST;
}

absl::Status errorAt(const policy::SourcePos& pos, const std::string& msg) {
  return absl::InvalidArgumentError(absl::StrCat(pos.str(), ": ", msg));
}

class Compiler {
 public:
  explicit Compiler(const CompileOptions& options)
      : gen_(options.generation & 1),
        next_slot_(gen_ * kGenSelectors),
        len_set_base_(gen_ * kGenLenSets) {
    out_.config.audit_all = options.audit_all;
    out_.policy_base = gen_ * kGenPolicies;
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
    for (const auto& hook : p.lsm_hooks) {
      vg_hook h = hookFromName(hook.hook);
      if (h == VG_HOOK_NONE) return errorAt(hook.pos, absl::StrCat("unknown hook ", hook.hook));
      for (size_t i = 0; i < hook.selectors.size(); i++) {
        if (auto s = addSelector(id, h, i, hook.selectors[i]); !s.ok()) return s;
      }
    }
    return absl::OkStatus();
  }

  CompiledSet take() { return std::move(out_); }

 private:
  absl::Status addSelector(uint32_t policy_id, vg_hook hook, size_t index,
                           const policy::Selector& s) {
    vg_hook_selectors& hs = out_.hooks[hook];
    if (hs.count >= VG_MAX_HOOK_SELECTORS) {
      return errorAt(s.pos, absl::StrCat("hook ", hookName(hook), " has more than ",
                                         VG_MAX_HOOK_SELECTORS,
                                         " selectors across the loaded policies"));
    }
    if (next_slot_ >= (gen_ + 1) * kGenSelectors) {
      return errorAt(s.pos, absl::StrCat("more than ", kGenSelectors, " selectors loaded"));
    }
    if (s.match_args.size() > VG_MAX_ARG_FILTERS) {
      return errorAt(s.match_args[VG_MAX_ARG_FILTERS].pos,
                     absl::StrCat("a selector holds at most ", VG_MAX_ARG_FILTERS,
                                  " matchArgs filters"));
    }
    const uint32_t slot = next_slot_++;
    vg_selector sel{};
    sel.policy = policy_id;
    sel.index = static_cast<uint32_t>(index);
    sel.action = VG_ACT_POST;
    // Several actions: the strongest one decides (Sigkill > Override > Post).
    for (const auto& a : s.match_actions) {
      uint8_t k = actionKind(a.kind);
      if (k == VG_ACT_SIGKILL || (k == VG_ACT_OVERRIDE && sel.action == VG_ACT_POST)) {
        sel.action = k;
      }
      if (a.kind == policy::ActionKind::kOverride) sel.error = a.arg_error;
    }
    if (sel.action == VG_ACT_SIGKILL && sel.error == 0) sel.error = -VG_EPERM_ABI;
    for (size_t f = 0; f < s.match_args.size(); f++) {
      const auto& ma = s.match_args[f];
      vg_arg_filter& af = sel.filters[f];
      af.op = strOp(ma.op);
      af.arg = static_cast<uint8_t>(ma.index);
      if (af.op == VG_OP_PREFIX || af.op == VG_OP_POSTFIX) {
        af.len_set = len_set_base_ + static_cast<uint32_t>(out_.len_sets.size());
        out_.len_sets.emplace_back(af.len_set, vg_len_set{});
      }
      for (const auto& v : ma.values) {
        if (v.empty() || v.size() >= VG_PATH_MAX) {
          return errorAt(ma.pos, absl::StrCat("value length must be 1..", VG_PATH_MAX - 1));
        }
        vg_str_key key{};
        key.selector = slot;
        key.filter = static_cast<uint8_t>(f);
        key.op = af.op;
        key.len = static_cast<uint16_t>(v.size());
        key.hash = af.op == VG_OP_POSTFIX ? vg_hash_rev(v.data(), v.size())
                                          : vg_hash_fwd(v.data(), v.size());
        out_.str_keys.push_back(key);
        if (af.op == VG_OP_PREFIX || af.op == VG_OP_POSTFIX) {
          vg_len_set& ls = out_.len_sets.back().second;
          ls.bits[v.size() / 8] |= static_cast<uint8_t>(1u << (v.size() % 8));
          if (v.size() > ls.max_len) ls.max_len = static_cast<uint16_t>(v.size());
        }
      }
      sel.nfilters++;
      hs.need_path = 1;
    }
    for (const auto& mb : s.match_binaries) {
      sel.binaries = VG_OP_BIN_IN;
      for (const auto& v : mb.values) {
        vg_str_key key{};
        key.selector = slot;
        key.filter = VG_FILTER_BINARY;
        key.op = VG_OP_BIN_IN;
        key.len = static_cast<uint16_t>(v.size());
        key.hash = vg_hash_fwd(v.data(), v.size());
        out_.str_keys.push_back(key);
      }
    }
    if (s.match_binaries.size() > 1) {
      return errorAt(s.match_binaries[1].pos, "a selector holds at most one matchBinaries filter");
    }
    if (out_.len_sets.size() > kGenLenSets) {
      return errorAt(s.pos, absl::StrCat("more than ", kGenLenSets,
                                         " Prefix/Postfix filters loaded"));
    }
    if (out_.str_keys.size() > VG_STR_MATCH_ENTRIES) {
      return errorAt(s.pos, absl::StrCat("more than ", VG_STR_MATCH_ENTRIES,
                                         " selector values loaded"));
    }
    hs.slots[hs.count++] = slot;
    out_.selectors.emplace_back(slot, sel);
    return absl::OkStatus();
  }

  static constexpr int VG_EPERM_ABI = 1;
  CompiledSet out_;
  std::unordered_set<std::string> names_;
  const uint32_t gen_;
  uint32_t next_slot_;
  const uint32_t len_set_base_;
};

}  // namespace

vg_hook hookFromName(const std::string& name) {
  if (name == "bprm_check_security") return VG_HOOK_BPRM_CHECK_SECURITY;
  if (name == "file_open") return VG_HOOK_FILE_OPEN;
  return VG_HOOK_NONE;
}

const char* hookName(uint32_t hook) {
  switch (hook) {
    case VG_HOOK_BPRM_CHECK_SECURITY: return "bprm_check_security";
    case VG_HOOK_FILE_OPEN: return "file_open";
    default: return "unknown";
  }
}

absl::StatusOr<CompiledSet> compile(const std::vector<policy::Policy>& policies,
                                    const CompileOptions& options) {
  if (policies.size() > kGenPolicies) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", kGenPolicies, " policies loaded"));
  }
  Compiler c(options);
  const uint32_t base = (options.generation & 1) * kGenPolicies;
  for (size_t i = 0; i < policies.size(); i++) {
    if (auto s = c.addPolicy(base + static_cast<uint32_t>(i), policies[i]); !s.ok()) return s;
  }
  return c.take();
}

}  // namespace vigil::compiler
