// Sample events shared by the exporters' unit tests.
#pragma once

#include "vigil/events.pb.h"

namespace vigil::exporters::testing {

// CAP_SYS_ADMIN into one set, whether the schema has names or the enum.
inline void addCap(api::Capabilities* caps, const char* set) {
  const auto* field = caps->GetDescriptor()->FindFieldByName(set);
  const auto* refl = caps->GetReflection();
  if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_ENUM)
    refl->AddEnumValue(caps, field, 21);
  else
    refl->AddString(caps, field, "CAP_SYS_ADMIN");
}

inline void fillProcess(api::Process* p, const std::string& exec_id, uint32_t pid, const std::string& binary) {
  p->set_exec_id(exec_id);
  p->set_pid(pid);
  p->set_tid(pid);
  p->set_uid(1000);
  p->set_euid(0);
  p->set_gid(1000);
  p->set_egid(0);
  p->set_auid(1000);
  p->set_session_id(7);
  p->set_binary(binary);
  p->set_arguments("-c 'echo a=b|c'");
  p->set_cwd("/home/alice");
  p->set_start_time("2026-11-23T18:40:11.000000001Z");
  p->set_flags("execve clone");
  p->set_comm("bash");
  p->set_parent_exec_id("cGFyZW50");
  p->set_ppid(790);
  addCap(p->mutable_cap(), "permitted");
  addCap(p->mutable_cap(), "effective");
  p->mutable_ns()->mutable_pid()->set_inum(4026531836);
  p->mutable_ns()->mutable_pid()->set_is_host(true);
  p->mutable_ns()->mutable_mnt()->set_inum(4026531841);
  p->mutable_ns()->mutable_mnt()->set_is_host(true);
  p->set_cgroup_path("/system.slice/ssh.service");
  p->set_cgroup_id(1234);
  p->set_systemd_unit("ssh.service");
  p->set_user_name("root");
}

inline api::Event execEvent() {
  api::Event ev;
  auto* e = ev.mutable_process_exec();
  fillProcess(e->mutable_process(), "ZXhlYw", 812, "/usr/bin/bash");
  fillProcess(e->mutable_parent(), "cGFyZW50", 790, "/usr/sbin/sshd");
  fillProcess(e->add_ancestors(), "Z3JhbmQ", 1, "/usr/lib/systemd/systemd");
  auto* c = e->mutable_process()->mutable_container();
  c->set_id("4f3c2b1a");
  c->set_runtime("containerd");
  c->set_name("web");
  c->set_image("nginx:1.25");
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:12.123456789Z");
  ev.set_schema_version(1);
  return ev;
}

inline api::Event exitEvent() {
  api::Event ev;
  auto* e = ev.mutable_process_exit();
  fillProcess(e->mutable_process(), "ZXhlYw", 812, "/usr/bin/bash");
  fillProcess(e->mutable_parent(), "cGFyZW50", 790, "/usr/sbin/sshd");
  e->set_signal("SIGKILL");
  e->set_status(137);
  e->set_time("2026-11-23T18:40:13.000000000Z");
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:13.000000000Z");
  ev.set_schema_version(1);
  return ev;
}

inline api::Event lsmEvent(api::Outcome outcome, api::PolicyMode mode) {
  api::Event ev;
  auto* l = ev.mutable_process_lsm();
  fillProcess(l->mutable_process(), "ZXhlYw", 812, "/usr/bin/bash");
  fillProcess(l->mutable_parent(), "cGFyZW50", 790, "/usr/sbin/sshd");
  l->set_policy_name("no-exec-from-tmp");
  l->set_hook("bprm_check_security");
  l->set_selector(0);
  l->set_action(api::ACTION_OVERRIDE);
  l->set_outcome(outcome);
  l->set_mode(mode);
  l->set_return_errno(outcome == api::OUTCOME_DENIED ? -1 : 0);
  l->set_path("/tmp/x/pay|load=1\\2");
  l->set_mechanism("bpf_lsm");
  l->set_message("exec from /tmp");
  l->add_tags("mitre:T1059");
  auto* a = l->add_args();
  a->set_label("file");
  a->set_file_arg("/tmp/x/payload");
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:12.123456789Z");
  ev.set_schema_version(1);
  return ev;
}

// A kprobe on a system call with a file and an int argument, a return value
// and the Signal action (as hooks_enforce.sh's events).
inline api::Event kprobeEvent(api::Action action, api::Outcome outcome, api::PolicyMode mode) {
  api::Event ev;
  auto* k = ev.mutable_process_kprobe();
  fillProcess(k->mutable_process(), "ZXhlYw", 812, "/usr/bin/bash");
  fillProcess(k->mutable_parent(), "cGFyZW50", 790, "/usr/sbin/sshd");
  k->set_function_name("sys_linkat");
  k->set_policy_name("no-links|to=etc");
  k->set_selector(1);
  k->set_action(action);
  k->set_outcome(outcome);
  k->set_mode(mode);
  k->set_return_errno(outcome == api::OUTCOME_DENIED ? -1 : 0);
  k->set_mechanism(action == api::ACTION_OVERRIDE ? "fmod_ret" : "fentry");
  if (action == api::ACTION_SIGNAL) k->set_signal(10);
  k->set_message("hard link to /etc");
  k->add_tags("mitre:T1222");
  auto* a = k->add_args();
  a->set_label("olddfd");
  a->set_int_arg(-100);
  a = k->add_args();
  a->set_label("oldname");
  a->set_file_arg("/etc/shadow");
  a = k->add_args();
  a->set_label("newname");
  a->set_string_arg("/tmp/x=y");
  k->mutable_return_()->set_int_arg(-1);
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:12.123456789Z");
  ev.set_schema_version(1);
  return ev;
}

inline api::Event statusEvent() {
  api::Event ev;
  auto* s = ev.mutable_status();
  s->set_kind(api::Status::KIND_EXPORTER_DROPPED);
  s->set_subject("splunk");
  s->set_count(42);
  s->set_message("sink splunk dropped 42 events");
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:14.000000000Z");
  ev.set_schema_version(1);
  return ev;
}

inline api::Event ruleAlertEvent() {
  api::Event ev;
  auto* r = ev.mutable_rule_alert();
  r->set_rule("Shell in container");
  r->set_priority("WARNING");
  r->add_tags("container");
  r->set_output("shell spawned (user=root)");
  (*r->mutable_output_fields())["proc.name"] = "bash";
  (*r->mutable_output_fields())["proc.cmdline"] = "bash -i";
  (*r->mutable_output_fields())["user.name"] = "root";
  r->set_source("process_exec");
  fillProcess(r->mutable_process(), "ZXhlYw", 812, "/usr/bin/bash");
  fillProcess(r->mutable_parent(), "cGFyZW50", 790, "/usr/sbin/sshd");
  ev.set_node_name("web-1");
  ev.set_time("2026-11-23T18:40:15.000000000Z");
  ev.set_schema_version(1);
  return ev;
}

}  // namespace vigil::exporters::testing
