#include "daemon/loader/mechanism.h"

#include "absl/strings/str_cat.h"

namespace vigil::loader {
namespace {

// The choice, from what decides it: the hook's kind, whether a selector
// overrides the return value, whether it is a return probe.
absl::StatusOr<std::vector<uint8_t>> choose(policy::HookKind kind, bool overrides, bool ret,
                                            const std::string& ref, const MechanismInputs& in,
                                            const std::string& lsm_reason) {
  if (kind == policy::HookKind::kLsm) {
    if (in.lsm == HookMechanism::kLsm) return std::vector<uint8_t>{VG_MECH_LSM};
    if (in.lsm == HookMechanism::kFmodRet) return std::vector<uint8_t>{VG_MECH_FMOD_RET};
    return absl::FailedPreconditionError(absl::StrCat(
        ref, ": this kernel refuses the programs lsmhooks attach with (BPF LSM, fmod_ret)",
        lsm_reason.empty() ? "" : ": ", lsm_reason));
  }
  if (kind == policy::HookKind::kUprobe) {
    // uprobes need neither BPF LSM nor trampolines nor the kprobe PMU.
    return std::vector<uint8_t>{ret ? uint8_t{VG_MECH_URETPROBE} : uint8_t{VG_MECH_UPROBE}};
  }
  if (kind == policy::HookKind::kTracepoint) {
    if (in.tp_btf) return std::vector<uint8_t>{VG_MECH_TRACEPOINT};
    return absl::FailedPreconditionError(
        absl::StrCat(ref, ": this kernel refuses tp_btf programs (", in.tp_btf_detail, ")"));
  }
  if (overrides) {
    // Only a trampoline can change a return value here: a kprobe would need
    // bpf_override_return (CONFIG_BPF_KPROBE_OVERRIDE, which Debian's
    // kernels lack); denying silently turning into observing is not an option.
    const char* kprobe_no =
        "a kprobe cannot override a return value (bpf_override_return needs "
        "CONFIG_BPF_KPROBE_OVERRIDE); use Sigkill to kill the caller instead, or deny "
        "through an lsmhook";
    if (in.mode == KprobeMode::kKprobe) {
      return absl::FailedPreconditionError(absl::StrCat(
          ref, ": Override needs fmod_ret, and --kprobe-mechanism kprobe forbids trampolines: ",
          kprobe_no));
    }
    if (!in.trampolines) {
      return absl::FailedPreconditionError(absl::StrCat(
          ref, ": Override needs fmod_ret, which this kernel refuses (", in.trampolines_detail,
          "); ", kprobe_no));
    }
    return std::vector<uint8_t>{VG_MECH_FMOD_RET};
  }
  const uint8_t tramp = ret ? VG_MECH_FEXIT : VG_MECH_FENTRY;
  const uint8_t probe = ret ? VG_MECH_KRETPROBE : VG_MECH_KPROBE;
  std::vector<uint8_t> out;
  if (in.mode != KprobeMode::kKprobe && in.trampolines) out.push_back(tramp);
  if (in.mode != KprobeMode::kFentry && in.kprobes) out.push_back(probe);
  if (!out.empty()) return out;
  std::string why;
  if (in.mode == KprobeMode::kKprobe) {
    why = absl::StrCat("--kprobe-mechanism kprobe, and kprobes are unavailable (", in.kprobes_detail,
                       ")");
  } else if (in.mode == KprobeMode::kFentry) {
    why = absl::StrCat("--kprobe-mechanism fentry, and ", mechanismName(tramp),
                       " is refused (", in.trampolines_detail, ")");
  } else {
    why = absl::StrCat(mechanismName(tramp), " refused (", in.trampolines_detail, ") and ",
                       mechanismName(probe), " unavailable (", in.kprobes_detail, ")");
  }
  return absl::FailedPreconditionError(
      absl::StrCat(ref, ": this kernel allows neither mechanism for kprobes: ", why));
}

}  // namespace

absl::StatusOr<KprobeMode> parseKprobeMode(std::string_view s) {
  if (s == "auto") return KprobeMode::kAuto;
  if (s == "fentry") return KprobeMode::kFentry;
  if (s == "kprobe") return KprobeMode::kKprobe;
  return absl::InvalidArgumentError(
      absl::StrCat("kprobe mechanism wants auto, fentry or kprobe, got '", std::string(s), "'"));
}

const char* kprobeModeName(KprobeMode m) {
  switch (m) {
    case KprobeMode::kFentry: return "fentry";
    case KprobeMode::kKprobe: return "kprobe";
    default: return "auto";
  }
}

const char* mechanismSection(uint8_t mech) {
  return mech == VG_MECH_LSM ? "lsm" : mechanismName(mech);
}

bool isKprobeMechanism(uint8_t mech) {
  return mech == VG_MECH_KPROBE || mech == VG_MECH_KRETPROBE;
}

absl::StatusOr<std::vector<uint8_t>> hookMechanisms(const compiler::HookSpec& spec,
                                                    const MechanismInputs& in) {
  return choose(spec.kind, spec.overrides, spec.ret_kind != VG_ARG_NONE,
                absl::StrCat(spec.pos.str(), ": ", spec.ref()), in, {});
}

std::string hookRefusal(const policy::Hook& hook, const MechanismInputs& in,
                        const std::string& lsm_reason) {
  bool overrides = false;
  for (const auto& sel : hook.selectors) {
    for (const auto& act : sel.match_actions) {
      if (act.kind == policy::ActionKind::kOverride) overrides = true;
    }
  }
  auto r = choose(hook.kind, overrides, hook.return_probe, hook.ref(), in, lsm_reason);
  return r.ok() ? std::string() : std::string(r.status().message());
}

}  // namespace vigil::loader
