#include "daemon/events/event_decoder.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace vigil::events {

absl::StatusOr<uint16_t> recordType(const void* data, size_t size) {
  if (size < sizeof(vg_event_hdr)) {
    return absl::DataLossError(absl::StrCat("record of ", size, " bytes has no header"));
  }
  vg_event_hdr hdr;
  memcpy(&hdr, data, sizeof(hdr));
  if (hdr.version != VG_ABI_VERSION) {
    return absl::DataLossError(absl::StrCat("record ABI version ", hdr.version, ", expected ",
                                            VG_ABI_VERSION));
  }
  if (hdr.size != size) {
    return absl::DataLossError(
        absl::StrCat("record says ", hdr.size, " bytes, ring buffer gave ", size));
  }
  return hdr.type;
}

namespace {

TaskId taskId(const vg_task_id& id) {
  return {id.pid, id.tid, id.ppid, id.start_ns, id.parent_start_ns};
}

template <typename Raw>
absl::StatusOr<Raw> fixedRecord(const void* data, size_t size, uint16_t type, const char* what) {
  auto t = recordType(data, size);
  if (!t.ok()) return t.status();
  if (*t != type || size != sizeof(Raw)) {
    return absl::DataLossError(absl::StrCat(what, " record of ", size, " bytes, expected ",
                                            sizeof(Raw)));
  }
  Raw raw;
  memcpy(&raw, data, sizeof(raw));
  return raw;
}

}  // namespace

absl::StatusOr<ExecEvent> decodeExecEvent(const void* data, size_t size) {
  auto type = recordType(data, size);
  if (!type.ok()) return type.status();
  if (*type != VG_EV_EXEC || size < sizeof(vg_exec_event)) {
    return absl::DataLossError(absl::StrCat("exec record of ", size, " bytes is too short"));
  }
  vg_exec_event raw;
  memcpy(&raw, data, sizeof(raw));
  if (sizeof(raw) + raw.bin_len + raw.args_len + raw.cwd_len != size) {
    return absl::DataLossError(absl::StrCat("exec record lengths (", raw.bin_len, "+",
                                            raw.args_len, "+", raw.cwd_len, ") do not fit its ",
                                            size, " bytes"));
  }
  const char* p = static_cast<const char*>(data) + sizeof(raw);
  ExecEvent ev;
  ev.ktime_ns = raw.hdr.ktime;
  ev.id = taskId(raw.id);
  ev.uid = raw.uid;
  ev.euid = raw.euid;
  ev.gid = raw.gid;
  ev.egid = raw.egid;
  ev.auid = raw.auid;
  ev.sessionid = raw.sessionid;
  ev.cgroup_id = raw.cgroup_id;
  ev.cap_permitted = raw.cap_permitted;
  ev.cap_effective = raw.cap_effective;
  ev.cap_inheritable = raw.cap_inheritable;
  memcpy(ev.ns, raw.ns, sizeof(ev.ns));
  ev.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
  ev.binary.assign(p, raw.bin_len);
  std::string_view args(p + raw.bin_len, raw.args_len);
  while (!args.empty()) {
    size_t nul = args.find('\0');
    ev.argv.emplace_back(args.substr(0, nul));
    if (nul == std::string_view::npos) break;
    args.remove_prefix(nul + 1);
  }
  ev.cwd.assign(p + raw.bin_len + raw.args_len, raw.cwd_len);
  ev.binary_truncated = raw.flags & VG_EXEC_FLAG_BIN_TRUNC;
  ev.args_truncated = raw.flags & VG_EXEC_FLAG_ARGS_TRUNC;
  ev.cwd_truncated = raw.flags & VG_EXEC_FLAG_CWD_TRUNC;
  ev.no_paths = raw.flags & VG_EXEC_FLAG_NO_PATHS;
  ev.tty_major = raw.tty_dev >> 20;
  ev.tty_minor = raw.tty_dev & 0xfffff;
  ev.tty_name.assign(raw.tty, strnlen(raw.tty, sizeof(raw.tty)));
  return ev;
}

absl::StatusOr<CloneEvent> decodeCloneEvent(const void* data, size_t size) {
  auto raw = fixedRecord<vg_clone_event>(data, size, VG_EV_CLONE, "clone");
  if (!raw.ok()) return raw.status();
  return CloneEvent{raw->hdr.ktime, taskId(raw->id)};
}

absl::StatusOr<ExitEvent> decodeExitEvent(const void* data, size_t size) {
  auto raw = fixedRecord<vg_exit_event>(data, size, VG_EV_EXIT, "exit");
  if (!raw.ok()) return raw.status();
  return ExitEvent{raw->hdr.ktime, taskId(raw->id), raw->exit_code};
}

}  // namespace vigil::events
