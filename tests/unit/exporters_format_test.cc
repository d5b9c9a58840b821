// Pins the JSON, ECS, OCSF and CEF renderings field by field.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_split.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "exporters/formats.h"
#include "exporters/json_doc.h"
#include "tests/exporters/test_events.h"

namespace vigil::exporters {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using namespace vigil::exporters::testing;

Struct parse(const std::string& json) {
  Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(json, &s);
  EXPECT_TRUE(st.ok()) << st.message() << "\n" << json;
  return s;
}

// Nested lookup: "process.parent.pid" walks objects key by key.
const Value* at(const Struct& s, const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  const Struct* cur = &s;
  const Value* v = nullptr;
  for (size_t i = 0; i < parts.size(); ++i) {
    auto it = cur->fields().find(parts[i]);
    if (it == cur->fields().end()) return nullptr;
    v = &it->second;
    if (i + 1 < parts.size()) {
      if (!v->has_struct_value()) return nullptr;
      cur = &v->struct_value();
    }
  }
  return v;
}

std::string str(const Struct& s, const std::string& path) {
  const Value* v = at(s, path);
  if (!v) return "<missing " + path + ">";
  if (!v->has_string_value()) return "<not a string " + path + ">";
  return v->string_value();
}

double num(const Struct& s, const std::string& path) {
  const Value* v = at(s, path);
  if (!v || !v->has_number_value()) {
    ADD_FAILURE() << "no number at " << path;
    return -1;
  }
  return v->number_value();
}


std::vector<std::string> strs(const Struct& s, const std::string& path) {
  std::vector<std::string> out;
  const Value* v = at(s, path);
  if (!v || !v->has_list_value()) return {"<no list " + path + ">"};
  for (const auto& item : v->list_value().values()) out.push_back(item.string_value());
  return out;
}

// Every leaf path (keys with dots split, as Elasticsearch reads them) and every
// object path of a document.
void collect(const Value& v, const std::string& path, std::set<std::string>* leaves,
             std::set<std::string>* objects) {
  if (v.has_struct_value()) {
    if (!path.empty()) objects->insert(path);
    for (const auto& [k, child] : v.struct_value().fields())
      collect(child, path.empty() ? k : path + "." + k, leaves, objects);
  } else if (v.has_list_value()) {
    for (const auto& item : v.list_value().values()) collect(item, path, leaves, objects);
  } else {
    leaves->insert(path);
  }
}

api::Event lsmSignalEvent(api::Outcome outcome, api::PolicyMode mode);

// A kprobe with a socket and a sockaddr argument (endpoints in every format).
api::Event kprobeSocketEvent() {
  api::Event ev = kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE);
  auto* k = ev.mutable_process_kprobe();
  k->set_function_name("security_socket_connect");
  k->clear_args();
  k->add_args()->set_sock_arg("tcp 10.0.0.5:41234 -> 0.0.0.0:0");
  k->add_args()->set_sock_arg("inet 203.0.113.9:4444");
  return ev;
}

std::vector<api::Event> allSamples() {
  return {execEvent(),
          exitEvent(),
          lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE),
          lsmEvent(api::OUTCOME_WOULD_DENY, api::POLICY_MODE_MONITOR),
          lsmEvent(api::OUTCOME_KILLED, api::POLICY_MODE_ENFORCE),
          lsmEvent(api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE),
          lsmSignalEvent(api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE),
          kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE),
          kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE),
          kprobeEvent(api::ACTION_SIGKILL, api::OUTCOME_WOULD_KILL, api::POLICY_MODE_MONITOR),
          kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE),
          kprobeSocketEvent(),
          statusEvent(),
          ruleAlertEvent()};
}

// An LSM event with the Signal action (generic hook task_kill).
api::Event lsmSignalEvent(api::Outcome outcome, api::PolicyMode mode) {
  api::Event ev = lsmEvent(outcome, mode);
  auto* l = ev.mutable_process_lsm();
  l->set_hook("task_kill");
  l->set_action(api::ACTION_SIGNAL);
  l->set_signal(10);
  l->set_return_errno(0);
  l->clear_path();
  l->clear_args();
  auto* a = l->add_args();
  a->set_label("target");
  a->set_int_arg(4242);
  return ev;
}

TEST(ExportersFormat, JsonIsTheCanonicalRendering) {
  for (const auto& ev : allSamples()) EXPECT_EQ(render(Format::kJson, ev), api::renderJson(ev));
  Struct s = parse(render(Format::kJson, execEvent()));
  EXPECT_EQ(str(s, "process_exec.process.binary"), "/usr/bin/bash");
  EXPECT_EQ(str(s, "node_name"), "web-1");
}

TEST(ExportersFormat, NoKeyIsBothLeafAndPrefix) {
  for (Format f : {Format::kJson, Format::kEcs, Format::kOcsf}) {
    for (const auto& ev : allSamples()) {
      std::string doc = render(f, ev);
      Value root;
      *root.mutable_struct_value() = parse(doc);
      std::set<std::string> leaves, objects;
      collect(root, "", &leaves, &objects);
      ASSERT_GT(leaves.size(), 5u);
      for (const auto& leaf : leaves) {
        EXPECT_FALSE(objects.count(leaf)) << formatName(f) << ": " << leaf << " is a leaf and an object in " << doc;
        auto it = leaves.lower_bound(leaf + ".");
        EXPECT_FALSE(it != leaves.end() && it->rfind(leaf + ".", 0) == 0)
            << formatName(f) << ": " << leaf << " is a prefix of " << *it;
      }
    }
  }
}

TEST(ExportersFormat, EcsExec) {
  Struct s = parse(renderEcs(execEvent()));
  EXPECT_EQ(str(s, "@timestamp"), "2026-11-23T18:40:12.123456789Z");
  EXPECT_EQ(str(s, "ecs.version"), "8.11.0");
  EXPECT_EQ(str(s, "host.name"), "web-1");
  EXPECT_EQ(str(s, "event.kind"), "event");
  EXPECT_EQ(strs(s, "event.category"), std::vector<std::string>{"process"});
  EXPECT_EQ(strs(s, "event.type"), std::vector<std::string>{"start"});
  EXPECT_EQ(str(s, "event.action"), "exec");
  EXPECT_EQ(str(s, "event.dataset"), "vigil.process_exec");
  EXPECT_EQ(num(s, "event.severity"), 6);
  EXPECT_EQ(str(s, "process.entity_id"), "ZXhlYw");
  EXPECT_EQ(num(s, "process.pid"), 812);
  EXPECT_EQ(num(s, "process.thread.id"), 812);
  EXPECT_EQ(str(s, "process.executable"), "/usr/bin/bash");
  EXPECT_EQ(str(s, "process.name"), "bash");
  EXPECT_EQ(str(s, "process.command_line"), "/usr/bin/bash -c 'echo a=b|c'");
  EXPECT_EQ(str(s, "process.working_directory"), "/home/alice");
  EXPECT_EQ(str(s, "process.start"), "2026-11-23T18:40:11.000000001Z");
  EXPECT_EQ(str(s, "process.user.id"), "0");
  EXPECT_EQ(str(s, "process.user.name"), "root");
  EXPECT_EQ(str(s, "process.real_user.id"), "1000");
  EXPECT_EQ(str(s, "process.group.id"), "0");
  EXPECT_EQ(str(s, "process.real_group.id"), "1000");
  EXPECT_EQ(strs(s, "process.thread.capabilities.effective"), std::vector<std::string>{"CAP_SYS_ADMIN"});
  EXPECT_EQ(str(s, "process.parent.entity_id"), "cGFyZW50");
  EXPECT_EQ(num(s, "process.parent.pid"), 790);
  EXPECT_EQ(str(s, "process.parent.executable"), "/usr/sbin/sshd");
  EXPECT_EQ(str(s, "container.id"), "4f3c2b1a");
  EXPECT_EQ(str(s, "container.runtime"), "containerd");
  EXPECT_EQ(str(s, "container.image.name"), "nginx:1.25");
  EXPECT_EQ(num(s, "vigil.process.auid"), 1000);
  EXPECT_EQ(str(s, "vigil.process.systemd_unit"), "ssh.service");
  EXPECT_EQ(num(s, "vigil.process.ns.pid.inum"), 4026531836.0);
  const Value* anc = at(s, "vigil.ancestors");
  ASSERT_TRUE(anc && anc->list_value().values_size() == 1);
  EXPECT_EQ(anc->list_value().values(0).struct_value().fields().at("executable").string_value(),
            "/usr/lib/systemd/systemd");
}

TEST(ExportersFormat, EcsExitAndLsm) {
  Struct x = parse(renderEcs(exitEvent()));
  EXPECT_EQ(strs(x, "event.type"), std::vector<std::string>{"end"});
  EXPECT_EQ(num(x, "process.exit_code"), 137);
  EXPECT_EQ(str(x, "process.end"), "2026-11-23T18:40:13.000000000Z");
  EXPECT_EQ(str(x, "vigil.exit.signal"), "SIGKILL");

  Struct d = parse(renderEcs(lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(str(d, "event.kind"), "alert");
  EXPECT_EQ(strs(d, "event.type"), (std::vector<std::string>{"start", "denied"}));
  EXPECT_EQ(str(d, "event.action"), "denied");
  EXPECT_EQ(str(d, "event.outcome"), "failure");
  EXPECT_EQ(num(d, "event.severity"), 3);
  EXPECT_EQ(str(d, "rule.name"), "no-exec-from-tmp");
  EXPECT_EQ(str(d, "rule.description"), "exec from /tmp");
  EXPECT_EQ(str(d, "file.path"), "/tmp/x/pay|load=1\\2");
  EXPECT_EQ(str(d, "file.name"), "pay|load=1\\2");
  EXPECT_EQ(strs(d, "tags"), std::vector<std::string>{"mitre:T1059"});
  EXPECT_EQ(str(d, "vigil.lsm.hook"), "bprm_check_security");
  EXPECT_EQ(str(d, "vigil.lsm.action"), "override");
  EXPECT_EQ(str(d, "vigil.lsm.outcome"), "denied");
  EXPECT_EQ(str(d, "vigil.lsm.mode"), "enforce");
  EXPECT_EQ(num(d, "vigil.lsm.return_errno"), -1);

  Struct a = parse(renderEcs(lsmEvent(api::OUTCOME_WOULD_DENY, api::POLICY_MODE_MONITOR)));
  EXPECT_EQ(strs(a, "event.type"), (std::vector<std::string>{"start", "allowed"}));
  EXPECT_EQ(str(a, "event.action"), "would_deny");
  EXPECT_EQ(str(a, "event.outcome"), "success");
  EXPECT_EQ(str(a, "vigil.lsm.mode"), "monitor");
  EXPECT_EQ(num(a, "event.severity"), 4);

  Struct r = parse(renderEcs(ruleAlertEvent()));
  EXPECT_EQ(str(r, "rule.name"), "Shell in container");
  EXPECT_EQ(str(r, "vigil.rule.output_fields.proc_name"), "bash");
  EXPECT_EQ(num(r, "event.severity"), 4);

  Struct st = parse(renderEcs(statusEvent()));
  EXPECT_EQ(str(st, "event.kind"), "pipeline_error");
  EXPECT_EQ(str(st, "vigil.status.kind"), "exporter_dropped");
  EXPECT_EQ(num(st, "vigil.status.count"), 42);
}

TEST(ExportersFormat, OcsfProcessActivity) {
  Struct s = parse(renderOcsf(execEvent()));
  EXPECT_EQ(num(s, "class_uid"), 1007);
  EXPECT_EQ(str(s, "class_name"), "Process Activity");
  EXPECT_EQ(num(s, "category_uid"), 1);
  EXPECT_EQ(num(s, "activity_id"), 1);
  EXPECT_EQ(str(s, "activity_name"), "Launch");
  EXPECT_EQ(num(s, "type_uid"), 100701);
  EXPECT_EQ(num(s, "time"), 1795459212123.0);
  EXPECT_EQ(num(s, "severity_id"), 1);
  EXPECT_EQ(str(s, "severity"), "Informational");
  EXPECT_EQ(str(s, "metadata.version"), "1.1.0");
  EXPECT_EQ(str(s, "metadata.product.name"), "Vigil");
  EXPECT_EQ(str(s, "device.hostname"), "web-1");
  EXPECT_EQ(num(s, "process.pid"), 812);
  EXPECT_EQ(str(s, "process.uid"), "ZXhlYw");
  EXPECT_EQ(str(s, "process.name"), "bash");
  EXPECT_EQ(str(s, "process.cmd_line"), "/usr/bin/bash -c 'echo a=b|c'");
  EXPECT_EQ(str(s, "process.file.path"), "/usr/bin/bash");
  EXPECT_EQ(str(s, "process.user.uid"), "1000");
  EXPECT_EQ(num(s, "process.created_time"), 1795459211000.0);
  EXPECT_EQ(str(s, "process.container.uid"), "4f3c2b1a");
  EXPECT_EQ(str(s, "process.parent_process.file.path"), "/usr/sbin/sshd");
  EXPECT_EQ(str(s, "actor.process.file.path"), "/usr/sbin/sshd");
  EXPECT_EQ(strs(s, "process.lineage"), std::vector<std::string>{"/usr/lib/systemd/systemd"});
  EXPECT_EQ(str(s, "unmapped.process.cwd"), "/home/alice");

  Struct x = parse(renderOcsf(exitEvent()));
  EXPECT_EQ(num(x, "activity_id"), 2);
  EXPECT_EQ(str(x, "activity_name"), "Terminate");
  EXPECT_EQ(num(x, "type_uid"), 100702);
  EXPECT_EQ(num(x, "exit_code"), 137);
  EXPECT_EQ(str(x, "unmapped.signal"), "SIGKILL");
}

TEST(ExportersFormat, OcsfDetectionFindingDenyVersusAudit) {
  Struct d = parse(renderOcsf(lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(num(d, "class_uid"), 2004);
  EXPECT_EQ(str(d, "class_name"), "Detection Finding");
  EXPECT_EQ(num(d, "category_uid"), 2);
  EXPECT_EQ(num(d, "type_uid"), 200401);
  EXPECT_EQ(num(d, "action_id"), 2);
  EXPECT_EQ(str(d, "action"), "Denied");
  EXPECT_EQ(num(d, "disposition_id"), 2);
  EXPECT_EQ(str(d, "disposition"), "Blocked");
  EXPECT_EQ(num(d, "severity_id"), 4);
  EXPECT_EQ(str(d, "finding_info.title"), "exec from /tmp");
  EXPECT_EQ(str(d, "finding_info.analytic.name"), "no-exec-from-tmp");
  EXPECT_EQ(str(d, "finding_info.analytic.type"), "Rule");
  EXPECT_EQ(str(d, "finding_info.uid").size(), 16u);
  EXPECT_EQ(str(d, "unmapped.mode"), "enforce");
  EXPECT_EQ(str(d, "unmapped.outcome"), "denied");
  EXPECT_EQ(num(d, "unmapped.return_errno"), -1);
  const Value* ev = at(d, "evidences");
  ASSERT_TRUE(ev && ev->list_value().values_size() == 1);
  const Struct& e0 = ev->list_value().values(0).struct_value();
  EXPECT_EQ(str(e0, "file.path"), "/tmp/x/pay|load=1\\2");
  EXPECT_EQ(str(e0, "process.file.path"), "/usr/bin/bash");
  EXPECT_EQ(str(e0, "process.parent_process.file.path"), "/usr/sbin/sshd");

  Struct a = parse(renderOcsf(lsmEvent(api::OUTCOME_WOULD_DENY, api::POLICY_MODE_MONITOR)));
  EXPECT_EQ(num(a, "action_id"), 1);
  EXPECT_EQ(str(a, "action"), "Allowed");
  EXPECT_EQ(num(a, "disposition_id"), 15);
  EXPECT_EQ(str(a, "disposition"), "Detected");
  EXPECT_EQ(num(a, "severity_id"), 3);
  EXPECT_EQ(str(a, "unmapped.mode"), "monitor");

  Struct k = parse(renderOcsf(lsmEvent(api::OUTCOME_KILLED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(str(k, "action"), "Denied");
  EXPECT_EQ(str(k, "unmapped.outcome"), "killed");

  Struct p = parse(renderOcsf(lsmEvent(api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(str(p, "action"), "Allowed");
  EXPECT_EQ(str(p, "disposition"), "Logged");

  Struct st = parse(renderOcsf(statusEvent()));
  EXPECT_EQ(num(st, "class_uid"), 6002);
  EXPECT_EQ(num(st, "unmapped.count"), 42);
  EXPECT_EQ(str(st, "unmapped.subject"), "splunk");

  Struct r = parse(renderOcsf(ruleAlertEvent()));
  EXPECT_EQ(num(r, "class_uid"), 2004);
  EXPECT_EQ(str(r, "finding_info.analytic.name"), "Shell in container");
  EXPECT_EQ(str(r, "unmapped.output_fields.proc_cmdline"), "bash -i");
}

TEST(ExportersFormat, CefEscaping) {
  EXPECT_EQ(cefEscapeHeader("a|b\\c=d"), "a\\|b\\\\c=d");
  EXPECT_EQ(cefEscapeExtension("a|b\\c=d\ne\rf"), "a|b\\\\c\\=d\\ne\\rf");
}

TEST(ExportersFormat, CefLsm) {
  api::Event ev = lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE);
  ev.mutable_process_lsm()->set_message("exec|from=/tmp\\x");
  EXPECT_EQ(renderCef(ev),
            "CEF:0|Vigil|vigild|" VIGIL_VERSION "|policy:no-exec-from-tmp|exec\\|from=/tmp\\\\x|7|"
            "rt=1795459212123 dvchost=web-1 cat=process_lsm spid=812 sproc=/usr/bin/bash suid=1000 "
            "suser=root act=denied outcome=failure filePath=/tmp/x/pay|load\\=1\\\\2 fname=pay|load\\=1\\\\2 "
            "cs1Label=execId cs1=ZXhlYw cs2Label=arguments cs2=-c 'echo a\\=b|c' cs3Label=parentBinary "
            "cs3=/usr/sbin/sshd cs4Label=policy cs4=no-exec-from-tmp cs5Label=hook cs5=bprm_check_security "
            "cs6Label=mode cs6=enforce cn1Label=returnErrno cn1=-1 cn2Label=selector cn2=0 "
            "msg=exec|from\\=/tmp\\\\x");
}

TEST(ExportersFormat, CefExecExitStatus) {
  std::string exec = renderCef(execEvent());
  EXPECT_EQ(exec.rfind("CEF:0|Vigil|vigild|" VIGIL_VERSION "|process_exec|Process executed|2|rt=1795459212123 ", 0), 0u)
      << exec;
  EXPECT_NE(exec.find(" cs5Label=containerId cs5=4f3c2b1a "), std::string::npos) << exec;
  std::string exit = renderCef(exitEvent());
  EXPECT_NE(exit.find(" cn1Label=exitStatus cn1=137 reason=SIGKILL"), std::string::npos) << exit;
  std::string st = renderCef(statusEvent());
  EXPECT_EQ(st, "CEF:0|Vigil|vigild|" VIGIL_VERSION "|status:exporter_dropped|Vigil status: exporter_dropped|7|"
                "rt=1795459214000 dvchost=web-1 cat=status cs4Label=subject cs4=splunk cnt=42 "
                "msg=sink splunk dropped 42 events");
}

TEST(ExportersFormat, Severities) {
  EXPECT_EQ(syslogSeverity(execEvent()), 6);
  EXPECT_EQ(syslogSeverity(lsmEvent(api::OUTCOME_KILLED, api::POLICY_MODE_ENFORCE)), 2);
  EXPECT_EQ(syslogSeverity(lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)), 3);
  EXPECT_EQ(syslogSeverity(lsmEvent(api::OUTCOME_WOULD_KILL, api::POLICY_MODE_MONITOR)), 4);
  EXPECT_EQ(syslogSeverity(lsmEvent(api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE)), 5);
  EXPECT_EQ(syslogSeverity(statusEvent()), 3);
  EXPECT_EQ(syslogSeverity(ruleAlertEvent()), 4);
  EXPECT_EQ(cefSeverity(2), 8);
  EXPECT_EQ(ocsfSeverityId(3), 4);
  EXPECT_EQ(api::parseRfc3339Nanos(execEvent().time()), 1795459212123456789LL);
}

TEST(ExportersFormat, JsonKprobe) {
  api::Event ev = kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE);
  Struct s = parse(render(Format::kJson, ev));
  EXPECT_EQ(str(s, "process_kprobe.function_name"), "sys_linkat");
  EXPECT_EQ(str(s, "process_kprobe.outcome"), "OUTCOME_SIGNALED");
  EXPECT_EQ(num(s, "process_kprobe.signal"), 10);
  EXPECT_EQ(str(s, "process_kprobe.return.int_arg"), "-1");
  EXPECT_EQ(api::eventTypeName(ev), "process_kprobe");
}

TEST(ExportersFormat, EcsKprobe) {
  Struct d = parse(renderEcs(kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(str(d, "event.kind"), "alert");
  EXPECT_EQ(str(d, "event.dataset"), "vigil.process_kprobe");
  EXPECT_EQ(strs(d, "event.category"), std::vector<std::string>{"file"});
  EXPECT_EQ(strs(d, "event.type"), (std::vector<std::string>{"creation", "denied"}));
  EXPECT_EQ(str(d, "event.action"), "denied");
  EXPECT_EQ(str(d, "event.outcome"), "failure");
  EXPECT_EQ(num(d, "event.severity"), 3);
  EXPECT_EQ(str(d, "process.executable"), "/usr/bin/bash");
  EXPECT_EQ(num(d, "process.pid"), 812);
  EXPECT_EQ(str(d, "process.parent.executable"), "/usr/sbin/sshd");
  EXPECT_EQ(str(d, "rule.name"), "no-links|to=etc");
  EXPECT_EQ(str(d, "rule.ruleset"), "vigil");
  EXPECT_EQ(str(d, "rule.description"), "hard link to /etc");
  EXPECT_EQ(str(d, "message"), "hard link to /etc");
  EXPECT_EQ(str(d, "file.path"), "/etc/shadow");  // the first file argument
  EXPECT_EQ(str(d, "file.name"), "shadow");
  EXPECT_EQ(strs(d, "tags"), std::vector<std::string>{"mitre:T1222"});
  EXPECT_EQ(str(d, "vigil.kprobe.function_name"), "sys_linkat");
  EXPECT_EQ(num(d, "vigil.kprobe.selector"), 1);
  EXPECT_EQ(str(d, "vigil.kprobe.action"), "override");
  EXPECT_EQ(str(d, "vigil.kprobe.outcome"), "denied");
  EXPECT_EQ(str(d, "vigil.kprobe.mode"), "enforce");
  EXPECT_EQ(num(d, "vigil.kprobe.return_errno"), -1);
  EXPECT_EQ(str(d, "vigil.kprobe.mechanism"), "fmod_ret");
  EXPECT_EQ(num(d, "vigil.kprobe.return.int_arg"), -1);
  EXPECT_EQ(at(d, "vigil.kprobe.signal"), nullptr);
  EXPECT_EQ(at(d, "vigil.lsm"), nullptr);
  const Value* args = at(d, "vigil.kprobe.args");
  ASSERT_TRUE(args && args->list_value().values_size() == 3);
  const Struct& a1 = args->list_value().values(1).struct_value();
  EXPECT_EQ(str(a1, "label"), "oldname");
  EXPECT_EQ(str(a1, "file_arg"), "/etc/shadow");
  EXPECT_EQ(num(args->list_value().values(0).struct_value(), "int_arg"), -100);

  Struct g = parse(renderEcs(kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(strs(g, "event.type"), (std::vector<std::string>{"creation", "allowed"}));
  EXPECT_EQ(str(g, "event.action"), "signaled");
  EXPECT_EQ(str(g, "event.outcome"), "success");
  EXPECT_EQ(num(g, "event.severity"), 3);
  EXPECT_EQ(str(g, "vigil.kprobe.action"), "signal");
  EXPECT_EQ(num(g, "vigil.kprobe.signal"), 10);
  EXPECT_EQ(str(g, "vigil.kprobe.signal_name"), "SIGUSR1");
  EXPECT_EQ(str(g, "vigil.kprobe.mechanism"), "fentry");

  Struct w = parse(renderEcs(kprobeEvent(api::ACTION_SIGKILL, api::OUTCOME_WOULD_KILL, api::POLICY_MODE_MONITOR)));
  EXPECT_EQ(str(w, "event.action"), "would_kill");
  EXPECT_EQ(str(w, "event.outcome"), "success");
  EXPECT_EQ(str(w, "vigil.kprobe.mode"), "monitor");
  EXPECT_EQ(num(w, "event.severity"), 4);

  // A kprobe on a function with no file or socket argument is about the process.
  api::Event plain = kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE);
  plain.mutable_process_kprobe()->set_function_name("sys_getpgid");
  plain.mutable_process_kprobe()->mutable_args()->DeleteSubrange(1, 2);
  Struct p = parse(renderEcs(plain));
  EXPECT_EQ(strs(p, "event.category"), std::vector<std::string>{"process"});
  EXPECT_EQ(strs(p, "event.type"), (std::vector<std::string>{"info", "allowed"}));
  EXPECT_EQ(at(p, "file.path"), nullptr);
  EXPECT_EQ(num(p, "event.severity"), 5);
}

TEST(ExportersFormat, EcsLsmGenericHooks) {
  Struct k = parse(renderEcs(lsmSignalEvent(api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(strs(k, "event.category"), std::vector<std::string>{"process"});
  EXPECT_EQ(strs(k, "event.type"), (std::vector<std::string>{"end", "allowed"}));
  EXPECT_EQ(str(k, "event.action"), "signaled");
  EXPECT_EQ(str(k, "vigil.lsm.hook"), "task_kill");
  EXPECT_EQ(str(k, "vigil.lsm.action"), "signal");
  EXPECT_EQ(str(k, "vigil.lsm.signal_name"), "SIGUSR1");
  EXPECT_EQ(at(k, "file.path"), nullptr);

  api::Event conn = lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE);
  auto* l = conn.mutable_process_lsm();
  l->set_hook("socket_connect");
  l->clear_path();
  l->clear_args();
  l->add_args()->set_sock_arg("inet 10.1.2.3:80");
  Struct c = parse(renderEcs(conn));
  EXPECT_EQ(strs(c, "event.category"), std::vector<std::string>{"network"});
  EXPECT_EQ(strs(c, "event.type"), (std::vector<std::string>{"connection", "denied"}));
  EXPECT_EQ(str(c, "destination.ip"), "10.1.2.3");
  EXPECT_EQ(num(c, "destination.port"), 80);
  EXPECT_EQ(str(c, "network.type"), "ipv4");
  EXPECT_EQ(at(c, "source.ip"), nullptr);
  const Value* ca = at(c, "vigil.lsm.args");
  ASSERT_TRUE(ca && ca->list_value().values_size() == 1);
  EXPECT_EQ(str(ca->list_value().values(0).struct_value(), "sock_arg"), "inet 10.1.2.3:80");

  api::Event rm = lsmEvent(api::OUTCOME_WOULD_DENY, api::POLICY_MODE_MONITOR);
  rm.mutable_process_lsm()->set_hook("path_unlink");
  Struct u = parse(renderEcs(rm));
  EXPECT_EQ(strs(u, "event.category"), std::vector<std::string>{"file"});
  EXPECT_EQ(strs(u, "event.type"), (std::vector<std::string>{"deletion", "allowed"}));

  // Kprobes are classed by function name too: readlink reads, mkdir creates.
  const std::pair<const char*, const char*> kinds[] = {
      {"sys_readlinkat", "access"}, {"sys_unlinkat", "deletion"}, {"sys_mkdirat", "creation"},
      {"sys_renameat2", "change"}, {"security_file_permission", "access"}};
  for (const auto& [fn, type] : kinds) {
    api::Event k = kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE);
    k.mutable_process_kprobe()->set_function_name(fn);
    EXPECT_EQ(strs(parse(renderEcs(k)), "event.type"), (std::vector<std::string>{type, "allowed"})) << fn;
  }
}

TEST(ExportersFormat, SocketArgumentsAreEndpoints) {
  // A kprobe with a socket: source and destination, transport; a sockaddr
  // argument wins as the destination.
  api::Event ev = kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE);
  auto* k = ev.mutable_process_kprobe();
  k->set_function_name("tcp_connect");
  k->clear_args();
  k->add_args()->set_sock_arg("tcp 10.0.0.5:41234 -> 203.0.113.9:4444");
  Struct e = parse(renderEcs(ev));
  EXPECT_EQ(strs(e, "event.category"), std::vector<std::string>{"network"});
  EXPECT_EQ(strs(e, "event.type"), (std::vector<std::string>{"connection", "allowed"}));
  EXPECT_EQ(str(e, "source.ip"), "10.0.0.5");
  EXPECT_EQ(num(e, "source.port"), 41234);
  EXPECT_EQ(str(e, "destination.ip"), "203.0.113.9");
  EXPECT_EQ(num(e, "destination.port"), 4444);
  EXPECT_EQ(str(e, "network.transport"), "tcp");
  EXPECT_EQ(str(e, "network.type"), "ipv4");
  Struct o = parse(renderOcsf(ev));
  const Struct& ev0 = at(o, "evidences")->list_value().values(0).struct_value();
  EXPECT_EQ(str(ev0, "src_endpoint.ip"), "10.0.0.5");
  EXPECT_EQ(num(ev0, "dst_endpoint.port"), 4444);
  EXPECT_EQ(str(ev0, "connection_info.protocol_name"), "tcp");
  std::string cef = renderCef(ev);
  EXPECT_NE(cef.find(" src=10.0.0.5 spt=41234 dst=203.0.113.9 dpt=4444 proto=TCP "), std::string::npos) << cef;

  // socket_connect before the bind: an unbound socket and the sockaddr (IPv6).
  k->clear_args();
  k->add_args()->set_sock_arg("udp 0.0.0.0:0 -> 0.0.0.0:0");
  k->add_args()->set_sock_arg("inet6 [2001:db8::7]:53");
  k->add_args()->set_sock_arg("family 1");
  Struct u = parse(renderEcs(ev));
  EXPECT_EQ(at(u, "source.ip"), nullptr);
  EXPECT_EQ(str(u, "destination.ip"), "2001:db8::7");
  EXPECT_EQ(num(u, "destination.port"), 53);
  EXPECT_EQ(str(u, "network.transport"), "udp");
  EXPECT_EQ(str(u, "network.type"), "ipv6");

  // Malformed or non-IP socket text adds no endpoint.
  k->clear_args();
  k->add_args()->set_sock_arg("unreadable");
  k->add_args()->set_sock_arg("family 1");
  k->add_args()->set_sock_arg("inet 1.2.3.4");
  Struct m = parse(renderEcs(ev));
  EXPECT_EQ(at(m, "destination.ip"), nullptr);
  EXPECT_EQ(at(m, "network.type"), nullptr);
}

TEST(ExportersFormat, OcsfKprobeAndSignal) {
  Struct d = parse(renderOcsf(kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(num(d, "class_uid"), 2004);
  EXPECT_EQ(str(d, "class_name"), "Detection Finding");
  EXPECT_EQ(num(d, "type_uid"), 200401);
  EXPECT_EQ(num(d, "action_id"), 2);
  EXPECT_EQ(str(d, "action"), "Denied");
  EXPECT_EQ(num(d, "disposition_id"), 2);
  EXPECT_EQ(str(d, "disposition"), "Blocked");
  EXPECT_EQ(num(d, "severity_id"), 4);
  EXPECT_EQ(str(d, "message"), "hard link to /etc");
  EXPECT_EQ(str(d, "finding_info.title"), "hard link to /etc");
  EXPECT_EQ(str(d, "finding_info.desc"), "policy no-links|to=etc selector 1 on sys_linkat (enforce mode): denied");
  EXPECT_EQ(str(d, "finding_info.analytic.name"), "no-links|to=etc");
  EXPECT_EQ(str(d, "finding_info.analytic.uid"), "no-links|to=etc/1");
  EXPECT_EQ(str(d, "finding_info.uid").size(), 16u);
  EXPECT_EQ(str(d, "unmapped.function_name"), "sys_linkat");
  EXPECT_EQ(str(d, "unmapped.policy_action"), "override");
  EXPECT_EQ(str(d, "unmapped.outcome"), "denied");
  EXPECT_EQ(str(d, "unmapped.mechanism"), "fmod_ret");
  EXPECT_EQ(num(d, "unmapped.return_errno"), -1);
  EXPECT_EQ(num(d, "unmapped.return.int_arg"), -1);
  EXPECT_EQ(strs(d, "unmapped.tags"), std::vector<std::string>{"mitre:T1222"});
  EXPECT_EQ(at(d, "unmapped.hook"), nullptr);
  const Value* ev = at(d, "evidences");
  ASSERT_TRUE(ev && ev->list_value().values_size() == 1);
  const Struct& e0 = ev->list_value().values(0).struct_value();
  EXPECT_EQ(str(e0, "file.path"), "/etc/shadow");
  EXPECT_EQ(str(e0, "process.file.path"), "/usr/bin/bash");
  EXPECT_EQ(str(e0, "process.parent_process.file.path"), "/usr/sbin/sshd");
  EXPECT_EQ(str(d, "actor.process.file.path"), "/usr/bin/bash");

  Struct g = parse(renderOcsf(kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(num(g, "action_id"), 99);
  EXPECT_EQ(str(g, "action"), "Other");
  EXPECT_EQ(num(g, "disposition_id"), 7);
  EXPECT_EQ(str(g, "disposition"), "Custom Action");
  EXPECT_EQ(num(g, "severity_id"), 4);
  EXPECT_EQ(num(g, "unmapped.signal"), 10);
  EXPECT_EQ(str(g, "unmapped.signal_name"), "SIGUSR1");

  Struct w = parse(renderOcsf(lsmSignalEvent(api::OUTCOME_WOULD_SIGNAL, api::POLICY_MODE_MONITOR)));
  EXPECT_EQ(num(w, "action_id"), 1);
  EXPECT_EQ(str(w, "action"), "Allowed");
  EXPECT_EQ(num(w, "disposition_id"), 15);
  EXPECT_EQ(str(w, "disposition"), "Detected");
  EXPECT_EQ(num(w, "severity_id"), 3);
  EXPECT_EQ(str(w, "unmapped.hook"), "task_kill");
  EXPECT_EQ(str(w, "unmapped.outcome"), "would_signal");

  Struct p = parse(renderOcsf(kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(str(p, "action"), "Allowed");
  EXPECT_EQ(str(p, "disposition"), "Logged");
}

TEST(ExportersFormat, CefKprobe) {
  api::Event ev = kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE);
  ev.mutable_process_kprobe()->mutable_return_()->set_string_arg("a=b\nc");
  EXPECT_EQ(renderCef(ev),
            "CEF:0|Vigil|vigild|" VIGIL_VERSION "|policy:no-links\\|to=etc|hard link to /etc|7|"
            "rt=1795459212123 dvchost=web-1 cat=process_kprobe spid=812 sproc=/usr/bin/bash suid=1000 "
            "suser=root act=signaled outcome=success filePath=/etc/shadow fname=shadow "
            "cs1Label=execId cs1=ZXhlYw cs2Label=arguments cs2=-c 'echo a\\=b|c' cs3Label=parentBinary "
            "cs3=/usr/sbin/sshd cs4Label=policy cs4=no-links|to\\=etc cs5Label=function cs5=sys_linkat "
            "cs6Label=mode cs6=enforce cn1Label=returnErrno cn1=0 cn2Label=selector cn2=1 "
            "cn3Label=signal cn3=10 flexString1Label=return flexString1=a\\=b\\nc msg=hard link to /etc");

  api::Event d = kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE);
  d.mutable_process_kprobe()->clear_message();
  std::string cef = renderCef(d);
  EXPECT_EQ(cef.rfind("CEF:0|Vigil|vigild|" VIGIL_VERSION "|policy:no-links\\|to=etc|denied sys_linkat|7|", 0), 0u)
      << cef;
  EXPECT_NE(cef.find(" act=denied outcome=failure "), std::string::npos) << cef;
  EXPECT_NE(cef.find(" cn1Label=returnErrno cn1=-1 "), std::string::npos) << cef;
  EXPECT_NE(cef.find(" flexString1Label=return flexString1=-1"), std::string::npos) << cef;
  EXPECT_EQ(cef.find("cn3Label"), std::string::npos) << cef;

  std::string k = renderCef(lsmSignalEvent(api::OUTCOME_WOULD_SIGNAL, api::POLICY_MODE_MONITOR));
  EXPECT_NE(k.find("|policy:no-exec-from-tmp|exec from /tmp|6|"), std::string::npos) << k;
  EXPECT_NE(k.find(" act=would_signal outcome=success "), std::string::npos) << k;
  EXPECT_NE(k.find(" cs5Label=hook cs5=task_kill "), std::string::npos) << k;
  EXPECT_NE(k.find(" cn3Label=signal cn3=10 "), std::string::npos) << k;
}

TEST(ExportersFormat, SignalSeverities) {
  EXPECT_EQ(syslogSeverity(kprobeEvent(api::ACTION_SIGKILL, api::OUTCOME_KILLED, api::POLICY_MODE_ENFORCE)), 2);
  EXPECT_EQ(syslogSeverity(kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE)), 3);
  EXPECT_EQ(syslogSeverity(kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)), 3);
  EXPECT_EQ(syslogSeverity(kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_WOULD_SIGNAL, api::POLICY_MODE_MONITOR)), 4);
  EXPECT_EQ(syslogSeverity(kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE)), 5);
  EXPECT_EQ(syslogSeverity(lsmSignalEvent(api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE)), 3);
  EXPECT_EQ(syslogSeverity(lsmSignalEvent(api::OUTCOME_WOULD_SIGNAL, api::POLICY_MODE_MONITOR)), 4);
}

TEST(ExportersFormat, JsonStringEscapesAndRepairsUtf8) {
  EXPECT_EQ(jsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(jsonString("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(jsonString("bad\xff"), "\"bad\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace vigil::exporters

namespace vigil::exporters {
namespace {

// A NotifyEnforcer on raw_syscalls/sys_enter that killed the caller at dup.
api::Event tracepointEvent(api::Outcome outcome, api::PolicyMode mode) {
  api::Event ev;
  auto* t = ev.mutable_process_tracepoint();
  testing::fillProcess(t->mutable_process(), "ZXhlYw", 812, "/usr/bin/bash");
  testing::fillProcess(t->mutable_parent(), "cGFyZW50", 790, "/usr/sbin/sshd");
  t->set_subsys("raw_syscalls");
  t->set_event("sys_enter");
  t->set_policy_name("kill-syscalls");
  t->set_selector(0);
  t->set_action(api::ACTION_NOTIFY_ENFORCER);
  t->set_outcome(outcome);
  t->set_mode(mode);
  t->set_return_errno(outcome == api::OUTCOME_DENIED ? -1 : 0);
  t->set_mechanism("tp_btf");
  t->set_signal(9);
  t->set_message("dup");
  t->add_tags("t1");
  auto* a = t->add_args();
  a->set_label("id");
  a->mutable_syscall_id()->set_id(32);
  a->mutable_syscall_id()->set_abi("x64");
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:12.123456789Z");
  ev.set_schema_version(1);
  return ev;
}

TEST(ExportersFormat, JsonTracepoint) {
  api::Event ev = tracepointEvent(api::OUTCOME_KILLED, api::POLICY_MODE_ENFORCE);
  EXPECT_EQ(api::eventTypeName(ev), "process_tracepoint");
  Struct s = parse(render(Format::kJson, ev));
  EXPECT_EQ(str(s, "process_tracepoint.subsys"), "raw_syscalls");
  EXPECT_EQ(str(s, "process_tracepoint.event"), "sys_enter");
  EXPECT_EQ(str(s, "process_tracepoint.policy_name"), "kill-syscalls");
  EXPECT_EQ(str(s, "process_tracepoint.action"), "ACTION_NOTIFY_ENFORCER");
  EXPECT_EQ(str(s, "process_tracepoint.outcome"), "OUTCOME_KILLED");
  EXPECT_EQ(str(s, "process_tracepoint.mode"), "POLICY_MODE_ENFORCE");
  EXPECT_EQ(str(s, "process_tracepoint.mechanism"), "tp_btf");
  EXPECT_EQ(num(s, "process_tracepoint.signal"), 9);
  EXPECT_EQ(str(s, "process_tracepoint.process.binary"), "/usr/bin/bash");
  EXPECT_EQ(str(s, "process_tracepoint.parent.binary"), "/usr/sbin/sshd");
  const Value* args = at(s, "process_tracepoint.args");
  ASSERT_TRUE(args && args->list_value().values_size() == 1);
  const Struct& a0 = args->list_value().values(0).struct_value();
  EXPECT_EQ(str(a0, "label"), "id");
  EXPECT_EQ(num(a0, "syscall_id.id"), 32);
  EXPECT_EQ(str(a0, "syscall_id.abi"), "x64");
  EXPECT_EQ(syslogSeverity(ev), 2);
  EXPECT_EQ(syslogSeverity(tracepointEvent(api::OUTCOME_WOULD_KILL, api::POLICY_MODE_MONITOR)), 4);
}

TEST(ExportersFormat, EcsOcsfCefTracepoint) {
  api::Event ev = tracepointEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE);
  Struct d = parse(renderEcs(ev));
  EXPECT_EQ(str(d, "event.kind"), "alert");
  EXPECT_EQ(str(d, "event.dataset"), "vigil.process_tracepoint");
  EXPECT_EQ(str(d, "event.action"), "denied");
  EXPECT_EQ(str(d, "event.outcome"), "failure");
  EXPECT_EQ(str(d, "rule.name"), "kill-syscalls");
  EXPECT_EQ(str(d, "vigil.tracepoint.subsys"), "raw_syscalls");
  EXPECT_EQ(str(d, "vigil.tracepoint.event"), "sys_enter");
  EXPECT_EQ(str(d, "vigil.tracepoint.action"), "notify_enforcer");
  EXPECT_EQ(num(d, "vigil.tracepoint.return_errno"), -1);
  EXPECT_EQ(str(d, "vigil.tracepoint.signal_name"), "SIGKILL");
  EXPECT_EQ(at(d, "vigil.kprobe"), nullptr);

  Struct o = parse(renderOcsf(ev));
  EXPECT_EQ(num(o, "class_uid"), 2004);
  EXPECT_EQ(str(o, "action"), "Denied");
  EXPECT_EQ(str(o, "unmapped.subsys"), "raw_syscalls");
  EXPECT_EQ(str(o, "unmapped.event"), "sys_enter");
  EXPECT_EQ(str(o, "unmapped.policy_action"), "notify_enforcer");
  EXPECT_EQ(str(o, "unmapped.mechanism"), "tp_btf");
  EXPECT_EQ(at(o, "unmapped.function_name"), nullptr);

  std::string cef = renderCef(ev);
  EXPECT_EQ(cef.rfind("CEF:0|Vigil|vigild|" VIGIL_VERSION "|policy:kill-syscalls|dup|7|", 0), 0u) << cef;
  EXPECT_NE(cef.find(" cat=process_tracepoint "), std::string::npos) << cef;
  EXPECT_NE(cef.find(" act=denied outcome=failure "), std::string::npos) << cef;
  EXPECT_NE(cef.find(" cs5Label=tracepoint cs5=raw_syscalls/sys_enter "), std::string::npos) << cef;
  EXPECT_NE(cef.find(" cn1Label=returnErrno cn1=-1 "), std::string::npos) << cef;
  EXPECT_NE(cef.find(" cn3Label=signal cn3=9 "), std::string::npos) << cef;
}

}  // namespace
}  // namespace vigil::exporters
