#include "daemon/policy/tracepoints.h"

#include <algorithm>

#include "daemon/policy/syscall_table_x86_64.inc"
#include "vigil/abi/abi.h"

namespace vigil::policy {
namespace {

struct SyscallNr {
  std::string_view name;
  uint32_t nr;
};
constexpr SyscallNr kSyscalls64[] = {VG_SYSCALLS_64};
constexpr SyscallNr kSyscallsIa32[] = {VG_SYSCALLS_IA32};

std::optional<uint64_t> lookup(std::span<const SyscallNr> table, std::string_view name) {
  for (const auto& s : table) {
    if (s.name == name) return s.nr;
  }
  return std::nullopt;
}

// The four common fields every trace record starts with (struct trace_entry).
#define VG_TP_COMMON                                                              \
  {"common_type", "unsigned short", 0}, {"common_flags", "unsigned char", 0},     \
      {"common_preempt_count", "unsigned char", 0}, {"common_pid", "int", VG_SRC_TID}

const std::vector<TracepointInfo> kTracepoints = {
    // TP_PROTO(struct pt_regs *regs, long id): id is argument 1.
    {"raw_syscalls", "sys_enter",
     {VG_TP_COMMON, {"id", "long", VG_SRC_CTX0 + 1}, {"args", "unsigned long[6]", 0}}},
    // TP_PROTO(struct pt_regs *regs, long ret): id is syscall_get_nr(regs).
    {"raw_syscalls", "sys_exit",
     {VG_TP_COMMON, {"id", "long", VG_SRC_REGS_NR}, {"ret", "long", VG_SRC_CTX0 + 1}}},
};

}  // namespace

std::span<const TracepointInfo> tracepoints() { return kTracepoints; }

const TracepointInfo* findTracepoint(std::string_view subsystem, std::string_view event) {
  for (const auto& t : kTracepoints) {
    if (t.subsystem == subsystem && t.event == event) return &t;
  }
  return nullptr;
}

std::optional<uint64_t> syscallNumber(std::string_view name) {
  bool ia32 = false;
  for (std::string_view prefix : {"__x64_sys_", "__ia32_sys_", "__ia32_compat_sys_", "sys_"}) {
    if (name.starts_with(prefix)) {
      ia32 = prefix.starts_with("__ia32");
      name.remove_prefix(prefix.size());
      break;
    }
  }
  if (ia32) {
    auto n = lookup(kSyscallsIa32, name);
    if (n) return *n | VG_SYSCALL_IA32;
    return std::nullopt;
  }
  return lookup(kSyscalls64, name);
}

std::vector<std::string> allSyscalls() {
  std::vector<std::string> out;
  for (const auto& s : kSyscalls64) out.push_back("sys_" + std::string(s.name));
  return out;
}

}  // namespace vigil::policy
