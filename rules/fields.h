// Falco field names resolved onto Vigil's event schema (vigil::api::Event).
//
// Every field is either mapped (an extractor over the event) or listed as
// unavailable with the reason, so a rule that uses it gets an error naming
// what the schema lacks. The mapping is documented in docs/rules.md and the
// table there is generated from kFieldDefs (fieldTableMarkdown()).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "vigil/events.pb.h"

namespace vigil::rules {

enum class FieldType { kString, kNumber, kIp };
const char* fieldTypeName(FieldType t);

// An IPv4/IPv6 address (prefix == full width) or network.
struct IpNet {
  int family = 0;  // 4 or 6; 0: invalid
  std::array<uint8_t, 16> addr{};
  int prefix = 0;
  bool contains(const IpNet& ip) const;
  std::string str() const;
};
bool parseIpNet(std::string_view text, IpNet* out);  // "10.0.0.0/8", "::1", "1.2.3.4"

// Values a field yields for one event. Empty: the field has no value here
// (Falco's <NA>): every comparison is false, `exists` is false.
struct FieldValues {
  FieldType type = FieldType::kString;
  std::vector<std::string_view> s;
  std::vector<int64_t> n;
  std::vector<IpNet> ip;
  std::string buf;                // storage for one derived string
  std::vector<std::string> bufs;  // storage for several derived strings
  size_t size() const {
    return type == FieldType::kString ? s.size() : type == FieldType::kNumber ? n.size() : ip.size();
  }
  void clear() {
    s.clear();
    n.clear();
    ip.clear();
  }
  std::string render(size_t i) const;  // i-th value as text
};

// The event being evaluated, with what the extractors derive lazily.
struct EventView {
  enum class Kind { kOther, kExec, kExit, kLsm, kKprobe, kTracepoint, kUprobe };
  const api::Event* ev = nullptr;
  Kind kind = Kind::kOther;
  const api::Process* proc = nullptr;
  const api::Process* parent = nullptr;
  const google::protobuf::RepeatedPtrField<api::Process>* ancestors = nullptr;
  const api::ProcessLsm* lsm = nullptr;        // process_lsm only
  const api::ProcessKprobe* kprobe = nullptr;  // process_kprobe only
  const api::ProcessTracepoint* tracepoint = nullptr;  // process_tracepoint only
  const api::ProcessUprobe* uprobe = nullptr;          // process_uprobe only
  // A policy's decision (any of the four policy kinds): api::PolicyEvent's fields.
  bool policy = false;
  const google::protobuf::RepeatedPtrField<api::Arg>* args = nullptr;
  std::string_view hook;  // process_lsm.hook, process_kprobe.function_name
  std::string_view path;  // process_lsm.path; a kprobe's first file argument
  std::string_view evt_type;
  uint64_t num = 0;          // evt.num: 1-based count of events the engine saw
  uint32_t extract_errors = 0;  // malformed values met while extracting (runtime errors)

  // Lazily derived.
  bool time_done = false;
  int64_t time_ns = 0;
  bool time_ok = false;
  bool sock_done = false;
  bool sock_ok = false;      // destination (server side) known
  bool sock_src_ok = false;  // source known
  std::string_view sock_proto;
  IpNet sock_src, sock_dst;
  int64_t sock_sport = 0, sock_dport = 0;

  void reset(const api::Event& e, uint64_t seq);
};

struct FieldRef;
using Extractor = void (*)(const FieldRef&, EventView&, FieldValues&);

enum class ArgKind { kNone, kIndex, kIndexOptional, kName };

struct FieldDef {
  const char* name;
  FieldType type;
  ArgKind arg;
  Extractor extract;
  const char* doc;  // the Vigil source of the value
};

// A field as used in a rule: its definition, argument and cache slot.
struct FieldRef {
  const FieldDef* def = nullptr;
  std::string name;  // as written, with its argument: "proc.aname[2]"
  std::string arg;   // "2", "flags"
  int index = -1;    // numeric argument, -1 if none
  int slot = -1;     // per-engine cache slot
};

// Resolves "proc.aname" + "[2]" (has_arg/arg) or "evt.arg.flags". On failure the
// status message says whether the field is unknown or known but not provided
// by Vigil, and why.
absl::StatusOr<FieldRef> resolveField(const std::string& name, bool has_arg, const std::string& arg);
// Output templates write "%proc.aname[2]" or "%evt.arg.flags": same, from one token.
absl::StatusOr<FieldRef> resolveFieldToken(const std::string& token);

// The event type Vigil gives an event (Falco's evt.type): "execve", "procexit",
// the system call an LSM hook stands for ("openat", "connect", "mkdir", ...:
// lsmHookEventType), else the LSM hook name; for a kprobe the function name,
// a system call's without its sys_ prefix ("sys_linkat" -> "linkat"). Empty
// for status and rule alerts.
std::string_view eventTypeOf(const api::Event& ev);
// The Falco evt.type of a generic LSM hook's events ("path_mkdir" -> "mkdir"),
// or the hook itself where no system call fits.
std::string_view lsmHookEventType(std::string_view hook);
// The evt.type of a kprobe on `function`: sys_X, __x64_sys_X, __arm64_sys_X
// and __ia32_sys_X give X; any other function its own name.
std::string_view kprobeEventType(std::string_view function);
// The evt.type values Vigil's built-in hooks emit with no policy (execve,
// procexit, openat, connect, bprm_check_security).
bool isEmittedEventType(std::string_view t);
// The policies whose events have one of `types`, which the built-in hooks do
// not emit: "lsmhooks path_mkdir or kprobes sys_mkdir, sys_mkdirat" (for
// dormant-rule warnings).
std::string eventTypeSources(const std::vector<std::string>& types);

// Markdown table of every mapped and every unavailable field.
std::string fieldTableMarkdown();

}  // namespace vigil::rules
