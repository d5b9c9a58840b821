// One view over the event schema, for everything that reads api::Event
// (exporters, rules, the control socket, vigilctl, vigild's metrics): which
// kind an event is, its process, the policy decision behind the four policy
// event kinds, and the schema's time format. The one place that switches on
// the event's kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "vigil/events.pb.h"

namespace vigil::api {

// "process_exec", "process_exit", "process_lsm", "process_kprobe",
// "process_tracepoint", "process_uprobe", "status", "rule_alert"; "unknown".
std::string_view eventTypeName(const Event& ev);
// Every name eventTypeName can return but "unknown", in schema order.
const std::vector<std::string>& eventTypeNames();

// The process an event is about (the caller for policy events, the alert's
// process for rule alerts); null for status events.
const Process* processOf(const Event& ev);

// Calls f with the policy message of a process_lsm, process_kprobe,
// process_tracepoint or process_uprobe event (each its own protobuf type with
// the same common fields), and returns true; false for other kinds.
template <typename Ev, typename F>
bool visitPolicyMessage(Ev& ev, F&& f) {
  constexpr bool kMutable = !std::is_const_v<Ev>;
  switch (ev.event_case()) {
    case Event::kProcessLsm:
      if constexpr (kMutable) f(*ev.mutable_process_lsm()); else f(ev.process_lsm());
      return true;
    case Event::kProcessKprobe:
      if constexpr (kMutable) f(*ev.mutable_process_kprobe()); else f(ev.process_kprobe());
      return true;
    case Event::kProcessTracepoint:
      if constexpr (kMutable) f(*ev.mutable_process_tracepoint()); else f(ev.process_tracepoint());
      return true;
    case Event::kProcessUprobe:
      if constexpr (kMutable) f(*ev.mutable_process_uprobe()); else f(ev.process_uprobe());
      return true;
    default:
      return false;
  }
}

// The kernel policy decision behind a policy event: the fields all four kinds
// carry, so that every format, filter and rule treats them alike.
struct PolicyEvent {
  Event::EventCase kind = Event::EVENT_NOT_SET;
  const Process* process = nullptr;
  const Process* parent = nullptr;  // null when the event has none
  std::string_view policy_name;
  // What was hooked: the LSM hook ("file_open"), the kernel function
  // ("__x64_sys_openat"), the tracepoint's event ("sys_enter") or the
  // uprobe's symbol.
  std::string_view hook;
  std::string_view subsys;  // process_tracepoint.subsys
  uint32_t selector = 0;
  Action action = ACTION_UNSPECIFIED;
  Outcome outcome = OUTCOME_UNSPECIFIED;
  PolicyMode mode = POLICY_MODE_UNSPECIFIED;
  int32_t return_errno = 0;
  int32_t signal = 0;
  std::string_view mechanism;
  std::string_view message;
  // process_lsm.path; a kprobe's first non-empty file argument; the file a
  // uprobe probes.
  std::string_view path;
  bool path_truncated = false;
  const google::protobuf::RepeatedPtrField<Arg>* args = nullptr;
  const google::protobuf::RepeatedPtrField<std::string>* tags = nullptr;
  const Arg* ret = nullptr;  // process_kprobe/process_uprobe return, when set

  bool isKprobe() const { return kind == Event::kProcessKprobe; }
  bool isTracepoint() const { return kind == Event::kProcessTracepoint; }
  bool isUprobe() const { return kind == Event::kProcessUprobe; }
  // The hook as one name: "file_open", "__x64_sys_openat",
  // "raw_syscalls/sys_enter", "/usr/lib/libc.so.6:strtol".
  std::string target() const;
};
std::optional<PolicyEvent> policyEvent(const Event& ev);

// The operation did not go ahead: DENIED, or KILLED (the caller died first).
bool isDenyOutcome(Outcome o);

// Makes every string field of ev valid UTF-8 (each invalid byte becomes
// U+FFFD) and records the original bytes of each string it changed in
// ev.raw_strings. Returns the number of fields changed. Run once where an
// event is complete, before it is published: protobuf refuses to parse
// invalid UTF-8 in a string field, and JSON readers choke on it.
int sanitizeStrings(Event* ev);

// The schema's time field: RFC 3339 in UTC with nanoseconds,
// "2026-11-23T18:20:01.123456789Z", and back (0 when absent or invalid).
std::string formatRfc3339Nanos(int64_t unix_ns);
int64_t parseRfc3339Nanos(std::string_view s);

}  // namespace vigil::api
