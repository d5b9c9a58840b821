// One text form of an event argument, whatever its kind: what CEF extensions
// and the rules engine's evt.arg fields compare and print. Kernel types read as
// Tetragon names them: a packet as a socket ("udp 10.0.0.1:40000 -> 127.0.0.1:53"),
// a module or BPF program or map by type and name, buffers as their bytes.
#pragma once

#include <string>

#include "vigil/events.pb.h"

namespace vigil::api {

inline std::string joinNonEmpty(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + " " + b;
}

inline std::string endpoint(const std::string& ip, uint32_t port) {
  return ip.find(':') != std::string::npos ? "[" + ip + "]:" + std::to_string(port)
                                           : ip + ":" + std::to_string(port);
}

inline std::string argText(const Arg& a) {
  switch (a.value_case()) {
    case Arg::kFileArg: return a.file_arg();
    case Arg::kStringArg: return a.string_arg();
    case Arg::kSockArg: return a.sock_arg();
    case Arg::kIntArg: return std::to_string(a.int_arg());
    case Arg::kUintArg: return std::to_string(a.uint_arg());
    case Arg::kSyscallId: return std::to_string(a.syscall_id().id());
    case Arg::kBytesArg: return a.bytes_arg();
    case Arg::kTruncatedBytesArg: return a.truncated_bytes_arg().bytes_arg();
    case Arg::kSkbArg: {
      const KprobeSkb& s = a.skb_arg();
      if (s.family().empty()) return "";
      std::string proto = s.proto() == 6 ? "tcp" : s.proto() == 17 ? "udp" : "proto" + std::to_string(s.proto());
      return proto + " " + endpoint(s.saddr(), s.sport()) + " -> " + endpoint(s.daddr(), s.dport());
    }
    case Arg::kModuleArg: return a.module_arg().name();
    case Arg::kBpfAttrArg: return joinNonEmpty(a.bpf_attr_arg().progtype(), a.bpf_attr_arg().progname());
    case Arg::kPerfEventArg: return joinNonEmpty(a.perf_event_arg().type(), a.perf_event_arg().kprobefunc());
    case Arg::kBpfMapArg: return joinNonEmpty(a.bpf_map_arg().maptype(), a.bpf_map_arg().mapname());
    case Arg::kUserNsArg: return std::to_string(a.user_ns_arg().ns_inum());
    case Arg::kKernelCapTArg: return a.kernel_cap_t_arg();
    case Arg::kCapInheritableArg: return a.cap_inheritable_arg();
    case Arg::kCapPermittedArg: return a.cap_permitted_arg();
    case Arg::kCapEffectiveArg: return a.cap_effective_arg();
    case Arg::VALUE_NOT_SET: break;
  }
  return "";
}

}  // namespace vigil::api
