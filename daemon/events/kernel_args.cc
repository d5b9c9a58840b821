#include "daemon/events/kernel_args.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace vigil::events {
namespace {

constexpr const char* kProgTypes[] = {
    "UNSPEC", "SOCKET_FILTER", "KPROBE", "SCHED_CLS", "SCHED_ACT", "TRACEPOINT", "XDP",
    "PERF_EVENT", "CGROUP_SKB", "CGROUP_SOCK", "LWT_IN", "LWT_OUT", "LWT_XMIT", "SOCK_OPS",
    "SK_SKB", "CGROUP_DEVICE", "SK_MSG", "RAW_TRACEPOINT", "CGROUP_SOCK_ADDR", "LWT_SEG6LOCAL",
    "LIRC_MODE2", "SK_REUSEPORT", "FLOW_DISSECTOR", "CGROUP_SYSCTL", "RAW_TRACEPOINT_WRITABLE",
    "CGROUP_SOCKOPT", "TRACING", "STRUCT_OPS", "EXT", "LSM", "SK_LOOKUP", "SYSCALL", "NETFILTER"};

constexpr const char* kMapTypes[] = {
    "UNSPEC", "HASH", "ARRAY", "PROG_ARRAY", "PERF_EVENT_ARRAY", "PERCPU_HASH", "PERCPU_ARRAY",
    "STACK_TRACE", "CGROUP_ARRAY", "LRU_HASH", "LRU_PERCPU_HASH", "LPM_TRIE", "ARRAY_OF_MAPS",
    "HASH_OF_MAPS", "DEVMAP", "SOCKMAP", "CPUMAP", "XSKMAP", "SOCKHASH", "CGROUP_STORAGE",
    "REUSEPORT_SOCKARRAY", "PERCPU_CGROUP_STORAGE", "QUEUE", "STACK", "SK_STORAGE",
    "DEVMAP_HASH", "STRUCT_OPS", "RINGBUF", "INODE_STORAGE", "TASK_STORAGE", "BLOOM_FILTER",
    "USER_RINGBUF", "CGRP_STORAGE", "ARENA"};

constexpr const char* kPerfTypes[] = {"PERF_TYPE_HARDWARE", "PERF_TYPE_SOFTWARE",
                                      "PERF_TYPE_TRACEPOINT", "PERF_TYPE_HW_CACHE",
                                      "PERF_TYPE_RAW", "PERF_TYPE_BREAKPOINT"};

constexpr const char* kCaps[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
    "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
    "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

std::string addrString(uint16_t family, const std::array<uint8_t, 16>& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET) inet_ntop(AF_INET, a.data(), buf, sizeof(buf));
  if (family == AF_INET6) inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
  return buf;
}

uint32_t extra(const HookArgValue& a, int i) {
  uint32_t v = 0;
  memcpy(&v, a.saddr.data() + 4 * i, 4);
  return v;
}

}  // namespace

std::string bpfProgTypeName(uint32_t t) {
  if (t < std::size(kProgTypes)) return absl::StrCat("BPF_PROG_TYPE_", kProgTypes[t]);
  return absl::StrCat(t);
}

std::string bpfMapTypeName(uint32_t t) {
  if (t < std::size(kMapTypes)) return absl::StrCat("BPF_MAP_TYPE_", kMapTypes[t]);
  return absl::StrCat(t);
}

std::string perfTypeName(uint32_t t) {
  if (t < std::size(kPerfTypes)) return kPerfTypes[t];
  return absl::StrCat(t);  // a dynamic PMU (kprobe, uprobe): its number
}

std::string capabilitySetNames(uint64_t caps) {
  std::string out;
  for (size_t i = 0; i < 64; i++) {
    if (!(caps & (uint64_t{1} << i))) continue;
    if (!out.empty()) out += ' ';
    out += i < std::size(kCaps) ? std::string(kCaps[i]) : absl::StrCat("CAP_", i);
  }
  return out;
}

std::string familyName(uint16_t family) {
  switch (family) {
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    case AF_UNIX: return "AF_UNIX";
  }
  return absl::StrCat(family);
}

std::string protocolName(uint8_t protocol) {
  switch (protocol) {
    case IPPROTO_TCP: return "IPPROTO_TCP";
    case IPPROTO_UDP: return "IPPROTO_UDP";
    case IPPROTO_ICMP: return "IPPROTO_ICMP";
    case IPPROTO_ICMPV6: return "IPPROTO_ICMPV6";
  }
  return absl::StrCat(protocol);
}

bool fillKernelArg(const HookArgValue& a, std::string_view type, api::Arg* arg) {
  switch (a.kind) {
    case VG_ARG_CHAR_BUF:
    case VG_ARG_UCHAR_BUF:
    case VG_ARG_IOV_ITER:
      if (a.truncated) {
        auto* t = arg->mutable_truncated_bytes_arg();
        t->set_bytes_arg(a.str);
        // iov_iter: num is the iterator's count, the size of the whole write.
        if (a.kind == VG_ARG_IOV_ITER) t->set_orig_size(a.num);
      } else {
        arg->set_bytes_arg(a.str);
      }
      return true;
    case VG_ARG_SKB: {
      auto* s = arg->mutable_skb_arg();
      s->set_len(static_cast<uint32_t>(a.num));
      s->set_mark(static_cast<uint32_t>(a.num >> 32));
      if (a.family == AF_INET || a.family == AF_INET6) {
        s->set_saddr(addrString(a.family, a.saddr));
        s->set_daddr(addrString(a.family, a.daddr));
        s->set_family(familyName(a.family));
        s->set_proto(a.protocol);
        s->set_protocol(protocolName(a.protocol));
        s->set_sport(a.sport);
        s->set_dport(a.dport);
      }
      return true;
    }
    case VG_ARG_MODULE: {
      auto* m = arg->mutable_module_arg();
      m->set_name(a.str);
      m->set_signature_ok(extra(a, 0) != 0);
      m->set_tainted(a.num);
      return true;
    }
    case VG_ARG_BPF_ATTR: {
      auto* b = arg->mutable_bpf_attr_arg();
      b->set_progtype(bpfProgTypeName(static_cast<uint32_t>(a.num)));
      b->set_insncnt(extra(a, 0));
      b->set_progname(a.str);
      return true;
    }
    case VG_ARG_PERF_EVENT: {
      auto* p = arg->mutable_perf_event_arg();
      p->set_kprobefunc(a.str);
      p->set_type(perfTypeName(extra(a, 0)));
      p->set_config(a.num);
      p->set_probeoffset(uint64_t{extra(a, 2)} | uint64_t{extra(a, 3)} << 32);
      return true;
    }
    case VG_ARG_BPF_MAP: {
      auto* m = arg->mutable_bpf_map_arg();
      m->set_maptype(bpfMapTypeName(static_cast<uint32_t>(a.num)));
      m->set_keysize(extra(a, 0));
      m->set_valuesize(extra(a, 1));
      m->set_maxentries(extra(a, 2));
      m->set_mapname(a.str);
      return true;
    }
    case VG_ARG_USER_NS: {
      auto* u = arg->mutable_user_ns_arg();
      u->set_ns_inum(static_cast<uint32_t>(a.num));
      u->set_level(static_cast<int32_t>(extra(a, 0)));
      u->set_owner(extra(a, 1));
      u->set_group(extra(a, 2));
      return true;
    }
    case VG_ARG_KERNEL_CAP: {
      std::string names = capabilitySetNames(a.num);
      if (type == "cap_inheritable") {
        arg->set_cap_inheritable_arg(names);
      } else if (type == "cap_permitted") {
        arg->set_cap_permitted_arg(names);
      } else if (type == "cap_effective") {
        arg->set_cap_effective_arg(names);
      } else {
        arg->set_kernel_cap_t_arg(names);
      }
      return true;
    }
    case VG_ARG_KIOCB: arg->set_file_arg(a.unreadable ? "" : a.str); return true;
    case VG_ARG_FILENAME: arg->set_string_arg(a.str); return true;
  }
  return false;
}

}  // namespace vigil::events
