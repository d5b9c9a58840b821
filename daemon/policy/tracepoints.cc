#include "daemon/policy/tracepoints.h"

#include <algorithm>
#include <array>
#include <iterator>

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
    // Security monitoring tracepoints. Fields and TP_PROTO are the same on
    // Debian's 6.1 and 6.12 kernels (checked in their BTF and tracefs); 6.18
    // turns the comm arrays into __data_loc strings at the same indexes.
    // TP_PROTO(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
    {"sched", "sched_process_exec",
     {VG_TP_COMMON,
      {"filename", "__data_loc char[]", VG_SRC_BPRM_FILENAME},
      {"pid", "pid_t", VG_SRC_TASK_PID0 + 0},
      {"old_pid", "pid_t", VG_SRC_CTX0 + 1}}},
    // TP_PROTO(struct task_struct *parent, struct task_struct *child)
    {"sched", "sched_process_fork",
     {VG_TP_COMMON,
      {"parent_comm", "char[16]", VG_SRC_TASK_COMM0 + 0},
      {"parent_pid", "pid_t", VG_SRC_TASK_PID0 + 0},
      {"child_comm", "char[16]", VG_SRC_TASK_COMM0 + 1},
      {"child_pid", "pid_t", VG_SRC_TASK_PID0 + 1}}},
    // TP_PROTO(struct task_struct *p) (6.16+ adds bool group_dead, not a field)
    {"sched", "sched_process_exit",
     {VG_TP_COMMON,
      {"comm", "char[16]", VG_SRC_TASK_COMM0 + 0},
      {"pid", "pid_t", VG_SRC_TASK_PID0 + 0},
      {"prio", "int", VG_SRC_TASK_PRIO}},
     "", -1, 0, "sched_process_template"},  // 6.1, 6.12: an event of that class
    // TP_PROTO(int sig, struct kernel_siginfo *info, struct task_struct *task,
    //          int group, int result). errno and code from info, with the
    // markers SEND_SIG_NOINFO and SEND_SIG_PRIV as TP_STORE_SIGINFO has them.
    {"signal", "signal_generate",
     {VG_TP_COMMON,
      {"sig", "int", VG_SRC_CTX0 + 0},
      {"errno", "int", VG_SRC_SIGINFO_ERRNO},
      {"code", "int", VG_SRC_SIGINFO_CODE},
      {"comm", "char[16]", VG_SRC_TASK_COMM0 + 2},
      {"pid", "pid_t", VG_SRC_TASK_PID0 + 2},
      {"group", "int", VG_SRC_CTX0 + 3},
      {"result", "int", VG_SRC_CTX0 + 4}},
     "", -1, 0, "", /*nested=*/true},  // bpf_send_signal generates signals too
    // TP_PROTO(struct module *mod)
    {"module", "module_load",
     {VG_TP_COMMON,
      {"taints", "unsigned int", VG_SRC_MOD_TAINTS},
      {"name", "__data_loc char[]", VG_SRC_MOD_NAME}}},
    // TP_PROTO(struct task_struct *task, const char *comm): the new name.
    {"task", "task_rename",
     {VG_TP_COMMON,
      {"pid", "pid_t", VG_SRC_TASK_PID0 + 0},
      {"oldcomm", "char[16]", VG_SRC_TASK_COMM0 + 0},
      {"newcomm", "char[16]", VG_SRC_CTX0 + 1},
      {"oom_score_adj", "short", VG_SRC_TASK_OOM}}},
};

// syscalls/sys_enter_NAME and sys_exit_NAME (the kernel's
// include/trace/syscall.h events): common fields, __syscall_nr, then the
// system call's arguments (sys_enter) or ret (sys_exit), as tracefs formats
// them on Debian's kernels (scripts/gen-syscall-table). Served by
// raw_syscalls: TP_PROTO(struct pt_regs *regs, long id / long ret).
struct SyscallArg {
  std::string_view type, name;
};
struct SyscallArgs {
  std::string_view name;  // the event's: the kernel function's (newstat)
  std::string_view uapi;  // the number's (stat)
  int nargs;
  std::array<SyscallArg, 6> args;
};
constexpr SyscallArgs kSyscallArgs[] = {VG_SYSCALL_ARGS};

const std::vector<TracepointInfo>& syscallTracepoints() {
  static const std::vector<TracepointInfo> all = [] {
    static std::vector<std::string> names;  // event names, kept alive
    names.reserve(2 * std::size(kSyscallArgs));
    std::vector<TracepointInfo> out;
    for (const auto& s : kSyscallArgs) {
      const auto nr = lookup(kSyscalls64, s.uapi);
      if (!nr) continue;
      names.push_back("sys_enter_" + std::string(s.name));
      TracepointInfo enter{"syscalls", names.back(), {VG_TP_COMMON}, "sys_enter",
                           static_cast<int32_t>(*nr), VG_SRC_CTX0 + 1};
      enter.fields.push_back({"__syscall_nr", "int", VG_SRC_CTX0 + 1});
      for (int i = 0; i < s.nargs; i++) {
        enter.fields.push_back({s.args[i].name, s.args[i].type,
                                static_cast<uint8_t>(VG_SRC_REGS_ARG0 + i)});
      }
      out.push_back(std::move(enter));
      names.push_back("sys_exit_" + std::string(s.name));
      out.push_back(TracepointInfo{"syscalls", names.back(),
                                   {VG_TP_COMMON,
                                    {"__syscall_nr", "int", VG_SRC_REGS_NR},
                                    {"ret", "long", VG_SRC_CTX0 + 1}},
                                   "sys_exit", static_cast<int32_t>(*nr), VG_SRC_REGS_NR});
    }
    return out;
  }();
  return all;
}

}  // namespace

bool isStringField(const TracepointField& f) {
  return f.type.find("char[") != std::string_view::npos ||
         f.type == "const char *" || f.type == "char *";
}

bool isUserStringField(const TracepointInfo& t, const TracepointField& f) {
  return t.subsystem == "syscalls" && isStringField(f);
}

std::span<const TracepointInfo> tracepoints() { return kTracepoints; }

const TracepointInfo* findTracepoint(std::string_view subsystem, std::string_view event) {
  for (const auto& t : subsystem == "syscalls" ? syscallTracepoints() : kTracepoints) {
    if (t.subsystem == subsystem && t.event == event) return &t;
  }
  return nullptr;
}

std::string_view syscallEventName(std::string_view uapi) {
  for (const auto& s : kSyscallArgs) {
    if (s.uapi == uapi) return s.name;
  }
  return {};
}

std::vector<std::string_view> syscallTracepointNames() {
  std::vector<std::string_view> out;
  for (const auto& s : kSyscallArgs) {
    out.push_back(s.name);
  }
  return out;
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
