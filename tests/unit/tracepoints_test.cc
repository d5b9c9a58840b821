// spec.tracepoints, spec.lists, spec.enforcers, InMap/NotInMap and
// NotifyEnforcer without a kernel: parsed with positions, laid out for the
// kernel (tp_btf hook specs, field sources, integer sets, enforcers), and the
// kernel's record rendered as process_tracepoint.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "daemon/compiler/compiler.h"
#include "daemon/compiler/describe.h"
#include "daemon/events/hook_event.h"
#include "daemon/events/json_writer.h"
#include "daemon/policy/policy_parser.h"
#include "daemon/policy/tracepoints.h"
#include "tests/lib/temp_dir.h"
#include "vigil/abi/abi.h"

namespace vigil::compiler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kHead =
    "apiVersion: cilium.io/v1alpha1\n"  // 1
    "kind: TracingPolicy\n"             // 2
    "metadata:\n"                       // 3
    "  name: tp\n"                      // 4
    "spec:\n";                          // 5

policy::ParseResult parse(const std::string& yaml) {
  return policy::parsePolicyString(yaml, "p.yaml");
}
std::vector<std::string> errors(const policy::ParseResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(d.str());
  return out;
}

// killer.yaml's shape, with sys_exit too.
const std::string kKiller = kHead +
                            "  lists:\n"                                   // 6
                            "  - name: dups\n"                             // 7
                            "    type: syscalls\n"                         // 8
                            "    values: [sys_dup, sys_dup2, __ia32_sys_dup]\n"  // 9
                            "  enforcers:\n"                               // 10
                            "  - calls: [\"list:dups\"]\n"                 // 11
                            "  tracepoints:\n"                             // 12
                            "  - subsystem: raw_syscalls\n"                // 13
                            "    event: sys_enter\n"                       // 14
                            "    args:\n"                                  // 15
                            "    - {index: 4, type: syscall64, label: id}\n"  // 16
                            "    - {index: 3, type: int}\n"                // 17
                            "    selectors:\n"                             // 18
                            "    - matchArgs:\n"                           // 19
                            "      - {index: 0, operator: InMap, values: [\"list:dups\", \"60\"]}\n"  // 20
                            "      - {index: 1, operator: NotInMap, values: [\"1\"]}\n"  // 21
                            "      matchActions:\n"                        // 22
                            "      - {action: NotifyEnforcer, argError: -1, argSig: 9}\n"  // 23
                            "  - subsystem: raw_syscalls\n"                // 24
                            "    event: sys_exit\n"                        // 25
                            "    args:\n"                                  // 26
                            "    - {index: 5, type: long}\n"               // 27
                            "    - {index: 4, type: uint64}\n"             // 28
                            "    selectors: [{}]\n";                       // 29

TEST(Tracepoints, SyscallNumbersFromTheUapiTable) {
  EXPECT_EQ(policy::syscallNumber("sys_dup"), 32u);
  EXPECT_EQ(policy::syscallNumber("dup2"), 33u);
  EXPECT_EQ(policy::syscallNumber("__x64_sys_execve"), 59u);
  EXPECT_EQ(policy::syscallNumber("__ia32_sys_dup"), 41u | VG_SYSCALL_IA32);
  EXPECT_EQ(policy::syscallNumber("sys_nosuchcall"), std::nullopt);
  EXPECT_GT(policy::allSyscalls().size(), 300u);
}

TEST(Tracepoints, KillerParsesAndCompiles) {
  auto r = parse(kKiller);
  ASSERT_THAT(errors(r), IsEmpty());
  const auto& p = *r.policy;
  ASSERT_EQ(p.hooks.size(), 2u);
  const auto& h = p.hooks[0];
  EXPECT_EQ(h.kind, policy::HookKind::kTracepoint);
  EXPECT_EQ(h.hook, "raw_syscalls/sys_enter");
  EXPECT_EQ(h.ref(), "tracepoint/raw_syscalls/sys_enter");
  ASSERT_EQ(h.args.size(), 2u);
  EXPECT_EQ(h.args[0].index, 0);
  EXPECT_EQ(h.args[0].field, 4);
  EXPECT_EQ(h.args[0].kind, VG_ARG_SYSCALL64);
  EXPECT_EQ(h.args[0].src, VG_SRC_CTX0 + 1);
  EXPECT_EQ(h.args[1].src, VG_SRC_TID);
  EXPECT_THAT(h.selectors[0].match_args[0].numbers,
              ElementsAre(32u, 33u, 41u | VG_SYSCALL_IA32, 60u));
  ASSERT_EQ(p.enforcers.size(), 1u);
  EXPECT_THAT(p.enforcers[0].calls, ElementsAre("sys_dup", "sys_dup2"));

  auto c = compile({p}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->generic.size(), 2u);
  const HookSpec& enter = c->generic[0];
  EXPECT_EQ(enter.kind, policy::HookKind::kTracepoint);
  EXPECT_EQ(enter.function, "sys_enter");
  EXPECT_EQ(enter.kinds[0], VG_ARG_SYSCALL64);
  EXPECT_EQ(enter.src[0], VG_SRC_CTX0 + 1);
  EXPECT_EQ(enter.key(), "tracepoint:sys_enter(syscall64@2,s32@16,nop,nop,nop,nop)");
  EXPECT_EQ(c->generic[1].src[0], VG_SRC_CTX0 + 1);  // sys_exit's ret
  EXPECT_EQ(c->generic[1].src[1], VG_SRC_REGS_NR);   // sys_exit's id
  const uint32_t pid = c->policies[0].first;
  EXPECT_THAT(c->tp_slots[pid]["tracepoint/raw_syscalls/sys_enter"], ElementsAre(0, 1));
  ASSERT_EQ(c->enforcers.size(), 2u);
  EXPECT_EQ(c->enforcers[0].function, "__x64_sys_dup");
  EXPECT_EQ(c->enforcers[1].function, "__x64_sys_dup2");
  EXPECT_THAT(c->enforcers[0].policies, ElementsAre("tp"));
  const auto& [slot, sel] = c->selectors[0];
  EXPECT_EQ(sel.action, VG_ACT_NOTIFY_ENFORCER);
  EXPECT_EQ(sel.error, -1);
  EXPECT_EQ(sel.signal, 9);
  EXPECT_EQ(sel.filters[0].op, VG_OP_INT_IN);
  EXPECT_EQ(sel.filters[0].negate, 0);
  EXPECT_EQ(sel.filters[1].op, VG_OP_INT_IN);
  EXPECT_EQ(sel.filters[1].negate, 1);
  std::set<uint64_t> values;
  for (const auto& [k, check] : c->str_keys) {
    if (k.selector == slot && k.filter == 0) values.insert(k.hash);
  }
  EXPECT_EQ(values, (std::set<uint64_t>{32, 33, 41 | VG_SYSCALL_IA32, 60}));
  const std::string json = describeJson({p}, *c);
  EXPECT_THAT(json, HasSubstr("\"tp_btf\":\"tp_btf/sys_enter\""));
  EXPECT_THAT(json, HasSubstr("\"NotifyEnforcer\""));
  EXPECT_THAT(json, HasSubstr("{\"enforcer\":\"sys_dup\",\"policies\":[\"tp\"],\"attach\":{"
                              "\"fmod_ret\":\"fmod_ret/__x64_sys_dup\",\"fentry\":\"fentry/__x64_sys_dup\"}}"));
}

// killer.yaml reads id as syscall64, list-syscalls-tracepoint.yaml as uint64:
// one program, one slot per reading, each policy's selectors on its own.
TEST(Tracepoints, PoliciesReadingAFieldDifferentlyShareTheProgram) {
  auto mk = [](const std::string& name, const std::string& args, const std::string& value) {
    return parse(kHead.substr(0, kHead.find("name: tp")) + "name: " + name + "\nspec:\n" +
                 "  tracepoints:\n  - subsystem: raw_syscalls\n    event: sys_enter\n    args: " +
                 args + "\n    selectors:\n    - matchArgs: [{index: 0, operator: Equal, values: [\"" +
                 value + "\"]}]\n");
  };
  auto a = mk("a", "[{index: 4, type: syscall64}]", "32");
  auto b = mk("b", "[{index: 3, type: int}, {index: 4, type: uint64}]", "33");
  ASSERT_THAT(errors(a), IsEmpty());
  ASSERT_THAT(errors(b), IsEmpty());
  auto c = compile({*a.policy, *b.policy}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->generic.size(), 1u);
  EXPECT_EQ(c->generic[0].key(), "tracepoint:sys_enter(syscall64@2,s32@16,u64@2,nop,nop,nop)");
  EXPECT_THAT(c->tp_slots[c->policies[0].first]["tracepoint/raw_syscalls/sys_enter"], ElementsAre(0));
  EXPECT_THAT(c->tp_slots[c->policies[1].first]["tracepoint/raw_syscalls/sys_enter"],
              ElementsAre(1, 2));
  EXPECT_EQ(c->selectors[0].second.filters[0].arg, 0);
  EXPECT_EQ(c->selectors[1].second.filters[0].arg, 1);  // b's args[0] is common_pid: slot 1
}

TEST(Tracepoints, KprobeCallFromAList) {
  auto r = parse(kHead +
                 "  lists:\n  - {name: dups, type: syscalls, values: [sys_dup, __ia32_sys_dup, "
                 "sys_dup3]}\n"
                 "  kprobes:\n  - call: \"list:dups\"\n    selectors: [{}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  ASSERT_EQ(r.policy->hooks.size(), 2u);
  EXPECT_EQ(r.policy->hooks[0].hook, "sys_dup");
  EXPECT_TRUE(r.policy->hooks[0].syscall);
  EXPECT_EQ(r.policy->hooks[1].hook, "sys_dup3");
  auto c = compile({*r.policy}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->generic[0].function, "__x64_sys_dup");
  EXPECT_EQ(c->generic[1].function, "__x64_sys_dup3");
}

TEST(Tracepoints, GeneratedFtraceListFromKallsyms) {
  vigil::test::TempDir tmp;
  policy::ParseOptions options;
  options.kallsyms_path = tmp.file("kallsyms");
  {
    std::ofstream f(options.kallsyms_path);
    f << "ffffffff81000000 T ksys_read\n0000000000000000 t ksys_write\n"
         "0000000000000000 t ksys_msgctl.constprop.0\n0000000000000000 T vfs_read\n"
         "0000000000000000 t ksys_mod\t[some_module]\n";
  }
  auto r = policy::parsePolicyString(
      kHead +
          "  lists:\n  - {name: ksys, type: generated_ftrace, pattern: \"^ksys_*\"}\n"
          "  kprobes:\n  - call: \"list:ksys\"\n    selectors: [{}]\n",
      "p.yaml", options);
  ASSERT_THAT(errors(r), IsEmpty());
  ASSERT_EQ(r.policy->hooks.size(), 2u);
  EXPECT_EQ(r.policy->hooks[0].hook, "ksys_read");
  EXPECT_EQ(r.policy->hooks[1].hook, "ksys_write");
  EXPECT_TRUE(r.policy->hooks[0].generated);
  EXPECT_FALSE(r.policy->hooks[0].syscall);
}

TEST(Tracepoints, ErrorsWithPositions) {
  auto one = [](const std::string& yaml, const std::string& want) {
    SCOPED_TRACE(yaml);
    auto r = parse(yaml);
    EXPECT_THAT(errors(r), ElementsAre(want));
    EXPECT_FALSE(r.policy.has_value());
  };
  const std::string tp = kHead + "  tracepoints:\n  - subsystem: raw_syscalls\n";  // 6, 7
  one(tp + "    event: sys_enterr\n    selectors: [{}]\n",
      "p.yaml:8:12: spec.tracepoints[0].event: tracepoint raw_syscalls/sys_enterr is not "
      "supported yet; supported: raw_syscalls/sys_enter, raw_syscalls/sys_exit, "
      "sched/sched_process_exec, sched/sched_process_fork, sched/sched_process_exit, "
      "signal/signal_generate, module/module_load, task/task_rename, syscalls/sys_enter_NAME, "
      "syscalls/sys_exit_NAME (x86_64 system calls)");
  one(tp + "    event: sys_enter\n    args:\n    - {index: 9, type: int}\n",
      "p.yaml:10:15: spec.tracepoints[0].args[0].index: tracepoint raw_syscalls/sys_enter has no "
      "field 9; its fields are 0: common_type (unsigned short), 1: common_flags (unsigned char), "
      "2: common_preempt_count (unsigned char), 3: common_pid (int), 4: id (long), 5: args "
      "(unsigned long[6])");
  one(tp + "    event: sys_enter\n    args:\n    - {index: 5, type: int}\n",
      "p.yaml:10:15: spec.tracepoints[0].args[0].index: field 5 of raw_syscalls/sys_enter (args, "
      "unsigned long[6]) is not readable by Vigil yet");
  one(tp + "    event: sys_enter\n    args:\n    - {index: 3, type: syscall64}\n",
      "p.yaml:10:24: spec.tracepoints[0].args[0].type: syscall64 reads a system call number; "
      "field 3 of raw_syscalls/sys_enter is common_pid");
  one(tp + "    event: sys_enter\n    args:\n    - {index: 4, type: string}\n",
      "p.yaml:10:24: spec.tracepoints[0].args[0].type: field 4 of raw_syscalls/sys_enter (id) is "
      "an integer (long); read it as int, int64, uint64, long, ... or syscall64 (the system call "
      "number), not "
      "\"string\"");
  const std::string sel = tp + "    event: sys_enter\n    args:\n    - {index: 4, type: int64}\n"
                               "    selectors:\n    - matchArgs:\n";  // 11, 12
  one(sel + "      - {index: 0, operator: InMap, values: [\"list:nope\"]}\n",
      "p.yaml:13:46: spec.tracepoints[0].selectors[0].matchArgs[0].values[0]: list \"nope\" is "
      "not defined in spec.lists");
  one(sel + "      - {index: 0, operator: InMap, values: [x]}\n",
      "p.yaml:13:46: spec.tracepoints[0].selectors[0].matchArgs[0].values[0]: \"x\" is not an "
      "integer");
  one(tp + "    event: sys_enter\n    selectors:\n    - matchActions:\n"
           "      - {action: Override, argError: -1}\n",
      "p.yaml:11:18: spec.tracepoints[0].selectors[0].matchActions[0].action: Override on a "
      "tracepoint: a tracepoint cannot change what the traced code returns; use NotifyEnforcer "
      "(spec.enforcers) to deny at the system call, or Sigkill");
  one(tp + "    event: sys_enter\n    selectors:\n    - matchActions:\n"
           "      - {action: NotifyEnforcer, argSig: 9}\n",
      "p.yaml:11:18: spec.tracepoints[0].selectors[0].matchActions[0].action: NotifyEnforcer "
      "needs spec.enforcers, the system calls where its decision applies");
  one(kHead + "  enforcers: [{calls: [sys_dup]}]\n  tracepoints:\n  - subsystem: raw_syscalls\n"
              "    event: sys_enter\n    selectors:\n    - matchActions:\n"
              "      - {action: NotifyEnforcer}\n",
      "p.yaml:12:9: spec.tracepoints[0].selectors[0].matchActions[0]: NotifyEnforcer requires "
      "argError (the negative errno the system call returns) and/or argSig (the signal sent to "
      "the caller)");
  one(kHead + "  lists:\n  - {name: l, type: syscalls, values: [sys_nope]}\n"
              "  kprobes:\n  - {call: fd_install}\n",
      "p.yaml:7:40: spec.lists[0].values[0]: \"sys_nope\" is not an x86_64 system call "
      "(sys_NAME, __x64_sys_NAME or __ia32_sys_NAME)");
  one(kHead + "  lists:\n  - {name: l, type: bogus, values: [a]}\n  kprobes:\n  - {call: x}\n",
      "p.yaml:7:21: spec.lists[0].type: unknown list type \"bogus\"; supported: syscalls, "
      "generated_syscalls, generated_ftrace (or no type)");
  one(kHead + "  lists:\n  - {name: l, values: [\"1\"]}\n  enforcers:\n  - calls: [\"list:l\"]\n"
              "  kprobes:\n  - {call: x}\n",
      "p.yaml:9:13: spec.enforcers[0].calls[0]: list \"l\" is not a list of system calls (type: "
      "syscalls)");
}

// A kernel record of raw_syscalls/sys_enter rendered as process_tracepoint.
TEST(Tracepoints, RecordRendersAsProcessTracepoint) {
  auto r = parse(kKiller);
  ASSERT_TRUE(r.policy);
  auto c = compile({*r.policy}, {});
  ASSERT_TRUE(c.ok());
  std::vector<char> buf(sizeof(vg_hook_event) + VG_BIN_MAX);
  auto* raw = reinterpret_cast<vg_hook_event*>(buf.data());
  raw->hdr.type = VG_EV_HOOK;
  raw->hdr.version = VG_ABI_VERSION;
  raw->hdr.size = static_cast<uint32_t>(buf.size());
  raw->pid = 812;
  raw->tid = 813;
  raw->hook = static_cast<uint16_t>(c->generic[0].id);
  raw->action = VG_ACT_NOTIFY_ENFORCER;
  raw->outcome = VG_OUT_DENIED;
  raw->error = -1;
  raw->signal = 9;
  raw->mechanism = VG_MECH_TRACEPOINT;
  raw->args[0].kind = VG_ARG_SYSCALL64;
  raw->args[0].num = 41 | VG_SYSCALL_IA32;
  raw->args[1].kind = VG_ARG_S32;
  raw->args[1].num = 813;
  auto ev = events::decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  events::JsonRenderer renderer("n", {events::PolicyInfo::from(*r.policy)}, false, 0);
  renderer.setHookRefs(c->hook_refs);
  renderer.setTracepointSlots(c->tp_slots);
  api::Event out = renderer.toProto(*ev);
  ASSERT_TRUE(out.has_process_tracepoint());
  const auto& t = out.process_tracepoint();
  EXPECT_EQ(t.subsys(), "raw_syscalls");
  EXPECT_EQ(t.event(), "sys_enter");
  EXPECT_EQ(t.policy_name(), "tp");
  EXPECT_EQ(t.action(), api::ACTION_NOTIFY_ENFORCER);
  EXPECT_EQ(t.outcome(), api::OUTCOME_DENIED);
  EXPECT_EQ(t.return_errno(), -1);
  EXPECT_EQ(t.signal(), 9);
  EXPECT_EQ(t.mechanism(), "tp_btf");
  EXPECT_EQ(t.mode(), api::POLICY_MODE_ENFORCE);
  ASSERT_EQ(t.args_size(), 2);
  EXPECT_EQ(t.args(0).label(), "id");
  EXPECT_EQ(t.args(0).syscall_id().id(), 41u);
  EXPECT_EQ(t.args(0).syscall_id().abi(), "i386");
  EXPECT_EQ(t.args(1).int_arg(), 813);
  const std::string json = events::renderJson(out);
  EXPECT_THAT(json, HasSubstr("\"args\":[{\"label\":\"id\",\"syscall_id\":{\"id\":41,\"abi\":\"i386\"}},"
                              "{\"int_arg\":\"813\"}]"));
}

// syscalls/sys_enter_NAME and sys_exit_NAME: format-file indexes (common
// fields, __syscall_nr, the arguments or ret), served by raw_syscalls with a
// system call number filter; one program instance per system call.
TEST(Tracepoints, SyscallEventsFieldsAndSpecs) {
  const auto* openat = policy::findTracepoint("syscalls", "sys_enter_openat");
  ASSERT_NE(openat, nullptr);
  EXPECT_EQ(openat->attach, "sys_enter");
  EXPECT_EQ(openat->nr, 257);
  ASSERT_EQ(openat->fields.size(), 9u);  // 4 common, __syscall_nr, dfd, filename, flags, mode
  EXPECT_EQ(openat->fields[4].name, "__syscall_nr");
  EXPECT_EQ(openat->fields[5].name, "dfd");
  EXPECT_EQ(openat->fields[6].name, "filename");
  EXPECT_EQ(openat->fields[6].type, "const char *");
  EXPECT_EQ(openat->fields[8].src, VG_SRC_REGS_ARG0 + 3);  // mode: r10
  const auto* mmap = policy::findTracepoint("syscalls", "sys_enter_mmap");
  ASSERT_NE(mmap, nullptr);
  EXPECT_EQ(mmap->fields.size(), 11u);  // six arguments: 5..10
  EXPECT_EQ(mmap->fields[10].src, VG_SRC_REGS_ARG0 + 5);
  const auto* getpid = policy::findTracepoint("syscalls", "sys_enter_getpid");
  ASSERT_NE(getpid, nullptr);
  EXPECT_EQ(getpid->fields.size(), 5u);
  const auto* exit = policy::findTracepoint("syscalls", "sys_exit_getpgid");
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->attach, "sys_exit");
  EXPECT_EQ(exit->nr, 121);
  EXPECT_EQ(exit->nr_src, VG_SRC_REGS_NR);
  ASSERT_EQ(exit->fields.size(), 6u);
  EXPECT_EQ(exit->fields[5].name, "ret");
  EXPECT_EQ(exit->fields[5].src, VG_SRC_CTX0 + 1);
  EXPECT_GT(policy::syscallTracepointNames().size(), 300u);
  EXPECT_EQ(policy::findTracepoint("syscalls", "sys_enter_nosuchcall"), nullptr);
  EXPECT_EQ(policy::findTracepoint("syscalls", "sys_enter_stat"), nullptr);
  ASSERT_NE(policy::findTracepoint("syscalls", "sys_enter_newstat"), nullptr);
  EXPECT_EQ(policy::findTracepoint("syscalls", "sys_enter_newstat")->nr, 4);

  auto r = parse(kHead +
                 "  tracepoints:\n"
                 "  - subsystem: syscalls\n"
                 "    event: sys_enter_openat\n"
                 "    args:\n"
                 "    - {index: 6, type: string}\n"
                 "    - {index: 7, type: int}\n"
                 "    - {index: 4, type: syscall64}\n"
                 "    selectors:\n"
                 "    - matchArgs: [{index: 1, operator: Equal, values: [\"577\"]}]\n"
                 "  - subsystem: syscalls\n"
                 "    event: sys_enter_dup\n"
                 "    args: [{index: 5, type: int}]\n"
                 "  - subsystem: syscalls\n"
                 "    event: sys_exit_dup\n"
                 "    args: [{index: 5, type: int}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  const auto& h = r.policy->hooks[0];
  EXPECT_EQ(h.ref(), "tracepoint/syscalls/sys_enter_openat");
  EXPECT_EQ(h.args[0].kind, VG_ARG_USTR);  // a user pointer, read from the caller's memory
  EXPECT_EQ(h.args[0].src, VG_SRC_REGS_ARG0 + 1);
  EXPECT_EQ(h.args[1].kind, VG_ARG_S32);
  EXPECT_EQ(h.args[2].kind, VG_ARG_SYSCALL64);
  auto c = compile({*r.policy}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->generic.size(), 3u);
  EXPECT_EQ(c->generic[0].function, "sys_enter");
  EXPECT_EQ(c->generic[0].tp_nr, 257);
  EXPECT_EQ(c->generic[0].tp_nr_src, VG_SRC_CTX0 + 1);
  // dup's enter and exit read the same kinds: still distinct instances.
  EXPECT_EQ(c->generic[1].key(), "tracepoint:sys_enter:nr=32(s32@18,nop,nop,nop,nop,nop)");
  EXPECT_EQ(c->generic[2].key(), "tracepoint:sys_exit:nr=32(s32@2,nop,nop,nop,nop,nop)");
  EXPECT_EQ(c->generic[2].tp_nr_src, VG_SRC_REGS_NR);
  EXPECT_EQ(c->hook_refs[c->generic[1].id], "tracepoint/syscalls/sys_enter_dup");
}

TEST(Tracepoints, SecurityTracepointsFields) {
  auto r = parse(kHead +
                 "  tracepoints:\n"
                 "  - subsystem: sched\n"
                 "    event: sched_process_exec\n"
                 "    args: [{index: 4, type: string}, {index: 5, type: int}, {index: 6, type: int}]\n"
                 "  - subsystem: sched\n"
                 "    event: sched_process_fork\n"
                 "    args: [{index: 4, type: string}, {index: 5, type: int}, "
                 "{index: 6, type: string}, {index: 7, type: int}]\n"
                 "  - subsystem: sched\n"
                 "    event: sched_process_exit\n"
                 "    args: [{index: 4, type: string}, {index: 5, type: int}, {index: 6, type: int}]\n"
                 "  - subsystem: signal\n"
                 "    event: signal_generate\n"
                 "    args: [{index: 4, type: int}, {index: 7, type: string}, {index: 8, type: int}, "
                 "{index: 9, type: int}, {index: 10, type: int}, {index: 6, type: int}]\n"
                 "  - subsystem: module\n"
                 "    event: module_load\n"
                 "    args: [{index: 4, type: uint32}, {index: 5, type: string}]\n"
                 "  - subsystem: task\n"
                 "    event: task_rename\n"
                 "    args: [{index: 4, type: int}, {index: 5, type: string}, "
                 "{index: 6, type: string}, {index: 7, type: int16}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  const auto& hs = r.policy->hooks;
  ASSERT_EQ(hs.size(), 6u);
  auto srcs = [](const policy::Hook& h) {
    std::vector<int> out;
    for (const auto& a : h.args) out.push_back(a.src);
    return out;
  };
  EXPECT_THAT(srcs(hs[0]), ElementsAre(VG_SRC_BPRM_FILENAME, VG_SRC_TASK_PID0, VG_SRC_CTX0 + 1));
  EXPECT_EQ(hs[0].args[0].kind, VG_ARG_STR);  // kernel memory
  EXPECT_THAT(srcs(hs[1]), ElementsAre(VG_SRC_TASK_COMM0, VG_SRC_TASK_PID0, VG_SRC_TASK_COMM0 + 1,
                                       VG_SRC_TASK_PID0 + 1));
  EXPECT_THAT(srcs(hs[2]), ElementsAre(VG_SRC_TASK_COMM0, VG_SRC_TASK_PID0, VG_SRC_TASK_PRIO));
  EXPECT_THAT(srcs(hs[3]), ElementsAre(VG_SRC_CTX0, VG_SRC_TASK_COMM0 + 2, VG_SRC_TASK_PID0 + 2,
                                       VG_SRC_CTX0 + 3, VG_SRC_CTX0 + 4, VG_SRC_SIGINFO_CODE));
  EXPECT_THAT(srcs(hs[4]), ElementsAre(VG_SRC_MOD_TAINTS, VG_SRC_MOD_NAME));
  EXPECT_THAT(srcs(hs[5]), ElementsAre(VG_SRC_TASK_PID0, VG_SRC_TASK_COMM0, VG_SRC_CTX0 + 1,
                                       VG_SRC_TASK_OOM));
  auto c = compile({*r.policy}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->generic[0].function, "sched_process_exec");
  EXPECT_EQ(c->generic[0].tp_nr, -1);
}

TEST(Tracepoints, SyscallAndSecurityTracepointErrors) {
  auto one = [](const std::string& yaml, const std::string& want) {
    SCOPED_TRACE(yaml);
    auto r = parse(yaml);
    EXPECT_THAT(errors(r), ElementsAre(want));
  };
  const std::string sc = kHead + "  tracepoints:\n  - subsystem: syscalls\n";  // 6, 7
  one(sc + "    event: sys_enter_opnat\n",
      "p.yaml:8:12: spec.tracepoints[0].event: syscalls/sys_enter_opnat: no x86_64 system call "
      "\"opnat\"");
  one(sc + "    event: sys_exit_OPENAT\n",
      "p.yaml:8:12: spec.tracepoints[0].event: syscalls/sys_exit_OPENAT: no x86_64 system call "
      "\"OPENAT\" (did you mean \"openat\"?)");
  one(sc + "    event: sys_enter_stat\n",
      "p.yaml:8:12: spec.tracepoints[0].event: syscalls/sys_enter_stat: the kernel names the "
      "events of the x86_64 system call stat after its function: syscalls/sys_enter_newstat");
  one(sc + "    event: sys_exit_get_thread_area\n",
      "p.yaml:8:12: spec.tracepoints[0].event: syscalls/sys_exit_get_thread_area: the x86_64 "
      "system call get_thread_area has no syscalls tracepoint on Debian's kernels (it is not a "
      "SYSCALL_DEFINE); use raw_syscalls/sys_enter with a matchArgs on the id");
  one(sc + "    event: sys_openat\n",
      "p.yaml:8:12: spec.tracepoints[0].event: syscalls/sys_openat: the syscalls events are "
      "sys_enter_NAME and sys_exit_NAME");
  one(sc + "    event: sys_enter_dup\n    args: [{index: 6, type: int}]\n",
      "p.yaml:9:20: spec.tracepoints[0].args[0].index: tracepoint syscalls/sys_enter_dup has no "
      "field 6; its fields are 0: common_type (unsigned short), 1: common_flags (unsigned char), "
      "2: common_preempt_count (unsigned char), 3: common_pid (int), 4: __syscall_nr (int), 5: "
      "fildes (unsigned int)");
  one(sc + "    event: sys_exit_dup\n    args: [{index: 6, type: int}]\n",
      "p.yaml:9:20: spec.tracepoints[0].args[0].index: tracepoint syscalls/sys_exit_dup has no "
      "field 6; its fields are 0: common_type (unsigned short), 1: common_flags (unsigned char), "
      "2: common_preempt_count (unsigned char), 3: common_pid (int), 4: __syscall_nr (int), 5: "
      "ret (long)");
  one(sc + "    event: sys_enter_dup\n    args: [{index: 5, type: string}]\n",
      "p.yaml:9:29: spec.tracepoints[0].args[0].type: field 5 of syscalls/sys_enter_dup (fildes) "
      "is an integer (unsigned int); read it as int, int64, uint64, long, ... or syscall64 (the "
      "system call number), not \"string\"");
  one(sc + "    event: sys_enter_openat\n    args: [{index: 6, type: sock}]\n",
      "p.yaml:9:29: spec.tracepoints[0].args[0].type: field 6 of syscalls/sys_enter_openat "
      "(filename) is a user-space string pointer (const char *); read it as string, int, int64, "
      "uint64, long, ... or syscall64 (the system call number), not \"sock\"");
  const std::string sig = kHead + "  tracepoints:\n  - subsystem: signal\n"
                                  "    event: signal_generate\n";  // 6, 7, 8
  one(sig + "    args: [{index: 0, type: int}]\n",
      "p.yaml:9:20: spec.tracepoints[0].args[0].index: field 0 of signal/signal_generate "
      "(common_type, unsigned short) is not readable by Vigil yet");
  one(sig + "    args: [{index: 7, type: int}]\n",
      "p.yaml:9:29: spec.tracepoints[0].args[0].type: field 7 of signal/signal_generate (comm, "
      "char[16]) is a string; read it as string, not \"int\"");
  one(kHead + "  tracepoints:\n  - subsystem: sched\n    event: sched_switch\n",
      "p.yaml:8:12: spec.tracepoints[0].event: tracepoint sched/sched_switch is not supported "
      "yet; supported: raw_syscalls/sys_enter, raw_syscalls/sys_exit, sched/sched_process_exec, "
      "sched/sched_process_fork, sched/sched_process_exit, signal/signal_generate, "
      "module/module_load, task/task_rename, syscalls/sys_enter_NAME, syscalls/sys_exit_NAME "
      "(x86_64 system calls)");
}

}  // namespace
}  // namespace vigil::compiler
