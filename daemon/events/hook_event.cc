#include "daemon/events/hook_event.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "daemon/events/event_decoder.h"

namespace vigil::events {

absl::StatusOr<HookEvent> decodeHookEvent(const void* data, size_t size) {
  auto type = recordType(data, size);
  if (!type.ok()) return type.status();
  if (*type != VG_EV_HOOK) return absl::InvalidArgumentError("not a hook event");
  if (size < sizeof(vg_hook_event) + VG_BIN_MAX || size > VG_HOOK_EVENT_MAX) {
    return absl::DataLossError(absl::StrCat("hook event of ", size, " bytes has a bad size"));
  }
  vg_hook_event raw;
  memcpy(&raw, data, sizeof(raw));
  const char* bin = static_cast<const char*>(data) + sizeof(raw);
  const char* strs = bin + VG_BIN_MAX;
  const size_t str_bytes = size - sizeof(raw) - VG_BIN_MAX;
  if (raw.bin_len >= VG_BIN_MAX) {
    return absl::DataLossError(absl::StrCat("hook event binary length ", raw.bin_len));
  }
  HookEvent ev;
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
  ev.signal = raw.signal;
  ev.error = raw.error;
  ev.has_return = raw.has_ret;
  ev.return_value = raw.retval;
  ev.kernel_stack_id = raw.kstack_id;
  ev.user_stack_id = raw.ustack_id;
  ev.comm.assign(raw.comm, strnlen(raw.comm, sizeof(raw.comm)));
  ev.binary.assign(bin, raw.bin_len);
  ev.binary_truncated = raw.bin_trunc;
  for (int i = 0; i < VG_HOOK_ARGS; i++) {
    const vg_arg_val& a = raw.args[i];
    if (a.kind == VG_ARG_NONE) continue;
    if (a.kind >= VG_ARG_KIND_MAX) {
      return absl::DataLossError(absl::StrCat("hook event argument ", i, " has kind ", a.kind));
    }
    HookArgValue v;
    v.index = i;
    v.kind = a.kind;
    v.truncated = a.flags & VG_ARGF_TRUNC;
    v.unreadable = a.flags & VG_ARGF_ERR;
    v.is_return = a.flags & VG_ARGF_RET;
    v.num = a.num;
    if (a.kind == VG_ARG_FILE) memcpy(&v.file_flags, a.saddr, sizeof(v.file_flags));  // X[0]
    if (a.str_len) {
      if (static_cast<size_t>(a.str_off) + a.str_len > str_bytes) {
        return absl::DataLossError(absl::StrCat("hook event argument ", i, " string (", a.str_off,
                                                "+", a.str_len, ") past its ", size, " bytes"));
      }
      v.str.assign(strs + a.str_off, a.str_len);
    }
    v.family = a.family;
    v.sport = a.sport;
    v.dport = a.dport;
    v.protocol = a.protocol;
    v.state = a.state;
    memcpy(v.saddr.data(), a.saddr, 16);
    memcpy(v.daddr.data(), a.daddr, 16);
    ev.args.push_back(std::move(v));
  }
  return ev;
}

namespace {

std::string addr(uint16_t family, const std::array<uint8_t, 16>& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET) inet_ntop(AF_INET, a.data(), buf, sizeof(buf));
  if (family == AF_INET6) inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
  return buf;
}

std::string hostPort(uint16_t family, const std::array<uint8_t, 16>& a, uint16_t port) {
  return family == AF_INET6 ? absl::StrCat("[", addr(family, a), "]:", port)
                            : absl::StrCat(addr(family, a), ":", port);
}

}  // namespace

std::string describeSocket(const HookArgValue& a) {
  if (a.unreadable) return "unreadable";
  if (a.family != AF_INET && a.family != AF_INET6) return absl::StrCat("family ", a.family);
  if (a.kind == VG_ARG_SOCKADDR) {
    return absl::StrCat(a.family == AF_INET ? "inet " : "inet6 ", hostPort(a.family, a.daddr, a.dport));
  }
  std::string proto = a.protocol == IPPROTO_TCP   ? "tcp"
                      : a.protocol == IPPROTO_UDP ? "udp"
                                                  : absl::StrCat("proto", a.protocol);
  return absl::StrCat(proto, " ", hostPort(a.family, a.saddr, a.sport), " -> ",
                      hostPort(a.family, a.daddr, a.dport));
}

}  // namespace vigil::events
