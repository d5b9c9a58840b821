// PolicyIR: what a TracingPolicy file means, independent of YAML and of libbpf.
//
// The parser (policy_parser.h) builds it from YAML and is the only module that
// knows yaml-cpp; the compiler (compiler/compiler.h) turns it into map entries.
// Every node keeps the position it came from so later stages can still report
// errors as FILE:LINE:COL.
#pragma once

#include <array>
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

// matchArgs operators, as Tetragon names them.
enum class ArgOp {
  kEqual, kNotEqual, kPrefix, kNotPrefix, kPostfix, kNotPostfix,  // strings, and Equal on numbers
  kGT, kLT, kMask, kInRange, kNotInRange,                         // numbers
  kSPort, kNotSPort, kDPort, kNotDPort, kSPortPriv, kNotSPortPriv, kDPortPriv, kNotDPortPriv,
  kSAddr, kNotSAddr, kDAddr, kNotDAddr, kProtocol, kFamily, kState,  // sockets
  kInMap, kNotInMap,  // integer sets, values may be list:NAME (spec.lists)
};
using StrOp = ArgOp;  // the first slice's name

enum class BinOp { kIn, kNotIn, kPrefix, kNotPrefix, kPostfix, kNotPostfix };

// kNotifyEnforcer: the policy's enforcers act at the thread's next listed system call.
// kGetUrl, kDnsLookup: carried out by vigild in user space after the event.
// kUntrackSock: forget a socket returnArgAction TrackSock recorded.
enum class ActionKind {
  kPost, kOverride, kSigkill, kSignal, kNoPost, kNotifyEnforcer, kGetUrl, kDnsLookup, kUntrackSock
};

enum class HookKind { kLsm, kKprobe, kTracepoint, kUprobe };

// Names as written in policies ("monitor", "Equal", "In", "Override").
std::string_view modeName(Mode mode);
std::string_view argOpName(ArgOp op);
inline std::string_view strOpName(ArgOp op) { return argOpName(op); }
std::string_view binOpName(BinOp op);
std::string_view actionName(ActionKind kind);
std::string_view hookKindName(HookKind kind);  // "lsmhook", "kprobe", "tracepoint", "uprobe"

// An address prefix of SAddr/DAddr values ("10.0.0.0/8", "::1").
struct Cidr {
  uint8_t family = 0;  // AF_INET or AF_INET6
  uint8_t bits = 0;    // prefix length
  std::array<uint8_t, 16> addr{};
};

struct ArgFilter {
  int index = 0;  // which hook argument (as declared in args[])
  ArgOp op = ArgOp::kEqual;
  std::vector<std::string> values;  // as written (strings and paths)
  // Numbers the values stand for: Equal on integers, ports, Family/Protocol/
  // State (names resolved), GT/LT (one), Mask (OR of all), InRange (lo, hi).
  std::vector<uint64_t> numbers;
  std::vector<Cidr> cidrs;          // SAddr/DAddr and their negations
  SourcePos pos;
};

struct BinaryFilter {
  BinOp op = BinOp::kIn;
  bool follow_children = false;  // the process or any of its ancestors ran one of them
  std::vector<std::string> values;
  SourcePos pos;
};

struct Action {
  ActionKind kind = ActionKind::kPost;
  int arg_error = 0;  // Override, NotifyEnforcer: negative errno as written (-1 = EPERM)
  int arg_sig = 0;    // Signal, NotifyEnforcer: the signal number
  uint64_t rate_limit_ns = 0;  // rateLimit: at most one identical event per window (0: none)
  uint8_t rate_scope = 0;      // rateLimitScope: enum vg_rate_scope (thread, process, global)
  std::string url;             // GetUrl: argUrl
  std::string fqdn;            // DnsLookup: argFqdn
  int arg_sock = 0;            // UntrackSock: argSock, the index of the sock argument
  bool kernel_stack = false;   // kernelStackTrace: the kernel stack in the event
  bool user_stack = false;     // userStackTrace: the user stack in the event
  SourcePos pos;
};

// matchPIDs, matchNamespaces, matchCapabilities, matchParentBinaries,
// matchCapabilityChanges, matchNamespaceChanges: filters on the calling task.
struct TaskFilter {
  enum class Kind {
    kPids, kNamespaces, kCapabilities, kParentBinaries, kCapabilityChanges, kNamespaceChanges
  } kind = Kind::kPids;
  bool not_in = false;          // operator NotIn (else In)
  bool follow_forks = false;    // matchPIDs: the process or any ancestor
  bool namespace_pid = false;   // matchPIDs: isNamespacePID
  uint8_t which = 0;            // namespace (enum vg_ns) or capability set (0 eff, 1 perm, 2 inh)
  bool host_ns = false;         // matchNamespaces: values include "host_ns"
  std::vector<uint64_t> values; // pids, namespace inodes, capability or namespace (enum vg_ns) numbers
  bool namespace_cap = false;   // isNamespaceCapability: outside the host's user namespace only
  BinOp bin_op = BinOp::kIn;    // matchParentBinaries
  std::vector<std::string> binaries;  // matchParentBinaries values
  SourcePos pos;
};

struct Selector {
  std::vector<ArgFilter> match_args;
  std::vector<ArgFilter> match_return_args;  // return probes: on the return value (index 0)
  std::vector<BinaryFilter> match_binaries;
  std::vector<TaskFilter> match_task;  // matchPIDs, matchNamespaces, matchCapabilities (AND'd)
  std::vector<Action> match_actions;  // empty: Post
  SourcePos pos;
};

struct HookArg {
  int index = 0;  // tracepoints: position in args[] (what matchArgs' index names)
  int field = -1; // tracepoints: the record field index as written (index:)
  uint8_t src = 0; // tracepoints: enum vg_tp_src, where the kernel takes the field
  std::string type;  // "file", "linux_binprm", ...
  uint8_t kind = 0;  // enum vg_arg_kind: how the kernel reads it (VG_ARG_NONE for "nop")
  std::string label;
  int size_arg = -1;         // char_buf: index of the argument holding its size (sizeArgIndex - 1)
  bool return_copy = false;  // char_buf: filled by the call, read when it returns
  SourcePos pos;
};

// One lsmhook, kprobe or tracepoint of a policy.
struct Hook {
  HookKind kind = HookKind::kLsm;
  // LSM hook ("file_open"), kernel function as written ("sys_symlinkat"),
  // tracepoint "SUBSYSTEM/EVENT" ("raw_syscalls/sys_enter"), or for uprobes
  // the symbol ("+0x1f0" for an offset without one).
  std::string hook;
  std::string subsystem, event;  // tracepoints
  bool generated = false;        // kprobes from a generated_ftrace list: a load failure skips it
  bool syscall = false;  // kprobes: call names a system call
  bool skip_if_missing = false;  // kprobes: ignore.callNotFound, a warning instead of an error
  bool return_probe = false;     // kprobes: return: true (fexit; returnArg, matchReturnArgs)
  HookArg return_arg;            // its kind: VG_ARG_NONE unless return_probe
  // uprobes: the ELF file (an executable or shared library) and where in it:
  // one Hook per entry of symbols[] / offsets[] (one link each).
  std::string path;
  uint64_t offset = 0;          // offsets[i] (with no symbol), or 0
  uint64_t ref_ctr_offset = 0;  // refCtrOffsets[i]: the USDT-style semaphore, or 0
  bool track_sock = false;       // returnArgAction: TrackSock (the returned sock's owner is kept)
  std::vector<HookArg> args;
  std::vector<Selector> selectors;
  std::string message;
  std::vector<std::string> tags;
  SourcePos pos;

  // "lsm/file_open", "kprobe/sys_symlinkat", "kprobe/fd_install#return",
  // "uprobe//usr/bin/bash:readline": how
  // events and the renderer name it (a return probe is a hook of its own).
  std::string ref() const;
};
using LsmHook = Hook;

// spec.lists: named sets of functions, system calls or values.
struct List {
  std::string name;
  std::string type;                 // "", "syscalls", "generated_syscalls", "generated_ftrace"
  std::vector<std::string> values;  // generated lists: filled in by the parser
  std::string pattern;              // generated_ftrace: the regular expression
  SourcePos pos;
};

// spec.enforcers: the system calls where NotifyEnforcer's decisions apply.
struct Enforcer {
  std::vector<std::string> calls;  // system call names ("sys_dup"), lists expanded
  SourcePos pos;
};

struct Policy {
  std::string name;  // metadata.name
  std::string file;
  std::optional<Mode> mode;  // spec.options policy-mode; unset = enforce
  std::vector<Hook> hooks;  // lsmhooks, then kprobes, then tracepoints, each in file order
  std::vector<List> lists;
  std::vector<Enforcer> enforcers;
  SourcePos pos;

  Mode effectiveMode() const { return mode.value_or(Mode::kEnforce); }
};

}  // namespace vigil::policy
