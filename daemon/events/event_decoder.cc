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

absl::StatusOr<LsmEvent> decodeLsmEvent(const void* data, size_t size) {
  auto type = recordType(data, size);
  if (!type.ok()) return type.status();
  if (*type != VG_EV_LSM) return absl::InvalidArgumentError("not an LSM event");
  if (size < sizeof(vg_lsm_event) + VG_BIN_MAX) {
    return absl::DataLossError(absl::StrCat("LSM event of ", size, " bytes is too short"));
  }
  vg_lsm_event raw;
  memcpy(&raw, data, sizeof(raw));
  const char* bin = static_cast<const char*>(data) + sizeof(raw);
  const char* path = bin + VG_BIN_MAX;
  if (raw.bin_len >= VG_BIN_MAX ||
      sizeof(raw) + VG_BIN_MAX + raw.path_len != size) {
    return absl::DataLossError(absl::StrCat("LSM event lengths (binary ", raw.bin_len, ", path ",
                                            raw.path_len, ") do not fit its ", size, " bytes"));
  }
  LsmEvent ev;
  ev.ktime_ns = raw.hdr.ktime;
  ev.pid = raw.pid;
  ev.tid = raw.tid;
  ev.ppid = raw.ppid;
  ev.uid = raw.uid;
  ev.gid = raw.gid;
  ev.policy = raw.policy;
  ev.selector = raw.selector;
  ev.hook = raw.hook;
  ev.action = raw.action;
  ev.outcome = raw.outcome;
  ev.mechanism = raw.mechanism;
  ev.error = raw.error;
  ev.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
  ev.binary.assign(bin, raw.bin_len);
  ev.path.assign(path, raw.path_len);
  ev.binary_truncated = raw.bin_trunc;
  ev.path_truncated = raw.path_trunc;
  return ev;
}

}  // namespace vigil::events
