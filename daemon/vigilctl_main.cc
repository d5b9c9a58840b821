// vigilctl: offline policy checks and the kernel feature probe.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_join.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "api/json.h"
#include "daemon/compiler/compiler.h"
#include "daemon/compiler/describe.h"
#include "daemon/control.h"
#include "daemon/loader/probe.h"
#include "daemon/policy/policy_parser.h"
#include "rules/cli.h"

namespace {

constexpr const char* kUsage = R"(Usage: vigilctl COMMAND [ARG]...

Commands:
  policy check FILE...   validate TracingPolicy files offline; prints every
                         error as FILE:LINE:COL: message; exit 1 on any error
  policy compile FILE... what the policies become in the kernel, as JSON:
                         programs and attach points, argument reads, selectors
                         and their map entries, modes (no kernel needed)
  rules check [--skip-invalid] FILE...
                         validate Falco-style rule files offline (FILE:LINE:COL);
                         --skip-invalid: rules that do not compile only warn
  rules test --rules FILE --events FILE.jsonl
                         replay recorded events through rules, print alerts
  status                 what the running vigild enforces: policies, modes,
                         attached programs, per-hook counters, degraded features
  policy list            the loaded policies, one per line
  policy add [--replace] [--persist] FILE
                         add a policy to the running set as one transaction
                         (as reload does); errors come back as FILE:LINE:COL
                         and nothing changes. A loaded policy of the same name
                         is an error unless --replace. The policy lasts until
                         the next reload or restart; --persist also writes
                         FILE into vigild's first --policy-dir, so it stays
  policy delete NAME     remove a loaded policy, as one transaction; its file
                         (if it has one) brings it back at the next reload
  policy enable NAME | policy disable NAME
  policy set-mode NAME enforce|monitor
                         change a loaded policy at once, in the kernel's maps
                         (until the next reload)
  reload                 re-read policies and rules (as SIGHUP); a broken file
                         keeps the running set and its errors are printed
  events [--policy P] [--type T] [-o json|compact] [--file FILE]
                         stream events as vigild emits them, or read them
                         from a file of JSON lines (- for stdin)
  Commands that talk to vigild take --socket PATH (default
  /run/vigil/control.sock, vigild --control-socket).
  probe [--json]         report what this kernel lets Vigil load: BTF, BPF LSM,
                         trampolines, tp_btf, kprobes, ring buffer,
                         bpf_send_signal, bpf_d_path, lockdown mode
  version | --version    vigilctl's version
  help                   this text
)";

int policyCompile(const std::vector<std::string>& files) {
  if (files.empty()) {
    fputs("vigilctl policy compile: no files given\n", stderr);
    return 2;
  }
  std::vector<vigil::policy::Policy> policies;
  bool bad = false;
  for (const auto& f : files) {
    auto r = vigil::policy::parsePolicyFile(f);
    for (const auto& w : r.warnings) fprintf(stderr, "%s (warning)\n", w.str().c_str());
    for (const auto& e : r.errors) fprintf(stderr, "%s\n", e.str().c_str());
    if (r.errors.empty() && r.policy) {
      policies.push_back(std::move(*r.policy));
    } else {
      bad = true;
    }
  }
  if (bad) return 1;
  auto c = vigil::compiler::compile(policies, {});
  if (!c.ok()) {
    fprintf(stderr, "%s\n", std::string(c.status().message()).c_str());
    return 1;
  }
  puts(vigil::compiler::describeJson(policies, *c).c_str());
  return 0;
}

int policyCheck(const std::vector<std::string>& files) {
  if (files.empty()) {
    fputs("vigilctl policy check: no files given\n", stderr);
    return 2;
  }
  int bad = 0;
  std::vector<vigil::policy::Policy> ok;
  for (const auto& f : files) {
    auto r = vigil::policy::parsePolicyFile(f);
    for (const auto& w : r.warnings) printf("%s (warning)\n", w.str().c_str());
    for (const auto& e : r.errors) printf("%s\n", e.str().c_str());
    if (r.errors.empty() && r.policy) {
      // Compile alone too: a policy must also fit the kernel's tables.
      auto c = vigil::compiler::compile({*r.policy}, {});
      if (!c.ok()) {
        printf("%s\n", std::string(c.status().message()).c_str());
        bad++;
      } else {
        printf("%s: ok (policy %s)\n", f.c_str(), r.policy->name.c_str());
      }
    } else {
      bad++;
    }
  }
  return bad ? 1 : 0;
}

int probe(bool json) {
  auto k = vigil::loader::probeKernel();
  if (json) {
    using vigil::api::jsonString;
    printf("{\"kernel\":%s,\"lockdown\":%s,\"lsm_enforcement\":%s",
           jsonString(k.kernel_release).c_str(), jsonString(k.lockdown).c_str(),
           k.lsmUsable() ? "true" : "false");
    for (const auto* f : k.all()) {
      printf(",%s:{\"ok\":%s,\"detail\":%s}", jsonString(f->name).c_str(),
             f->ok ? "true" : "false", jsonString(f->detail).c_str());
    }
    puts("}");
    return 0;
  }
  printf("kernel          %s\n", k.kernel_release.c_str());
  printf("lockdown        %s\n", k.lockdown.c_str());
  for (const auto* f : k.all()) {
    printf("%-15s %-4s %s\n", f->name.c_str(), f->ok ? "yes" : "no", f->detail.c_str());
  }
  if (k.lsmUsable()) {
    puts("=> lsmhooks policies can be enforced (BPF LSM)");
  } else if (k.fmodRetUsable()) {
    puts("=> lsmhooks policies can be enforced (fmod_ret on security_* functions; BPF LSM off)");
  } else {
    printf("=> lsmhooks policies cannot be enforced: %s\n", k.lsmUnusableReason().c_str());
  }
  // kprobes: fentry/fexit, else kprobe/kretprobe per function (Override: fmod_ret only).
  if (k.trampolines.ok && k.kprobes.ok) {
    puts("=> kprobes attach as fentry/fexit, kprobe/kretprobe where a function refuses them");
  } else if (k.trampolines.ok) {
    printf("=> kprobes attach as fentry/fexit only (no kprobe fallback: %s)\n", k.kprobes.detail.c_str());
  } else if (k.kprobes.ok) {
    printf("=> kprobes attach as kprobe/kretprobe (fentry refused: %s); Override on a kprobe "
           "cannot be enforced\n", k.trampolines.detail.c_str());
  } else {
    printf("=> kprobes policies cannot be loaded: fentry refused (%s) and kprobes unavailable (%s)\n",
           k.trampolines.detail.c_str(), k.kprobes.detail.c_str());
  }
  return 0;
}

}  // namespace

const char* modeName(int mode) {
  return mode == vigil::api::POLICY_MODE_MONITOR ? "monitor" : "enforce";
}

int call(const std::string& socket, const vigil::api::Request& req, vigil::api::Response* out) {
  auto resp = vigil::controlCall(socket, req);
  if (!resp.ok()) {
    fprintf(stderr, "vigilctl: %s\n", std::string(resp.status().message()).c_str());
    return 1;
  }
  if (!resp->error().empty()) {
    fprintf(stderr, "vigilctl: %s\n", resp->error().c_str());
    return 1;
  }
  if (!resp->message().empty()) printf("%s\n", resp->message().c_str());
  *out = *resp;
  return 0;
}

int status(const std::string& socket, bool list_only) {
  vigil::api::Request req;
  req.mutable_status();
  vigil::api::Response resp;
  if (int rc = call(socket, req, &resp)) return rc;
  const auto& st = resp.status();
  if (list_only) {
    for (const auto& p : st.policies()) {
      printf("%s\t%s\t%s\t%s\n", p.name().c_str(), modeName(p.mode()),
             p.enabled() ? "enabled" : "disabled", p.file().c_str());
    }
    return 0;
  }
  printf("kernel     %s\nmechanism  %s%s\n", st.kernel().c_str(), st.mechanism().c_str(),
         st.audit_all() ? " (daemon-wide audit)" : "");
  printf("events     %llu emitted, %llu rule alerts\n",
         static_cast<unsigned long long>(st.events_emitted()),
         static_cast<unsigned long long>(st.rule_alerts()));
  printf("policies   %d\n", st.policies_size());
  for (const auto& p : st.policies()) {
    std::string hooks;
    for (const auto& h : p.hooks()) hooks += (hooks.empty() ? "" : ",") + h;
    printf("  %-32s %-8s %-8s %6llu events  hooks %s  (%s)\n", p.name().c_str(), modeName(p.mode()),
           p.enabled() ? "enabled" : "disabled", static_cast<unsigned long long>(p.events()),
           hooks.c_str(), p.file().c_str());
  }
  printf("hooks\n");
  for (const auto& h : st.hooks()) {
    printf("  %-22s %8llu events %6llu lost %6llu denied %6llu killed\n", h.hook().c_str(),
           static_cast<unsigned long long>(h.events()), static_cast<unsigned long long>(h.lost()),
           static_cast<unsigned long long>(h.denied()), static_cast<unsigned long long>(h.killed()));
  }
  printf("attached   ");
  for (const auto& a : st.attached_programs()) printf("%s ", a.c_str());
  printf("\n");
  for (const auto& d : st.degraded()) printf("degraded   %s\n", d.c_str());
  if (!st.last_reload_error().empty()) printf("last reload failed:\n%s\n", st.last_reload_error().c_str());
  return 0;
}

// Recorded events (JSON lines as vigild writes them): FILE:LINE for a line
// that is not an event, the others filtered and rendered as from the socket.
int eventsFromFile(const std::string& path, const vigil::api::EventsRequest& req,
                   const std::function<void(const vigil::api::Event&)>& out) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) {
      fprintf(stderr, "vigilctl: %s: %s\n", path.c_str(), strerror(errno));
      return 1;
    }
  }
  std::istream& in = path == "-" ? std::cin : file;
  const std::string name = path == "-" ? "<stdin>" : path;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;  // a newer vigild's fields
  int bad = 0;
  size_t n = 0;
  for (std::string line; std::getline(in, line);) {
    n++;
    if (line.empty()) continue;
    vigil::api::Event ev;
    auto st = google::protobuf::util::JsonStringToMessage(line, &ev, opts);
    if (!st.ok() || ev.event_case() == vigil::api::Event::EVENT_NOT_SET) {
      std::string why = st.ok() ? "no event kind" : std::string(st.message());
      std::replace(why.begin(), why.end(), '\n', ' ');  // one line per bad line
      fprintf(stderr, "%s:%zu: not an event: %s\n", name.c_str(), n, why.c_str());
      bad++;
      continue;
    }
    if (vigil::eventMatches(req, ev)) out(ev);
  }
  return bad ? 1 : 0;
}

int events(const std::string& socket, const std::vector<std::string>& args) {
  vigil::api::EventsRequest req;
  bool json = true;
  std::string file;
  for (size_t i = 0; i < args.size(); i++) {
    if (i + 1 < args.size() && args[i] == "--file") {
      file = args[++i];
    } else if (i + 1 < args.size() && args[i] == "--policy") {
      req.set_policy(args[++i]);
    } else if (i + 1 < args.size() && args[i] == "--type") {
      const auto& types = vigil::api::eventTypeNames();
      if (std::find(types.begin(), types.end(), args[i + 1]) == types.end()) {
        fprintf(stderr, "vigilctl events: unknown event type '%s' (one of: %s)\n",
                args[i + 1].c_str(), absl::StrJoin(types, ", ").c_str());
        return 2;
      }
      req.set_type(args[++i]);
    } else if (i + 1 < args.size() && args[i] == "-o") {
      std::string o = args[++i];
      if (o != "json" && o != "compact") {
        fprintf(stderr, "vigilctl events: -o json|compact\n");
        return 2;
      }
      json = o == "json";
    } else {
      fprintf(stderr, "vigilctl events: unknown argument %s\n", args[i].c_str());
      return 2;
    }
  }
  auto print = [&](const vigil::api::Event& ev) {
    std::string line = json ? vigil::api::renderJson(ev) : vigil::api::renderCompact(ev);
    printf("%s\n", line.c_str());
    fflush(stdout);
    return !ferror(stdout);
  };
  if (!file.empty()) return eventsFromFile(file, req, print);
  auto s = vigil::controlStream(socket, req, print);
  if (!s.ok()) {
    fprintf(stderr, "vigilctl: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}

int policyAdd(const std::string& socket, const std::vector<std::string>& args) {
  vigil::api::Request req;
  auto* add = req.mutable_add_policy();
  for (const auto& a : args) {
    if (a == "--replace") {
      add->set_replace(true);
    } else if (a == "--persist") {
      add->set_persist(true);
    } else if (a.starts_with("--") || !add->file_name().empty()) {
      fprintf(stderr, "vigilctl policy add: unexpected argument %s\n", a.c_str());
      return 2;
    } else {
      add->set_file_name(a);
    }
  }
  if (add->file_name().empty()) {
    fputs("vigilctl policy add: no file given\n", stderr);
    return 2;
  }
  std::ifstream in(add->file_name(), std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  if (!in) {
    fprintf(stderr, "vigilctl: %s: %s\n", add->file_name().c_str(), strerror(errno));
    return 1;
  }
  add->set_yaml(content.str());
  vigil::api::Response resp;
  return call(socket, req, &resp);
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string socket = "/run/vigil/control.sock";
  for (size_t i = 0; i + 1 < args.size(); i++) {
    if (args[i] == "--socket") {
      socket = args[i + 1];
      args.erase(args.begin() + i, args.begin() + i + 2);
      break;
    }
  }
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    puts("vigilctl " VIGIL_VERSION);
    return 0;
  }
  if (args[0] == "policy" && args.size() >= 2 && args[1] == "check") {
    return policyCheck({args.begin() + 2, args.end()});
  }
  if (args[0] == "policy" && args.size() >= 2 && args[1] == "compile") {
    return policyCompile({args.begin() + 2, args.end()});
  }
  if (args[0] == "status" && args.size() == 1) return status(socket, false);
  if (args[0] == "policy" && args.size() == 2 && args[1] == "list") return status(socket, true);
  if (args[0] == "policy" && args.size() == 3 && (args[1] == "enable" || args[1] == "disable")) {
    vigil::api::Request req;
    req.mutable_set_policy()->set_name(args[2]);
    req.mutable_set_policy()->set_enabled(args[1] == "enable");
    vigil::api::Response resp;
    return call(socket, req, &resp);
  }
  if (args[0] == "policy" && args.size() == 4 && args[1] == "set-mode") {
    if (args[3] != "enforce" && args[3] != "monitor") {
      fprintf(stderr, "vigilctl policy set-mode: enforce or monitor, not %s\n", args[3].c_str());
      return 2;
    }
    vigil::api::Request req;
    req.mutable_set_policy()->set_name(args[2]);
    req.mutable_set_policy()->set_mode(args[3] == "monitor" ? vigil::api::POLICY_MODE_MONITOR
                                                            : vigil::api::POLICY_MODE_ENFORCE);
    vigil::api::Response resp;
    return call(socket, req, &resp);
  }
  if (args[0] == "policy" && args.size() >= 2 && args[1] == "add") {
    return policyAdd(socket, {args.begin() + 2, args.end()});
  }
  if (args[0] == "policy" && args.size() == 3 && args[1] == "delete") {
    vigil::api::Request req;
    req.mutable_delete_policy()->set_name(args[2]);
    vigil::api::Response resp;
    return call(socket, req, &resp);
  }
  if (args[0] == "reload" && args.size() == 1) {
    vigil::api::Request req;
    req.mutable_reload();
    vigil::api::Response resp;
    return call(socket, req, &resp);
  }
  if (args[0] == "events") return events(socket, {args.begin() + 1, args.end()});
  if (args[0] == "rules") {
    return vigil::rules::rulesCommand({args.begin() + 1, args.end()});
  }
  if (args[0] == "probe") {
    bool json = args.size() == 2 && args[1] == "--json";
    if (args.size() > 2 || (args.size() == 2 && !json)) {
      fputs("vigilctl probe: unknown argument (only --json)\n", stderr);
      return 2;
    }
    return probe(json);
  }
  fprintf(stderr, "vigilctl: unknown command '%s' (see vigilctl help)\n", args[0].c_str());
  return 2;
}
