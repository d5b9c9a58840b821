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
};

struct CompiledSet {
  vg_config config{};
  std::vector<std::pair<uint32_t, vg_policy_state>> policies;  // policy id -> state
  std::vector<std::pair<uint32_t, vg_selector>> selectors;     // slot -> selector
  std::vector<std::pair<uint32_t, vg_len_set>> len_sets;       // id -> lengths
  std::vector<vg_str_key> str_keys;                            // every value
  std::array<vg_hook_selectors, VG_HOOK_MAX> hooks{};          // hook -> slots
  std::vector<std::string> policy_names;                       // indexed by policy id

  bool usesHook(vg_hook hook) const { return hooks[hook].count > 0; }
};

// Hook name as written in policies ("file_open") <-> ABI id.
vg_hook hookFromName(const std::string& name);
const char* hookName(uint32_t hook);

// Compiles policies in order; policy i gets id i. Errors name the policy's
// file:line:col (e.g. a hook with more selectors than the kernel evaluates).
absl::StatusOr<CompiledSet> compile(const std::vector<policy::Policy>& policies,
                                    const CompileOptions& options);

}  // namespace vigil::compiler
