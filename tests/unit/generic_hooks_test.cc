// The generic hook path without a kernel: kprobes and the LSM hooks beyond the
// built-in two, parsed, checked against argument kinds, and laid out for the
// kernel (hook ids, argument kinds, operators, values at the argument's width).
#include <gmock/gmock.h>
#include <sys/socket.h>
#include <gtest/gtest.h>

#include <string>

#include "daemon/compiler/compiler.h"
#include "daemon/compiler/describe.h"
#include "daemon/policy/hook_catalog.h"
#include "daemon/policy/policy_parser.h"
#include "vigil/abi/abi.h"

namespace vigil::compiler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::IsEmpty;

const std::string kHead =
    "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: NAME\nspec:\n";

std::string head(const std::string& name = "p") {
  std::string h = kHead;
  return h.replace(h.find("NAME"), 4, name);
}

policy::ParseResult parse(const std::string& yaml) {
  return policy::parsePolicyString(yaml, "p.yaml");
}

policy::Policy ok(const std::string& yaml) {
  auto r = parse(yaml);
  EXPECT_THAT(r.errors, IsEmpty()) << (r.errors.empty() ? "" : r.errors[0].str());
  return r.policy ? *r.policy : policy::Policy{};
}

std::vector<std::string> errors(const policy::ParseResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

// A kprobe on a system call with one int argument and the given selector.
std::string getpgid(const std::string& selector, const std::string& name = "p") {
  return head(name) +
         "  kprobes:\n  - call: sys_getpgid\n    syscall: true\n    args:\n"
         "    - {index: 0, type: int, label: pid}\n    selectors:\n" + selector;
}

bool hasIntKey(const CompiledSet& s, uint32_t slot, uint8_t filter, uint64_t v) {
  for (const auto& [k, check] : s.str_keys) {
    if (k.selector == slot && k.filter == filter && k.op == VG_OP_INT_IN && k.len == 0 &&
        k.hash == v && check == 0)
      return true;
  }
  return false;
}

TEST(GenericHooks, KprobeOnASyscallGetsAGenericHookWithItsArgumentKinds) {
  auto p = ok(getpgid("    - matchArgs:\n      - {index: 0, operator: Equal, values: [\"-1\", \"4242\"]}\n"
                      "      matchActions:\n      - {action: Signal, argSig: 10}\n"));
  ASSERT_EQ(p.hooks.size(), 1u);
  EXPECT_EQ(p.hooks[0].kind, policy::HookKind::kKprobe);
  EXPECT_TRUE(p.hooks[0].syscall);
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->generic.size(), 1u);
  const HookSpec& h = s->generic[0];
  EXPECT_EQ(h.id, uint32_t{VG_HOOK_FIRST});
  EXPECT_EQ(h.function, "__x64_sys_getpgid");
  EXPECT_EQ(h.kinds[0], VG_ARG_S32);
  EXPECT_FALSE(h.overrides);
  EXPECT_EQ(h.key(), "kprobe:__x64_sys_getpgid:syscall(s32,nop,nop,nop,nop,nop)");
  EXPECT_EQ(s->hook_refs.at(h.id), "kprobe/sys_getpgid");
  ASSERT_EQ(s->selectors.size(), 1u);
  const vg_selector& sel = s->selectors[0].second;
  EXPECT_EQ(sel.action, VG_ACT_SIGNAL);
  EXPECT_EQ(sel.signal, 10);
  EXPECT_EQ(sel.filters[0].op, VG_OP_INT_IN);
  EXPECT_EQ(sel.filters[0].negate, 0);
  // An int is read sign-extended: -1 is all ones.
  EXPECT_TRUE(hasIntKey(*s, 0, 0, ~uint64_t{0}));
  EXPECT_TRUE(hasIntKey(*s, 0, 0, 4242));
  EXPECT_EQ(s->hooks[h.id].count, 1u);
}

TEST(GenericHooks, ReturnProbesAreHooksOfTheirOwnWithReturnFilters) {
  auto p = ok(head() + "  kprobes:\n  - call: fd_install\n    args:\n    - {index: 0, type: int}\n"
              "    selectors: [{}]\n  - call: fd_install\n    return: true\n    args:\n"
              "    - {index: 0, type: int}\n    returnArg: {index: 0, type: uint32}\n"
              "    selectors:\n    - matchArgs:\n      - {index: 0, operator: Equal, values: [\"3\"]}\n"
              "      matchReturnArgs:\n      - {index: 0, operator: Equal, values: [\"-1\"]}\n");
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->generic.size(), 2u);
  EXPECT_EQ(s->generic[0].ret_kind, VG_ARG_NONE);
  EXPECT_EQ(s->generic[1].ret_kind, VG_ARG_U32);
  EXPECT_EQ(s->generic[1].ref(), "kprobe/fd_install#return");
  EXPECT_EQ(s->generic[1].key(), "kprobe:fd_install:return=u32(s32,nop,nop,nop,nop,nop)");
  const vg_selector& sel = s->selectors[1].second;
  ASSERT_EQ(sel.nfilters, 2);
  EXPECT_EQ(sel.filters[1].arg, VG_ARG_RETURN);
  // -1 read as a u32 return value is 0xffffffff.
  EXPECT_TRUE(hasIntKey(*s, s->selectors[1].first, 1, 0xffffffffu));
}

TEST(GenericHooks, SyscallNamesResolveToTheArchitectureSymbol) {
  EXPECT_EQ(policy::syscallSymbol("sys_linkat"), "__x64_sys_linkat");
  EXPECT_EQ(policy::syscallSymbol("linkat"), "__x64_sys_linkat");
  EXPECT_EQ(policy::syscallSymbol("__x64_sys_linkat"), "__x64_sys_linkat");
}

TEST(GenericHooks, NumericAndNegatedOperatorsEncode) {
  auto p = ok(getpgid(
      "    - matchArgs:\n"
      "      - {index: 0, operator: NotEqual, values: [\"1\"]}\n"
      "      - {index: 0, operator: GT, values: [\"-5\"]}\n"
      "      - {index: 0, operator: LT, values: [\"0x100\"]}\n"
      "      - {index: 0, operator: Mask, values: [\"1\", \"4\"]}\n"
      "      - {index: 0, operator: NotInRange, values: [\"10:20\"]}\n"));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const vg_selector& sel = s->selectors[0].second;
  ASSERT_EQ(sel.nfilters, 5);
  EXPECT_EQ(sel.filters[0].op, VG_OP_INT_IN);
  EXPECT_EQ(sel.filters[0].negate, 1);
  EXPECT_EQ(sel.filters[1].op, VG_OP_GT);
  EXPECT_EQ(static_cast<int64_t>(sel.filters[1].a), -5);
  EXPECT_EQ(sel.filters[2].op, VG_OP_LT);
  EXPECT_EQ(sel.filters[2].a, 256u);
  EXPECT_EQ(sel.filters[3].op, VG_OP_MASK);
  EXPECT_EQ(sel.filters[3].a, 5u);  // the values OR'd
  EXPECT_EQ(sel.filters[4].op, VG_OP_RANGE);
  EXPECT_EQ(sel.filters[4].negate, 1);
  EXPECT_EQ(sel.filters[4].a, 10u);
  EXPECT_EQ(sel.filters[4].b, 20u);
}

TEST(GenericHooks, SocketOperatorsReadTheirFieldAndCidrsGoToTheTrie) {
  auto p = ok(head() +
              "  lsmhooks:\n  - hook: socket_connect\n    args:\n"
              "    - {index: 0, type: socket}\n    - {index: 1, type: sockaddr}\n"
              "    selectors:\n    - matchArgs:\n"
              "      - {index: 1, operator: NotDAddr, values: [10.0.0.0/8, \"fd00::/8\", 127.0.0.1]}\n"
              "      - {index: 1, operator: DPort, values: [\"443\"]}\n"
              "      - {index: 0, operator: Protocol, values: [IPPROTO_TCP]}\n"
              "      - {index: 1, operator: Family, values: [AF_INET6, \"2\"]}\n"
              "      - {index: 1, operator: SPortPriv}\n"
              "      matchActions:\n      - {action: Override, argError: -111}\n");
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->generic.size(), 1u);
  EXPECT_EQ(s->generic[0].kinds[0], VG_ARG_SOCKET);
  EXPECT_EQ(s->generic[0].kinds[1], VG_ARG_SOCKADDR);
  EXPECT_EQ(s->generic[0].function, "security_socket_connect");
  const vg_selector& sel = s->selectors[0].second;
  EXPECT_EQ(sel.filters[0].op, VG_OP_CIDR);
  EXPECT_EQ(sel.filters[0].field, VG_FIELD_DADDR);
  EXPECT_EQ(sel.filters[0].negate, 1);
  ASSERT_EQ(s->cidrs.size(), 3u);
  EXPECT_EQ(s->cidrs[0].prefixlen, 64u + 8);
  EXPECT_EQ(s->cidrs[0].family, AF_INET);
  EXPECT_EQ(s->cidrs[0].addr[0], 10);
  EXPECT_EQ(s->cidrs[1].prefixlen, 64u + 8);
  EXPECT_EQ(s->cidrs[1].family, AF_INET6);
  EXPECT_EQ(s->cidrs[1].addr[0], 0xfd);
  EXPECT_EQ(s->cidrs[2].prefixlen, 64u + 32);
  EXPECT_EQ(sel.filters[1].field, VG_FIELD_DPORT);
  EXPECT_TRUE(hasIntKey(*s, 0, 1, 443));
  EXPECT_EQ(sel.filters[2].field, VG_FIELD_PROTOCOL);
  EXPECT_TRUE(hasIntKey(*s, 0, 2, 6));
  EXPECT_TRUE(hasIntKey(*s, 0, 3, 10));
  EXPECT_TRUE(hasIntKey(*s, 0, 3, 2));
  EXPECT_EQ(sel.filters[4].op, VG_OP_PRIV);
  EXPECT_EQ(sel.filters[4].field, VG_FIELD_SPORT);
  EXPECT_EQ(sel.error, -111);
}

TEST(GenericHooks, HookIdsStayStableAcrossCompilesAndNewHooksTakeFreeIds) {
  auto a = ok(getpgid("    - {}\n", "a"));
  auto b = ok(head("b") + "  lsmhooks:\n  - hook: path_unlink\n    selectors: [{}]\n");
  auto first = compile({a, b}, {});
  ASSERT_TRUE(first.ok()) << first.status();
  auto ids = first->hookIds();
  ASSERT_EQ(ids.size(), 2u);
  // Recompiled with b first: the hooks keep the ids the kernel knows them by.
  CompileOptions opts;
  opts.hook_ids = ids;
  opts.generation = 1;
  auto second = compile({b, a}, opts);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->hookIds(), ids);
  // A different reading of an argument is another program, with a new id.
  auto c = ok(head("c") + "  kprobes:\n  - call: sys_getpgid\n    syscall: true\n    args:\n"
              "    - {index: 0, type: uint64}\n    selectors: [{}]\n");
  auto third = compile({c}, opts);
  ASSERT_TRUE(third.ok()) << third.status();
  ASSERT_EQ(third->generic.size(), 1u);
  EXPECT_EQ(third->generic[0].id, VG_HOOK_FIRST + 2u);
}

TEST(GenericHooks, ConflictingArgumentKindsAcrossPoliciesAreAnError) {
  auto a = ok(head("a") + "  kprobes:\n  - call: fd_install\n    args:\n"
              "    - {index: 0, type: int}\n    selectors: [{}]\n");
  auto b = ok(head("b") + "  kprobes:\n  - call: fd_install\n    args:\n"
              "    - {index: 0, type: file}\n    selectors: [{}]\n");
  auto s = compile({a, b}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("argument 0 of fd_install is read as s32 by another policy, here as file"));
}

TEST(GenericHooks, DentriesOfPathHooksAreResolvedInTheirDirectorysMount) {
  auto p = ok(head() + "  lsmhooks:\n  - hook: path_rename\n    args:\n"
              "    - {index: 1, type: dentry}\n    - {index: 3, type: dentry}\n    selectors: [{}]\n");
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->generic[0].mount_of[1], 0);
  EXPECT_EQ(s->generic[0].mount_of[3], 2);
  EXPECT_EQ(s->generic[0].slots[1], 0);
  EXPECT_EQ(s->generic[0].slots[3], 1);
}

TEST(GenericHooks, MoreThanTwoStringArgumentsIsAnError) {
  auto p = ok(head() + "  kprobes:\n  - call: some_function\n    args:\n"
              "    - {index: 0, type: string}\n    - {index: 1, type: file}\n"
              "    - {index: 2, type: path}\n    selectors: [{}]\n");
  auto s = compile({p}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("some_function: at most 2 string or path arguments are read per hook"));
}

TEST(GenericHooks, BinaryOperatorsEncode) {
  auto p = ok(getpgid("    - matchBinaries:\n      - {operator: NotPrefix, values: [/usr/]}\n"));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const vg_selector& sel = s->selectors[0].second;
  EXPECT_EQ(sel.binaries, VG_OP_BIN_PREFIX);
  EXPECT_EQ(sel.bin_negate, 1);
  ASSERT_EQ(s->len_sets.size(), 1u);
  EXPECT_EQ(sel.bin_len_set, s->len_sets[0].first);
  EXPECT_EQ(s->len_sets[0].second.max_len, 5);
}

// file_open is described like any hook, its file argument carrying f_flags.
TEST(GenericHooks, FileOpenIsDescribedAsAGenericProgram) {
  auto p = ok("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: o\nspec:\n"
              "  lsmhooks:\n  - hook: file_open\n    args: [{index: 0, type: file}]\n"
              "    selectors:\n    - matchArgs: [{index: 0, operator: Prefix, values: [/etc/]}]\n");
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string j = describeJson({p}, *s);
  EXPECT_THAT(j, HasSubstr("\"hook\":\"lsm/file_open\",\"id\":1,\"program\":\"generic\","
                           "\"attach\":{\"bpf_lsm\":\"lsm/file_open\",\"fmod_ret\":\"fmod_ret/security_file_open\"},"
                           "\"syscall\":false,\"args\":[{\"index\":0,\"read_as\":\"file\",\"string_slot\":0,"
                           "\"file_flags\":true}]"));
  EXPECT_THAT(j, Not(HasSubstr("built-in")));
}

TEST(GenericHooks, CompiledPlanDescribesProgramsSelectorsAndEntries) {
  auto p = ok(getpgid("    - matchArgs:\n      - {index: 0, operator: Equal, values: [\"7\", \"8\"]}\n"
                      "      matchActions:\n      - {action: Sigkill}\n      - {action: NoPost}\n"));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string j = describeJson({p}, *s);
  EXPECT_THAT(j, HasSubstr("\"policies\":[{\"id\":0,\"name\":\"p\",\"file\":\"p.yaml\",\"mode\":\"enforce\"}]"));
  EXPECT_THAT(j, HasSubstr("\"hook\":\"kprobe/sys_getpgid\",\"id\":1,\"program\":\"generic\","
                           "\"attach\":{\"fentry\":\"fentry/__x64_sys_getpgid\",\"kprobe\":\"kprobe/__x64_sys_getpgid\"},"
                           "\"syscall\":true,"
                           "\"args\":[{\"index\":0,\"read_as\":\"s32\"}],\"selectors\":1"));
  EXPECT_THAT(j, HasSubstr("\"action\":\"Sigkill\",\"errno\":1,\"nopost\":true,\"filters\":[{\"arg\":0,"
                           "\"field\":\"value\",\"op\":\"number_in\",\"negate\":false,"
                           "\"hash_entries\":2}]"));
  EXPECT_THAT(j, HasSubstr("\"map_entries\":{\"vg_selectors\":1,\"vg_str_match\":2,\"vg_len_sets\":0,"
                           "\"vg_cidr\":0}"));
}

TEST(GenericHooks, RateLimitIsPerSelector) {
  auto p = ok(getpgid("    - matchActions:\n      - {action: Post, rateLimit: 30s, rateLimitScope: global}\n"));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->selectors[0].second.rate_ns, 30'000'000'000u);
  EXPECT_EQ(s->selectors[0].second.rate_scope, VG_RATE_GLOBAL);
  EXPECT_THAT(describeJson({p}, *s),
              HasSubstr("\"rate_limit_ns\":30000000000,\"rate_limit_scope\":\"global\""));
}

TEST(GenericHooksParser, OperatorsMustFitTheArgumentAndValuesTheirOperator) {
  const std::string at = "p.yaml:12:9: spec.kprobes[0].selectors[0].matchArgs[0]";
  auto r = parse(getpgid("    - matchArgs:\n      - {index: 0, operator: Prefix, values: [/x]}\n"));
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr(
                             "operator Prefix does not apply to argument 0 (type int); supported "
                             "for int arguments: Equal, NotEqual, GT, LT, Mask, InRange, NotInRange")));
  r = parse(getpgid("    - matchArgs:\n      - {index: 0, operator: Equal, values: [twelve]}\n"));
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("values[0]: \"twelve\" is not an integer")));
  r = parse(getpgid("    - matchArgs:\n      - {index: 0, operator: InRange, values: [\"1-2\"]}\n"));
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("\"1-2\" is not a range \"min:max\"")));
  r = parse(getpgid("    - matchArgs:\n      - {index: 0, operator: GT, values: [\"1\", \"2\"]}\n"));
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("GT takes exactly one value")));
  const std::string sock = head() +
                           "  lsmhooks:\n  - hook: socket_connect\n    args:\n"
                           "    - {index: 1, type: sockaddr}\n    selectors:\n    - matchArgs:\n";
  r = parse(sock + "      - {index: 1, operator: DAddr, values: [10.0.0.0/33]}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("\"10.0.0.0/33\" is not an IPv4 or IPv6 address")));
  r = parse(sock + "      - {index: 1, operator: DPort, values: [\"70000\"]}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("\"70000\" is not a port (0 to 65535)")));
  r = parse(sock + "      - {index: 1, operator: Family, values: [AF_BOGUS]}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("\"AF_BOGUS\" is not an address family")));
  r = parse(sock + "      - {index: 1, operator: Equal, values: [x]}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("operator Equal does not apply to argument 1 (type "
                                               "sockaddr)")));
}

TEST(GenericHooksParser, KprobeFieldsAndTheirErrors) {
  auto r = parse(head() + "  kprobes:\n  - call: \"list:ksys\"\n    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("list \"ksys\" is not defined in spec.lists")));
  r = parse(head() + "  kprobes:\n  - call: fd_install\n    selectors:\n    - matchReturnArgs:\n"
            "      - {index: 0, operator: Equal, values: [\"0\"]}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("matchReturnArgs: only for return probes (return: "
                                               "true)")));
  r = parse(head() + "  kprobes:\n  - call: security_x\n    return: true\n    selectors:\n"
            "    - matchActions:\n      - {action: Override, argError: -1}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("Override on a return probe: the call has already "
                                               "returned")));
  r = parse(head() + "  kprobes:\n  - call: fd_install\n    return: true\n    returnArg: {index: 0, "
            "type: file}\n    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("return values are read as integers, sock or socket; "
                                               "\"file\" is not supported yet")));
  r = parse(head() + "  kprobes:\n  - call: fd_install\n    args:\n    - {index: 6, type: int}\n"
            "    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("argument 6 is out of reach; Vigil reads arguments 0 "
                                               "to 5")));
  r = parse(head() + "  kprobes:\n  - call: fd_install\n    args:\n    - {index: 0, type: char_iovec}\n"
            "    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("reading arguments of type \"char_iovec\" is not supported yet")));
  r = parse(head() + "  kprobes:\n  - call: fd_install\n    args:\n    - {index: 0, type: sandwich}\n"
            "    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("unknown type \"sandwich\"")));
  r = parse(head() + "  kprobes:\n  - call: fd_install\n    selectors:\n    - matchActions:\n"
            "      - {action: Override, argError: -1}\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr(
                             "Override on kprobe \"fd_install\": the kernel lets Vigil change the "
                             "return value of security_* functions and system calls")));
  auto p = ok(head() + "  kprobes:\n  - call: maybe_missing\n    ignore: {callNotFound: true}\n"
              "    selectors: [{}]\n");
  ASSERT_EQ(p.hooks.size(), 1u);
  EXPECT_TRUE(p.hooks[0].skip_if_missing);
}

TEST(GenericHooksParser, LsmHookArgumentsFollowTheKernelSignature) {
  auto r = parse(head() + "  lsmhooks:\n  - hook: socket_create\n    args:\n"
                 "    - {index: 0, type: file}\n    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("argument 0 of hook socket_create has type \"int\" (the "
                                               "address family), not \"file\"")));
  r = parse(head() + "  lsmhooks:\n  - hook: file_mprotect\n    args:\n"
            "    - {index: 0, type: vm_area_struct}\n    selectors: [{}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("reading argument 0 of hook file_mprotect (vm_area_struct) is "
                                               "not supported yet")));
  // Any integer type reads an integer argument, at the kernel's width.
  auto p = ok(head() + "  lsmhooks:\n  - hook: socket_create\n    args:\n"
              "    - {index: 0, type: uint64}\n    selectors: [{}]\n");
  EXPECT_EQ(p.hooks[0].args[0].kind, VG_ARG_S32);
  EXPECT_EQ(policy::lsmHooks().size(), 25u);
}

}  // namespace
}  // namespace vigil::compiler
