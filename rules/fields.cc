#include "rules/fields.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "api/arg_text.h"
#include "api/event_view.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace vigil::rules {
namespace {

using Kind = EventView::Kind;

std::string_view sv(const std::string& s) { return std::string_view(s.data(), s.size()); }

std::string_view baseName(std::string_view p) {
  if (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  auto i = p.rfind('/');
  return i == std::string_view::npos ? p : p.substr(i + 1);
}
std::string_view dirName(std::string_view p) {
  auto i = p.rfind('/');
  if (i == std::string_view::npos) return ".";
  if (i == 0) return "/";
  return p.substr(0, i);
}

// proc.name: the kernel's comm (truncated to 15 bytes, as in Falco), or the
// binary's base name when the event has no comm.
std::string_view procName(const api::Process& p) {
  if (!p.comm().empty()) return sv(p.comm());
  if (!p.binary().empty()) return baseName(sv(p.binary()));
  return {};
}
bool procKnown(const api::Process* p) {
  return p != nullptr && (p->pid() != 0 || !p->comm().empty() || !p->binary().empty());
}

// Falco's proc.cmdline: name, then the arguments.
void cmdline(const api::Process& p, std::string& out) {
  auto n = procName(p);
  out.assign(n.data(), n.size());
  if (!p.arguments().empty()) {
    out += ' ';
    out += p.arguments();
  }
}

// Lineage: 0 the process, 1 its parent, N >= 2 ancestors[N-2] (grandparent first).
const api::Process* lineage(const EventView& v, int n) {
  if (n == 0) return procKnown(v.proc) ? v.proc : nullptr;
  if (n == 1) return procKnown(v.parent) ? v.parent : nullptr;
  if (v.ancestors == nullptr || n - 2 >= v.ancestors->size()) return nullptr;
  const auto& a = v.ancestors->Get(n - 2);
  return procKnown(&a) ? &a : nullptr;
}
int lineageDepth(const EventView& v) {
  return 2 + (v.ancestors ? v.ancestors->size() : 0);
}

bool parseRfc3339(const std::string& s, int64_t* ns) {
  if (s.empty()) return false;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return false;
  *ns = absl::ToUnixNanos(t);
  return true;
}

void ensureTime(EventView& v) {
  if (v.time_done) return;
  v.time_done = true;
  v.time_ok = parseRfc3339(v.ev->time(), &v.time_ns);
  if (!v.time_ok && !v.ev->time().empty()) v.extract_errors++;
}

// Dotted-quad IPv4 without copies (the common case on every connect event);
// false for anything else, which then goes through inet_pton.
bool parseIpv4Fast(std::string_view s, IpNet* out) {
  IpNet n;
  n.family = 4;
  n.prefix = 32;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      i++;
    }
    size_t start = i;
    unsigned x = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) x = x * 10 + static_cast<unsigned>(s[i++] - '0');
    if (i == start || x > 255 || (i - start > 1 && s[start] == '0')) return false;
    n.addr[static_cast<size_t>(part)] = static_cast<uint8_t>(x);
  }
  if (i != s.size()) return false;
  *out = n;
  return true;
}

bool parseHostPort(std::string_view s, IpNet* ip, int64_t* port) {
  const void* colon = s.empty() ? nullptr : memrchr(s.data(), ':', s.size());
  if (colon == nullptr) return false;
  size_t c = static_cast<size_t>(static_cast<const char*>(colon) - s.data());
  std::string_view host = s.substr(0, c);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!absl::SimpleAtoi(absl::string_view(s.data() + c + 1, s.size() - c - 1), port)) return false;
  if (parseIpv4Fast(host, ip)) return true;
  return parseIpNet(host, ip) && ip->prefix == (ip->family == 4 ? 32 : 128);
}

bool unspecified(const IpNet& ip, int64_t port) {
  if (port != 0) return false;
  for (uint8_t x : ip.addr) {
    if (x != 0) return false;
  }
  return true;
}

// The socket of an LSM event, from its sock_args. vigild writes two forms:
//   "tcp 10.0.0.1:443 -> 10.0.0.2:5555"  a socket (protocol, source -> destination)
//   "inet 203.0.113.9:4444", "inet6 [::2]:53"  a sockaddr (socket_connect /
//                                      socket_bind's address argument)
// The sockaddr is the server side (connect: the remote address; bind: the
// local one, Falco's fd.sip for a listening socket), and wins over a socket's
// destination, which is still unset when connect is decided; a source of
// 0.0.0.0:0 (not bound yet) is unknown. Malformed text is a runtime error.
void ensureSock(EventView& v) {
  if (v.sock_done) return;
  v.sock_done = true;
  if (v.args == nullptr) return;
  bool have_addr = false;
  for (const auto& a : *v.args) {
    if (a.value_case() != api::Arg::kSockArg && a.value_case() != api::Arg::kSkbArg) continue;
    // A packet (skb_arg) reads as a socket; its text is local (see sock_proto below).
    std::string skb_text;
    std::string_view s;
    if (a.value_case() == api::Arg::kSockArg) {
      s = sv(a.sock_arg());
    } else {
      skb_text = api::argText(a);
      if (skb_text.empty()) continue;
      s = skb_text;
    }
    auto sp = s.find(' ');
    if (sp == std::string_view::npos) {
      if (s != "unreadable" && !s.empty()) v.extract_errors++;
      continue;
    }
    std::string_view kind = s.substr(0, sp);
    if (kind == "family") continue;  // not an IP socket
    if (kind == "inet" || kind == "inet6") {
      IpNet ip;
      int64_t port = 0;
      if (!parseHostPort(s.substr(sp + 1), &ip, &port)) {
        v.extract_errors++;
        continue;
      }
      v.sock_dst = ip;
      v.sock_dport = port;
      v.sock_ok = true;
      have_addr = true;
      continue;
    }
    // " -> ": memchr for its '>' (std::string_view::find of a string is a
    // byte-by-byte loop in libstdc++).
    size_t arrow = std::string_view::npos;
    for (size_t from = 0; from < s.size();) {
      const void* gt = memchr(s.data() + from, '>', s.size() - from);
      if (gt == nullptr) break;
      size_t g = static_cast<size_t>(static_cast<const char*>(gt) - s.data());
      if (g >= 2 && g + 1 < s.size() && s[g - 2] == ' ' && s[g - 1] == '-' && s[g + 1] == ' ') {
        arrow = g - 2;
        break;
      }
      from = g + 1;
    }
    IpNet src, dst;
    int64_t sport = 0, dport = 0;
    if (arrow == std::string_view::npos || arrow < sp ||
        !parseHostPort(s.substr(sp + 1, arrow - sp - 1), &src, &sport) ||
        !parseHostPort(s.substr(arrow + 4), &dst, &dport)) {
      v.extract_errors++;
      continue;
    }
    if (!v.sock_proto.empty()) continue;  // the first socket counts
    v.sock_proto = kind;
    if (a.value_case() == api::Arg::kSkbArg) {  // text is local: keep a literal
      v.sock_proto = kind == "tcp" ? std::string_view("tcp")
                     : kind == "udp" ? std::string_view("udp")
                                     : std::string_view("ip");
    }
    if (!unspecified(src, sport)) {
      v.sock_src = src;
      v.sock_sport = sport;
      v.sock_src_ok = true;
    }
    if (!have_addr && !unspecified(dst, dport)) {
      v.sock_dst = dst;
      v.sock_dport = dport;
      v.sock_ok = true;
    }
  }
}

const api::Arg* policyArg(const EventView& v, const FieldRef& f) {
  if (v.args == nullptr) return nullptr;
  if (f.index >= 0) {
    return f.index < v.args->size() ? &v.args->Get(f.index) : nullptr;
  }
  for (const auto& a : *v.args) {
    if (a.label() == f.arg) return &a;
  }
  return nullptr;
}

void argText(const api::Arg& a, std::string& out) { out = api::argText(a); }

// Falco's proc.tty is the terminal's device number (0: none). Vigil records the
// name; pts/N, ttyN, ttySN and console map to their Linux device numbers.
bool ttyNumber(std::string_view name, int64_t* out) {
  if (name.empty()) {
    *out = 0;
    return true;
  }
  if (name.substr(0, 5) == "/dev/") name.remove_prefix(5);
  auto encode = [](uint32_t major, uint32_t minor) -> int64_t {
    return (minor & 0xff) | (major << 8) | (static_cast<int64_t>(minor & ~0xffu) << 12);
  };
  uint32_t n = 0;
  if (name.substr(0, 4) == "pts/" &&
      absl::SimpleAtoi(absl::string_view(name.data() + 4, name.size() - 4), &n)) {
    *out = encode(136, n);
    return true;
  }
  if (name.substr(0, 4) == "ttyS" &&
      absl::SimpleAtoi(absl::string_view(name.data() + 4, name.size() - 4), &n)) {
    *out = encode(4, 64 + n);
    return true;
  }
  if (name.substr(0, 3) == "tty" &&
      absl::SimpleAtoi(absl::string_view(name.data() + 3, name.size() - 3), &n)) {
    *out = encode(4, n);
    return true;
  }
  if (name == "console") {
    *out = encode(5, 1);
    return true;
  }
  return false;
}

// ---- extractors --------------------------------------------------------------
// Each fills out (already cleared, type set) or leaves it empty (<NA>).

#define EX(fn) void fn(const FieldRef& f, EventView& v, FieldValues& o)

EX(exEvtType) {
  (void)f;
  if (!v.evt_type.empty()) o.s.push_back(v.evt_type);
}
EX(exEvtDir) {
  (void)f;
  (void)v;
  o.s.push_back("<");  // every Vigil event describes a completed (or decided) operation
}
EX(exEvtNum) {
  (void)f;
  o.n.push_back(static_cast<int64_t>(v.num));
}
EX(exEvtTime) {
  (void)f;
  // "2026-11-23T18:40:12.123456789Z" -> "18:40:12.123456789", Falco's evt.time.
  const std::string& t = v.ev->time();
  auto T = t.find('T');
  if (T == std::string::npos) return;
  std::string_view s = sv(t).substr(T + 1);
  if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
  o.s.push_back(s);
}
EX(exEvtTimeIso) {
  (void)f;
  if (!v.ev->time().empty()) o.s.push_back(sv(v.ev->time()));
}
EX(exEvtRawtime) {
  (void)f;
  ensureTime(v);
  if (v.time_ok) o.n.push_back(v.time_ns);
}
EX(exEvtHostname) {
  (void)f;
  if (!v.ev->node_name().empty()) o.s.push_back(sv(v.ev->node_name()));
}
EX(exEvtSource) {
  (void)f;
  (void)v;
  o.s.push_back("syscall");
}
// The result of a policy event as a syscall's: a return probe's integer
// return value, else -return_errno (0 when the operation was allowed).
int64_t policyRawres(const EventView& v) {
  const api::Arg* ret = v.kprobe && v.kprobe->has_return_()   ? &v.kprobe->return_()
                        : v.uprobe && v.uprobe->has_return_() ? &v.uprobe->return_()
                                                              : nullptr;
  if (ret != nullptr) {
    const api::Arg& r = *ret;
    if (r.value_case() == api::Arg::kIntArg) return r.int_arg();
    if (r.value_case() == api::Arg::kUintArg) return static_cast<int64_t>(r.uint_arg());
  }
  if (v.uprobe) return 0;  // a uprobe denies nothing
  int32_t e = v.lsm ? v.lsm->return_errno()
              : v.kprobe ? v.kprobe->return_errno()
                         : v.tracepoint->return_errno();
  return e < 0 ? e : -static_cast<int64_t>(e);
}
EX(exEvtRes) {
  (void)f;
  if (v.kind == Kind::kExec) {
    o.s.push_back("SUCCESS");
  } else if (v.policy) {
    int64_t r = policyRawres(v);
    if (r >= 0) {
      o.s.push_back("SUCCESS");
    } else {
      const char* name = r >= -4095 ? strerrorname_np(static_cast<int>(-r)) : nullptr;
      o.buf = name ? name : absl::StrCat("E", -r);
      o.s.push_back(o.buf);
    }
  }
}
EX(exEvtRawres) {
  (void)f;
  if (v.kind == Kind::kExec) o.n.push_back(0);
  if (v.policy) o.n.push_back(policyRawres(v));
}
EX(exEvtFailed) {
  (void)f;
  if (v.kind == Kind::kExec) o.n.push_back(0);
  if (v.policy) o.n.push_back(policyRawres(v) < 0);
}
EX(exEvtArg) {
  const api::Arg* a = policyArg(v, f);
  if (a == nullptr || a->value_case() == api::Arg::VALUE_NOT_SET) return;
  argText(*a, o.buf);
  o.s.push_back(o.buf);
}
EX(exEvtArgs) {
  (void)f;
  if (v.args == nullptr || v.args->empty()) return;
  std::string one;
  o.buf.clear();
  for (const auto& a : *v.args) {
    argText(a, one);
    if (!o.buf.empty()) o.buf += ' ';
    absl::StrAppend(&o.buf, a.label().empty() ? "arg" : a.label(), "=", one);
  }
  o.s.push_back(o.buf);
}

// Process fields at lineage depth D (0 self, 1 parent).
template <int D>
EX(exName) {
  (void)f;
  if (auto* p = lineage(v, D)) {
    auto n = procName(*p);
    if (!n.empty()) o.s.push_back(n);
  }
}
template <int D>
EX(exExe) {
  (void)f;
  if (auto* p = lineage(v, D); p && !p->binary().empty()) o.s.push_back(sv(p->binary()));
}
template <int D>
EX(exCmdline) {
  (void)f;
  if (auto* p = lineage(v, D)) {
    cmdline(*p, o.buf);
    o.s.push_back(o.buf);
  }
}
template <int D>
EX(exPid) {
  (void)f;
  if (auto* p = lineage(v, D)) o.n.push_back(p->pid());
}
EX(exArgs) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.s.push_back(sv(p->arguments()));
}
EX(exPpid) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.n.push_back(p->ppid());
}
EX(exTid) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.n.push_back(p->tid() ? p->tid() : p->pid());
}
EX(exCwd) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->cwd().empty()) o.s.push_back(sv(p->cwd()));
}
EX(exTty) {
  (void)f;
  auto* p = lineage(v, 0);
  if (!p) return;
  int64_t n = 0;
  if (ttyNumber(sv(p->tty()), &n)) o.n.push_back(n);
}
EX(exTtyName) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->tty().empty()) o.s.push_back(sv(p->tty()));
}
EX(exDuration) {
  (void)f;
  auto* p = lineage(v, 0);
  if (!p || p->start_time().empty()) return;
  ensureTime(v);
  int64_t start = 0;
  if (!v.time_ok || !parseRfc3339(p->start_time(), &start)) {
    v.extract_errors++;
    return;
  }
  o.n.push_back(v.time_ns - start);
}
EX(exExecId) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->exec_id().empty()) o.s.push_back(sv(p->exec_id()));
}
EX(exCgroup) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->cgroup_path().empty()) o.s.push_back(sv(p->cgroup_path()));
}

// proc.aname[N] / proc.aname: N >= 1 (1 is the parent); without N, every ancestor.
template <int Which>  // 0 name, 1 exe(path), 2 pid, 3 cmdline
EX(exAncestor) {
  auto put = [&](const api::Process& p, bool single) {
    switch (Which) {
      case 0: {
        auto n = procName(p);
        if (!n.empty()) o.s.push_back(n);
        break;
      }
      case 1:
        if (!p.binary().empty()) o.s.push_back(sv(p.binary()));
        break;
      case 2: o.n.push_back(p.pid()); break;
      case 3:
        if (single) {
          cmdline(p, o.buf);
          o.s.push_back(o.buf);
        }
        break;
    }
  };
  if (f.index >= 0) {
    if (auto* p = lineage(v, f.index)) put(*p, true);
    return;
  }
  for (int i = 1; i < lineageDepth(v); i++) {
    if (auto* p = lineage(v, i)) put(*p, false);
  }
}

EX(exUid) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.n.push_back(p->uid());
}
EX(exEuid) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.n.push_back(p->euid());
}
EX(exUserName) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->user_name().empty()) o.s.push_back(sv(p->user_name()));
}
EX(exLoginName) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->login_name().empty()) o.s.push_back(sv(p->login_name()));
}
EX(exGroupName) {
  (void)f;
  if (auto* p = lineage(v, 0); p && !p->group_name().empty()) o.s.push_back(sv(p->group_name()));
}
EX(exLoginUid) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.n.push_back(p->auid() == 4294967295u ? int64_t{-1} : int64_t{p->auid()});
}
EX(exGid) {
  (void)f;
  if (auto* p = lineage(v, 0)) o.n.push_back(p->gid());
}
// Capabilities by name, space separated. Read through reflection so that the
// schema may hold them as strings or as the Capability enum.
template <int Which>  // 0 effective, 1 permitted, 2 inheritable
EX(exCaps) {
  (void)f;
  auto* p = lineage(v, 0);
  if (!p || !p->has_cap()) return;
  const google::protobuf::Message& caps = p->cap();
  const auto* fd = caps.GetDescriptor()->FindFieldByName(
      Which == 0 ? "effective" : Which == 1 ? "permitted" : "inheritable");
  if (fd == nullptr || !fd->is_repeated()) return;
  const auto* refl = caps.GetReflection();
  o.buf.clear();
  int n = refl->FieldSize(caps, fd);
  for (int i = 0; i < n; i++) {
    if (!o.buf.empty()) o.buf += ' ';
    if (fd->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM) {
      o.buf += refl->GetRepeatedEnum(caps, fd, i)->name();
    } else if (fd->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      o.buf += refl->GetRepeatedString(caps, fd, i);
    }
  }
  o.s.push_back(o.buf);
}

// fd.*: the file of an LSM event (resolved path), or its socket (sock_arg).
bool hasPath(const EventView& v) { return !v.path.empty(); }
EX(exFdName) {
  (void)f;
  if (hasPath(v)) {
    o.s.push_back(v.path);
    return;
  }
  ensureSock(v);
  if (v.sock_ok && v.sock_src_ok) {
    o.buf = absl::StrCat(v.sock_src.str(), ":", v.sock_sport, "->", v.sock_dst.str(), ":",
                         v.sock_dport);
    o.s.push_back(o.buf);
  } else if (v.sock_ok) {  // source not known yet (connect is decided before the bind)
    o.buf = absl::StrCat(v.sock_dst.str(), ":", v.sock_dport);
    o.s.push_back(o.buf);
  }
}
EX(exFdDirectory) {
  (void)f;
  if (hasPath(v)) o.s.push_back(dirName(v.path));
}
EX(exFdFilename) {
  (void)f;
  if (hasPath(v)) o.s.push_back(baseName(v.path));
}
EX(exFdType) {
  (void)f;
  if (hasPath(v)) {
    o.s.push_back("file");
    return;
  }
  ensureSock(v);
  if (v.sock_ok) o.s.push_back(v.sock_dst.family == 6 ? "ipv6" : "ipv4");
}
// Open flags of a file_open policy event (f_flags: O_ACCMODE in the low bits,
// __FMODE_EXEC 040 for an exec's open).
// Falco compares these with true/false: rendered as those strings.
template <int kWhich>
EX(exOpenFlag) {
  (void)f;
  if (!v.lsm || v.lsm->hook() != "file_open") return;
  uint32_t fl = v.lsm->file_flags(), acc = fl & 3;
  bool r = kWhich == 0 ? (acc == 0 || acc == 2) : kWhich == 1 ? (acc == 1 || acc == 2) : (fl & 040) != 0;
  o.s.push_back(r ? "true" : "false");
}
// The descriptor does not exist yet at the LSM check: -1 when the open was
// refused (denied or killed), 0 when it went ahead, so `fd.num >= 0` means
// "the open succeeded" as in Falco.
EX(exFdNum) {
  (void)f;
  if (!v.lsm || v.lsm->hook() != "file_open") return;
  bool refused = v.lsm->outcome() == api::OUTCOME_DENIED || v.lsm->outcome() == api::OUTCOME_KILLED;
  o.n.push_back(refused ? -1 : 0);
}
EX(exFdTypechar) {
  (void)f;
  if (hasPath(v)) {
    o.s.push_back("f");
    return;
  }
  ensureSock(v);
  if (v.sock_ok) o.s.push_back(v.sock_dst.family == 6 ? "6" : "4");
}
template <int Which>  // 0 client/src/local ip, 1 server/dst/remote ip, 2 either
EX(exFdIp) {
  (void)f;
  ensureSock(v);
  if ((Which == 0 || Which == 2) && v.sock_src_ok) o.ip.push_back(v.sock_src);
  if ((Which == 1 || Which == 2) && v.sock_ok) o.ip.push_back(v.sock_dst);
}
template <int Which>
EX(exFdPort) {
  (void)f;
  ensureSock(v);
  if ((Which == 0 || Which == 2) && v.sock_src_ok) o.n.push_back(v.sock_sport);
  if ((Which == 1 || Which == 2) && v.sock_ok) o.n.push_back(v.sock_dport);
}
EX(exFdProto) {
  (void)f;
  ensureSock(v);
  if (!v.sock_proto.empty()) o.s.push_back(v.sock_proto);
}

// container.*: "host" for processes outside containers, as Falco does.
const api::Container* containerOf(const EventView& v) {
  auto* p = lineage(v, 0);
  if (!p || !p->has_container() || p->container().id().empty()) return nullptr;
  return &p->container();
}
EX(exContainerId) {
  (void)f;
  if (!lineage(v, 0)) return;
  auto* c = containerOf(v);
  o.s.push_back(c ? sv(c->id()).substr(0, 12) : std::string_view("host"));
}
// No runtime inspection: a process in a container holding CAP_SYS_ADMIN in its
// effective set is treated as privileged (Docker's --privileged grants it,
// the default set does not).
EX(exContainerPrivileged) {
  (void)f;
  auto* p = lineage(v, 0);
  if (!p || !containerOf(v)) return;
  bool admin = false;
  for (int c : p->cap().effective()) admin |= c == api::CAP_SYS_ADMIN;
  o.s.push_back(admin ? "true" : "false");
}
EX(exContainerFullId) {
  (void)f;
  if (!lineage(v, 0)) return;
  auto* c = containerOf(v);
  o.s.push_back(c ? sv(c->id()) : std::string_view("host"));
}
EX(exContainerName) {
  (void)f;
  if (!lineage(v, 0)) return;
  auto* c = containerOf(v);
  o.s.push_back(c ? sv(c->name()) : std::string_view("host"));
}
EX(exContainerRuntime) {
  (void)f;
  if (auto* c = containerOf(v)) o.s.push_back(sv(c->runtime()));
}
// Splits "registry:5000/repo/name:tag@sha256:..." into repository and tag.
void splitImage(std::string_view img, std::string_view* repo, std::string_view* tag) {
  auto at = img.find('@');
  if (at != std::string_view::npos) img = img.substr(0, at);
  auto slash = img.rfind('/');
  auto colon = img.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    *repo = img.substr(0, colon);
    *tag = img.substr(colon + 1);
  } else {
    *repo = img;
    *tag = {};
  }
}
template <int Which>  // 0 image, 1 repository, 2 tag
EX(exContainerImage) {
  (void)f;
  if (!lineage(v, 0)) return;
  auto* c = containerOf(v);
  if (!c) {
    o.s.push_back("");
    return;
  }
  std::string_view repo, tag;
  splitImage(sv(c->image()), &repo, &tag);
  o.s.push_back(Which == 0 ? sv(c->image()) : Which == 1 ? repo : tag);
}

// Vigil's own fields: the kernel policy decision behind an LSM or kprobe
// event. withPolicy calls fn with whichever of the two the event is.
template <typename Fn>
void withPolicy(const EventView& v, Fn&& fn) {
  if (v.lsm) fn(*v.lsm);
  else if (v.kprobe) fn(*v.kprobe);
  else if (v.tracepoint) fn(*v.tracepoint);
  else if (v.uprobe) fn(*v.uprobe);
}
EX(exPolicyName) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    if (!m.policy_name().empty()) o.s.push_back(sv(m.policy_name()));
  });
}
EX(exPolicyAction) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    switch (m.action()) {
      case api::ACTION_POST: o.s.push_back("Post"); break;
      case api::ACTION_OVERRIDE: o.s.push_back("Override"); break;
      case api::ACTION_SIGKILL: o.s.push_back("Sigkill"); break;
      case api::ACTION_SIGNAL: o.s.push_back("Signal"); break;
      case api::ACTION_NOTIFY_ENFORCER: o.s.push_back("NotifyEnforcer"); break;
      default: break;
    }
  });
}
EX(exPolicyMode) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    if (m.mode() == api::POLICY_MODE_ENFORCE) o.s.push_back("enforce");
    if (m.mode() == api::POLICY_MODE_MONITOR) o.s.push_back("monitor");
  });
}
EX(exPolicyOutcome) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    switch (m.outcome()) {
      case api::OUTCOME_POSTED: o.s.push_back("posted"); break;
      case api::OUTCOME_DENIED: o.s.push_back("denied"); break;
      case api::OUTCOME_KILLED: o.s.push_back("killed"); break;
      case api::OUTCOME_SIGNALED: o.s.push_back("signaled"); break;
      case api::OUTCOME_WOULD_DENY: o.s.push_back("would_deny"); break;
      case api::OUTCOME_WOULD_KILL: o.s.push_back("would_kill"); break;
      case api::OUTCOME_WOULD_SIGNAL: o.s.push_back("would_signal"); break;
      default: break;
    }
  });
}
EX(exPolicySelector) {
  (void)f;
  withPolicy(v, [&](const auto& m) { o.n.push_back(m.selector()); });
}
EX(exPolicySignal) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    if (m.signal() != 0) o.n.push_back(m.signal());
  });
}
EX(exPolicyMessage) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    if (!m.message().empty()) o.s.push_back(sv(m.message()));
  });
}
EX(exPolicyTags) {
  (void)f;
  withPolicy(v, [&](const auto& m) {
    for (const auto& t : m.tags()) o.s.push_back(sv(t));
  });
}
EX(exHook) {
  (void)f;
  if (!v.hook.empty()) o.s.push_back(v.hook);
}

#undef EX

using FT = FieldType;
using AK = ArgKind;

constexpr FieldDef kFieldDefs[] = {
    {"evt.type", FT::kString, AK::kNone, exEvtType,
     "execve (process_exec), procexit (process_exit); process_lsm: the system call of the hook "
     "(file_open: openat, socket_connect: connect, path_mkdir: mkdir, ...: the table in rules.md), else the hook name; "
     "process_kprobe: function_name, a system call's without sys_ (sys_linkat: linkat); "
     "process_uprobe: the symbol (readline)"},
    {"evt.dir", FT::kString, AK::kNone, exEvtDir, "always `<`: events describe completed or decided operations"},
    {"evt.num", FT::kNumber, AK::kNone, exEvtNum, "1-based count of events this engine has evaluated"},
    {"evt.time", FT::kString, AK::kNone, exEvtTime, "Event.time as HH:MM:SS.nnnnnnnnn"},
    {"evt.time.iso8601", FT::kString, AK::kNone, exEvtTimeIso, "Event.time (RFC 3339)"},
    {"evt.datetime", FT::kString, AK::kNone, exEvtTimeIso, "Event.time (RFC 3339)"},
    {"evt.rawtime", FT::kNumber, AK::kNone, exEvtRawtime, "Event.time in ns since the epoch"},
    {"evt.hostname", FT::kString, AK::kNone, exEvtHostname, "Event.node_name"},
    {"evt.source", FT::kString, AK::kNone, exEvtSource, "always `syscall`"},
    {"evt.res", FT::kString, AK::kNone, exEvtRes,
     "process_exec: SUCCESS; process_lsm/process_kprobe: SUCCESS, or the errno name of evt.rawres < 0 (EPERM)"},
    {"evt.rawres", FT::kNumber, AK::kNone, exEvtRawres,
     "process_exec: 0; process_lsm: -return_errno; process_kprobe: the return probe's integer `return`, "
     "else -return_errno"},
    {"evt.failed", FT::kNumber, AK::kNone, exEvtFailed, "process_lsm/process_kprobe: evt.rawres < 0"},
    {"evt.arg", FT::kString, AK::kName, exEvtArg,
     "process_lsm/process_kprobe args: evt.arg.LABEL (or evt.arg[LABEL]) is the arg with that label, "
     "evt.arg[N] the N-th"},
    {"evt.args", FT::kString, AK::kNone, exEvtArgs, "process_lsm/process_kprobe args as `label=value ...`"},
    {"proc.name", FT::kString, AK::kNone, exName<0>, "process.comm (else basename of process.binary)"},
    {"proc.exe", FT::kString, AK::kNone, exExe<0>,
     "process.binary (Falco: argv[0]; Vigil records the resolved path, not argv[0])"},
    {"proc.exepath", FT::kString, AK::kNone, exExe<0>, "process.binary"},
    {"proc.args", FT::kString, AK::kNone, exArgs, "process.arguments"},
    {"proc.cmdline", FT::kString, AK::kNone, exCmdline<0>, "proc.name + ' ' + process.arguments"},
    {"proc.pid", FT::kNumber, AK::kNone, exPid<0>, "process.pid"},
    {"proc.tid", FT::kNumber, AK::kNone, exTid, "process.tid"},
    {"thread.tid", FT::kNumber, AK::kNone, exTid, "process.tid"},
    {"proc.ppid", FT::kNumber, AK::kNone, exPpid, "process.ppid"},
    {"proc.pname", FT::kString, AK::kNone, exName<1>, "parent.comm"},
    {"proc.pexe", FT::kString, AK::kNone, exExe<1>, "parent.binary"},
    {"proc.pexepath", FT::kString, AK::kNone, exExe<1>, "parent.binary"},
    {"proc.pcmdline", FT::kString, AK::kNone, exCmdline<1>, "parent's proc.cmdline"},
    {"proc.aname", FT::kString, AK::kIndexOptional, exAncestor<0>,
     "[1] parent.comm, [N>=2] ancestors[N-2].comm (process_exec only); no index: any ancestor"},
    {"proc.aexe", FT::kString, AK::kIndexOptional, exAncestor<1>, "as proc.aname, binary"},
    {"proc.aexepath", FT::kString, AK::kIndexOptional, exAncestor<1>, "as proc.aname, binary"},
    {"proc.apid", FT::kNumber, AK::kIndexOptional, exAncestor<2>, "as proc.aname, pid"},
    {"proc.acmdline", FT::kString, AK::kIndex, exAncestor<3>, "as proc.aname, cmdline"},
    {"proc.cwd", FT::kString, AK::kNone, exCwd, "process.cwd"},
    {"proc.tty", FT::kNumber, AK::kNone, exTty,
     "device number of process.tty (pts/N, ttyN, ttySN, console); 0 without a terminal"},
    {"proc.ttyname", FT::kString, AK::kNone, exTtyName, "process.tty (Vigil extension)"},
    {"proc.duration", FT::kNumber, AK::kNone, exDuration, "Event.time - process.start_time, ns"},
    {"proc.exec_id", FT::kString, AK::kNone, exExecId, "process.exec_id (Vigil extension)"},
    {"proc.cgroup", FT::kString, AK::kNone, exCgroup, "process.cgroup_path (Vigil extension)"},
    {"user.uid", FT::kNumber, AK::kNone, exUid, "process.uid"},
    {"user.euid", FT::kNumber, AK::kNone, exEuid, "process.euid (Vigil extension)"},
    {"user.name", FT::kString, AK::kNone, exUserName, "process.user_name"},
    {"user.loginuid", FT::kNumber, AK::kNone, exLoginUid, "process.auid (-1 when unset)"},
    {"user.loginname", FT::kString, AK::kNone, exLoginName, "process.login_name (name of auid)"},
    {"group.name", FT::kString, AK::kNone, exGroupName, "process.group_name"},
    {"group.gid", FT::kNumber, AK::kNone, exGid, "process.gid"},
    {"thread.cap_effective", FT::kString, AK::kNone, exCaps<0>, "process.cap.effective, space separated"},
    {"thread.cap_permitted", FT::kString, AK::kNone, exCaps<1>, "process.cap.permitted"},
    {"thread.cap_inheritable", FT::kString, AK::kNone, exCaps<2>, "process.cap.inheritable"},
    {"fd.name", FT::kString, AK::kNone, exFdName,
     "process_lsm.path (process_kprobe: the first file_arg); for a socket `cip:cport->sip:sport`, or "
     "`sip:sport` when the source is not known yet"},
    {"fd.directory", FT::kString, AK::kNone, exFdDirectory, "dirname of fd.name's path"},
    {"fd.filename", FT::kString, AK::kNone, exFdFilename, "basename of fd.name's path"},
    {"fd.type", FT::kString, AK::kNone, exFdType, "`file` with a path; `ipv4`/`ipv6` with a socket address"},
    {"fd.typechar", FT::kString, AK::kNone, exFdTypechar, "`f` with a path; `4`/`6` with a socket address"},
    {"evt.is_open_read", FT::kString, AK::kNone, exOpenFlag<0>, "file_open: file_flags open for reading"},
    {"evt.is_open_write", FT::kString, AK::kNone, exOpenFlag<1>, "file_open: file_flags open for writing"},
    {"evt.is_open_exec", FT::kString, AK::kNone, exOpenFlag<2>, "file_open: the open of an exec (__FMODE_EXEC)"},
    {"fd.num", FT::kNumber, AK::kNone, exFdNum,
     "file_open: -1 when the open was denied or killed, else 0 (no descriptor exists yet at the LSM check)"},
    {"fd.cip", FT::kIp, AK::kNone, exFdIp<0>, "the socket's source address (unknown while 0.0.0.0:0)"},
    {"fd.sip", FT::kIp, AK::kNone, exFdIp<1>, "the sockaddr argument (connect/bind), else the socket's destination"},
    {"fd.lip", FT::kIp, AK::kNone, exFdIp<0>, "the socket's source address (unknown while 0.0.0.0:0)"},
    {"fd.rip", FT::kIp, AK::kNone, exFdIp<1>, "the sockaddr argument (connect/bind), else the socket's destination"},
    {"fd.ip", FT::kIp, AK::kNone, exFdIp<2>, "either sock_arg address"},
    {"fd.cnet", FT::kIp, AK::kNone, exFdIp<0>, "as fd.cip (compare with a CIDR)"},
    {"fd.snet", FT::kIp, AK::kNone, exFdIp<1>, "as fd.sip (compare with a CIDR)"},
    {"fd.lnet", FT::kIp, AK::kNone, exFdIp<0>, "as fd.cip (compare with a CIDR)"},
    {"fd.rnet", FT::kIp, AK::kNone, exFdIp<1>, "as fd.sip (compare with a CIDR)"},
    {"fd.net", FT::kIp, AK::kNone, exFdIp<2>, "either sock_arg address (compare with a CIDR)"},
    {"fd.cport", FT::kNumber, AK::kNone, exFdPort<0>, "the socket's source port"},
    {"fd.sport", FT::kNumber, AK::kNone, exFdPort<1>, "port of the sockaddr argument, else of the socket's destination"},
    {"fd.lport", FT::kNumber, AK::kNone, exFdPort<0>, "the socket's source port"},
    {"fd.rport", FT::kNumber, AK::kNone, exFdPort<1>, "port of the sockaddr argument, else of the socket's destination"},
    {"fd.port", FT::kNumber, AK::kNone, exFdPort<2>, "either sock_arg port"},
    {"fd.l4proto", FT::kString, AK::kNone, exFdProto, "the socket argument's protocol (tcp, udp)"},
    {"container.privileged", FT::kString, AK::kNone, exContainerPrivileged,
     "true when the containerized process holds CAP_SYS_ADMIN (effective); no runtime inspection"},
    {"container.id", FT::kString, AK::kNone, exContainerId,
     "process.container.id, first 12 characters; `host` outside containers"},
    {"container.full_id", FT::kString, AK::kNone, exContainerFullId, "process.container.id; `host` outside containers"},
    {"container.name", FT::kString, AK::kNone, exContainerName, "process.container.name; `host` outside containers"},
    {"container.image", FT::kString, AK::kNone, exContainerImage<0>, "process.container.image"},
    {"container.image.repository", FT::kString, AK::kNone, exContainerImage<1>,
     "process.container.image without tag and digest"},
    {"container.image.tag", FT::kString, AK::kNone, exContainerImage<2>, "tag of process.container.image"},
    {"container.type", FT::kString, AK::kNone, exContainerRuntime, "process.container.runtime"},
    {"policy.name", FT::kString, AK::kNone, exPolicyName, "process_lsm/process_kprobe.policy_name (Vigil)"},
    {"policy.action", FT::kString, AK::kNone, exPolicyAction,
     "process_lsm/process_kprobe.action: Post, Override, Sigkill, Signal (Vigil)"},
    {"policy.mode", FT::kString, AK::kNone, exPolicyMode, "process_lsm/process_kprobe.mode: enforce, monitor (Vigil)"},
    {"policy.outcome", FT::kString, AK::kNone, exPolicyOutcome,
     "process_lsm/process_kprobe.outcome: posted, denied, killed, signaled, would_deny, would_kill, "
     "would_signal (Vigil)"},
    {"policy.selector", FT::kNumber, AK::kNone, exPolicySelector, "process_lsm/process_kprobe.selector (Vigil)"},
    {"policy.signal", FT::kNumber, AK::kNone, exPolicySignal,
     "process_lsm/process_kprobe.signal: the Signal action's signal number (Vigil)"},
    {"policy.message", FT::kString, AK::kNone, exPolicyMessage, "process_lsm/process_kprobe.message (Vigil)"},
    {"policy.tags", FT::kString, AK::kNone, exPolicyTags, "process_lsm/process_kprobe.tags, one value each (Vigil)"},
    {"hook", FT::kString, AK::kNone, exHook, "process_lsm.hook, process_kprobe.function_name (Vigil)"},
    {"policy.hook", FT::kString, AK::kNone, exHook, "process_lsm.hook, process_kprobe.function_name (Vigil)"},
};

// Falco fields Vigil's schema cannot provide, and what is missing.
struct Unavailable {
  const char* prefix;  // exact name, or "k8s." for a whole class
  const char* why;
};
constexpr Unavailable kUnavailable[] = {
    {"evt.is_open_create", "the kernel clears O_CREAT from f_flags before the file_open check"},
    {"fd.nameraw", "only the kernel-resolved path is recorded, not the path as the caller passed it"},
    {"fd.connected", "no socket state in the schema"},
    {"fd.name_changed", "no socket state in the schema"},
    {"fd.types", "no file descriptor table in the schema"},
    {"fd.sip.name", "no DNS names for addresses in the schema"},
    {"fd.cip.name", "no DNS names for addresses in the schema"},
    {"fd.rip.name", "no DNS names for addresses in the schema"},
    {"fd.lip.name", "no DNS names for addresses in the schema"},
    {"fd.ino", "no inode numbers in the schema"},
    {"fd.dev", "no device numbers in the schema"},
    {"proc.sname", "no session leader in the schema"},
    {"proc.sid", "no session id in the schema (Process.session_id is the audit session)"},
    {"proc.vpgid", "no process group in the schema"},
    {"proc.is_vpgid_leader", "no process group in the schema"},
    {"proc.is_exe_upper_layer", "no overlayfs layer of the executable in the schema"},
    {"proc.is_exe_from_memfd", "no memfd flag of the executable in the schema"},
    {"proc.is_exe_writable", "no executable file attributes in the schema"},
    {"proc.exe_ino", "no executable inode data in the schema"},
    {"proc.ppid.duration", "not mapped (parent start_time exists; field not implemented)"},
    {"proc.vpid", "no pid-namespace pids in the schema"},
    {"proc.env", "no environment in the schema"},
    {"proc.loginshellid", "no login shell in the schema"},
    {"user.homedir", "no home directory in the schema"},
    {"user.shell", "no login shell in the schema"},
    {"container.start_ts", "no container start time in Container"},
    {"container.mounts", "no container mounts in Container"},
    {"container.mount", "no container mounts in Container"},
    {"container.ip", "no container address in Container"},
    {"k8s.", "no Kubernetes metadata in the schema"},
    {"evt.buffer", "no syscall buffers in the schema"},
    {"evt.rawarg", "no raw syscall arguments in the schema"},
    {"syscall.type", "no raw syscall events"},
    {"fs.path", "no filesystem path events"},
};

const FieldDef* findDef(std::string_view name) {
  for (const auto& d : kFieldDefs) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

absl::Status unavailable(const std::string& name) {
  for (const auto& u : kUnavailable) {
    std::string_view p = u.prefix;
    bool hit = p.back() == '.' ? std::string_view(name).substr(0, p.size()) == p
                               : (name == p || (name.size() > p.size() &&
                                                std::string_view(name).substr(0, p.size()) == p &&
                                                name[p.size()] == '.'));
    if (hit) {
      return absl::NotFoundError(
          absl::StrCat("field '", name, "' is not provided by Vigil: ", u.why));
    }
  }
  return absl::NotFoundError(absl::StrCat("unknown field '", name, "'"));
}

}  // namespace

const char* fieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kString: return "string";
    case FieldType::kNumber: return "number";
    case FieldType::kIp: return "ip";
  }
  return "?";
}

bool IpNet::contains(const IpNet& ip) const {
  if (family != ip.family || family == 0) return false;
  int full = prefix / 8, rest = prefix % 8;
  if (memcmp(addr.data(), ip.addr.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (ip.addr[full] & mask);
}

std::string IpNet::str() const {
  if (family == 4 && prefix == 32) {
    char buf[16];
    size_t n = 0;
    for (size_t i = 0; i < 4; i++) {
      if (i > 0) buf[n++] = '.';
      unsigned x = addr[i];
      if (x >= 100) buf[n++] = static_cast<char>('0' + x / 100);
      if (x >= 10) buf[n++] = static_cast<char>('0' + x / 10 % 10);
      buf[n++] = static_cast<char>('0' + x % 10);
    }
    return std::string(buf, n);
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof(buf));
  std::string s = buf;
  if (prefix != (family == 6 ? 128 : 32)) absl::StrAppend(&s, "/", prefix);
  return s;
}

bool parseIpNet(std::string_view text, IpNet* out) {
  std::string host(text);
  int prefix = -1;
  auto slash = host.find('/');
  if (slash != std::string::npos) {
    if (!absl::SimpleAtoi(host.substr(slash + 1), &prefix)) return false;
    host.resize(slash);
  }
  IpNet n;
  if (inet_pton(AF_INET, host.c_str(), n.addr.data()) == 1) {
    n.family = 4;
  } else if (inet_pton(AF_INET6, host.c_str(), n.addr.data()) == 1) {
    n.family = 6;
  } else {
    return false;
  }
  int width = n.family == 4 ? 32 : 128;
  if (prefix < 0) prefix = width;
  if (prefix > width) return false;
  n.prefix = prefix;
  *out = n;
  return true;
}

std::string FieldValues::render(size_t i) const {
  switch (type) {
    case FieldType::kString: return std::string(s[i]);
    case FieldType::kNumber: return std::to_string(n[i]);
    case FieldType::kIp: return ip[i].str();
  }
  return {};
}

namespace {
// Generic LSM hooks and the Falco system call each stands for. The hook cannot
// tell mkdir from mkdirat: the older name is given, and Falco's own rules list
// both (`evt.type in (mkdir, mkdirat)`).
struct HookType {
  std::string_view hook, type;
};
constexpr HookType kLsmHookTypes[] = {
    {"file_open", "openat"},        {"socket_connect", "connect"}, {"path_unlink", "unlink"},
    {"path_rmdir", "rmdir"},        {"path_mkdir", "mkdir"},       {"path_rename", "rename"},
    {"path_link", "link"},          {"path_symlink", "symlink"},   {"path_chmod", "chmod"},
    {"path_chown", "chown"},        {"path_truncate", "truncate"}, {"socket_create", "socket"},
    {"socket_bind", "bind"},        {"socket_listen", "listen"},   {"task_kill", "kill"},
    {"ptrace_access_check", "ptrace"}, {"sb_mount", "mount"},      {"file_mprotect", "mprotect"},
    {"mmap_file", "mmap"},          {"bpf", "bpf"},
};
constexpr std::string_view kSyscallPrefixes[] = {"sys_", "__x64_sys_", "__arm64_sys_", "__ia32_sys_"};
}  // namespace

std::string_view lsmHookEventType(std::string_view hook) {
  for (const auto& h : kLsmHookTypes) {
    if (h.hook == hook) return h.type;
  }
  return hook;
}

std::string_view kprobeEventType(std::string_view function) {
  for (std::string_view p : kSyscallPrefixes) {
    if (function.size() > p.size() && function.substr(0, p.size()) == p) return function.substr(p.size());
  }
  return function;
}

std::string_view eventTypeOf(const api::Event& ev) {
  switch (ev.event_case()) {
    case api::Event::kProcessExec: return "execve";
    case api::Event::kProcessExit: return "procexit";
    case api::Event::kProcessLsm: return lsmHookEventType(sv(ev.process_lsm().hook()));
    case api::Event::kProcessKprobe: return kprobeEventType(sv(ev.process_kprobe().function_name()));
    // A tracepoint event's type is its event name ("sys_enter").
    case api::Event::kProcessTracepoint: return sv(ev.process_tracepoint().event());
    case api::Event::kProcessUprobe: return sv(ev.process_uprobe().symbol());
    default: return {};
  }
}

bool isEmittedEventType(std::string_view t) {
  return t == "execve" || t == "procexit" || t == "openat" || t == "connect" ||
         t == "bprm_check_security";
}

std::string eventTypeSources(const std::vector<std::string>& types) {
  std::vector<std::string> hooks, kprobes;
  for (const auto& t : types) {
    for (const auto& h : kLsmHookTypes) {
      if (h.type == t) hooks.emplace_back(h.hook);
    }
    kprobes.push_back("sys_" + t);
  }
  std::string k = absl::StrCat("kprobes ", absl::StrJoin(kprobes, ", "));
  return hooks.empty() ? k : absl::StrCat("lsmhooks ", absl::StrJoin(hooks, ", "), " or ", k);
}

void EventView::reset(const api::Event& e, uint64_t seq) {
  *this = EventView();
  ev = &e;
  num = seq;
  evt_type = eventTypeOf(e);
  switch (e.event_case()) {
    case api::Event::kProcessExec:
      kind = Kind::kExec;
      proc = &e.process_exec().process();
      parent = &e.process_exec().parent();
      ancestors = &e.process_exec().ancestors();
      return;
    case api::Event::kProcessExit:
      kind = Kind::kExit;
      proc = &e.process_exit().process();
      parent = &e.process_exit().parent();
      return;
    case api::Event::kProcessLsm:
      kind = Kind::kLsm;
      lsm = &e.process_lsm();
      break;
    case api::Event::kProcessKprobe:
      kind = Kind::kKprobe;
      kprobe = &e.process_kprobe();
      break;
    case api::Event::kProcessTracepoint:
      kind = Kind::kTracepoint;
      tracepoint = &e.process_tracepoint();
      break;
    case api::Event::kProcessUprobe:
      kind = Kind::kUprobe;
      uprobe = &e.process_uprobe();
      break;
    default: return;
  }
  // The four policy kinds: their common fields as the schema's view has them.
  if (auto p = api::policyEvent(e)) {
    policy = true;
    proc = p->process;
    parent = p->parent ? p->parent : &api::Process::default_instance();
    args = p->args;
    hook = p->hook;
    path = p->path;
  }
}

absl::StatusOr<FieldRef> resolveField(const std::string& name, bool has_arg,
                                      const std::string& arg) {
  FieldRef r;
  std::string base = name;
  std::string a = arg;
  bool with_arg = has_arg;
  // evt.arg.flags is evt.arg[flags].
  if (!has_arg && name.size() > 8 && name.compare(0, 8, "evt.arg.") == 0) {
    base = "evt.arg";
    a = name.substr(8);
    with_arg = true;
  }
  const FieldDef* d = findDef(base);
  if (d == nullptr) return unavailable(with_arg && !has_arg ? name : base);
  r.def = d;
  r.name = has_arg ? absl::StrCat(name, "[", arg, "]") : name;
  r.arg = a;
  switch (d->arg) {
    case ArgKind::kNone:
      if (with_arg) {
        return absl::InvalidArgumentError(absl::StrCat("field '", base, "' takes no argument"));
      }
      break;
    case ArgKind::kIndex:
    case ArgKind::kIndexOptional:
      if (!with_arg) {
        if (d->arg == ArgKind::kIndex) {
          return absl::InvalidArgumentError(
              absl::StrCat("field '", base, "' needs an index: ", base, "[N]"));
        }
        break;
      }
      if (!absl::SimpleAtoi(a, &r.index) || r.index < 0 || r.index > 64) {
        return absl::InvalidArgumentError(
            absl::StrCat("field '", base, "': index '", a, "' is not a number from 0 to 64"));
      }
      break;
    case ArgKind::kName:
      if (!with_arg || a.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("field '", base, "' needs an argument name: ", base, ".NAME"));
      }
      if (has_arg) {
        int idx = 0;
        if (absl::SimpleAtoi(a, &idx) && idx >= 0) r.index = idx;
      }
      break;
  }
  return r;
}

absl::StatusOr<FieldRef> resolveFieldToken(const std::string& token) {
  auto lb = token.find('[');
  if (lb != std::string::npos && token.back() == ']') {
    return resolveField(token.substr(0, lb), true, token.substr(lb + 1, token.size() - lb - 2));
  }
  return resolveField(token, false, "");
}

std::string fieldTableMarkdown() {
  std::string s = "| Falco field | type | Vigil source |\n| --- | --- | --- |\n";
  for (const auto& d : kFieldDefs) {
    std::string n = d.name;
    if (d.arg == ArgKind::kIndex) n += "[N]";
    if (d.arg == ArgKind::kIndexOptional) n += ", " + n + "[N]";
    if (d.arg == ArgKind::kName) n = "evt.arg.NAME, evt.arg[N]";
    absl::StrAppend(&s, "| `", n, "` | ", fieldTypeName(d.type), " | ", d.doc, " |\n");
  }
  s += "\nNot provided (a rule using one fails to compile, naming the field and this reason):\n\n";
  s += "| Falco field | missing from the schema |\n| --- | --- |\n";
  for (const auto& u : kUnavailable) {
    std::string n = u.prefix;
    if (n.back() == '.') n += "*";
    absl::StrAppend(&s, "| `", n, "` | ", u.why, " |\n");
  }
  return s;
}

}  // namespace vigil::rules
