// The renderings of api::Event that need no exporter: the canonical JSON line
// (Tetragon's export shape) and the compact line a person reads at a terminal.
#pragma once

#include <string>

#include <google/protobuf/message.h>

#include "vigil/events.pb.h"

namespace vigil::api {

// One JSON object (no trailing newline) for a message of the schema, in
// proto3's JSON mapping as Tetragon's export writes it: snake_case field names,
// fields at their default value omitted, 64-bit integers as strings, enums by
// name, bytes as base64. Always valid UTF-8 (api/json.h).
std::string renderJson(const google::protobuf::Message& m);

// One line for a person reading at a terminal, for every event kind:
//   2026-..Z exec 812 /usr/bin/bash -c true
//   2026-..Z OUTCOME_DENIED no-exec-from-tmp bprm_check_security /tmp/x by 812 /usr/bin/bash
// Control characters in values are shown as \xNN.
std::string renderCompact(const Event& ev);

}  // namespace vigil::api
