// The loader: the only module that touches libbpf. Opens the BPF object, turns
// on the programs the policies need and the kernel allows, writes a
// CompiledSet into the maps, and attaches. Every kernel object is owned here
// and released in the destructor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/compiler/compiler.h"
#include "daemon/loader/probe.h"

struct vigil_bpf;

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
  // in force from the moment they are attached.
  absl::Status apply(const compiler::CompiledSet& set);
  // Seeds the process table with processes that started before Vigil.
  void seedProcesses();
  absl::Status attach();

  int eventsFd() const;
  // Generation (0/1) of the policy set found in adopted maps; -1 if none.
  int adoptedGeneration() const { return adopted_generation_; }
  // Turns a loaded policy on/off or changes its mode, in place (one map write).
  absl::Status setPolicyState(uint32_t id, const vg_policy_state& state);
  // Names and modes of a generation's policies, as the maps hold them.
  std::vector<std::pair<uint32_t, vg_policy_meta>> policyMeta(int generation) const;
  // After the hooks moved off a policy generation (a reload, or adopting a
  // previous daemon's set): removes its values and selectors and turns its
  // policies off.
  void retireGeneration(int generation);
  // Clean stop: unpins links and maps, so everything detaches when the
  // daemon's descriptors close.
  void unpinAll();
  // Sum of per-CPU counters for a hook.
  vg_counters counters(uint32_t hook) const;
  std::vector<std::string> attachedPrograms() const { return attached_; }

 private:
  Loader() = default;
  int findAdoptedGeneration() const;
  vigil_bpf* skel_ = nullptr;
  LoadPlan plan_;
  std::vector<std::string> attached_;
  int adopted_generation_ = -1;
};

// Routes libbpf's log into spdlog (debug level, warnings as warnings).
void routeLibbpfLogs();

}  // namespace vigil::loader
