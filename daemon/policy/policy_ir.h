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
};
using StrOp = ArgOp;  // the first slice's name

enum class BinOp { kIn, kNotIn, kPrefix, kNotPrefix, kPostfix, kNotPostfix };

// kGetUrl, kDnsLookup: carried out by vigild in user space after the event.
// kUntrackSock: forget a socket returnArgAction TrackSock recorded.
enum class ActionKind { kPost, kOverride, kSigkill, kSignal, kNoPost, kGetUrl, kDnsLookup, kUntrackSock };

enum class HookKind { kLsm, kKprobe };

// Names as written in policies ("monitor", "Equal", "In", "Override").
std::string_view modeName(Mode mode);
std::string_view argOpName(ArgOp op);
inline std::string_view strOpName(ArgOp op) { return argOpName(op); }
std::string_view binOpName(BinOp op);
std::string_view actionName(ActionKind kind);
std::string_view hookKindName(HookKind kind);  // "lsmhook", "kprobe"

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
  int arg_error = 0;  // Override: negative errno as written in the policy (-1 = EPERM)
  int arg_sig = 0;    // Signal: the signal number
  uint64_t rate_limit_ns = 0;  // rateLimit: at most one identical event per window (0: none)
  uint8_t rate_scope = 0;      // rateLimitScope: enum vg_rate_scope (thread, process, global)
  std::string url;             // GetUrl: argUrl
  std::string fqdn;            // DnsLookup: argFqdn
  int arg_sock = 0;            // UntrackSock: argSock, the index of the sock argument
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
  int index = 0;
  std::string type;  // "file", "linux_binprm", ...
  uint8_t kind = 0;  // enum vg_arg_kind: how the kernel reads it (VG_ARG_NONE for "nop")
  std::string label;
  int size_arg = -1;         // char_buf: index of the argument holding its size (sizeArgIndex - 1)
  bool return_copy = false;  // char_buf: filled by the call, read when it returns
  SourcePos pos;
};

// One lsmhook or kprobe of a policy.
struct Hook {
  HookKind kind = HookKind::kLsm;
  std::string hook;      // LSM hook ("file_open") or kernel function as written ("sys_symlinkat")
  bool syscall = false;  // kprobes: call names a system call
  bool skip_if_missing = false;  // kprobes: ignore.callNotFound, a warning instead of an error
  bool return_probe = false;     // kprobes: return: true (fexit; returnArg, matchReturnArgs)
  HookArg return_arg;            // its kind: VG_ARG_NONE unless return_probe
  bool track_sock = false;       // returnArgAction: TrackSock (the returned sock's owner is kept)
  std::vector<HookArg> args;
  std::vector<Selector> selectors;
  std::string message;
  std::vector<std::string> tags;
  SourcePos pos;

  // "lsm/file_open", "kprobe/sys_symlinkat", "kprobe/fd_install#return": how
  // events and the renderer name it (a return probe is a hook of its own).
  std::string ref() const;
};
using LsmHook = Hook;

struct Policy {
  std::string name;  // metadata.name
  std::string file;
  std::optional<Mode> mode;  // spec.options policy-mode; unset = enforce
  std::vector<Hook> hooks;  // lsmhooks, then kprobes, each in file order
  SourcePos pos;

  Mode effectiveMode() const { return mode.value_or(Mode::kEnforce); }
};

}  // namespace vigil::policy
