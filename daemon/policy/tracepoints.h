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
  // syscalls/sys_enter_NAME, sys_exit_NAME: served by raw_syscalls' ATTACH
  // ("sys_enter", "sys_exit") for system call number NR only (64-bit calls),
  // read from NR_SRC (enum vg_tp_src). Other tracepoints: attach is empty
  // (tp_btf on the event itself) and nr is -1.
  std::string_view attach;
  int32_t nr = -1;
  uint8_t nr_src = 0;
  // The event class whose record (BTF trace_event_raw_CLASS) the event uses
  // where the kernel has no trace_event_raw_EVENT (DEFINE_EVENT).
  std::string_view record_class;
  // Fires inside other BPF programs (bpf_send_signal of a Sigkill/Signal
  // action): the instance takes its own scratch (vg_gen_scratch).
  bool nested = false;
};

// A field that is a string: a char array or pointer. user: a user-space
// pointer (a system call's argument), else kernel memory.
bool isStringField(const TracepointField& f);
bool isUserStringField(const TracepointInfo& t, const TracepointField& f);

// The tracepoints other than syscalls/* (those are one per system call).
std::span<const TracepointInfo> tracepoints();
// Any supported tracepoint, syscalls/sys_enter_NAME and sys_exit_NAME included.
const TracepointInfo* findTracepoint(std::string_view subsystem, std::string_view event);
// The system calls that have syscalls/sys_enter_NAME and sys_exit_NAME.
std::vector<std::string_view> syscallTracepointNames();
// The syscalls/* event name of an x86_64 system call ("stat" -> "newstat"),
// empty where it has none.
std::string_view syscallEventName(std::string_view uapi);

// x86_64 system call numbers (scripts/gen-syscall-table): "sys_dup", "dup",
// "__x64_sys_dup" -> 32; "__ia32_sys_dup" -> 41 | VG_SYSCALL_IA32.
std::optional<uint64_t> syscallNumber(std::string_view name);
// Every x86_64 system call, as "sys_NAME" (generated_syscalls lists).
std::vector<std::string> allSyscalls();

}  // namespace vigil::policy
