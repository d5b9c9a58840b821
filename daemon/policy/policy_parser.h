// TracingPolicy YAML -> PolicyIR.
//
// The only module that knows yaml-cpp. It accepts the subset of Cilium Tetragon's
// TracingPolicy format that Vigil can enforce, and rejects everything else with a
// FILE:LINE:COL diagnostic that names the field and what is allowed. Nothing in a
// policy is ever silently ignored when it would change what the policy means: a
// Tetragon construct that Vigil does not implement yet is an error, not a no-op.
//
// Supported subset:
//   apiVersion: cilium.io/v1alpha1, kind: TracingPolicy, metadata.name
//   spec.options[]: {name, value}; policy-mode = enforce | monitor
//   spec.lsmhooks[]: hook (bprm_check_security | file_open), args[], message,
//     tags[], selectors[] of matchArgs (Equal | Prefix | Postfix),
//     matchBinaries (In), matchActions (Post | Override + argError | Sigkill)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/policy/policy_ir.h"

namespace vigil::policy {

struct Diagnostic {
  SourcePos pos;
  std::string message;

  std::string str() const;  // "file:line:col: message"
};

// Where the parser reads kernel facts that a policy can refer to by pattern.
struct ParseOptions {
  // generated_ftrace lists match function names read from here.
  std::string kallsyms_path = "/proc/kallsyms";
};

struct ParseResult {
  std::optional<Policy> policy;  // set only when errors is empty
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;

  bool ok() const { return errors.empty() && policy.has_value(); }
};

// Parses one TracingPolicy document. file_name is only used in positions. Every
// error found is reported (the parser keeps going after the first), sorted by
// position. Never throws.
ParseResult parsePolicyString(std::string_view yaml, const std::string& file_name,
                              const ParseOptions& options = {});

// Reads and parses a policy file; an unreadable file gives one error naming it.
// Never throws.
ParseResult parsePolicyFile(const std::string& path, const ParseOptions& options = {});

}  // namespace vigil::policy
