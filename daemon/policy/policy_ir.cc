#include "daemon/policy/policy_ir.h"

#include <string>

namespace vigil::policy {

std::string SourcePos::str() const {
  // Errors about a whole file (unreadable, empty) have no line to point at.
  if (line <= 0) return file;
  if (col <= 0) return file + ":" + std::to_string(line);
  return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

std::string_view modeName(Mode mode) {
  switch (mode) {
    case Mode::kEnforce: return "enforce";
    case Mode::kMonitor: return "monitor";
  }
  return "unknown";
}

std::string_view strOpName(StrOp op) {
  switch (op) {
    case StrOp::kEqual: return "Equal";
    case StrOp::kPrefix: return "Prefix";
    case StrOp::kPostfix: return "Postfix";
  }
  return "unknown";
}

std::string_view binOpName(BinOp op) {
  switch (op) {
    case BinOp::kIn: return "In";
  }
  return "unknown";
}

std::string_view actionName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kPost: return "Post";
    case ActionKind::kOverride: return "Override";
    case ActionKind::kSigkill: return "Sigkill";
  }
  return "unknown";
}

}  // namespace vigil::policy
