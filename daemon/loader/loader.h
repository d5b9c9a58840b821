// The loader: the only module that touches libbpf. Opens the BPF object, turns
// on the programs the policies need and the kernel allows, writes a
// CompiledSet into the maps, and attaches. Every kernel object is owned here
// and released in the destructor.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/compiler/compiler.h"
#include "daemon/loader/mechanism.h"
#include "daemon/loader/probe.h"

struct vigil_bpf;
struct vigil_hook_bpf;
struct bpf_link;
struct bpf_program;

namespace vigil::loader {

struct LoadPlan {
  HookMechanism hooks = HookMechanism::kNone;  // how lsmhooks attach
  // How kprobes attach: the operator's choice and what the kernel allows
  // (hooks.lsm is ignored: `hooks` above says it).
  MechanismInputs kprobe;
  bool process_table = true;     // attach the tp_btf process tracking
  bool can_read_kernel = true;   // bpf_probe_read_kernel allowed (paths in exec events)
  bool btf_reads = false;        // exec paths through BTF-typed reads (bpf_rdonly_cast)
  uint32_t args_max = 1024;      // bytes of argv in exec events
  uint32_t ringbuf_bytes = 0;    // event ring buffer size (power of 2); 0: the object's 8 MiB
  // bpffs directory where maps and links are pinned so that enforcement and
  // the event ring buffer survive the daemon (crash, restart, upgrade); the
  // next start adopts them. Empty: nothing pinned, all goes with the process.
  std::string pin_dir;
};

class Loader {
 public:
  // Opens and loads the object with the programs the plan asks for.
  static absl::StatusOr<std::unique_ptr<Loader>> create(const LoadPlan& plan);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Writes policies into the maps. Call before attach() so that the hooks are
  // in force from the moment they are attached. Generic hooks the set needs
  // and that are not in the kernel yet are loaded and attached first (idle
  // until their selectors are written): a hook that fails to load or attach
  // fails the whole apply with the running set untouched.
  absl::Status apply(const compiler::CompiledSet& set);
  // Generic hook ids in the kernel (ours, or adopted from pinned maps), by key:
  // what the next compile must keep.
  std::map<std::string, uint32_t> hookIds() const;
  // Generic hooks the last apply skipped (ignore.callNotFound), with why.
  const std::vector<std::string>& skippedHooks() const { return skipped_; }
  // What the enforcers (spec.enforcers) of the last apply cannot do on this
  // kernel ("sys_dup: fmod_ret refused (...): argError not enforced, ..."),
  // for warnings and status; empty when they enforce everything.
  const std::vector<std::string>& enforcerNotes() const { return enforcer_notes_; }
  // Hooks the last apply attached as kprobe/kretprobe because the kernel
  // refused fentry/fexit for them, each with the kernel's reason; taken (and
  // cleared) by the caller, which reports them.
  std::vector<std::string> takeFallbacks() { return std::move(fallbacks_); }
  // Seeds the process table with processes that started before Vigil.
  void seedProcesses();
  // The secret keys of the string hashes: those of the pinned maps a previous
  // daemon left (their entries were hashed with them), else fresh random ones.
  // Policies must be compiled with them (CompileOptions::hash_key).
  std::array<__u64, 2> hashKey() const { return hash_key_; }
  absl::Status attach();

  int eventsFd() const;
  // Generation (0/1) of the policy set found in adopted maps; -1 if none.
  int adoptedGeneration() const { return adopted_generation_; }
  // Turns a loaded policy on/off or changes its mode, in place (one map write).
  absl::Status setPolicyState(uint32_t id, const vg_policy_state& state);
  // Names and modes of a generation's policies, as the maps hold them.
  std::vector<std::pair<uint32_t, vg_policy_meta>> policyMeta(int generation) const;
  // After the hooks moved off a policy generation (a reload, or adopting a
  // previous daemon's set): removes its values and selectors, turns its
  // policies off, and detaches generic hooks no policy uses any more.
  void retireGeneration(int generation);
  // Clean stop: unpins links and maps, so everything detaches when the
  // daemon's descriptors close.
  void unpinAll();
  // Sum of per-CPU counters for a hook.
  vg_counters counters(uint32_t hook) const;
  std::vector<std::string> attachedPrograms() const { return attached_; }
  // Run time and run count of each attached program ("lsm/file_open"), from
  // the kernel's program info. The kernel counts only while its BPF stats are
  // on (sysctl kernel.bpf_stats_enabled, or an enableRunTimeStats() fd held).
  struct ProgramStats {
    std::string program;
    uint64_t run_time_ns = 0;
    uint64_t run_cnt = 0;
  };
  std::vector<ProgramStats> programStats() const;

 private:
  absl::Status initHashKey();
  Loader() = default;
  int findAdoptedGeneration() const;
  // One instance of the generic hook program, attached to one hook.
  struct GenericHook {
    compiler::HookSpec spec;
    vigil_hook_bpf* skel = nullptr;
    bpf_program* prog = nullptr;  // the one of skel's programs in use
    bpf_link* link = nullptr;
    bpf_link* entry_link = nullptr;  // kretprobe: the kprobe keeping the arguments
    uint8_t mech = 0;                // enum vg_mechanism
    std::string program;  // "lsm/file_permission", for status
  };
  // Opens a copy of the generic object into h.skel with only h.prog's
  // program (pick chooses it; a kretprobe's entry half too), lets setup fill
  // its read-only data, points a trampoline at target, shares the main
  // object's maps and loads it; logs what the verifier did. On failure h.skel
  // is gone and the status holds the verifier's verdict.
  absl::Status loadInstance(GenericHook& h,
                            const std::function<bpf_program*(vigil_hook_bpf&)>& pick,
                            const std::function<void(vigil_hook_bpf&)>& setup,
                            const std::string& target, bool trampoline, bool kret_entry);
  // One attempt at a mechanism: loads and attaches, or says why not.
  absl::Status loadAs(GenericHook& h, uint8_t mech);
  absl::StatusOr<std::unique_ptr<GenericHook>> loadGeneric(const compiler::HookSpec& spec);
  // spec.uprobes: prog on spec's file and symbol (or offset); null with errno set.
  bpf_link* attachUprobe(const compiler::HookSpec& spec, bpf_program* prog);
  void destroyGeneric(GenericHook& h, bool unpin);
  // An enforcer program on a system call: fmod_ret (deny and signal), else
  // fentry (signal only); *deny says which.
  absl::StatusOr<std::unique_ptr<GenericHook>> loadEnforcer(const compiler::EnforcerSpec& e,
                                                            bool* deny, std::string* why);
  // Loads the enforcers a set needs; returns VG_ENF_* caps.
  uint8_t applyEnforcers(const compiler::CompiledSet& set);
  std::string hookPin(uint32_t id) const;
  vigil_bpf* skel_ = nullptr;
  std::map<uint32_t, std::unique_ptr<GenericHook>> generic_;
  std::map<std::string, uint32_t> adopted_hooks_;  // from a previous daemon's pinned meta
  std::set<uint32_t> in_use_;                      // generic ids of the last applied set
  std::vector<std::string> skipped_;
  std::map<std::string, std::unique_ptr<GenericHook>> enforcers_;  // by function
  std::map<std::string, bool> enforcer_deny_;                      // function -> fmod_ret
  std::vector<std::string> enforcer_notes_;
  std::vector<std::string> fallbacks_;
  LoadPlan plan_;
  std::vector<std::string> attached_;
  int adopted_generation_ = -1;
  std::array<__u64, 2> hash_key_{};
};

// Turns the kernel's BPF run-time stats on for as long as the returned fd is
// open (BPF_ENABLE_STATS); an error if the kernel refuses.
absl::StatusOr<int> enableRunTimeStats();

// Routes libbpf's log into spdlog (debug level, warnings as warnings).
void routeLibbpfLogs();

}  // namespace vigil::loader
