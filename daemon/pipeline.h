// vigild's event pipeline: kernel records in (the ring buffer callback),
// events out (exporters, or JSON lines on stdout), in ring buffer order, with
// the process cache's enrichment, the rules engine's alerts and the control
// socket's streams; and the counters /metrics renders from it.
#pragma once

#include <spdlog/spdlog.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/actions/fetcher.h"
#include "daemon/compiler/compiler.h"
#include "daemon/control.h"
#include "daemon/events/json_writer.h"
#include "daemon/events/stacks.h"
#include "daemon/loader/loader.h"
#include "daemon/process/process_cache.h"
#include "exporters/exporter.h"
#include "rules/engine.h"
#include "vigil/events.pb.h"

namespace vigil {

// Kernel records in, events out (exporters, or JSON lines on stdout), in ring
// buffer order. Every event also meets the rules engine; its alerts follow
// the event that raised them.
struct Pipeline {
  events::JsonRenderer renderer;
  process::ProcessCache cache;
  bool process_events = true;
  exporters::Exporter* exporter = nullptr;  // null: JSON lines on stdout
  ControlServer* control = nullptr;         // event streams to vigilctl
  rules::RuleEngine* rules = nullptr;
  actions::Fetcher fetcher{actions::Fetcher::Options{}};  // GetUrl, DnsLookup
  const loader::Loader* loader = nullptr;  // kernelStackTrace/userStackTrace frames
  std::optional<events::KernelSymbols> kernel_symbols;  // read at the first kernel stack
  // The frames last read per stack id: two events with the same stack share
  // its id, and the first one read frees it (stackFrames).
  std::unordered_map<int32_t, std::vector<uint64_t>> stack_frames;
  std::unordered_map<int32_t, std::vector<bpf_stack_build_id>> user_stack_frames;
  events::BuildIds build_ids;  // of the files user frames may be in
  uint64_t emitted = 0;
  uint64_t alerts = 0;
  uint64_t malformed = 0;
  uint64_t invalid_utf8_events = 0;  // events with a string that was not valid UTF-8
  uint64_t policy_load_errors = 0;
  bool output_broken = false;
  std::map<int, uint64_t> by_type;  // Event::EventCase -> count
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> by_policy;

  // Every event leaves through here: strings made valid UTF-8 first (kernel
  // bytes are anyone's), so every sink, stream and rule sees the same event.
  void emit(api::Event& ev);
  // emit, then the rules engine; its alerts follow the event that raised them.
  void write(api::Event ev);
  // Forked processes about to be named for the first time (see ProcessCache).
  void writeAnnouncements();

  template <typename T>
  bool decoded(const absl::StatusOr<T>& r) {
    if (r.ok()) return true;
    malformed++;
    spdlog::warn("dropping malformed kernel record: {}", std::string(r.status().message()));
    return false;
  }
};

// ring_buffer__new's callback: ctx is the Pipeline.
int onRecord(void* ctx, void* data, size_t size);

// Every kernel counter slot in use (the set's hooks, the process
// tracepoints), with its name: the hook as policies name it.
std::vector<std::pair<std::string, vg_counters>> kernelCounters(const loader::Loader& loader,
                                                                const compiler::CompiledSet& set);
// Whether the kernel counts BPF program run time: the sysctl, or our
// BPF_ENABLE_STATS fd.
bool bpfStatsOn(int stats_fd);
// The Prometheus exposition of the pipeline's, the kernel's, the exporters'
// and the rules engine's counters.
std::string renderMetrics(const Pipeline& p, const loader::Loader& loader,
                          const compiler::CompiledSet& set,
                          const exporters::Exporter* exporter, const rules::RuleEngine* rules,
                          int stats_fd);

}  // namespace vigil
