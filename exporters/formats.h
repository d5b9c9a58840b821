// Output formats of the exporters: JSON (Tetragon's shape, the canonical
// rendering), ECS (Elastic Common Schema), OCSF (Process Activity, Detection
// Finding, Application Lifecycle) and CEF. Pure functions of the event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "vigil/events.pb.h"

namespace vigil::exporters {

enum class Format { kJson, kEcs, kOcsf, kCef };

absl::StatusOr<Format> parseFormat(const std::string& name);  // json | ecs | ocsf | cef
std::string formatName(Format f);
// JSON, ECS and OCSF render one JSON object; CEF renders a text line.
inline bool isJsonFormat(Format f) { return f != Format::kCef; }

// One line, no trailing newline.
std::string render(Format f, const api::Event& ev);
std::string renderEcs(const api::Event& ev);
std::string renderOcsf(const api::Event& ev);
std::string renderCef(const api::Event& ev);

// "process_exec", "process_exit", "process_lsm", "process_kprobe", "process_uprobe", "status",
// "rule_alert" ("unknown").
std::string eventTypeName(const api::Event& ev);

// The kernel policy decision behind a process_lsm or process_kprobe event: the
// fields both carry, so that every format and filter treats them alike.
struct PolicyEvent {
  bool kprobe = false;                 // process_kprobe (else process_lsm)
  bool tracepoint = false;             // process_tracepoint: hook is its event
  std::string_view subsys;             // process_tracepoint.subsys
  bool uprobe = false;                 // process_uprobe: hook is the symbol, path the probed file
  const api::Process* process = nullptr;
  const api::Process* parent = nullptr;  // null when the event has none
  std::string_view policy_name;
  std::string_view hook;               // process_lsm.hook or process_kprobe.function_name
  uint32_t selector = 0;
  api::Action action = api::ACTION_UNSPECIFIED;
  api::Outcome outcome = api::OUTCOME_UNSPECIFIED;
  api::PolicyMode mode = api::POLICY_MODE_UNSPECIFIED;
  int32_t return_errno = 0;
  int32_t signal = 0;
  std::string_view mechanism;
  std::string_view message;
  // process_lsm.path; for a kprobe its first file argument.
  std::string_view path;
  bool path_truncated = false;
  const google::protobuf::RepeatedPtrField<api::Arg>* args = nullptr;
  const google::protobuf::RepeatedPtrField<std::string>* tags = nullptr;
  const api::Arg* ret = nullptr;       // process_kprobe.return, when set
};
std::optional<PolicyEvent> policyEvent(const api::Event& ev);
// The operation did not go ahead: DENIED, or KILLED (the caller died first).
bool isDenyOutcome(api::Outcome o);

// Vigil's priority of an event as a syslog severity (0 emerg .. 7 debug):
//   exec/exit 6 info; lsm and kprobe: POSTED 5 notice, WOULD_DENY/WOULD_KILL/
//   WOULD_SIGNAL 4 warning, DENIED/SIGNALED 3 err, KILLED 2 crit; status:
//   losses/failures 3 err, degraded 4, others 6; rule alerts: the Falco
//   priority (EMERGENCY 0 .. DEBUG 7).
int syslogSeverity(const api::Event& ev);
// CEF severity 0..10 and OCSF severity_id 1..5 derived from syslogSeverity.
int cefSeverity(int syslog_severity);
int ocsfSeverityId(int syslog_severity);
// Event time in Unix ns (from the RFC 3339 `time`), or 0 when absent/invalid.
int64_t eventTimeNs(const api::Event& ev);

// CEF escaping: header fields escape `\` and `|`; extension values escape `\`
// and `=` and encode CR/LF as \r and \n.
std::string cefEscapeHeader(std::string_view s);
std::string cefEscapeExtension(std::string_view s);

}  // namespace vigil::exporters
