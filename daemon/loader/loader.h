// The loader: the only module that touches libbpf. Opens the BPF object, turns
// on the programs the policies need and the kernel allows, writes a
// CompiledSet into the maps, and attaches. Every kernel object is owned here
// and released in the destructor.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/compiler/compiler.h"
#include "daemon/loader/probe.h"

struct vigil_bpf;
struct vigil_hook_bpf;
struct bpf_link;
struct bpf_program;

namespace vigil::loader {

enum class HookMechanism { kNone, kLsm, kFmodRet };

struct LoadPlan {
  HookMechanism hooks = HookMechanism::kNone;  // how lsmhooks attach
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
    std::string program;  // "lsm/file_permission", for status
  };
  absl::StatusOr<std::unique_ptr<GenericHook>> loadGeneric(const compiler::HookSpec& spec);
  void destroyGeneric(GenericHook& h, bool unpin);
  std::string hookPin(uint32_t id) const;
  vigil_bpf* skel_ = nullptr;
  std::map<uint32_t, std::unique_ptr<GenericHook>> generic_;
  std::map<std::string, uint32_t> adopted_hooks_;  // from a previous daemon's pinned meta
  std::set<uint32_t> in_use_;                      // generic ids of the last applied set
  std::vector<std::string> skipped_;
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
