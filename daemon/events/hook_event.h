// Events of the generic hook program (bpf/hook.bpf.c): any LSM hook or kernel
// function a policy names. Decoded like the other records: checked against the
// ABI before anything is read.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vigil/abi/abi.h"

namespace vigil::events {

struct HookArgValue {
  int index = 0;
  uint8_t kind = VG_ARG_NONE;  // enum vg_arg_kind
  bool truncated = false, unreadable = false;
  bool is_return = false;     // a return probe's returnArg of a struct kind (sock, socket)
  uint64_t num = 0;           // integers (sign-extended), cred euid, task tgid
  std::string str;            // strings and paths
  uint32_t file_flags = 0;    // file arguments of file_open: the open's f_flags
  uint16_t family = 0, sport = 0, dport = 0;
  uint8_t protocol = 0, state = 0;
  std::array<uint8_t, 16> saddr{}, daddr{};
};

struct HookEvent {
  uint64_t ktime_ns = 0;
  uint32_t pid = 0, tid = 0, ppid = 0, uid = 0, gid = 0;
  uint32_t policy = 0, selector = 0;
  uint16_t hook = 0;
  uint8_t action = 0, outcome = 0, mechanism = 0, signal = 0;
  int32_t error = 0;
  bool has_return = false;  // a return probe's event
  int64_t return_value = 0;
  std::string comm, binary;
  bool binary_truncated = false;
  std::vector<HookArgValue> args;  // captured arguments, in index order
  // kernelStackTrace/userStackTrace: the stacks' ids in vg_stacks (-1: not
  // asked for; another negative value: -errno, the kernel could not keep it).
  int32_t kernel_stack_id = -1, user_stack_id = -1;
};

absl::StatusOr<HookEvent> decodeHookEvent(const void* data, size_t size);

// "tcp 10.0.0.1:443 -> 10.0.0.2:5555", "inet 192.168.1.1:80" (a sockaddr).
std::string describeSocket(const HookArgValue& a);

}  // namespace vigil::events
