#include "exporters/formats.h"

#include <string.h>

#include <functional>

#include "api/arg_text.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/event_json.h"
#include "exporters/json_doc.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0"
#endif

namespace vigil::exporters {

namespace {

constexpr const char* kEcsVersion = "8.11.0";
constexpr const char* kOcsfVersion = "1.1.0";

std::string baseName(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string processName(const api::Process& p) {
  if (!p.binary().empty()) return baseName(p.binary());
  return p.comm();
}

std::string commandLine(const api::Process& p) {
  if (p.arguments().empty()) return p.binary();
  return absl::StrCat(p.binary(), " ", p.arguments());
}

// "OUTCOME_WOULD_DENY" -> "would_deny"
std::string shortEnum(const std::string& full, std::string_view prefix) {
  std::string s = full;
  if (s.rfind(prefix, 0) == 0) s = s.substr(prefix.size());
  return absl::AsciiStrToLower(s);
}

std::string outcomeShort(api::Outcome o) { return shortEnum(api::Outcome_Name(o), "OUTCOME_"); }
std::string actionShort(api::Action a) { return shortEnum(api::Action_Name(a), "ACTION_"); }
std::string modeShort(api::PolicyMode m) { return shortEnum(api::PolicyMode_Name(m), "POLICY_MODE_"); }
std::string statusKindShort(api::Status::Kind k) {
  return shortEnum(api::Status::Kind_Name(k), "KIND_");
}

// "SIGUSR1" for 10; "signal 64" where glibc has no abbreviation.
std::string signalName(int32_t sig) {
  const char* abbrev = sig > 0 ? sigabbrev_np(sig) : nullptr;
  return abbrev ? absl::StrCat("SIG", abbrev) : absl::StrCat("signal ", sig);
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

int64_t rfc3339ToMs(const std::string& s) { return api::parseRfc3339Nanos(s) / 1'000'000; }

// Falco output field names are dotted ("proc.name"): keep them one key.
std::string flatKey(std::string k) {
  for (char& c : k)
    if (c == '.') c = '_';
  return k;
}

void argValue(JsonNode& o, const api::Arg& a) {
  o.setNonEmpty("label", a.label());
  switch (a.value_case()) {
    case api::Arg::kFileArg: o.set("file_arg", a.file_arg()); break;
    case api::Arg::kStringArg: o.set("string_arg", a.string_arg()); break;
    case api::Arg::kIntArg: o.set("int_arg", static_cast<int64_t>(a.int_arg())); break;
    case api::Arg::kUintArg: o.set("uint_arg", static_cast<uint64_t>(a.uint_arg())); break;
    case api::Arg::kSockArg: o.set("sock_arg", a.sock_arg()); break;
    case api::Arg::kSyscallId: {
      JsonNode& id = o.obj("syscall_id");
      id.set("id", static_cast<uint64_t>(a.syscall_id().id()));
      id.set("abi", a.syscall_id().abi());
      break;
    }
    case api::Arg::kBytesArg:
    case api::Arg::kTruncatedBytesArg: {
      // Tetragon's bytes_arg is base64 in JSON; so it is here.
      const std::string& b = a.value_case() == api::Arg::kBytesArg ? a.bytes_arg()
                                                                  : a.truncated_bytes_arg().bytes_arg();
      o.set("bytes_arg", absl::Base64Escape(b));
      if (a.value_case() == api::Arg::kTruncatedBytesArg) o.set("truncated", true);
      break;
    }
    case api::Arg::kSkbArg: {
      const auto& s = a.skb_arg();
      JsonNode& n = o.obj("skb_arg");
      n.set("len", static_cast<uint64_t>(s.len()));
      n.set("mark", static_cast<uint64_t>(s.mark()));
      n.setNonEmpty("family", s.family());
      n.setNonEmpty("protocol", s.protocol());
      n.setNonEmpty("saddr", s.saddr());
      n.setNonEmpty("daddr", s.daddr());
      n.set("sport", static_cast<uint64_t>(s.sport()));
      n.set("dport", static_cast<uint64_t>(s.dport()));
      break;
    }
    case api::Arg::kModuleArg:
      o.obj("module_arg").set("name", a.module_arg().name());
      o.obj("module_arg").set("signature_ok", a.module_arg().signature_ok());
      break;
    case api::Arg::kBpfAttrArg:
      o.obj("bpf_attr_arg").set("ProgType", a.bpf_attr_arg().progtype());
      o.obj("bpf_attr_arg").set("InsnCnt", static_cast<uint64_t>(a.bpf_attr_arg().insncnt()));
      o.obj("bpf_attr_arg").setNonEmpty("ProgName", a.bpf_attr_arg().progname());
      break;
    case api::Arg::kPerfEventArg:
      o.obj("perf_event_arg").set("Type", a.perf_event_arg().type());
      o.obj("perf_event_arg").setNonEmpty("KprobeFunc", a.perf_event_arg().kprobefunc());
      break;
    case api::Arg::kBpfMapArg:
      o.obj("bpf_map_arg").set("MapType", a.bpf_map_arg().maptype());
      o.obj("bpf_map_arg").setNonEmpty("MapName", a.bpf_map_arg().mapname());
      o.obj("bpf_map_arg").set("MaxEntries", static_cast<uint64_t>(a.bpf_map_arg().maxentries()));
      break;
    case api::Arg::kUserNsArg:
      o.obj("user_ns_arg").set("ns_inum", static_cast<uint64_t>(a.user_ns_arg().ns_inum()));
      o.obj("user_ns_arg").set("level", static_cast<int64_t>(a.user_ns_arg().level()));
      break;
    case api::Arg::kKernelCapTArg: o.set("kernel_cap_t_arg", a.kernel_cap_t_arg()); break;
    case api::Arg::kCapInheritableArg: o.set("cap_inheritable_arg", a.cap_inheritable_arg()); break;
    case api::Arg::kCapPermittedArg: o.set("cap_permitted_arg", a.cap_permitted_arg()); break;
    case api::Arg::kCapEffectiveArg: o.set("cap_effective_arg", a.cap_effective_arg()); break;
    default: break;
  }
}

// Capability names of one set, whether the schema stores them as names or as
// the Capability enum.
std::vector<std::string> capNames(const api::Capabilities& caps, const char* set) {
  std::vector<std::string> out;
  const auto* field = caps.GetDescriptor()->FindFieldByName(set);
  if (!field || !field->is_repeated()) return out;
  const auto* refl = caps.GetReflection();
  int n = refl->FieldSize(caps, field);
  for (int i = 0; i < n; ++i) {
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM)
      out.push_back(refl->GetRepeatedEnum(caps, field, i)->name());
    else if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING)
      out.push_back(refl->GetRepeatedString(caps, field, i));
  }
  return out;
}

// ---- ECS --------------------------------------------------------------------

void ecsProcessCore(JsonNode& p, const api::Process& pr) {
  p.setNonEmpty("entity_id", pr.exec_id());
  p.set("pid", pr.pid());
  p.setNonEmpty("executable", pr.binary());
  p.setNonEmpty("name", processName(pr));
  std::string cmd = commandLine(pr);
  p.setNonEmpty("command_line", cmd);
  p.setNonEmpty("working_directory", pr.cwd());
  p.setNonEmpty("start", pr.start_time());
}

void ecsProcess(JsonNode& p, const api::Process& pr) {
  ecsProcessCore(p, pr);
  if (pr.tid() != 0) p.set("thread.id", pr.tid());
  p.set("user.id", std::to_string(pr.euid()));
  p.setNonEmpty("user.name", pr.user_name());
  p.set("real_user.id", std::to_string(pr.uid()));
  p.set("group.id", std::to_string(pr.egid()));
  p.set("real_group.id", std::to_string(pr.gid()));
  if (pr.has_cap()) {
    JsonNode& caps = p.obj("thread.capabilities");
    for (const char* set : {"effective", "permitted"}) {
      std::vector<std::string> names = capNames(pr.cap(), set);
      if (names.empty()) continue;
      JsonNode& a = caps.arr(set);
      for (const auto& c : names) a.push(c);
    }
  }
  if (!pr.parent_exec_id().empty()) p.set("parent.entity_id", pr.parent_exec_id());
  if (pr.ppid() != 0) p.set("parent.pid", pr.ppid());
}

// Vigil's fields with no ECS home, under vigil.process.
void ecsVigilProcess(JsonNode& v, const api::Process& pr) {
  if (pr.auid() != 0) v.set("auid", pr.auid());
  if (pr.session_id() != 0) v.set("session_id", pr.session_id());
  v.setNonEmpty("flags", pr.flags());
  v.setNonEmpty("comm", pr.comm());
  if (pr.binary_truncated()) v.set("binary_truncated", true);
  if (pr.arguments_truncated()) v.set("arguments_truncated", true);
  v.setNonEmpty("cgroup_path", pr.cgroup_path());
  if (pr.cgroup_id() != 0) v.set("cgroup_id", static_cast<uint64_t>(pr.cgroup_id()));
  v.setNonEmpty("systemd_unit", pr.systemd_unit());
  v.setNonEmpty("tty", pr.tty());
  if (pr.has_ns()) {
    const auto& ns = pr.ns();
    auto one = [&](const char* name, bool has, const api::Namespace& n) {
      if (!has) return;
      v.set(absl::StrCat("ns.", name, ".inum"), n.inum());
      v.set(absl::StrCat("ns.", name, ".is_host"), n.is_host());
    };
    one("uts", ns.has_uts(), ns.uts());
    one("ipc", ns.has_ipc(), ns.ipc());
    one("mnt", ns.has_mnt(), ns.mnt());
    one("pid", ns.has_pid(), ns.pid());
    one("pid_for_children", ns.has_pid_for_children(), ns.pid_for_children());
    one("net", ns.has_net(), ns.net());
    one("time", ns.has_time(), ns.time());
    one("cgroup", ns.has_cgroup(), ns.cgroup());
    one("user", ns.has_user(), ns.user());
  }
}

void ecsContainer(JsonNode& doc, const api::Process& pr) {
  if (!pr.has_container() || pr.container().id().empty()) return;
  const auto& c = pr.container();
  doc.set("container.id", c.id());
  doc.setNonEmpty("container.runtime", c.runtime());
  doc.setNonEmpty("container.name", c.name());
  doc.setNonEmpty("container.image.name", c.image());
}

void ecsEvent(JsonNode& doc, const char* kind, std::initializer_list<const char*> category,
              std::initializer_list<const char*> type, const std::string& action,
              const char* outcome) {
  doc.set("event.kind", kind);
  JsonNode& cat = doc.arr("event.category");
  for (const char* c : category) cat.push(c);
  JsonNode& ty = doc.arr("event.type");
  for (const char* t : type) ty.push(t);
  doc.set("event.action", action);
  if (outcome) doc.set("event.outcome", outcome);
}

void ecsFullProcess(JsonNode& doc, const api::Process& pr, const api::Process* parent) {
  JsonNode& p = doc.obj("process");
  ecsProcess(p, pr);
  if (parent) {
    JsonNode& pp = p.obj("parent");
    ecsProcessCore(pp, *parent);
    pp.set("user.id", std::to_string(parent->euid()));
    if (parent->ppid() != 0) pp.set("parent.pid", parent->ppid());
  }
  JsonNode vp = JsonNode::object();
  ecsVigilProcess(vp, pr);
  if (!vp.empty()) doc.obj("vigil").obj("process") = std::move(vp);
  ecsContainer(doc, pr);
}

// The decision of a policy event, in ECS's vigil.lsm/vigil.kprobe and OCSF's
// unmapped (where "action" is taken: policy_action).
void policyDecision(JsonNode& o, const api::PolicyEvent& e, const char* action_key) {
  if (e.isTracepoint()) {
    o.set("subsys", e.subsys);
    o.set("event", e.hook);
  } else {
    o.set(e.isUprobe() ? "symbol" : e.isKprobe() ? "function_name" : "hook", e.hook);
    if (e.isUprobe()) o.set("path", std::string(e.path));
  }
  o.set("selector", e.selector);
  o.set(action_key, actionShort(e.action));
  o.set("outcome", outcomeShort(e.outcome));
  o.set("mode", modeShort(e.mode));
  if (!e.isUprobe()) o.set("return_errno", static_cast<int64_t>(e.return_errno));
  o.setNonEmpty("mechanism", e.mechanism);
  if (e.signal != 0) {
    o.set("signal", static_cast<int64_t>(e.signal));
    o.set("signal_name", signalName(e.signal));
  }
}

// The declared arguments and a return probe's value.
void policyArgs(JsonNode& o, const api::PolicyEvent& e) {
  if (e.args->size()) {
    JsonNode& args = o.arr("args");
    for (const auto& a : *e.args) argValue(args.pushObject(), a);
  }
  if (e.ret) argValue(o.obj("return"), *e.ret);
}

// The network endpoints of a policy event, from its sock_args as vigild writes
// them: a socket "tcp 10.0.0.1:40000 -> 1.2.3.4:443" (source -> destination;
// 0.0.0.0:0 is not known yet) or a sockaddr "inet 1.2.3.4:80" / "inet6
// [::2]:53" (the address connect or bind names: the destination). The first
// of each kind counts; anything else is left out.
struct Endpoint {
  std::string ip;
  int64_t port = 0;
  bool known() const { return !ip.empty() && !(port == 0 && (ip == "0.0.0.0" || ip == "::")); }
};
struct SockInfo {
  std::string transport;  // tcp, udp, ...
  std::string type;       // ipv4 | ipv6
  Endpoint src, dst;
};
bool parseEndpoint(std::string_view s, Endpoint* e) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || !absl::SimpleAtoi(std::string(s.substr(colon + 1)), &e->port)) return false;
  e->ip = std::string(host);
  return true;
}
SockInfo sockInfo(const api::PolicyEvent& e) {
  SockInfo info;
  bool have_addr = false, have_sock = false;
  for (const auto& a : *e.args) {
    if (a.value_case() != api::Arg::kSockArg && a.value_case() != api::Arg::kSkbArg) continue;
    const std::string text = api::argText(a);  // a packet reads as a socket
    std::string_view v = text;
    auto sp = v.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view kind = v.substr(0, sp), rest = v.substr(sp + 1);
    Endpoint src, dst;
    if (kind == "inet" || kind == "inet6") {
      if (have_addr || !parseEndpoint(rest, &dst)) continue;
      have_addr = true;
      info.dst = dst;
      info.type = kind == "inet" ? "ipv4" : "ipv6";
      continue;
    }
    auto arrow = rest.find(" -> ");
    if (have_sock || arrow == std::string_view::npos || !parseEndpoint(rest.substr(0, arrow), &src) ||
        !parseEndpoint(rest.substr(arrow + 4), &dst))
      continue;
    have_sock = true;
    info.transport = std::string(kind);
    if (src.known()) info.src = src;
    if (!have_addr && dst.known()) info.dst = dst;
    if (info.type.empty()) info.type = src.ip.find(':') == std::string::npos ? "ipv4" : "ipv6";
  }
  return info;
}

// KEY.ip and KEY.port of each known end.
void setEndpoints(JsonNode& o, const SockInfo& net, const char* src_key, const char* dst_key) {
  for (const auto& [key, ep] : {std::pair{src_key, &net.src}, std::pair{dst_key, &net.dst}}) {
    if (!ep->known()) continue;
    o.set(absl::StrCat(key, ".ip"), ep->ip);
    o.set(absl::StrCat(key, ".port"), ep->port);
  }
}

// ECS category and type of what a policy event is about: the hook or function
// name and the kinds of its arguments.
struct EcsKind {
  const char* category;
  const char* type;
};
EcsKind ecsKind(const api::PolicyEvent& p) {
  if (p.isUprobe()) return {"process", "info"};  // a function of the process's own code
  std::string_view h = p.hook;
  if (h == "bprm_check_security" || contains(h, "execve")) return {"process", "start"};
  bool sock = contains(h, "socket") || contains(h, "connect") || contains(h, "bind") ||
              contains(h, "listen") || contains(h, "accept");
  bool file = !p.path.empty() || h.rfind("file_", 0) == 0 || h.rfind("path_", 0) == 0;
  for (const auto& a : *p.args) {
    sock |= a.value_case() == api::Arg::kSockArg;
    file |= a.value_case() == api::Arg::kFileArg;
  }
  if (sock) return {"network", contains(h, "connect") ? "connection" : contains(h, "bind") || contains(h, "listen") ? "start" : "info"};
  if (file) {
    if (contains(h, "readlink")) return {"file", "access"};
    if (contains(h, "unlink") || contains(h, "rmdir")) return {"file", "deletion"};
    if (contains(h, "mkdir") || contains(h, "link") || contains(h, "mknod") || contains(h, "creat"))
      return {"file", "creation"};
    if (contains(h, "rename") || contains(h, "chmod") || contains(h, "chown") || contains(h, "truncate") ||
        contains(h, "setattr"))
      return {"file", "change"};
    return {"file", "access"};
  }
  if (contains(h, "kill")) return {"process", "end"};
  return {"process", "info"};
}

// process_lsm and process_kprobe: an alert on the policy's decision; Vigil's
// own fields under vigil.lsm or vigil.kprobe.
void ecsPolicy(JsonNode& doc, const api::PolicyEvent& e) {
  EcsKind kind = ecsKind(e);
  bool denied = api::isDenyOutcome(e.outcome);
  std::string outcome = outcomeShort(e.outcome);
  doc.set("event.kind", "alert");
  doc.arr("event.category").push(kind.category);
  JsonNode& ty = doc.arr("event.type");
  ty.push(kind.type);
  ty.push(denied ? "denied" : "allowed");
  doc.set("event.action", outcome);
  doc.set("event.outcome", denied ? "failure" : "success");
  ecsFullProcess(doc, *e.process, e.parent);
  SockInfo net = sockInfo(e);
  setEndpoints(doc, net, "source", "destination");
  doc.setNonEmpty("network.transport", net.transport);
  doc.setNonEmpty("network.type", net.type);
  doc.setNonEmpty("message", e.message);
  doc.set("rule.name", e.policy_name);
  doc.set("rule.ruleset", "vigil");
  doc.setNonEmpty("rule.description", e.message);
  if (!e.path.empty()) {
    doc.set("file.path", std::string(e.path));
    doc.set("file.name", baseName(std::string(e.path)));
  }
  if (e.tags->size()) {
    JsonNode& tags = doc.arr("tags");
    for (const auto& t : *e.tags) tags.push(t);
  }
  JsonNode& l = doc.obj("vigil").obj(e.isTracepoint() ? "tracepoint"
                                     : e.isUprobe()   ? "uprobe"
                                     : e.isKprobe()   ? "kprobe"
                                                  : "lsm");
  policyDecision(l, e, "action");
  if (e.path_truncated) l.set("path_truncated", true);
  policyArgs(l, e);
}

}  // namespace

std::string renderEcs(const api::Event& ev) {
  JsonNode doc = JsonNode::object();
  doc.setNonEmpty("@timestamp", ev.time());
  doc.set("ecs.version", kEcsVersion);
  doc.set("agent.type", "vigil");
  doc.set("agent.version", VIGIL_VERSION);
  if (!ev.node_name().empty()) {
    doc.set("host.name", ev.node_name());
    doc.set("host.hostname", ev.node_name());
  }
  doc.set("event.module", "vigil");
  doc.set("event.dataset", absl::StrCat("vigil.", std::string(api::eventTypeName(ev))));
  doc.set("event.severity", static_cast<int64_t>(syslogSeverity(ev)));
  switch (ev.event_case()) {
    case api::Event::kProcessExec: {
      const auto& e = ev.process_exec();
      ecsEvent(doc, "event", {"process"}, {"start"}, "exec", "success");
      ecsFullProcess(doc, e.process(), e.has_parent() ? &e.parent() : nullptr);
      if (e.ancestors_size()) {
        JsonNode& anc = doc.obj("vigil").arr("ancestors");
        for (const auto& a : e.ancestors()) {
          JsonNode& o = anc.pushObject();
          o.setNonEmpty("entity_id", a.exec_id());
          o.set("pid", a.pid());
          o.setNonEmpty("executable", a.binary());
        }
      }
      break;
    }
    case api::Event::kProcessExit: {
      const auto& e = ev.process_exit();
      ecsEvent(doc, "event", {"process"}, {"end"}, "exit", "success");
      ecsFullProcess(doc, e.process(), e.has_parent() ? &e.parent() : nullptr);
      doc.set("process.exit_code", static_cast<int64_t>(e.status()));
      doc.setNonEmpty("process.end", e.time().empty() ? ev.time() : e.time());
      doc.setNonEmpty("vigil.exit.signal", e.signal());
      break;
    }
    case api::Event::kProcessLsm:
    case api::Event::kProcessKprobe:
    case api::Event::kProcessTracepoint:
    case api::Event::kProcessUprobe:
      ecsPolicy(doc, *api::policyEvent(ev));
      break;
    case api::Event::kStatus: {
      const auto& s = ev.status();
      bool loss = s.kind() == api::Status::KIND_LOST_EVENTS ||
                  s.kind() == api::Status::KIND_EXPORTER_DROPPED;
      doc.set("event.kind", loss ? "pipeline_error" : "event");
      doc.arr("event.category").push("configuration");
      doc.arr("event.type").push(s.kind() == api::Status::KIND_POLICY_LOADED ? "change" : "info");
      doc.set("event.action", statusKindShort(s.kind()));
      doc.setNonEmpty("message", s.message());
      JsonNode& v = doc.obj("vigil").obj("status");
      v.set("kind", statusKindShort(s.kind()));
      v.setNonEmpty("subject", s.subject());
      v.set("count", static_cast<uint64_t>(s.count()));
      break;
    }
    case api::Event::kRuleAlert: {
      const auto& r = ev.rule_alert();
      doc.set("event.kind", "alert");
      doc.arr("event.category").push("process");
      doc.arr("event.type").push("info");
      doc.set("event.action", "rule_alert");
      ecsFullProcess(doc, r.process(), r.has_parent() ? &r.parent() : nullptr);
      doc.setNonEmpty("message", r.output());
      doc.set("rule.name", r.rule());
      doc.set("rule.ruleset", "vigil");
      if (r.tags_size()) {
        JsonNode& tags = doc.arr("tags");
        for (const auto& t : r.tags()) tags.push(t);
      }
      JsonNode& v = doc.obj("vigil").obj("rule");
      v.setNonEmpty("priority", r.priority());
      v.setNonEmpty("source", r.source());
      if (!r.output_fields().empty()) {
        // Sorted for a stable rendering (protobuf maps have no order).
        std::map<std::string, std::string> sorted(r.output_fields().begin(), r.output_fields().end());
        JsonNode& f = v.obj("output_fields");
        for (const auto& [k, val] : sorted) f.set(flatKey(k), val);
      }
      break;
    }
    default:
      doc.set("event.kind", "event");
      break;
  }
  return doc.dump();
}

// ---- OCSF -------------------------------------------------------------------

namespace {

void ocsfProcessObj(JsonNode& p, const api::Process& pr, const api::Process* parent) {
  p.set("pid", pr.pid());
  if (pr.tid() != 0) p.set("tid", pr.tid());
  p.setNonEmpty("uid", pr.exec_id());
  p.setNonEmpty("name", processName(pr));
  p.setNonEmpty("cmd_line", commandLine(pr));
  if (!pr.binary().empty()) {
    p.set("file.path", pr.binary());
    p.set("file.name", baseName(pr.binary()));
  }
  p.set("user.uid", std::to_string(pr.uid()));
  p.setNonEmpty("user.name", pr.user_name());
  int64_t start = rfc3339ToMs(pr.start_time());
  if (start != 0) p.set("created_time", start);
  if (pr.has_container() && !pr.container().id().empty()) {
    const auto& c = pr.container();
    p.set("container.uid", c.id());
    p.setNonEmpty("container.name", c.name());
    p.setNonEmpty("container.runtime", c.runtime());
    p.setNonEmpty("container.image.name", c.image());
  }
  if (parent) {
    ocsfProcessObj(p.obj("parent_process"), *parent, nullptr);
  } else if (pr.ppid() != 0 || !pr.parent_exec_id().empty()) {
    JsonNode& pp = p.obj("parent_process");
    pp.set("pid", pr.ppid());
    pp.setNonEmpty("uid", pr.parent_exec_id());
  }
}

// Fields OCSF has no attribute for.
void ocsfUnmappedProcess(JsonNode& u, const api::Process& pr) {
  u.setNonEmpty("cwd", pr.cwd());
  u.set("euid", pr.euid());
  u.set("gid", pr.gid());
  if (pr.auid() != 0) u.set("auid", pr.auid());
  u.setNonEmpty("flags", pr.flags());
  u.setNonEmpty("cgroup_path", pr.cgroup_path());
  u.setNonEmpty("systemd_unit", pr.systemd_unit());
}

void ocsfCommon(JsonNode& doc, const api::Event& ev, int class_uid, const char* class_name,
                int category_uid, const char* category_name, int activity_id,
                const std::string& activity_name) {
  doc.set("metadata.version", kOcsfVersion);
  doc.set("metadata.product.name", "Vigil");
  doc.set("metadata.product.vendor_name", "Vigil");
  doc.set("metadata.product.version", VIGIL_VERSION);
  doc.setNonEmpty("metadata.original_time", ev.time());
  doc.set("time", rfc3339ToMs(ev.time()));
  doc.set("class_uid", static_cast<int64_t>(class_uid));
  doc.set("class_name", class_name);
  doc.set("category_uid", static_cast<int64_t>(category_uid));
  doc.set("category_name", category_name);
  doc.set("activity_id", static_cast<int64_t>(activity_id));
  doc.set("activity_name", activity_name);
  doc.set("type_uid", static_cast<int64_t>(class_uid) * 100 + activity_id);
  doc.set("type_name", absl::StrCat(class_name, ": ", activity_name));
  int sev = ocsfSeverityId(syslogSeverity(ev));
  static const char* kSevNames[] = {"Unknown", "Informational", "Low", "Medium", "High", "Critical"};
  doc.set("severity_id", static_cast<int64_t>(sev));
  doc.set("severity", kSevNames[sev]);
  doc.setNonEmpty("device.hostname", ev.node_name());
  doc.set("device.type_id", static_cast<int64_t>(0));
  doc.set("device.type", "Unknown");
}

std::string findingUid(const api::Event& ev, const std::string& a, const std::string& b) {
  size_t h = std::hash<std::string>{}(absl::StrCat(ev.node_name(), "|", ev.time(), "|", a, "|", b));
  return absl::StrCat(absl::Hex(h, absl::kZeroPad16));
}

// Security control profile of a policy decision: what the control did (action)
// and the final disposition.
struct OcsfControl {
  int action_id;
  const char* action;
  int disposition_id;
  const char* disposition;
};
OcsfControl ocsfControl(api::Outcome o) {
  switch (o) {
    case api::OUTCOME_DENIED:
    case api::OUTCOME_KILLED: return {2, "Denied", 2, "Blocked"};
    // The operation went ahead; the caller got a signal: a custom action.
    case api::OUTCOME_SIGNALED: return {99, "Other", 7, "Custom Action"};
    case api::OUTCOME_WOULD_DENY:
    case api::OUTCOME_WOULD_KILL:
    case api::OUTCOME_WOULD_SIGNAL: return {1, "Allowed", 15, "Detected"};
    default: return {1, "Allowed", 17, "Logged"};
  }
}

// process_lsm and process_kprobe: a Detection Finding.
void ocsfPolicy(JsonNode& doc, const api::Event& ev, const api::PolicyEvent& e) {
  ocsfCommon(doc, ev, 2004, "Detection Finding", 2, "Findings", 1, "Create");
  std::string outcome = outcomeShort(e.outcome);
  std::string policy(e.policy_name), hook(e.hook), path(e.path);
  OcsfControl c = ocsfControl(e.outcome);
  doc.set("action_id", static_cast<int64_t>(c.action_id));
  doc.set("action", c.action);
  doc.set("disposition_id", static_cast<int64_t>(c.disposition_id));
  doc.set("disposition", c.disposition);
  doc.set("status_id", static_cast<int64_t>(1));
  doc.set("status", "New");
  std::string title = e.message.empty()
                          ? absl::StrCat(policy, ": ", outcome, " ", hook, path.empty() ? "" : " ", path)
                          : std::string(e.message);
  doc.set("message", title);
  JsonNode& fi = doc.obj("finding_info");
  fi.set("uid", findingUid(ev, e.process->exec_id(), policy));
  fi.set("title", title);
  fi.set("desc", absl::StrCat("policy ", policy, " selector ", e.selector, " on ", hook, " (",
                              modeShort(e.mode), " mode): ", outcome));
  fi.arr("types").push("Vigil Policy");
  fi.set("analytic.name", policy);
  fi.set("analytic.type_id", static_cast<int64_t>(1));
  fi.set("analytic.type", "Rule");
  fi.set("analytic.uid", absl::StrCat(policy, "/", e.selector));
  fi.set("created_time", rfc3339ToMs(ev.time()));
  JsonNode& evid = doc.arr("evidences").pushObject();
  ocsfProcessObj(evid.obj("process"), *e.process, e.parent);
  if (!path.empty()) {
    evid.set("file.path", path);
    evid.set("file.name", baseName(path));
    evid.set("file.type_id", static_cast<int64_t>(1));
    evid.set("file.type", "Regular File");
  }
  SockInfo net = sockInfo(e);
  setEndpoints(evid, net, "src_endpoint", "dst_endpoint");
  evid.setNonEmpty("connection_info.protocol_name", net.transport);
  ocsfProcessObj(doc.obj("actor").obj("process"), *e.process, nullptr);
  JsonNode& u = doc.obj("unmapped");
  policyDecision(u, e, "policy_action");
  if (e.tags->size()) {
    JsonNode& t = u.arr("tags");
    for (const auto& tag : *e.tags) t.push(tag);
  }
  policyArgs(u, e);
  ocsfUnmappedProcess(u.obj("process"), *e.process);
}

}  // namespace

std::string renderOcsf(const api::Event& ev) {
  JsonNode doc = JsonNode::object();
  switch (ev.event_case()) {
    case api::Event::kProcessExec:
    case api::Event::kProcessExit: {
      bool exec = ev.has_process_exec();
      const api::Process& pr = exec ? ev.process_exec().process() : ev.process_exit().process();
      bool has_parent = exec ? ev.process_exec().has_parent() : ev.process_exit().has_parent();
      const api::Process& parent = exec ? ev.process_exec().parent() : ev.process_exit().parent();
      ocsfCommon(doc, ev, 1007, "Process Activity", 1, "System Activity", exec ? 1 : 2,
                 exec ? "Launch" : "Terminate");
      doc.set("status_id", static_cast<int64_t>(1));
      doc.set("status", "Success");
      ocsfProcessObj(doc.obj("process"), pr, has_parent ? &parent : nullptr);
      if (has_parent) ocsfProcessObj(doc.obj("actor").obj("process"), parent, nullptr);
      else ocsfProcessObj(doc.obj("actor").obj("process"), pr, nullptr);
      if (exec && ev.process_exec().ancestors_size()) {
        JsonNode& lin = doc.obj("process").arr("lineage");
        for (const auto& a : ev.process_exec().ancestors()) lin.push(a.binary());
      }
      if (!exec) {
        doc.set("exit_code", static_cast<int64_t>(ev.process_exit().status()));
        doc.setNonEmpty("unmapped.signal", ev.process_exit().signal());
      }
      ocsfUnmappedProcess(doc.obj("unmapped").obj("process"), pr);
      break;
    }
    case api::Event::kProcessLsm:
    case api::Event::kProcessKprobe:
    case api::Event::kProcessTracepoint:
    case api::Event::kProcessUprobe:
      ocsfPolicy(doc, ev, *api::policyEvent(ev));
      break;
    case api::Event::kRuleAlert: {
      const auto& r = ev.rule_alert();
      ocsfCommon(doc, ev, 2004, "Detection Finding", 2, "Findings", 1, "Create");
      doc.set("action_id", static_cast<int64_t>(1));
      doc.set("action", "Allowed");
      doc.set("disposition_id", static_cast<int64_t>(19));
      doc.set("disposition", "Alert");
      doc.set("status_id", static_cast<int64_t>(1));
      doc.set("status", "New");
      doc.setNonEmpty("message", r.output());
      JsonNode& fi = doc.obj("finding_info");
      fi.set("uid", findingUid(ev, r.process().exec_id(), r.rule()));
      fi.set("title", r.rule());
      fi.setNonEmpty("desc", r.output());
      fi.arr("types").push("Vigil Rule");
      fi.set("analytic.name", r.rule());
      fi.set("analytic.type_id", static_cast<int64_t>(1));
      fi.set("analytic.type", "Rule");
      fi.set("created_time", rfc3339ToMs(ev.time()));
      ocsfProcessObj(doc.arr("evidences").pushObject().obj("process"), r.process(),
                     r.has_parent() ? &r.parent() : nullptr);
      ocsfProcessObj(doc.obj("actor").obj("process"), r.process(), nullptr);
      JsonNode& u = doc.obj("unmapped");
      u.setNonEmpty("priority", r.priority());
      u.setNonEmpty("source", r.source());
      if (r.tags_size()) {
        JsonNode& t = u.arr("tags");
        for (const auto& tag : r.tags()) t.push(tag);
      }
      if (!r.output_fields().empty()) {
        std::map<std::string, std::string> sorted(r.output_fields().begin(), r.output_fields().end());
        JsonNode& f = u.obj("output_fields");
        for (const auto& [k, v] : sorted) f.set(flatKey(k), v);
      }
      break;
    }
    case api::Event::kStatus:
    default: {
      const auto& s = ev.status();
      ocsfCommon(doc, ev, 6002, "Application Lifecycle", 6, "Application Activity", 99,
                 ev.has_status() ? statusKindShort(s.kind()) : "Other");
      doc.set("app.name", "vigild");
      doc.set("app.vendor_name", "Vigil");
      doc.set("app.version", VIGIL_VERSION);
      doc.setNonEmpty("message", s.message());
      JsonNode& u = doc.obj("unmapped");
      u.set("kind", statusKindShort(s.kind()));
      u.setNonEmpty("subject", s.subject());
      u.set("count", static_cast<uint64_t>(s.count()));
      break;
    }
  }
  return doc.dump();
}

// ---- CEF --------------------------------------------------------------------

std::string cefEscapeHeader(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\' || c == '|') out.push_back('\\');
    if (c == '\n' || c == '\r') c = ' ';
    out.push_back(c);
  }
  return out;
}

std::string cefEscapeExtension(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '=': out += "\\="; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {

class CefExt {
 public:
  void add(std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!out_.empty()) out_.push_back(' ');
    absl::StrAppend(&out_, std::string(key), "=", cefEscapeExtension(value));
  }
  void add(std::string_view key, uint64_t v) { add(key, std::to_string(v)); }
  void addNum(std::string_view key, int64_t v) { add(key, std::to_string(v)); }
  void labeled(int n, const char* label, std::string_view value, bool number = false) {
    if (value.empty()) return;
    std::string base = absl::StrCat(number ? "cn" : "cs", n);
    add(absl::StrCat(base, "Label"), label);
    add(base, value);
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

void argText(const api::Arg& a, std::string& out) { out = api::argText(a); }

void cefProcess(CefExt& x, const api::Process& p) {
  if (p.pid() != 0) x.add("spid", static_cast<uint64_t>(p.pid()));
  x.add("sproc", p.binary().empty() ? p.comm() : p.binary());
  x.add("suid", std::to_string(p.uid()));
  x.add("suser", p.user_name());
}

}  // namespace

std::string renderCef(const api::Event& ev) {
  std::string type = std::string(api::eventTypeName(ev));
  std::string signature = type, name;
  CefExt x;
  int64_t ms = api::parseRfc3339Nanos(ev.time()) / 1'000'000;
  if (ms != 0) x.addNum("rt", ms);
  x.add("dvchost", ev.node_name());
  x.add("cat", type);
  switch (ev.event_case()) {
    case api::Event::kProcessExec:
    case api::Event::kProcessExit: {
      bool exec = ev.has_process_exec();
      const api::Process& p = exec ? ev.process_exec().process() : ev.process_exit().process();
      const api::Process& parent = exec ? ev.process_exec().parent() : ev.process_exit().parent();
      name = exec ? "Process executed" : "Process exited";
      cefProcess(x, p);
      x.labeled(1, "execId", p.exec_id());
      x.labeled(2, "arguments", p.arguments());
      x.labeled(3, "parentBinary", parent.binary());
      x.labeled(4, "cwd", p.cwd());
      x.labeled(5, "containerId", p.container().id());
      x.labeled(6, "parentExecId", p.parent_exec_id().empty() ? parent.exec_id() : p.parent_exec_id());
      if (!exec) {
        x.labeled(1, "exitStatus", std::to_string(ev.process_exit().status()), true);
        x.add("reason", ev.process_exit().signal());
      }
      break;
    }
    case api::Event::kProcessLsm:
    case api::Event::kProcessKprobe:
    case api::Event::kProcessTracepoint:
    case api::Event::kProcessUprobe: {
      api::PolicyEvent e = *api::policyEvent(ev);
      std::string outcome = outcomeShort(e.outcome);
      signature = absl::StrCat("policy:", std::string(e.policy_name));
      name = e.message.empty() ? absl::StrCat(outcome, " ", std::string(e.hook)) : std::string(e.message);
      cefProcess(x, *e.process);
      x.add("act", outcome);
      x.add("outcome", api::isDenyOutcome(e.outcome) ? "failure" : "success");
      x.add("filePath", e.path);
      if (!e.path.empty()) x.add("fname", baseName(std::string(e.path)));
      SockInfo net = sockInfo(e);
      if (net.src.known()) {
        x.add("src", net.src.ip);
        x.addNum("spt", net.src.port);
      }
      if (net.dst.known()) {
        x.add("dst", net.dst.ip);
        x.addNum("dpt", net.dst.port);
      }
      x.add("proto", absl::AsciiStrToUpper(net.transport));
      x.labeled(1, "execId", e.process->exec_id());
      x.labeled(2, "arguments", e.process->arguments());
      if (e.parent) x.labeled(3, "parentBinary", e.parent->binary());
      x.labeled(4, "policy", e.policy_name);
      if (e.isTracepoint()) {
        x.labeled(5, "tracepoint", absl::StrCat(std::string(e.subsys), "/", std::string(e.hook)));
      } else {
        x.labeled(5, e.isUprobe() ? "symbol" : e.isKprobe() ? "function" : "hook", e.hook);
      }
      x.labeled(6, "mode", modeShort(e.mode));
      if (!e.isUprobe()) x.labeled(1, "returnErrno", std::to_string(e.return_errno), true);
      x.labeled(2, "selector", std::to_string(e.selector), true);
      if (e.signal != 0) x.labeled(3, "signal", std::to_string(e.signal), true);
      if (e.ret) {
        std::string ret;
        argText(*e.ret, ret);
        x.add("flexString1Label", "return");
        x.add("flexString1", ret);
      }
      x.add("msg", e.message);
      break;
    }
    case api::Event::kStatus: {
      const auto& s = ev.status();
      signature = absl::StrCat("status:", statusKindShort(s.kind()));
      name = absl::StrCat("Vigil status: ", statusKindShort(s.kind()));
      x.labeled(4, "subject", s.subject());
      x.add("cnt", static_cast<uint64_t>(s.count()));
      x.add("msg", s.message());
      break;
    }
    case api::Event::kRuleAlert: {
      const auto& r = ev.rule_alert();
      signature = absl::StrCat("rule:", r.rule());
      name = r.rule();
      cefProcess(x, r.process());
      x.labeled(1, "execId", r.process().exec_id());
      x.labeled(2, "arguments", r.process().arguments());
      x.labeled(3, "parentBinary", r.parent().binary());
      x.labeled(4, "rule", r.rule());
      x.labeled(5, "priority", r.priority());
      x.add("msg", r.output());
      break;
    }
    default:
      name = "unknown";
      break;
  }
  return absl::StrCat("CEF:0|Vigil|vigild|", cefEscapeHeader(VIGIL_VERSION), "|",
                      cefEscapeHeader(signature), "|", cefEscapeHeader(name), "|",
                      cefSeverity(syslogSeverity(ev)), "|", x.str());
}

// ---- common -----------------------------------------------------------------

absl::StatusOr<Format> parseFormat(const std::string& name) {
  if (name == "json") return Format::kJson;
  if (name == "ecs") return Format::kEcs;
  if (name == "ocsf") return Format::kOcsf;
  if (name == "cef") return Format::kCef;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format \"", name, "\" (json | ecs | ocsf | cef)"));
}

std::string formatName(Format f) {
  switch (f) {
    case Format::kJson: return "json";
    case Format::kEcs: return "ecs";
    case Format::kOcsf: return "ocsf";
    case Format::kCef: return "cef";
  }
  return "json";
}

std::string render(Format f, const api::Event& ev) {
  switch (f) {
    case Format::kJson: return api::renderJson(ev);
    case Format::kEcs: return renderEcs(ev);
    case Format::kOcsf: return renderOcsf(ev);
    case Format::kCef: return renderCef(ev);
  }
  return api::renderJson(ev);
}

int syslogSeverity(const api::Event& ev) {
  switch (ev.event_case()) {
    case api::Event::kProcessExec:
    case api::Event::kProcessExit:
      return 6;
    case api::Event::kProcessLsm:
    case api::Event::kProcessKprobe:
    case api::Event::kProcessTracepoint:
    case api::Event::kProcessUprobe:
      switch (api::policyEvent(ev)->outcome) {
        case api::OUTCOME_KILLED: return 2;
        case api::OUTCOME_DENIED:
        case api::OUTCOME_SIGNALED: return 3;
        case api::OUTCOME_WOULD_DENY:
        case api::OUTCOME_WOULD_KILL:
        case api::OUTCOME_WOULD_SIGNAL: return 4;
        default: return 5;
      }
    case api::Event::kStatus:
      switch (ev.status().kind()) {
        case api::Status::KIND_LOST_EVENTS:
        case api::Status::KIND_EXPORTER_DROPPED:
        case api::Status::KIND_POLICY_FAILED:
        case api::Status::KIND_RULE_ERROR: return 3;
        case api::Status::KIND_DEGRADED: return 4;
        default: return 6;
      }
    case api::Event::kRuleAlert: {
      static const char* kFalco[] = {"EMERGENCY", "ALERT", "CRITICAL", "ERROR",
                                     "WARNING", "NOTICE", "INFORMATIONAL", "DEBUG"};
      std::string p = absl::AsciiStrToUpper(ev.rule_alert().priority());
      if (p == "INFO") return 6;
      for (int i = 0; i < 8; ++i)
        if (p == kFalco[i]) return i;
      return 4;
    }
    default:
      return 6;
  }
}

int cefSeverity(int s) {
  static const int kMap[] = {10, 9, 8, 7, 6, 4, 2, 0};
  return s >= 0 && s < 8 ? kMap[s] : 5;
}

int ocsfSeverityId(int s) {
  static const int kMap[] = {5, 5, 4, 4, 3, 2, 1, 1};
  return s >= 0 && s < 8 ? kMap[s] : 0;
}

}  // namespace vigil::exporters
