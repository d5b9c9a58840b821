// The policy compiler: PolicyIR in, the kernel's map entries out.
//
// Pure: no libbpf, no kernel. The loader writes a CompiledSet into the maps as
// it is; everything about how selectors are laid out for the kernel lives here,
// so it is unit-tested without root.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/policy/policy_ir.h"
#include "vigil/abi/abi.h"

namespace vigil::compiler {

struct CompileOptions {
  bool audit_all = false;  // daemon-wide audit switch
  // Which half of the kernel's tables to fill (0 or 1). A reload compiles
  // into the half the running set does not use, then switches each hook over
  // with one map write, so no hook is ever without its rules.
  int generation = 0;
};

// Each generation owns half of the policy ids, selector slots and length sets.
constexpr uint32_t kGenPolicies = VG_MAX_POLICIES / 2;
constexpr uint32_t kGenSelectors = VG_MAX_SELECTORS / 2;
constexpr uint32_t kGenLenSets = VG_MAX_LEN_SETS / 2;

struct CompiledSet {
  vg_config config{};
  std::vector<std::pair<uint32_t, vg_policy_state>> policies;  // policy id -> state
  std::vector<std::pair<uint32_t, vg_selector>> selectors;     // slot -> selector
  std::vector<std::pair<uint32_t, vg_len_set>> len_sets;       // id -> lengths
  std::vector<vg_str_key> str_keys;                            // every value
  std::array<vg_hook_selectors, VG_HOOK_MAX> hooks{};          // hook -> slots
  std::vector<std::string> policy_names;                       // in policy order
  uint32_t policy_base = 0;                                    // id of the first policy

  bool usesHook(vg_hook hook) const { return hooks[hook].count > 0; }
};

// Hook name as written in policies ("file_open") <-> ABI id.
vg_hook hookFromName(const std::string& name);
const char* hookName(uint32_t hook);

// Compiles policies in order; policy i gets id policy_base + i. Errors name the policy's
// file:line:col (e.g. a hook with more selectors than the kernel evaluates).
absl::StatusOr<CompiledSet> compile(const std::vector<policy::Policy>& policies,
                                    const CompileOptions& options);

}  // namespace vigil::compiler
