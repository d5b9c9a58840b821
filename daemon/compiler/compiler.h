// The policy compiler: PolicyIR in, the kernel's map entries out.
//
// Pure: no libbpf, no kernel. The loader writes a CompiledSet into the maps as
// it is; everything about how selectors are laid out for the kernel lives here,
// so it is unit-tested without root.
#pragma once

#include <array>
#include <map>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/policy/policy_ir.h"
#include "vigil/abi/abi.h"

namespace vigil::compiler {

struct CompileOptions {
  bool audit_all = false;  // daemon-wide audit switch
  // Secret keys of the string hashes (vg_config.hash_key), from the loader:
  // the kernel hashes what it sees with the same keys. Zero for offline checks.
  std::array<__u64, 2> hash_key{};
  // Ids of generic hooks already in the kernel, by HookSpec::key(): a hook
  // that stays keeps its id (and its attached program); new ones get free ids.
  std::map<std::string, uint32_t> hook_ids;
  // matchNamespaces' "host_ns": the host's namespace inodes (enum vg_ns, then
  // VG_NS_TIME_FOR_CHILDREN), read by the daemon from /proc/1/ns; 0: unknown
  // (offline checks), and host_ns then matches nothing.
  std::array<uint64_t, VG_NS_COUNT + 1> host_ns{};
  // Which half of the kernel's tables to fill (0 or 1). A reload compiles
  // into the half the running set does not use, then switches each hook over
  // with one map write, so no hook is ever without its rules.
  int generation = 0;
};

// Each generation owns half of the policy ids, selector slots and length sets.
constexpr uint32_t kGenPolicies = VG_MAX_POLICIES / 2;
constexpr uint32_t kGenSelectors = VG_MAX_SELECTORS / 2;
constexpr uint32_t kGenLenSets = VG_MAX_LEN_SETS / 2;

// A hook served by the generic program (bpf/hook.bpf.c): one program instance
// per spec, configured by what the policies declare of its arguments.
struct HookSpec {
  uint32_t id = 0;
  policy::HookKind kind = policy::HookKind::kLsm;
  std::string name;      // as the policies write it: "file_permission", "sys_symlinkat"
  std::string function;  // kprobes: kernel symbol ("__x64_sys_symlinkat"); lsm: the security_* function
  bool syscall = false;
  bool skip_if_missing = false;  // every policy naming it said ignore.callNotFound
  bool overrides = false;        // a selector denies: a kprobe must attach as fmod_ret
  uint8_t ret_kind = 0;          // return probes (fexit): how the return value reads
  int nargs = -1;                // the target's argument count; -1: the loader reads BTF
  std::array<uint8_t, VG_HOOK_ARGS> kinds{};  // enum vg_arg_kind per argument index
  std::array<uint8_t, VG_HOOK_ARGS> slots{};  // string slot of string-like arguments
  std::array<int8_t, VG_HOOK_ARGS> mount_of{-1, -1, -1, -1, -1, -1};  // dentries: their mount's path arg
  std::array<uint8_t, VG_HOOK_ARGS> src{};    // tracepoints: enum vg_tp_src per argument
  int32_t tp_nr = -1;      // syscalls/* tracepoints: the system call number (-1: any)
  uint8_t tp_nr_src = 0;   // where the program reads that number (enum vg_tp_src)
  bool generated = false;                     // from a generated_ftrace list: failures skip it
  // uprobes: the ELF file, and the symbol (name, function) or file offset.
  std::string path;
  uint64_t offset = 0;
  uint64_t ref_ctr_offset = 0;
  std::array<int8_t, VG_HOOK_ARGS> size_of{-1, -1, -1, -1, -1, -1};   // char_buf: its size argument
  uint8_t ret_copy = 0;          // char_buf read at return with the return value as length (bits)
  uint8_t ret_slot = VG_HOOK_ARGS;  // returnArg sock/socket: the event's args[] entry carrying it
  bool track_sock = false;       // returnArgAction TrackSock
  uint8_t file_flags = 0;        // file arguments whose f_flags the event carries (bits)
  policy::SourcePos pos;                      // first policy that names it

  // Identity of the program instance: what it attaches to and how it reads.
  std::string key() const;
  // "lsm/file_permission", "kprobe/sys_symlinkat", "kprobe/x#return",
  // "uprobe//bin/bash:readline" (policy::Hook::ref()).
  std::string ref() const;
};

// An enforcer program (spec.enforcers) on one system call, shared by every
// policy that lists it.
struct EnforcerSpec {
  std::string call;      // as written: "sys_dup"
  std::string function;  // "__x64_sys_dup"
  std::vector<std::string> policies;
  policy::SourcePos pos;
};

struct CompiledSet {
  vg_config config{};
  std::vector<std::pair<uint32_t, vg_policy_state>> policies;  // policy id -> state
  std::vector<std::pair<uint32_t, vg_selector>> selectors;     // slot -> selector
  std::vector<std::pair<uint32_t, vg_len_set>> len_sets;       // id -> lengths
  std::vector<std::pair<vg_str_key, uint64_t>> str_keys;       // every value -> check hash
  std::vector<vg_cidr_key> cidrs;                              // SAddr/DAddr prefixes
  std::array<vg_hook_selectors, VG_HOOK_MAX> hooks{};          // hook -> slots
  std::vector<HookSpec> generic;                               // hooks of the generic program
  std::vector<EnforcerSpec> enforcers;                         // by function, in first-use order
  // Tracepoints: each distinct (field, type) of a tracepoint is one argument
  // slot of its program, shared by the policies reading it so; per policy id
  // and hook ref, the slot of each of the policy's args[] (events show a
  // policy its own arguments, in its order).
  std::map<uint32_t, std::map<std::string, std::vector<int>>> tp_slots;
  std::map<uint32_t, std::string> hook_refs;                   // id -> Hook::ref(), all hooks
  std::vector<std::string> policy_names;                       // in policy order
  uint32_t policy_base = 0;                                    // id of the first policy

  bool usesHook(uint32_t hook) const { return hook < VG_HOOK_MAX && hooks[hook].count > 0; }
  std::map<std::string, uint32_t> hookIds() const;  // key -> id of every generic hook
};

// enum vg_mechanism as events and messages name it: "bpf_lsm", "fentry", "kprobe", ...
const char* mechanismName(uint8_t mech);

// The host's namespace inodes from /proc/1/ns (0 where unreadable).
std::array<uint64_t, VG_NS_COUNT + 1> readHostNamespaces(const std::string& proc = "/proc");

// Compiles policies in order; policy i gets id policy_base + i. Errors name the policy's
// file:line:col (e.g. a hook with more selectors than the kernel evaluates).
absl::StatusOr<CompiledSet> compile(const std::vector<policy::Policy>& policies,
                                    const CompileOptions& options);

}  // namespace vigil::compiler
