// Rules engine: operators, fields, macros, lists, overrides, exceptions, outputs.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <cstring>

#include "daemon/events/hook_event.h"
#include "daemon/events/json_writer.h"
#include "rules/engine.h"
#include "rules/fields.h"

namespace vigil::rules {
namespace {

api::Event fromJson(const std::string& json) {
  api::Event ev;
  auto st = google::protobuf::util::JsonStringToMessage(json, &ev);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << json;
  return ev;
}

// bash started by nginx, in a container, on a terminal.
api::Event execEvent() {
  return fromJson(R"({"process_exec":{
    "process":{"pid":100,"tid":100,"ppid":90,"uid":1000,"gid":1000,"auid":1000,"binary":"/usr/bin/bash",
      "arguments":"-c id","cwd":"/srv/www","comm":"bash","tty":"pts/3","user_name":"alice",
      "start_time":"2026-11-23T18:40:10.000000000Z",
      "cap":{"effective":["CAP_CHOWN","CAP_SYS_ADMIN"]},
      "container":{"id":"abcdef0123456789abcdef0123456789","name":"web","image":"docker.io/library/nginx:1.25@sha256:00"}},
    "parent":{"pid":90,"comm":"nginx","binary":"/usr/sbin/nginx","arguments":"-g daemon off;"},
    "ancestors":[{"pid":80,"comm":"containerd-shim","binary":"/usr/bin/containerd-shim"},
                 {"pid":1,"comm":"systemd","binary":"/usr/lib/systemd/systemd"}]},
    "node_name":"web-1","time":"2026-11-23T18:40:12.123456789Z"})");
}

// cat opening /etc/shadow, denied by a monitor-mode... no: an enforcing policy.
api::Event openEvent() {
  return fromJson(R"({"process_lsm":{
    "process":{"pid":200,"ppid":100,"uid":0,"auid":4294967295,"binary":"/usr/bin/cat","arguments":"/etc/shadow","comm":"cat"},
    "parent":{"pid":100,"comm":"bash","binary":"/usr/bin/bash"},
    "policy_name":"protect-shadow","hook":"file_open","selector":1,"action":"ACTION_OVERRIDE",
    "outcome":"OUTCOME_DENIED","mode":"POLICY_MODE_ENFORCE","return_errno":13,"path":"/etc/shadow",
    "args":[{"label":"flags","string_arg":"O_RDONLY|O_CLOEXEC"}]},
    "node_name":"web-1","time":"2026-11-23T18:41:00.000000001Z"})");
}

api::Event connectEvent(const std::string& sock = "tcp 10.0.0.5:41234 -> 203.0.113.9:4444") {
  return fromJson(R"({"process_lsm":{
    "process":{"pid":300,"comm":"ssh","binary":"/usr/bin/ssh","arguments":"-p 4444 x@203.0.113.9"},
    "policy_name":"net","hook":"socket_connect","action":"ACTION_POST","outcome":"OUTCOME_POSTED",
    "mode":"POLICY_MODE_MONITOR","args":[{"label":"sock","sock_arg":")" +
                  sock + R"("}]},"time":"2026-11-23T18:42:00Z"})");
}

std::string ruleYaml(const std::string& cond, const std::string& output = "hit") {
  return "- rule: r\n  desc: d\n  condition: >-\n    " + cond + "\n  output: \"" + output +
         "\"\n  priority: INFO\n";
}

std::unique_ptr<RuleEngine> mustLoad(const std::string& yaml, std::vector<Diagnostic>* d = nullptr) {
  std::vector<Diagnostic> local;
  auto e = RuleEngine::loadTexts({{"t.yaml", yaml}}, {}, d ? d : &local);
  EXPECT_TRUE(e.ok()) << e.status().message() << "\n" << yaml;
  if (!e.ok()) return nullptr;
  return std::move(*e);
}

std::vector<api::Event> run(RuleEngine& e, const api::Event& ev) {
  std::vector<api::Event> out;
  e.evaluate(ev, [&](api::Event&& a) { out.push_back(std::move(a)); });
  return out;
}

bool matches(const std::string& cond, const api::Event& ev) {
  auto e = mustLoad(ruleYaml(cond));
  if (!e) return false;
  return !run(*e, ev).empty();
}

struct Case {
  const char* cond;
  bool want;
};

TEST(RulesOperators, StringOperators) {
  auto ev = execEvent();
  const Case cases[] = {
      {"proc.name = bash", true},
      {"proc.name == bash", true},
      {"proc.name = bas", false},
      {"proc.name != sh", true},
      {"proc.name != bash", false},
      {"proc.name < bz", true},
      {"proc.name <= bash", true},
      {"proc.name > bash", false},
      {"proc.name >= bash", true},
      {"proc.cmdline contains \"-c id\"", true},
      {"proc.cmdline contains nope", false},
      {"proc.cmdline icontains \"BASH -C\"", true},
      {"proc.cmdline icontains \"zsh\"", false},
      {"proc.name bcontains 6173", true},  // "as"
      {"proc.name bcontains 7a7a", false},
      {"proc.exepath startswith /usr/", true},
      {"proc.exepath startswith /bin/", false},
      {"proc.name bstartswith 6261", true},  // "ba"
      {"proc.name bstartswith 6173", false},
      {"proc.exepath endswith /bash", true},
      {"proc.exepath endswith /sh", false},
      {"proc.exepath glob '/usr/*/ba?h'", true},
      {"proc.exepath glob '/usr/*/zsh'", false},
      {"proc.exepath iglob '/USR/*/BASH'", true},
      {"proc.exepath glob '/USR/*/BASH'", false},
      {"proc.name regex 'ba[s]h'", true},
      {"proc.name regex 'as'", false},  // anchored at both ends, as in Falco
      {"proc.name in (sh, bash)", true},
      {"proc.name in (sh, zsh)", false},
      {"proc.name in ()", false},
      {"proc.aname intersects (nginx, apache)", true},
      {"proc.aname intersects (apache)", false},
      {"proc.cwd pmatch (/srv, /opt)", true},
      {"proc.cwd pmatch (/sr)", false},
      {"proc.cwd pmatch (/srv/www/)", true},
      {"proc.pname exists", true},
      {"fd.name exists", false},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;
}

TEST(RulesOperators, NumberAndAddressOperators) {
  auto ev = execEvent();
  const Case cases[] = {
      {"proc.pid = 100", true},   {"proc.pid != 100", false}, {"proc.pid < 101", true},
      {"proc.pid <= 99", false},  {"proc.pid > 99", true},    {"proc.pid >= 101", false},
      {"proc.pid in (1, 100)", true}, {"proc.pid in (1, 2)", false},
      {"proc.apid intersects (80)", true},
      {"proc.tty = 34819", true},  // pts/3: major 136, minor 3
      {"proc.tty != 0", true},
      {"user.loginuid = 1000", true},
      {"proc.duration > 2000000000", true},
      {"proc.duration > 3000000000", false},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;

  auto net = connectEvent();
  const Case ncases[] = {
      {"evt.type = connect", true},
      {"fd.sip = 203.0.113.9", true},
      {"fd.sip = \"203.0.113.10\"", false},
      {"fd.cip = 10.0.0.5", true},
      {"fd.snet in (\"10.0.0.0/8\", \"192.168.0.0/16\")", false},
      {"fd.cnet = \"10.0.0.0/8\"", true},
      {"fd.net != \"127.0.0.0/8\"", true},
      {"fd.sport = 4444", true},
      {"fd.lport = 41234", true},
      {"fd.sport in (22, 443)", false},
      {"fd.l4proto = tcp", true},
      {"fd.typechar = 4", true},
      {"fd.type = ipv4", true},
      {"fd.name = \"10.0.0.5:41234->203.0.113.9:4444\"", true},
  };
  for (const auto& c : ncases) EXPECT_EQ(matches(c.cond, net), c.want) << c.cond;
  EXPECT_TRUE(matches("fd.sip = \"2001:db8::1\"", connectEvent("tcp [2001:db8::5]:5000 -> [2001:db8::1]:22")));
  EXPECT_TRUE(matches("fd.snet = \"2001:db8::/32\"", connectEvent("tcp [2001:db8::5]:5000 -> [2001:db8::1]:22")));
}

TEST(RulesOperators, BooleanLogicAndPrecedence) {
  auto ev = execEvent();
  const Case cases[] = {
      {"proc.name = bash and proc.pname = nginx", true},
      {"proc.name = bash and proc.pname = apache", false},
      {"proc.name = zsh or proc.pname = nginx", true},
      {"not proc.name = zsh", true},
      {"not proc.name = bash", false},
      // and binds tighter than or
      {"proc.name = zsh and proc.pid = 1 or proc.pid = 100", true},
      {"proc.name = zsh and (proc.pid = 1 or proc.pid = 100)", false},
      {"not (proc.name = zsh or proc.name = sh)", true},
      {"not not proc.name = bash", true},
      // a field without a value (<NA>) fails every comparison, != included
      {"fd.name != /etc/shadow", false},
      {"not fd.name = /etc/shadow", true},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;
}

TEST(RulesOperators, Transformers) {
  auto ev = execEvent();
  const Case cases[] = {
      {"toupper(proc.name) = BASH", true},
      {"tolower(toupper(proc.name)) = bash", true},
      {"tolower(proc.cmdline) contains \"bash -c\"", true},
      {"basename(proc.exepath) = bash", true},
      {"basename(proc.exepath) = /usr/bin/bash", false},
      {"len(proc.name) = 4", true},
      {"len(proc.name) > 4", false},
      {"toupper(proc.aname) in (NGINX)", true},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;
}

TEST(RulesFields, ProcessLineageUserContainer) {
  auto ev = execEvent();
  const Case cases[] = {
      {"evt.type = execve and evt.dir = <", true},
      {"evt.res = SUCCESS and evt.rawres = 0", true},
      {"evt.hostname = web-1", true},
      {"evt.num > 0", true},
      {"proc.exe = /usr/bin/bash and proc.exepath = /usr/bin/bash", true},
      {"proc.args = \"-c id\"", true},
      {"proc.cmdline = \"bash -c id\"", true},
      {"proc.ppid = 90 and proc.pid = 100", true},
      {"proc.pcmdline = \"nginx -g daemon off;\"", true},
      {"proc.pexe = /usr/sbin/nginx and proc.pexepath = /usr/sbin/nginx", true},
      {"proc.aname[1] = nginx and proc.aname[2] = containerd-shim and proc.aname[3] = systemd", true},
      {"proc.aname[4] exists", false},
      {"proc.aname = systemd", true},
      {"proc.aname = bash", false},  // ancestors only, not the process itself
      {"proc.aexepath[2] = /usr/bin/containerd-shim", true},
      {"proc.acmdline[1] = \"nginx -g daemon off;\"", true},
      {"user.name = alice and user.uid = 1000 and group.gid = 1000", true},
      {"thread.cap_effective contains CAP_SYS_ADMIN", true},
      {"container.id = abcdef012345", true},
      {"container.full_id = abcdef0123456789abcdef0123456789", true},
      {"container.name = web", true},
      {"container.image.repository = docker.io/library/nginx", true},
      {"container.image.tag = \"1.25\"", true},
      {"container.id != host", true},
      {"evt.time = \"18:40:12.123456789\"", true},
      {"evt.rawtime = 1795459212123456789", true},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;
}

TEST(RulesFields, LsmEventsAndVigilFields) {
  auto ev = openEvent();
  const Case cases[] = {
      {"evt.type = openat", true},
      {"evt.type in (open, openat, openat2)", true},
      {"fd.name = /etc/shadow and fd.directory = /etc and fd.filename = shadow", true},
      {"fd.typechar = f and fd.type = file", true},
      {"evt.res = EACCES and evt.rawres = -13 and evt.failed = true", true},
      {"evt.arg.flags contains O_RDONLY", true},
      {"evt.arg[flags] contains O_RDONLY", true},
      {"evt.arg[0] contains O_RDONLY", true},
      {"evt.arg.mode exists", false},
      {"policy.name = protect-shadow and policy.action = Override and policy.mode = enforce", true},
      {"policy.outcome = denied and policy.selector = 1", true},
      {"hook = file_open", true},
      {"user.loginuid = -1", true},
      {"container.id = host and container.name = host", true},
      {"proc.pname = bash", true},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;
  // Vigil fields have no value on events that are not policy decisions.
  EXPECT_FALSE(matches("policy.name exists", execEvent()));
}

// A kprobe on linkat as vigild reports it (hooks_enforce.sh's shape), with a
// return probe's value.
api::Event kprobeEvent(const std::string& function = "sys_linkat") {
  return fromJson(R"({"process_kprobe":{
    "process":{"pid":400,"ppid":100,"uid":1000,"binary":"/usr/bin/ln","arguments":"/etc/shadow /tmp/s","comm":"ln"},
    "parent":{"pid":100,"comm":"bash","binary":"/usr/bin/bash"},
    "function_name":")" + function + R"(","policy_name":"no-links","selector":2,"action":"ACTION_SIGNAL",
    "outcome":"OUTCOME_SIGNALED","mode":"POLICY_MODE_ENFORCE","mechanism":"fexit","signal":10,
    "message":"link to /etc","tags":["mitre:T1222","files"],
    "args":[{"label":"olddfd","int_arg":"-100"},{"label":"oldname","file_arg":"/etc/shadow"},
            {"label":"newname","string_arg":"/tmp/s"},{"label":"peer","sock_arg":"tcp 10.0.0.5:41234 -> 203.0.113.9:4444"}],
    "return":{"int_arg":"-1"}},
    "node_name":"web-1","time":"2026-11-23T18:43:00Z"})");
}

TEST(RulesFields, KprobeEventsAndVigilFields) {
  auto ev = kprobeEvent();
  const Case cases[] = {
      {"evt.type = linkat", true},
      {"evt.type in (link, linkat)", true},
      {"evt.type = sys_linkat", false},
      {"hook = sys_linkat and policy.hook = sys_linkat", true},
      {"proc.name = ln and proc.pname = bash and proc.pid = 400 and user.uid = 1000", true},
      {"proc.cmdline = \"ln /etc/shadow /tmp/s\"", true},
      {"fd.name = /etc/shadow and fd.directory = /etc and fd.filename = shadow and fd.type = file", true},
      {"evt.arg.oldname = /etc/shadow and evt.arg.newname = /tmp/s and evt.arg.olddfd = -100", true},
      {"evt.arg[1] = /etc/shadow", true},
      {"evt.args contains \"oldname=/etc/shadow\"", true},
      {"fd.sip = 203.0.113.9 and fd.rport = 4444 and fd.sport = 4444 and fd.cip = 10.0.0.5 and fd.cport = 41234", true},
      {"fd.l4proto = tcp", true},
      {"evt.rawres = -1 and evt.res = EPERM and evt.failed = true", true},
      {"policy.name = no-links and policy.action = Signal and policy.mode = enforce", true},
      {"policy.outcome = signaled and policy.selector = 2 and policy.signal = 10", true},
      {"policy.message = \"link to /etc\" and policy.tags = files", true},
      {"evt.is_open_read exists or fd.num exists", false},
  };
  for (const auto& c : cases) EXPECT_EQ(matches(c.cond, ev), c.want) << c.cond;
  // Without a return value evt.rawres is -return_errno.
  auto noret = kprobeEvent();
  noret.mutable_process_kprobe()->clear_return_();
  EXPECT_TRUE(matches("evt.rawres = 0 and evt.res = SUCCESS and evt.failed = false", noret));
  noret.mutable_process_kprobe()->set_return_errno(-2);
  EXPECT_TRUE(matches("evt.rawres = -2 and evt.res = ENOENT", noret));
  EXPECT_TRUE(matches("policy.outcome = would_signal",
                      [] {
                        auto w = kprobeEvent();
                        w.mutable_process_kprobe()->set_outcome(api::OUTCOME_WOULD_SIGNAL);
                        return w;
                      }()));
}

TEST(RulesFields, KprobeAndLsmEventTypes) {
  EXPECT_EQ(kprobeEventType("sys_linkat"), "linkat");
  EXPECT_EQ(kprobeEventType("__x64_sys_openat"), "openat");
  EXPECT_EQ(kprobeEventType("__arm64_sys_ptrace"), "ptrace");
  EXPECT_EQ(kprobeEventType("security_file_permission"), "security_file_permission");
  EXPECT_EQ(kprobeEventType("sys_"), "sys_");
  EXPECT_EQ(eventTypeOf(kprobeEvent("security_file_permission")), "security_file_permission");
  EXPECT_EQ(eventTypeOf(kprobeEvent("__x64_sys_unlinkat")), "unlinkat");
  EXPECT_TRUE(matches("evt.type = security_file_permission and fd.name = /etc/shadow",
                      kprobeEvent("security_file_permission")));
  const std::pair<const char*, const char*> lsm[] = {
      {"path_unlink", "unlink"}, {"path_rmdir", "rmdir"},   {"path_mkdir", "mkdir"},
      {"path_rename", "rename"}, {"path_symlink", "symlink"}, {"path_link", "link"},
      {"task_kill", "kill"},     {"socket_bind", "bind"},   {"socket_listen", "listen"},
      {"sb_mount", "mount"},     {"ptrace_access_check", "ptrace"}, {"socket_connect", "connect"},
      {"file_open", "openat"},   {"socket_create", "socket"}, {"file_permission", "file_permission"},
      {"bprm_check_security", "bprm_check_security"}, {"capable", "capable"},
  };
  for (const auto& [hook, type] : lsm) {
    auto ev = openEvent();
    ev.mutable_process_lsm()->set_hook(hook);
    EXPECT_EQ(eventTypeOf(ev), type) << hook;
    EXPECT_TRUE(matches(std::string("evt.type = ") + type + " and hook = " + hook, ev)) << hook;
  }
  // A rule on a type only policies yield is dormant, and says which policy gives it.
  std::vector<Diagnostic> d;
  auto e = mustLoad(ruleYaml("evt.type in (symlink, symlinkat)"), &d);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->rules()[0].dormant);
  ASSERT_FALSE(e->rules()[0].problems.empty());
  EXPECT_EQ(e->rules()[0].problems.back(),
            "Vigil's built-in hooks emit no symlink/symlinkat events; a policy on lsmhooks path_symlink or "
            "kprobes sys_symlink, sys_symlinkat does");
  auto sym = openEvent();
  sym.mutable_process_lsm()->set_hook("path_symlink");
  EXPECT_EQ(run(*e, sym).size(), 1u);
  EXPECT_EQ(run(*e, kprobeEvent("sys_symlinkat")).size(), 1u);
  EXPECT_TRUE(run(*e, kprobeEvent("sys_linkat")).empty());
}

TEST(RulesOutput, KprobeAlertNamesItsSource) {
  auto e = mustLoad(ruleYaml("evt.type = linkat", "%proc.name %evt.type %fd.name %policy.name"));
  ASSERT_TRUE(e);
  auto a = run(*e, kprobeEvent());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].rule_alert().output(), "ln linkat /etc/shadow no-links");
  EXPECT_EQ(a[0].rule_alert().source(), "process_kprobe");
  EXPECT_EQ(a[0].rule_alert().process().binary(), "/usr/bin/ln");
  EXPECT_EQ(a[0].rule_alert().parent().binary(), "/usr/bin/bash");
}

TEST(RulesCompile, UnknownAndUnavailableFieldsNameRuleAndField) {
  std::vector<Diagnostic> d;
  auto e = RuleEngine::loadTexts({{"f.yaml", ruleYaml("evt.type = openat and fd.nameraw = /etc")}}, {}, &d);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("f.yaml:4:27: rule 'r': field 'fd.nameraw' is not provided by Vigil"),
            std::string::npos)
      << e.status().message();
  e = RuleEngine::loadTexts({{"f.yaml", ruleYaml("proc.nonsense = 1")}}, {}, &d);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("unknown field 'proc.nonsense'"), std::string::npos);
  // Type errors are compile errors too.
  for (const char* bad : {"proc.pid contains 1", "proc.pid = abc", "fd.sip = notanip", "proc.name regex '('",
                          "len(proc.pid) = 1", "proc.aname[x] = a", "proc.name = (a, b)", "proc.name in a"}) {
    EXPECT_FALSE(RuleEngine::loadTexts({{"f.yaml", ruleYaml(bad)}}).ok()) << bad;
  }
}

TEST(RulesCompile, SkipIfUnknownFilterSkipsWithWarning) {
  std::string y = ruleYaml("evt.type = openat and fd.nameraw contains x") + "  skip-if-unknown-filter: true\n" +
                  "- rule: ok\n  desc: d\n  condition: evt.type = openat\n  output: o\n  priority: INFO\n";
  std::vector<Diagnostic> d;
  auto e = mustLoad(y, &d);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->compiledRules(), 1u);
  ASSERT_EQ(e->rules().size(), 2u);
  EXPECT_EQ(e->rules()[0].state, RuleInfo::State::kSkipped);
  bool warned = false;
  for (const auto& x : d) warned |= x.warning && x.message.find("fd.nameraw") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(RulesCompile, ParseErrorsPointIntoTheFile) {
  struct {
    const char* cond;
    const char* msg;
    int col;
  } cases[] = {
      {"(proc.name = a", "')' expected", 19},
      {"proc.name bash", "operator expected", 15},
      {"proc.name = 'abc", "unterminated", 17},
      {"proc.name = a and", "expression expected", 22},
      {"proc.name in a", "'(' expected", 18},
      {"proc.name = a b", "unexpected 'b'", 19},
  };
  for (const auto& c : cases) {
    auto e = RuleEngine::loadTexts({{"p.yaml", ruleYaml(c.cond)}});
    ASSERT_FALSE(e.ok()) << c.cond;
    std::string m(e.status().message());
    EXPECT_NE(m.find(c.msg), std::string::npos) << c.cond << " -> " << m;
    EXPECT_NE(m.find("p.yaml:4:" + std::to_string(c.col) + ":"), std::string::npos) << c.cond << " -> " << m;
  }
  auto e = RuleEngine::loadTexts({{"y.yaml", "- rule: [unclosed\n"}});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("y.yaml:"), std::string::npos);
  e = RuleEngine::loadTexts({{"y.yaml", "- rule: r\n  condition: evt.type = execve\n"}});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("y.yaml:1:3: rule 'r': 'output' missing"), std::string::npos)
      << e.status().message();
}

TEST(RulesMacrosLists, ExpandedAtCompileTime) {
  auto e = mustLoad(R"(
- list: shells
  items: [bash, zsh]
- list: more_shells
  items: [shells, '"fish"']
- macro: spawned
  condition: evt.type = execve
- macro: shell
  condition: proc.name in (more_shells)
- rule: shell spawned
  desc: d
  condition: spawned and shell and not proc.name in (empty_list)
  output: "%proc.name"
  priority: WARNING
- list: empty_list
  items: []
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(run(*e, execEvent()).size(), 1u);
  EXPECT_EQ(run(*e, openEvent()).size(), 0u);
  EXPECT_EQ(e->rules()[0].event_types, std::vector<std::string>{"execve"});
  // Quoted values are never list names.
  EXPECT_FALSE(matches("proc.name in (\"shell_names\")", execEvent()));

  std::vector<Diagnostic> d;
  EXPECT_FALSE(RuleEngine::loadTexts({{"m.yaml", ruleYaml("evt.type = execve and no_such_macro")}}, {}, &d).ok());
  bool found = false;
  for (const auto& x : d) found |= x.message.find("undefined macro 'no_such_macro'") != std::string::npos;
  EXPECT_TRUE(found);
  auto loop = RuleEngine::loadTexts({{"m.yaml", "- macro: a\n  condition: b\n- macro: b\n  condition: a\n" +
                                                    ruleYaml("a")}});
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("refers to itself"), std::string::npos);
}

const char* kBase = R"(
- list: allowed
  items: [nginx]
- macro: interesting
  condition: proc.name = bash
- rule: R
  desc: base
  condition: evt.type = execve and interesting
  output: "base %proc.name"
  priority: NOTICE
  tags: [a]
)";

TEST(RulesOverrides, AppendAndReplace) {
  // Deprecated append: true on list, macro and rule.
  auto e = mustLoad(std::string(kBase) + R"(
- macro: interesting
  condition: or proc.name = zsh
  append: true
- rule: R
  condition: and not proc.pname in (allowed)
  append: true
- list: allowed
  items: [apache]
  append: true
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(run(*e, execEvent()).size(), 0u);  // parent nginx is allowed now
  auto zsh = execEvent();
  zsh.mutable_process_exec()->mutable_process()->set_comm("zsh");
  zsh.mutable_process_exec()->mutable_parent()->set_comm("php-fpm");
  EXPECT_EQ(run(*e, zsh).size(), 1u);

  // override: replace and append per key.
  e = mustLoad(std::string(kBase) + R"(
- rule: R
  condition: evt.type = execve and proc.name = nope
  output: "replaced %proc.pname"
  priority: CRITICAL
  tags: [b]
  override:
    condition: replace
    output: replace
    priority: replace
    tags: append
- rule: R
  condition: or proc.name = bash
  override:
    condition: append
- list: allowed
  items: [x]
  override:
    items: replace
)");
  ASSERT_TRUE(e);
  auto a = run(*e, execEvent());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].rule_alert().output(), "replaced nginx");
  EXPECT_EQ(a[0].rule_alert().priority(), "CRITICAL");
  EXPECT_EQ(a[0].rule_alert().tags_size(), 2);

  // Disabling, and a redefinition that replaces the whole rule.
  e = mustLoad(std::string(kBase) + "- rule: R\n  enabled: false\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->compiledRules(), 0u);
  EXPECT_EQ(e->rules()[0].state, RuleInfo::State::kDisabled);
  e = mustLoad(std::string(kBase) + "- rule: R\n  desc: new\n  condition: evt.type = openat\n  output: o\n  priority: INFO\n");
  ASSERT_TRUE(e);
  EXPECT_EQ(run(*e, execEvent()).size(), 0u);
  EXPECT_EQ(run(*e, openEvent()).size(), 1u);
  EXPECT_EQ(e->rules().size(), 1u);

  // Later files override earlier ones.
  auto two = RuleEngine::loadTexts({{"a.yaml", kBase}, {"b.yaml", "- rule: R\n  enabled: false\n"}});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ((*two)->compiledRules(), 0u);
}

TEST(RulesOverrides, Errors) {
  struct {
    std::string yaml;
    const char* msg;
  } cases[] = {
      {"- list: nope\n  items: [a]\n  append: true\n", "t.yaml:1:3: list 'nope' has append: true but no list"},
      {"- macro: nope\n  condition: a\n  override:\n    condition: append\n", "no macro by that name"},
      {"- rule: nope\n  condition: a\n  append: true\n", "no rule by that name"},
      {std::string(kBase) + "- rule: R\n  output: x\n  priority: INFO\n  override:\n    output: replace\n",
       "key 'priority' is not listed in override"},
      {std::string(kBase) + "- rule: R\n  priority: INFO\n  override:\n    priority: append\n",
       "'priority' cannot be overridden with append"},
      {"- required_engine_version: 9.0.0\n", "rules require engine version 9.0.0"},
      {"- rule: x\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: LOUD\n",
       "t.yaml:5:13: rule 'x': unknown priority 'LOUD'"},
      {"- bogus: 1\n", "unknown item 'bogus'"},
  };
  for (const auto& c : cases) {
    auto e = RuleEngine::loadTexts({{"t.yaml", c.yaml}});
    ASSERT_FALSE(e.ok()) << c.yaml;
    EXPECT_NE(e.status().message().find(c.msg), std::string::npos) << e.status().message();
  }
  EXPECT_TRUE(RuleEngine::loadTexts({{"t.yaml", "- required_engine_version: 0.26.0\n- required_engine_version: 17\n"}}).ok());
}

TEST(RulesExceptions, TuplesSingleFieldAndLists) {
  auto e = mustLoad(R"(
- list: web_servers
  items: [nginx, apache2]
- rule: shell
  desc: d
  condition: evt.type = execve and proc.name in (bash, sh)
  output: "%proc.name"
  priority: WARNING
  exceptions:
    - name: known_parent_and_dir
      fields: [proc.pname, proc.cwd]
      comps: [=, pmatch]
      values:
        - [php-fpm, [/srv/app]]
    - name: by_args
      fields: proc.args
      values: ["-c uptime"]
    - name: by_list
      fields: ["proc.aname[1]"]
      comps: [in]
      values: [[web_servers]]
- rule: shell
  exceptions:
    - name: known_parent_and_dir
      values:
        - [bash, [/root]]
  append: true
)");
  ASSERT_TRUE(e);
  EXPECT_EQ(run(*e, execEvent()).size(), 0u);  // parent nginx is in web_servers
  auto ev = execEvent();
  ev.mutable_process_exec()->mutable_parent()->set_comm("php-fpm");
  EXPECT_EQ(run(*e, ev).size(), 1u);
  ev.mutable_process_exec()->mutable_process()->set_cwd("/srv/app/public");
  EXPECT_EQ(run(*e, ev).size(), 0u);  // known_parent_and_dir
  ev.mutable_process_exec()->mutable_process()->set_cwd("/tmp");
  ev.mutable_process_exec()->mutable_process()->set_arguments("-c uptime");
  EXPECT_EQ(run(*e, ev).size(), 0u);  // by_args
  ev.mutable_process_exec()->mutable_process()->set_arguments("-c id");
  ev.mutable_process_exec()->mutable_parent()->set_comm("bash");
  ev.mutable_process_exec()->mutable_process()->set_cwd("/root/x");
  EXPECT_EQ(run(*e, ev).size(), 0u);  // appended value
  ev.mutable_process_exec()->mutable_process()->set_cwd("/home");
  EXPECT_EQ(run(*e, ev).size(), 1u);

  auto bad = RuleEngine::loadTexts({{"x.yaml", ruleYaml("evt.type = execve") +
                                                   "  exceptions:\n    - name: e\n      fields: [fd.nameraw]\n"
                                                   "      values: [[a]]\n"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fd.nameraw"), std::string::npos);
  bad = RuleEngine::loadTexts({{"x.yaml", ruleYaml("evt.type = execve") +
                                              "  exceptions:\n    - name: e\n      fields: [proc.name, proc.pname]\n"
                                              "      values: [[a]]\n"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("1 values for 2 fields"), std::string::npos);
}

TEST(RulesOutput, RendersFieldsAndFillsTheAlert) {
  auto e = mustLoad(R"(
- rule: Shell from web server
  desc: d
  condition: evt.type = execve and proc.pname = nginx
  output: "Shell %proc.name (%proc.cmdline) parent=%proc.pname gp=%proc.aname[2] file=%fd.name flags=%evt.arg.flags 100%% sure. uid=%user.uid"
  priority: warning
  tags: [shell, T1059]
)");
  ASSERT_TRUE(e);
  auto a = run(*e, execEvent());
  ASSERT_EQ(a.size(), 1u);
  const auto& r = a[0].rule_alert();
  EXPECT_EQ(r.rule(), "Shell from web server");
  EXPECT_EQ(r.priority(), "WARNING");
  EXPECT_EQ(syslogSeverity(Priority::kWarning), 4);
  EXPECT_EQ(r.output(),
            "Shell bash (bash -c id) parent=nginx gp=containerd-shim file=<NA> flags=<NA> 100%% sure. uid=1000");
  EXPECT_EQ(r.output_fields().at("proc.aname[2]"), "containerd-shim");
  EXPECT_EQ(r.output_fields().at("fd.name"), "<NA>");
  EXPECT_EQ(r.output_fields().at("evt.arg.flags"), "<NA>");
  EXPECT_EQ(r.output_fields().at("user.uid"), "1000");
  EXPECT_EQ(r.tags_size(), 2);
  EXPECT_EQ(r.source(), "process_exec");
  EXPECT_EQ(r.process().pid(), 100u);
  EXPECT_EQ(r.parent().comm(), "nginx");
  EXPECT_EQ(a[0].node_name(), "web-1");
  EXPECT_EQ(a[0].time(), "2026-11-23T18:40:12.123456789Z");

  auto bad = RuleEngine::loadTexts({{"o.yaml", ruleYaml("evt.type = execve", "x=%proc.sname")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("o.yaml:5:11: rule 'r': output: field 'proc.sname' is not provided"),
            std::string::npos)
      << bad.status().message();
}

// The engine reuses one event for its alerts: nothing of an alert may leak
// into the next, whether the callee copies the alert or moves it away.
TEST(RulesOutput, AlertsCarryNothingFromThePreviousOne) {
  auto e = mustLoad(R"(
- rule: a
  desc: d
  condition: evt.type = openat
  output: "a %proc.name %fd.name %proc.pname"
  priority: WARNING
  tags: [t1, t2, t3]
- rule: b
  desc: d
  condition: evt.type = openat
  output: "b %user.uid"
  priority: INFO
  tags: [t4]
- rule: c
  desc: d
  condition: evt.type = connect
  output: "c %proc.name"
  priority: INFO
)");
  ASSERT_TRUE(e);
  for (bool move : {false, true}) {
    SCOPED_TRACE(move ? "callee moves" : "callee copies");
    std::vector<api::Event> got;
    auto keep = [&](api::Event&& a) { got.push_back(move ? std::move(a) : a); };
    e->evaluate(openEvent(), keep);
    e->evaluate(openEvent(), keep);
    e->evaluate(connectEvent(), keep);
    ASSERT_EQ(got.size(), 5u);
    for (int i : {0, 2}) {
      const auto& a = got[static_cast<size_t>(i)].rule_alert();
      EXPECT_EQ(a.rule(), "a");
      EXPECT_EQ(a.output(), "a cat /etc/shadow bash");
      EXPECT_EQ(a.output_fields().size(), 3u);
      EXPECT_EQ(a.tags_size(), 3);
      EXPECT_EQ(a.parent().comm(), "bash");
    }
    for (int i : {1, 3}) {
      const auto& a = got[static_cast<size_t>(i)].rule_alert();
      EXPECT_EQ(a.rule(), "b");
      EXPECT_EQ(a.priority(), "INFORMATIONAL");
      EXPECT_EQ(a.output(), "b 0");
      ASSERT_EQ(a.output_fields().size(), 1u);
      EXPECT_EQ(a.output_fields().at("user.uid"), "0");
      ASSERT_EQ(a.tags_size(), 1);
      EXPECT_EQ(a.tags(0), "t4");
    }
    const auto& c = got[4];
    EXPECT_EQ(c.rule_alert().output(), "c ssh");
    EXPECT_EQ(c.rule_alert().tags_size(), 0);
    EXPECT_FALSE(c.rule_alert().has_parent());  // the connect event has none
    EXPECT_EQ(c.rule_alert().process().pid(), 300u);
    EXPECT_EQ(c.time(), "2026-11-23T18:42:00Z");
    EXPECT_EQ(c.node_name(), "");
    EXPECT_EQ(c.rule_alert().source(), "process_lsm");
  }
}

TEST(RulesEngine, IndexedByEventTypeAndCounted) {
  auto e = mustLoad(R"(
- rule: exec
  desc: d
  condition: evt.type = execve
  output: o
  priority: INFO
- rule: any
  desc: d
  condition: proc.name exists
  output: o
  priority: INFO
- rule: open
  desc: d
  condition: evt.type in (openat) and fd.name startswith /etc
  output: o
  priority: INFO
- rule: symlink
  desc: d
  condition: evt.type = symlinkat
  output: o
  priority: INFO
)");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->rules()[3].dormant);
  EXPECT_FALSE(e->rules()[0].dormant);
  auto a = run(*e, execEvent());
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].rule_alert().rule(), "exec");  // rule order kept
  EXPECT_EQ(a[1].rule_alert().rule(), "any");
  a = run(*e, openEvent());
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].rule_alert().rule(), "any");
  EXPECT_EQ(a[1].rule_alert().rule(), "open");
  api::Event status;
  status.mutable_status()->set_message("x");
  EXPECT_TRUE(run(*e, status).empty());  // status events are not evaluated
  auto s = e->stats();
  EXPECT_EQ(s.events, 3u);
  EXPECT_EQ(s.alerts, 4u);
  EXPECT_EQ(s.rule_evaluations, 4u);  // exec: 2 rules, open: 2 rules; never the symlink rule
  EXPECT_EQ(s.runtime_errors, 0u);
}

TEST(RulesEngine, ProcNameIndexSkipsOnlyRulesThatCannotMatch) {
  auto e = mustLoad(R"(
- list: shells
  items: [bash, zsh]
- macro: shell
  condition: proc.name in (shells)
- rule: needs shell
  desc: d
  condition: evt.type = execve and shell and proc.pid > 0
  output: o
  priority: INFO
- rule: needs find or grep
  desc: d
  condition: evt.type = execve and ((proc.name = grep and proc.args contains x) or (proc.name = find))
  output: o
  priority: INFO
- rule: not shell
  desc: d
  condition: evt.type = execve and not shell
  output: o
  priority: INFO
- rule: name or parent
  desc: d
  condition: evt.type = execve and (proc.name = grep or proc.pname = nginx)
  output: o
  priority: INFO
- rule: lowercased
  desc: d
  condition: evt.type = execve and tolower(proc.name) = bash
  output: o
  priority: INFO
)");
  ASSERT_TRUE(e);
  auto names = [&](const api::Event& ev) {
    std::vector<std::string> r;
    for (const auto& a : run(*e, ev)) r.push_back(a.rule_alert().rule());
    return r;
  };
  auto ev = execEvent();  // bash, parent nginx
  EXPECT_EQ(names(ev), (std::vector<std::string>{"needs shell", "name or parent", "lowercased"}));
  uint64_t before = e->stats().rule_evaluations;
  ev.mutable_process_exec()->mutable_process()->set_comm("find");
  EXPECT_EQ(names(ev), (std::vector<std::string>{"needs find or grep", "not shell", "name or parent"}));
  // find: "needs shell" is skipped by the index; the other four run.
  EXPECT_EQ(e->stats().rule_evaluations - before, 4u);
  ev.mutable_process_exec()->mutable_process()->set_comm("ls");
  ev.mutable_process_exec()->mutable_parent()->set_comm("sshd");
  EXPECT_EQ(names(ev), (std::vector<std::string>{"not shell"}));
  // No process name at all: only rules that need none run, and still match.
  ev.mutable_process_exec()->mutable_process()->clear_comm();
  ev.mutable_process_exec()->mutable_process()->clear_binary();
  EXPECT_EQ(names(ev), (std::vector<std::string>{"not shell"}));
}

TEST(RulesEngine, PathIndexSkipsOnlyRulesThatCannotMatch) {
  auto e = mustLoad(R"(
- rule: shadow
  desc: d
  condition: evt.type = openat and fd.name in (/etc/shadow, /etc/gshadow)
  output: o
  priority: INFO
- rule: under etc ssh
  desc: d
  condition: evt.type = openat and (fd.name startswith /etc/ssh/ or fd.directory = /root/.ssh)
  output: o
  priority: INFO
- rule: pmatch var
  desc: d
  condition: evt.type = openat and fd.name pmatch (/var/lib) and proc.pid > 0
  output: o
  priority: INFO
- rule: any file
  desc: d
  condition: evt.type = openat and not fd.name startswith /proc/
  output: o
  priority: INFO
)");
  ASSERT_TRUE(e);
  auto run1 = [&](const std::string& path, uint64_t* ran) {
    auto ev = openEvent();
    ev.mutable_process_lsm()->set_path(path);
    uint64_t before = e->stats().rule_evaluations;
    std::vector<std::string> r;
    for (const auto& a : run(*e, ev)) r.push_back(a.rule_alert().rule());
    *ran = e->stats().rule_evaluations - before;
    return r;
  };
  uint64_t ran = 0;
  EXPECT_EQ(run1("/etc/shadow", &ran), (std::vector<std::string>{"shadow", "any file"}));
  EXPECT_EQ(ran, 2u);  // the ssh and /var/lib rules are skipped
  EXPECT_EQ(run1("/etc/ssh/sshd_config", &ran), (std::vector<std::string>{"under etc ssh", "any file"}));
  EXPECT_EQ(ran, 2u);
  EXPECT_EQ(run1("/root/.ssh/id_rsa", &ran), (std::vector<std::string>{"under etc ssh", "any file"}));
  EXPECT_EQ(run1("/root/.ssh/keys/id_rsa", &ran), (std::vector<std::string>{"any file"}));
  EXPECT_EQ(run1("/var/lib", &ran), (std::vector<std::string>{"pmatch var", "any file"}));
  EXPECT_EQ(run1("/var/lib/x", &ran), (std::vector<std::string>{"pmatch var", "any file"}));
  EXPECT_EQ(run1("/var/library", &ran), (std::vector<std::string>{"any file"}));
  EXPECT_EQ(run1("/proc/1/status", &ran), (std::vector<std::string>{}));
  EXPECT_EQ(ran, 1u);
}

// socket_connect as vigild reports it: the socket (not bound or connected yet
// when connect is decided) and the sockaddr argument, the destination.
api::Event connectArgsEvent(const std::string& args) {
  return fromJson(R"({"process_lsm":{
    "process":{"pid":310,"comm":"kworkerd","binary":"/tmp/.cache/kworkerd"},
    "policy_name":"watch-connect","hook":"socket_connect","action":"ACTION_POST","outcome":"OUTCOME_POSTED",
    "mode":"POLICY_MODE_ENFORCE","args":[)" + args + R"(]},"time":"2026-11-23T18:42:00Z"})");
}

TEST(RulesFields, SocketAndSockaddrArguments) {
  auto both = connectArgsEvent(R"({"label":"sock","sock_arg":"tcp 0.0.0.0:0 -> 0.0.0.0:0"},
                                  {"label":"address","sock_arg":"inet 203.0.113.9:4444"})");
  for (const char* cond : {"fd.sip = 203.0.113.9", "fd.sport = 4444", "fd.typechar = 4", "fd.type = ipv4",
                           "fd.l4proto = tcp", "fd.name = 203.0.113.9:4444", "not fd.cip exists",
                           "not fd.cport exists", "fd.ip = 203.0.113.9", "not fd.snet in (\"10.0.0.0/8\")"}) {
    EXPECT_TRUE(matches(std::string("evt.type = connect and ") + cond, both)) << cond;
  }
  auto bound = connectArgsEvent(R"({"sock_arg":"udp 10.0.2.15:5353 -> 0.0.0.0:0"},
                                   {"sock_arg":"inet6 [2001:db8::7]:53"})");
  for (const char* cond : {"fd.sip = 2001:db8::7", "fd.typechar = 6", "fd.cip = 10.0.2.15", "fd.cport = 5353",
                           "fd.l4proto = udp", "fd.name = \"10.0.2.15:5353->2001:db8::7:53\""}) {
    EXPECT_TRUE(matches(std::string("evt.type = connect and ") + cond, bound)) << cond;
  }
  // Only the sockaddr: no protocol; a malformed one is a runtime error, not a match.
  EXPECT_TRUE(matches("fd.sip = 203.0.113.9 and not fd.l4proto exists",
                      connectArgsEvent(R"({"sock_arg":"inet 203.0.113.9:80"})")));
  auto e = mustLoad(ruleYaml("fd.sport = 80"));
  ASSERT_TRUE(e);
  EXPECT_TRUE(run(*e, connectArgsEvent(R"({"sock_arg":"inet 203.0.113.9"})")).empty());
  EXPECT_EQ(e->stats().runtime_errors, 1u);
  // The shipped rule fires on a public destination, not on a private one.
  auto shipped = RuleEngine::load({std::string(VIGIL_SOURCE_DIR) + "/rules/default/vigil_rules.yaml"});
  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(run(**shipped, both).size(), 1u);
  EXPECT_TRUE(run(**shipped, connectArgsEvent(R"({"sock_arg":"inet 10.0.2.2:80"})")).empty());
}

TEST(RulesEngine, RuntimeErrorsAreCountedNotThrown) {
  auto e = mustLoad(ruleYaml("evt.type = connect and fd.sport = 22") +
                    "- rule: dur\n  desc: d\n  condition: evt.type = execve and proc.duration > 0\n  output: o\n"
                    "  priority: INFO\n");
  ASSERT_TRUE(e);
  EXPECT_TRUE(run(*e, connectEvent("tcp garbage")).empty());
  auto ev = execEvent();
  ev.mutable_process_exec()->mutable_process()->set_start_time("yesterday");
  EXPECT_TRUE(run(*e, ev).empty());
  EXPECT_EQ(e->stats().runtime_errors, 2u);
  auto rs = e->ruleStats();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].errors, 1u);
  EXPECT_EQ(rs[1].errors, 1u);
  // A callback that throws is counted too, and evaluation goes on.
  auto ok = mustLoad(ruleYaml("evt.type = execve"));
  ok->evaluate(execEvent(), [](api::Event&&) { throw std::runtime_error("sink full"); });
  EXPECT_EQ(ok->stats().runtime_errors, 1u);
}

TEST(RulesEngine, MinPriorityAndSources) {
  LoadOptions o;
  o.min_priority = Priority::kWarning;
  auto e = RuleEngine::loadTexts({{"p.yaml", ruleYaml("evt.type = execve") +
                                                 "- rule: w\n  desc: d\n  condition: evt.type = execve\n"
                                                 "  output: o\n  priority: ERROR\n"
                                                 "- rule: k\n  desc: d\n  condition: ka.verb = get\n"
                                                 "  output: o\n  priority: ERROR\n  source: k8s_audit\n"}},
                                 o);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ((*e)->compiledRules(), 1u);
  EXPECT_EQ((*e)->rules()[0].state, RuleInfo::State::kFiltered);
  EXPECT_EQ((*e)->rules()[2].state, RuleInfo::State::kSkipped);
}

}  // namespace
}  // namespace vigil::rules

namespace vigil::rules {
namespace {

// The open flags as they reach the rules: a file_open record of the hook
// program (f_flags with the file argument), decoded and rendered by vigild.
api::Event openFromKernel(uint32_t f_flags) {
  const std::string path = "/etc/shadow";
  std::vector<char> buf(sizeof(vg_hook_event) + VG_BIN_MAX + path.size());
  vg_hook_event ev{};
  ev.hdr = {VG_EV_HOOK, VG_ABI_VERSION, static_cast<uint32_t>(buf.size()), 1};
  ev.pid = ev.tid = 7;
  ev.hook = 3;
  ev.mechanism = VG_MECH_FMOD_RET;
  ev.kstack_id = ev.ustack_id = -1;
  ev.args[0].kind = VG_ARG_FILE;
  ev.args[0].str_len = path.size();
  VG_ARG_X(&ev.args[0])[0] = f_flags;
  memcpy(buf.data(), &ev, sizeof(ev));
  memcpy(buf.data() + sizeof(ev) + VG_BIN_MAX, path.data(), path.size());
  auto decoded = events::decodeHookEvent(buf.data(), buf.size());
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  events::JsonRenderer r("n", {{"watch", policy::Mode::kEnforce, {}}}, false, 0);
  r.setHookRefs({{3, "lsm/file_open"}});
  return decoded.ok() ? r.toProto(*decoded) : api::Event{};
}

TEST(RulesFields, OpenFlagsFromTheKernelRecord) {
  EXPECT_TRUE(matches("hook = file_open and fd.name = /etc/shadow", openFromKernel(0)));
  EXPECT_TRUE(matches("evt.is_open_read = true and evt.is_open_write = false", openFromKernel(0)));
  EXPECT_TRUE(matches("evt.is_open_read = false and evt.is_open_write = true",
                      openFromKernel(01 | 0100000)));  // O_WRONLY | O_LARGEFILE
  EXPECT_TRUE(matches("evt.is_open_exec = true", openFromKernel(040)));  // __FMODE_EXEC
  EXPECT_FALSE(matches("evt.is_open_exec = true", openFromKernel(02)));
}

TEST(RulesFields, OpenFlagsDescriptorAndNames) {
  api::Event rd = openEvent();
  rd.mutable_process_lsm()->set_file_flags(0);  // O_RDONLY
  api::Event wr = openEvent();
  wr.mutable_process_lsm()->set_file_flags(01 | 02000);  // O_WRONLY | O_APPEND
  api::Event rw = openEvent();
  rw.mutable_process_lsm()->set_file_flags(02);  // O_RDWR
  api::Event ex = openEvent();
  ex.mutable_process_lsm()->set_file_flags(040);  // __FMODE_EXEC
  EXPECT_TRUE(matches("evt.is_open_read = true and evt.is_open_write = false", rd));
  EXPECT_TRUE(matches("evt.is_open_read = false and evt.is_open_write = true", wr));
  EXPECT_TRUE(matches("evt.is_open_read = true and evt.is_open_write = true", rw));
  EXPECT_TRUE(matches("evt.is_open_exec = true", ex));
  EXPECT_FALSE(matches("evt.is_open_exec = true", rd));
  // No open flags on other events.
  EXPECT_FALSE(matches("evt.is_open_read = true", execEvent()));

  api::Event denied = openEvent();
  denied.mutable_process_lsm()->set_outcome(api::OUTCOME_DENIED);
  api::Event would = openEvent();
  would.mutable_process_lsm()->set_outcome(api::OUTCOME_WOULD_DENY);
  EXPECT_TRUE(matches("fd.num < 0", denied));
  EXPECT_TRUE(matches("fd.num >= 0", would));

  api::Event named = execEvent();
  named.mutable_process_exec()->mutable_process()->set_login_name("alice");
  named.mutable_process_exec()->mutable_process()->set_group_name("staff");
  EXPECT_TRUE(matches("user.loginname = alice and group.name = staff", named));
  EXPECT_FALSE(matches("user.loginname = root", named));

  // execEvent's process is in a container with CAP_SYS_ADMIN effective.
  EXPECT_TRUE(matches("container.privileged = true", execEvent()));
  api::Event plain = execEvent();
  plain.mutable_process_exec()->mutable_process()->mutable_cap()->clear_effective();
  EXPECT_TRUE(matches("container.privileged = false", plain));
}

}  // namespace
}  // namespace vigil::rules
