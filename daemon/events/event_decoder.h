// Decodes raw ring buffer records into plain C++ values. Records are checked
// against the ABI (type, version, sizes) before anything is read: a malformed
// record is an error value, never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "vigil/abi/abi.h"

namespace vigil::events {

struct LsmEvent {
  uint64_t ktime_ns = 0;  // CLOCK_BOOTTIME
  uint32_t pid = 0, tid = 0, ppid = 0, uid = 0, gid = 0;
  uint32_t policy = 0, selector = 0;
  uint16_t hook = 0;
  uint8_t action = 0, outcome = 0, mechanism = 0;
  int32_t error = 0;
  std::string comm, binary, path;
  bool binary_truncated = false, path_truncated = false;
};

// Type of a record, or an error when it is too short to hold a header.
absl::StatusOr<uint16_t> recordType(const void* data, size_t size);
absl::StatusOr<LsmEvent> decodeLsmEvent(const void* data, size_t size);

}  // namespace vigil::events
