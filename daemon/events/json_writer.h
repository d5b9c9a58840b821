// Turns decoded kernel records into events of the schema (api/vigil/events.proto),
// naming their policies and hooks; api/event_json.h renders them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/events/event_decoder.h"
#include "daemon/events/hook_event.h"
#include "daemon/policy/policy_ir.h"
#include "vigil/events.pb.h"

namespace vigil::events {

struct PolicyInfo {
  std::string name;
  policy::Mode mode = policy::Mode::kEnforce;
  // Per hook (policy::Hook::ref(), "lsm/file_open"): what the policy says of
  // it, carried into its events.
  struct Hook {
    std::map<int, std::string> labels;  // argument index -> label
    std::string message;
    std::vector<std::string> tags;
    std::map<int, std::string> types;   // argument index -> type as written ("cap_effective")
    // Per selector index: GetUrl URLs and DnsLookup names vigild acts on, and
    // whether the selector said NoPost (the event then only drives them).
    struct Fetch {
      std::vector<std::string> urls, fqdns;
      bool nopost = false;
    };
    std::map<uint32_t, Fetch> fetches;
  };
  std::map<std::string, Hook> hooks;

  static PolicyInfo from(const policy::Policy& p);
};

class JsonRenderer {
 public:
  // boot_to_realtime_ns: add to a CLOCK_BOOTTIME stamp to get wall-clock time.
  JsonRenderer(std::string node_name, std::vector<PolicyInfo> policies, bool audit_all,
               int64_t boot_to_realtime_ns);

  // Names and modes of the policies with ids base, base+1, ... (a reload
  // fills the other generation's ids; events still in flight keep theirs).
  void setPolicies(uint32_t base, const std::vector<PolicyInfo>& policies);

  // What each hook id stands for (CompiledSet::hook_refs) in the set in force;
  // ids keep their meaning across reloads, so one table serves both generations.
  void setHookRefs(std::map<uint32_t, std::string> refs) { hook_refs_ = std::move(refs); }
  // Tracepoints: per policy id and hook ref, the kernel slot of each of the
  // policy's args[] (CompiledSet::tp_slots); merged, ids are per generation.
  void setTracepointSlots(const std::map<uint32_t, std::map<std::string, std::vector<int>>>& slots) {
    for (const auto& [id, m] : slots) tp_slots_[id] = m;
  }

  // An lsmhook event becomes process_lsm, a kprobe event process_kprobe.
  api::Event toProto(const HookEvent& ev) const;
  std::string render(const HookEvent& ev) const;  // one line, no trailing newline
  // GetUrl / DnsLookup of the selector an event comes from; nullptr: none.
  const PolicyInfo::Hook::Fetch* fetchOf(const HookEvent& ev) const;

 private:
  std::string node_name_;
  const PolicyInfo::Hook* hookInfo(uint32_t policy, const std::string& ref) const;
  std::vector<PolicyInfo> policies_;
  std::map<uint32_t, std::string> hook_refs_;
  std::map<uint32_t, std::map<std::string, std::vector<int>>> tp_slots_;
  bool audit_all_;
  int64_t boot_to_realtime_ns_;
};

// Offset between CLOCK_REALTIME and CLOCK_BOOTTIME, now.
int64_t bootToRealtimeOffsetNs();

}  // namespace vigil::events
