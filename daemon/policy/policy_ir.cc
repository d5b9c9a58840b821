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

std::string_view argOpName(ArgOp op) {
  switch (op) {
    case ArgOp::kEqual: return "Equal";
    case ArgOp::kNotEqual: return "NotEqual";
    case ArgOp::kPrefix: return "Prefix";
    case ArgOp::kNotPrefix: return "NotPrefix";
    case ArgOp::kPostfix: return "Postfix";
    case ArgOp::kNotPostfix: return "NotPostfix";
    case ArgOp::kGT: return "GT";
    case ArgOp::kLT: return "LT";
    case ArgOp::kMask: return "Mask";
    case ArgOp::kInRange: return "InRange";
    case ArgOp::kNotInRange: return "NotInRange";
    case ArgOp::kSPort: return "SPort";
    case ArgOp::kNotSPort: return "NotSPort";
    case ArgOp::kDPort: return "DPort";
    case ArgOp::kNotDPort: return "NotDPort";
    case ArgOp::kSPortPriv: return "SPortPriv";
    case ArgOp::kNotSPortPriv: return "NotSPortPriv";
    case ArgOp::kDPortPriv: return "DPortPriv";
    case ArgOp::kNotDPortPriv: return "NotDPortPriv";
    case ArgOp::kSAddr: return "SAddr";
    case ArgOp::kNotSAddr: return "NotSAddr";
    case ArgOp::kDAddr: return "DAddr";
    case ArgOp::kNotDAddr: return "NotDAddr";
    case ArgOp::kProtocol: return "Protocol";
    case ArgOp::kFamily: return "Family";
    case ArgOp::kState: return "State";
    case ArgOp::kInMap: return "InMap";
    case ArgOp::kNotInMap: return "NotInMap";
  }
  return "unknown";
}

std::string_view binOpName(BinOp op) {
  switch (op) {
    case BinOp::kIn: return "In";
    case BinOp::kNotIn: return "NotIn";
    case BinOp::kPrefix: return "Prefix";
    case BinOp::kNotPrefix: return "NotPrefix";
    case BinOp::kPostfix: return "Postfix";
    case BinOp::kNotPostfix: return "NotPostfix";
  }
  return "unknown";
}

std::string_view actionName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kPost: return "Post";
    case ActionKind::kOverride: return "Override";
    case ActionKind::kSigkill: return "Sigkill";
    case ActionKind::kSignal: return "Signal";
    case ActionKind::kNoPost: return "NoPost";
    case ActionKind::kNotifyEnforcer: return "NotifyEnforcer";
    case ActionKind::kGetUrl: return "GetUrl";
    case ActionKind::kDnsLookup: return "DnsLookup";
    case ActionKind::kUntrackSock: return "UntrackSock";
  }
  return "unknown";
}

std::string_view hookKindName(HookKind kind) {
  switch (kind) {
    case HookKind::kLsm: return "lsmhook";
    case HookKind::kKprobe: return "kprobe";
    case HookKind::kTracepoint: return "tracepoint";
    case HookKind::kUprobe: return "uprobe";
  }
  return "unknown";
}

std::string Hook::ref() const {
  if (kind == HookKind::kUprobe) {
    return "uprobe/" + path + ":" + hook + (return_probe ? "#return" : "");
  }
  return std::string(kind == HookKind::kLsm      ? "lsm/"
                     : kind == HookKind::kKprobe ? "kprobe/"
                                                 : "tracepoint/") +
         hook +
         (return_probe ? "#return" : "");
}

}  // namespace vigil::policy
