#include "daemon/compiler/compiler.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/policy/policy_parser.h"

namespace vigil::compiler {
namespace {

policy::Policy parse(const std::string& yaml, const std::string& name = "p.yaml") {
  auto r = policy::parsePolicyString(yaml, name);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].str());
  return *r.policy;
}

std::string fileOpenPolicy(const std::string& name, const std::string& op,
                           const std::vector<std::string>& values, const std::string& actions,
                           const std::string& extra_selector = "") {
  std::string y = "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: " +
                  name +
                  "\nspec:\n  lsmhooks:\n  - hook: file_open\n    args:\n    - index: 0\n"
                  "      type: file\n    selectors:\n    - matchArgs:\n      - index: 0\n"
                  "        operator: " + op + "\n        values:\n";
  for (const auto& v : values) y += "        - \"" + v + "\"\n";
  y += actions;
  y += extra_selector;
  return y;
}

bool hasKey(const CompiledSet& s, uint32_t slot, uint8_t filter, uint8_t op,
            const std::string& v) {
  const auto* key = s.config.hash_key;
  vg_hash2 h = op == VG_OP_POSTFIX ? vg_hash_rev(v.data(), v.size(), key)
                                   : vg_hash_fwd(v.data(), v.size(), key);
  for (const auto& [k, check] : s.str_keys) {
    if (k.selector == slot && k.filter == filter && k.op == op && k.len == v.size() &&
        k.hash == h.h && check == h.check)
      return true;
  }
  return false;
}

TEST(Compiler, EqualValuesBecomeHashKeysOfTheirSelector) {
  auto p = parse(fileOpenPolicy("a", "Equal", {"/etc/shadow", "/etc/passwd"},
                                "      matchActions:\n      - action: Override\n        argError: -13\n"));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->selectors.size(), 1u);
  const vg_selector& sel = s->selectors[0].second;
  EXPECT_EQ(sel.action, VG_ACT_OVERRIDE);
  EXPECT_EQ(sel.error, -13);
  EXPECT_EQ(sel.nfilters, 1);
  EXPECT_EQ(sel.filters[0].op, VG_OP_EQUAL);
  EXPECT_TRUE(hasKey(*s, 0, 0, VG_OP_EQUAL, "/etc/shadow"));
  EXPECT_TRUE(hasKey(*s, 0, 0, VG_OP_EQUAL, "/etc/passwd"));
  EXPECT_FALSE(hasKey(*s, 0, 0, VG_OP_EQUAL, "/etc/group"));
  // file_open is a generic hook like any other: one instance reading the
  // file's path into string slot 0, and its f_flags for the event.
  ASSERT_EQ(s->generic.size(), 1u);
  const HookSpec& h = s->generic[0];
  EXPECT_EQ(h.ref(), "lsm/file_open");
  EXPECT_EQ(h.function, "security_file_open");
  EXPECT_EQ(h.kinds[0], VG_ARG_FILE);
  EXPECT_EQ(h.slots[0], 0);
  EXPECT_EQ(h.file_flags, 1u);
  EXPECT_EQ(h.id, uint32_t{VG_HOOK_FIRST});
  EXPECT_EQ(s->hook_refs.at(h.id), "lsm/file_open");
  EXPECT_EQ(s->hooks[h.id].count, 1u);
  EXPECT_EQ(s->hooks[h.id].slots[0], 0u);
  EXPECT_TRUE(s->usesHook(h.id));
  EXPECT_FALSE(s->usesHook(h.id + 1));
}

// bprm_check_security too; only file_open's file carries its flags.
TEST(Compiler, ExecHookIsAGenericInstanceWithoutFileFlags) {
  auto p = parse("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: x\n"
                 "spec:\n  lsmhooks:\n  - hook: bprm_check_security\n    args:\n    - index: 0\n"
                 "      type: linux_binprm\n    selectors:\n    - matchActions:\n"
                 "      - action: Sigkill\n        kernelStackTrace: true\n");
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->generic.size(), 1u);
  EXPECT_EQ(s->generic[0].function, "security_bprm_check");
  EXPECT_EQ(s->generic[0].kinds[0], VG_ARG_BINPRM);
  EXPECT_EQ(s->generic[0].file_flags, 0u);
  // Stack traces: what every generic hook can do, exec's included.
  EXPECT_EQ(s->selectors[0].second.stacks, VG_STACK_KERNEL);
}

TEST(Compiler, PrefixAndPostfixRecordEveryValueLength) {
  auto p = parse(fileOpenPolicy("a", "Prefix", {"/tmp/", "/var/tmp/", "/dev/shm/"}, ""));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->len_sets.size(), 1u);
  const vg_len_set& ls = s->len_sets[0].second;
  EXPECT_EQ(ls.max_len, 9);
  for (int len = 0; len < 16; len++) {
    bool set = ls.bits[len / 8] & (1 << (len % 8));
    EXPECT_EQ(set, len == 5 || len == 9) << "length " << len;
  }
  EXPECT_TRUE(hasKey(*s, 0, 0, VG_OP_PREFIX, "/dev/shm/"));

  auto q = parse(fileOpenPolicy("b", "Postfix", {".pem"}, ""));
  auto t = compile({q}, {});
  ASSERT_TRUE(t.ok());
  // Postfix values hash backwards, matching the kernel's backward walk.
  EXPECT_TRUE(hasKey(*t, 0, 0, VG_OP_POSTFIX, ".pem"));
  std::string rev = "mep.";
  const __u64 key[2] = {0, 0};
  EXPECT_EQ(vg_hash_rev(".pem", 4, key).h, vg_hash_fwd(rev.data(), rev.size(), key).h);
  EXPECT_EQ(vg_hash_rev(".pem", 4, key).check, vg_hash_fwd(rev.data(), rev.size(), key).check);
}

// The kernel's keys reach the compiled set, and the values are hashed with
// them: with other keys, no entry and no check hash is the same.
TEST(Compiler, StringValuesAreHashedWithTheKernelsSecretKeys) {
  auto p = parse(fileOpenPolicy("a", "Equal", {"/etc/shadow"}, ""));
  CompileOptions o1, o2;
  o1.hash_key = {0x1234, 0x5678};
  o2.hash_key = {0x1234, 0x5679};
  auto a = compile({p}, o1), b = compile({p}, o2), z = compile({p}, {});
  ASSERT_TRUE(a.ok() && b.ok() && z.ok());
  EXPECT_EQ(a->config.hash_key[0], 0x1234u);
  EXPECT_EQ(a->config.hash_key[1], 0x5678u);
  EXPECT_TRUE(hasKey(*a, 0, 0, VG_OP_EQUAL, "/etc/shadow"));
  ASSERT_EQ(a->str_keys.size(), 1u);
  ASSERT_EQ(b->str_keys.size(), 1u);
  ASSERT_EQ(z->str_keys.size(), 1u);
  // Same first key: same map key; the second key changes the check hash.
  EXPECT_EQ(a->str_keys[0].first.hash, b->str_keys[0].first.hash);
  EXPECT_NE(a->str_keys[0].second, b->str_keys[0].second);
  EXPECT_NE(a->str_keys[0].first.hash, z->str_keys[0].first.hash);
}

TEST(Compiler, DefaultActionIsPostAndSigkillDeniesWithEperm) {
  auto p = parse(fileOpenPolicy("a", "Equal", {"/x"}, ""));
  auto s = compile({p}, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->selectors[0].second.action, VG_ACT_POST);
  auto k = parse(fileOpenPolicy("k", "Equal", {"/x"}, "      matchActions:\n      - action: Sigkill\n"));
  auto t = compile({k}, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->selectors[0].second.action, VG_ACT_SIGKILL);
  EXPECT_EQ(t->selectors[0].second.error, -1);
}

TEST(Compiler, PoliciesGetIdsModesAndOrderedSlots) {
  auto a = parse(fileOpenPolicy("a", "Equal", {"/a"}, ""));
  auto b = parse("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: b\n"
                 "spec:\n  options:\n  - name: policy-mode\n    value: monitor\n  lsmhooks:\n"
                 "  - hook: bprm_check_security\n    args:\n    - index: 0\n      type: linux_binprm\n"
                 "    selectors:\n    - matchBinaries:\n      - operator: In\n        values:\n"
                 "        - /usr/bin/bash\n    - matchArgs:\n      - index: 0\n        operator: Equal\n"
                 "        values:\n        - /bin/x\n");
  auto s = compile({a, b}, {.audit_all = true});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->config.audit_all, 1);
  ASSERT_EQ(s->policies.size(), 2u);
  EXPECT_EQ(s->policies[0].second.mode, VG_MODE_ENFORCE);
  EXPECT_EQ(s->policies[1].second.mode, VG_MODE_MONITOR);
  EXPECT_EQ(s->policy_names, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(s->generic.size(), 2u);
  EXPECT_EQ(s->generic[1].ref(), "lsm/bprm_check_security");
  const auto& exec = s->hooks[s->generic[1].id];
  ASSERT_EQ(exec.count, 2u);
  EXPECT_EQ(exec.slots[0], 1u);
  EXPECT_EQ(exec.slots[1], 2u);
  EXPECT_EQ(s->selectors[1].second.policy, 1u);
  EXPECT_EQ(s->selectors[1].second.index, 0u);
  EXPECT_EQ(s->selectors[1].second.binaries, VG_OP_BIN_IN);
  EXPECT_EQ(s->selectors[2].second.index, 1u);
  EXPECT_TRUE(hasKey(*s, 1, VG_FILTER_BINARY, VG_OP_BIN_IN, "/usr/bin/bash"));
}

TEST(Compiler, DuplicatePolicyNameIsAnErrorAtTheSecondPolicy) {
  auto a = parse(fileOpenPolicy("same", "Equal", {"/a"}, ""), "one.yaml");
  auto b = parse(fileOpenPolicy("same", "Equal", {"/b"}, ""), "two.yaml");
  auto s = compile({a, b}, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "two.yaml:1:1: policy name \"same\" is already loaded");
}

TEST(Compiler, TooManySelectorsOnAHookAcrossPoliciesNamesTheSelector) {
  auto withSelectors = [](const std::string& name, int n) {
    std::string y = fileOpenPolicy(name, "Equal", {"/0"}, "");
    for (int i = 1; i < n; i++) {
      y += "    - matchArgs:\n      - index: 0\n        operator: Equal\n        values:\n"
           "        - /" + std::to_string(i) + "\n";
    }
    return y;
  };
  auto s = compile({parse(withSelectors("a", 40), "a.yaml"), parse(withSelectors("b", 30), "b.yaml")}, {});
  ASSERT_FALSE(s.ok());
  // The 65th selector is b's 25th (index 24); selectors start at line 12, 5 lines each.
  EXPECT_EQ(s.status().message(),
            "b.yaml:" + std::to_string(12 + 5 * 24) +
                ":7: hook file_open has more than 64 selectors across the loaded policies");
}

TEST(Compiler, TenThousandValuesCompileToTenThousandKeys) {
  std::vector<std::string> values;
  for (int i = 0; i < 10000; i++) values.push_back("/data/file-" + std::to_string(i));
  auto s = compile({parse(fileOpenPolicy("big", "Equal", values, ""))}, {});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->str_keys.size(), 10000u);
  EXPECT_TRUE(hasKey(*s, 0, 0, VG_OP_EQUAL, "/data/file-9999"));
}

}  // namespace
}  // namespace vigil::compiler

namespace vigil::compiler {
namespace {

TEST(Compiler, GenerationsUseDisjointHalvesOfTheTables) {
  auto p = parse(fileOpenPolicy("a", "Prefix", {"/tmp/"}, ""));
  auto g0 = compile({p}, {.generation = 0});
  auto g1 = compile({p}, {.generation = 1});
  ASSERT_TRUE(g0.ok() && g1.ok());
  EXPECT_EQ(g0->policy_base, 0u);
  EXPECT_EQ(g1->policy_base, kGenPolicies);
  EXPECT_EQ(g1->policies[0].first, kGenPolicies);
  EXPECT_EQ(g0->selectors[0].first, 0u);
  EXPECT_EQ(g1->selectors[0].first, kGenSelectors);
  EXPECT_EQ(g1->selectors[0].second.policy, kGenPolicies);
  ASSERT_EQ(g1->generic.size(), 1u);
  EXPECT_EQ(g1->hooks[g1->generic[0].id].slots[0], kGenSelectors);
  EXPECT_EQ(g1->len_sets[0].first, kGenLenSets);
  EXPECT_EQ(g1->selectors[0].second.filters[0].len_set, kGenLenSets);
  EXPECT_EQ(g1->str_keys[0].first.selector, kGenSelectors);
}

}  // namespace
}  // namespace vigil::compiler
