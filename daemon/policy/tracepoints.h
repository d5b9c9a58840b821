// Tracepoints a policy can name (spec.tracepoints), with the fields of their
// trace record, and the system call numbers lists and InMap values resolve.
//
// Tetragon numbers a tracepoint's arguments by the field index of its trace
// record format (/sys/kernel/tracing/events/SUBSYS/EVENT/format, the common_*
// fields first). Vigil attaches tracepoints as tp_btf programs (they load under
// lockdown, where tracefs and classic tracepoints are refused) and reads each
// field from where the record's TP_fast_assign takes it; this table says
// where, field by field, and the loader checks it against the kernel's own
// record layout (BTF struct trace_event_raw_EVENT).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::policy {

struct TracepointField {
  std::string_view name;  // as the format file names it
  std::string_view type;  // its C type
  uint8_t src = 0;        // enum vg_tp_src; 0: not readable by Vigil
};

struct TracepointInfo {
  std::string_view subsystem;
  std::string_view event;
  std::vector<TracepointField> fields;  // in format order, common_* first
};

std::span<const TracepointInfo> tracepoints();
const TracepointInfo* findTracepoint(std::string_view subsystem, std::string_view event);

// x86_64 system call numbers (scripts/gen-syscall-table): "sys_dup", "dup",
// "__x64_sys_dup" -> 32; "__ia32_sys_dup" -> 41 | VG_SYSCALL_IA32.
std::optional<uint64_t> syscallNumber(std::string_view name);
// Every x86_64 system call, as "sys_NAME" (generated_syscalls lists).
std::vector<std::string> allSyscalls();

}  // namespace vigil::policy
