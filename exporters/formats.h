// Output formats of the exporters: JSON (Tetragon's shape, the canonical
// rendering), ECS (Elastic Common Schema), OCSF (Process Activity, Detection
// Finding, Application Lifecycle) and CEF. Pure functions of the event.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/event_view.h"
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

// Vigil's priority of an event as a syslog severity (0 emerg .. 7 debug):
//   exec/exit 6 info; lsm and kprobe: POSTED 5 notice, WOULD_DENY/WOULD_KILL/
//   WOULD_SIGNAL 4 warning, DENIED/SIGNALED 3 err, KILLED 2 crit; status:
//   losses/failures 3 err, degraded 4, others 6; rule alerts: the Falco
//   priority (EMERGENCY 0 .. DEBUG 7).
int syslogSeverity(const api::Event& ev);
// CEF severity 0..10 and OCSF severity_id 1..5 derived from syslogSeverity.
int cefSeverity(int syslog_severity);
int ocsfSeverityId(int syslog_severity);

// CEF escaping: header fields escape `\` and `|`; extension values escape `\`
// and `=` and encode CR/LF as \r and \n.
std::string cefEscapeHeader(std::string_view s);
std::string cefEscapeExtension(std::string_view s);

}  // namespace vigil::exporters
