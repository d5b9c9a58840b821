// Decodes raw ring buffer records into plain C++ values. Records are checked
// against the ABI (type, version, sizes) before anything is read: a malformed
// record is an error value, never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vigil/abi/abi.h"

namespace vigil::events {

struct TaskId {
  uint32_t pid = 0, tid = 0, ppid = 0;
  uint64_t start_ns = 0, parent_start_ns = 0;  // CLOCK_BOOTTIME
};

struct ExecEvent {
  uint64_t ktime_ns = 0;
  TaskId id;
  uint32_t uid = 0, euid = 0, gid = 0, egid = 0, auid = 0, sessionid = 0;
  uint64_t cgroup_id = 0;
  uint64_t cap_permitted = 0, cap_effective = 0, cap_inheritable = 0;
  uint32_t ns[VG_NS_COUNT] = {};
  std::string comm, binary, cwd;
  std::vector<std::string> argv;  // argv[0] included
  bool binary_truncated = false, args_truncated = false, cwd_truncated = false;
  bool no_paths = false;  // the kernel could not read paths: fill from /proc
  // Controlling terminal: device numbers (0:0 without one) and the kernel's
  // name for it ("pts3", "tty1").
  uint32_t tty_major = 0, tty_minor = 0;
  std::string tty_name;
};

struct CloneEvent {
  uint64_t ktime_ns = 0;
  TaskId id;
};

struct ExitEvent {
  uint64_t ktime_ns = 0;
  TaskId id;
  uint32_t exit_code = 0;  // wait status
};

// Type of a record, or an error when it is too short to hold a header.
absl::StatusOr<uint16_t> recordType(const void* data, size_t size);
absl::StatusOr<ExecEvent> decodeExecEvent(const void* data, size_t size);
absl::StatusOr<CloneEvent> decodeCloneEvent(const void* data, size_t size);
absl::StatusOr<ExitEvent> decodeExitEvent(const void* data, size_t size);

}  // namespace vigil::events
