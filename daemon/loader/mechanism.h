// How each hook attaches: the choice between BPF LSM, fmod_ret, fentry/fexit
// and kprobe/kretprobe, from the hook, the kernel's features and the
// operator's --kprobe-mechanism. Pure (no libbpf): the loader tries the
// mechanisms in the order given here and keeps the first the kernel accepts
// for that function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/compiler/compiler.h"

namespace vigil::loader {

// How lsmhooks attach (the kernel-wide choice made at start).
enum class HookMechanism { kNone, kLsm, kFmodRet };

// --kprobe-mechanism: auto (fentry/fexit where the kernel allows it for the
// function, else kprobe/kretprobe), fentry (trampolines only), kprobe
// (kprobes only: kernels with broken trampolines, and tests).
enum class KprobeMode { kAuto, kFentry, kKprobe };

absl::StatusOr<KprobeMode> parseKprobeMode(std::string_view s);
const char* kprobeModeName(KprobeMode m);

struct MechanismInputs {
  HookMechanism lsm = HookMechanism::kNone;
  KprobeMode mode = KprobeMode::kAuto;
  bool trampolines = false;        // an fentry program loads (probe)
  std::string trampolines_detail;  // why not, when it does not
  bool kprobes = false;            // the kprobe PMU is there
  std::string kprobes_detail;
  bool tp_btf = true;              // tp_btf programs load (tracepoints)
  std::string tp_btf_detail;
};

using compiler::mechanismName;  // enum vg_mechanism -> "fentry", "kretprobe", ...
// The section a mechanism's program has: "lsm", "fmod_ret", "fentry", ...
// (mechanismName but for bpf_lsm -> lsm).
const char* mechanismSection(uint8_t mech);
bool isKprobeMechanism(uint8_t mech);

// The mechanisms that can serve a hook, in the order to try them; an error
// (FailedPrecondition) naming the hook and why none can.
absl::StatusOr<std::vector<uint8_t>> hookMechanisms(const compiler::HookSpec& spec,
                                                    const MechanismInputs& in);

// The same question for a hook of a policy, before it is compiled: empty when
// some mechanism can serve it, else why not (for refusing the policy at start).
std::string hookRefusal(const policy::Hook& hook, const MechanismInputs& in,
                        const std::string& lsm_reason);

}  // namespace vigil::loader
