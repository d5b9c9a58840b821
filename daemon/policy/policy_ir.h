// PolicyIR: what a TracingPolicy file means, independent of YAML and of libbpf.
//
// The parser (policy_parser.h) builds it from YAML and is the only module that
// knows yaml-cpp; the compiler (compiler/compiler.h) turns it into map entries.
// Every node keeps the position it came from so later stages can still report
// errors as FILE:LINE:COL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::policy {

// 1-based position in a source file.
struct SourcePos {
  std::string file;
  int line = 0;
  int col = 0;
  std::string str() const;  // "file:line:col"; just "file" when there is no line
};

enum class Mode { kEnforce, kMonitor };

enum class StrOp { kEqual, kPrefix, kPostfix };

enum class BinOp { kIn };

enum class ActionKind { kPost, kOverride, kSigkill };

// Names as written in policies ("monitor", "Equal", "In", "Override").
std::string_view modeName(Mode mode);
std::string_view strOpName(StrOp op);
std::string_view binOpName(BinOp op);
std::string_view actionName(ActionKind kind);

struct ArgFilter {
  int index = 0;  // which hook argument (as declared in args[])
  StrOp op = StrOp::kEqual;
  std::vector<std::string> values;
  SourcePos pos;
};

struct BinaryFilter {
  BinOp op = BinOp::kIn;
  std::vector<std::string> values;
  SourcePos pos;
};

struct Action {
  ActionKind kind = ActionKind::kPost;
  int arg_error = 0;  // Override: negative errno as written in the policy (-1 = EPERM)
  SourcePos pos;
};

struct Selector {
  std::vector<ArgFilter> match_args;
  std::vector<BinaryFilter> match_binaries;
  std::vector<Action> match_actions;  // empty: Post
  SourcePos pos;
};

struct HookArg {
  int index = 0;
  std::string type;  // "file", "linux_binprm", ...
  std::string label;
  SourcePos pos;
};

struct LsmHook {
  std::string hook;  // "bprm_check_security", "file_open"
  std::vector<HookArg> args;
  std::vector<Selector> selectors;
  std::string message;
  std::vector<std::string> tags;
  SourcePos pos;
};

struct Policy {
  std::string name;  // metadata.name
  std::string file;
  std::optional<Mode> mode;  // spec.options policy-mode; unset = enforce
  std::vector<LsmHook> lsm_hooks;
  SourcePos pos;

  Mode effectiveMode() const { return mode.value_or(Mode::kEnforce); }
};

}  // namespace vigil::policy
