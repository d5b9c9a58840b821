// Rules engine against hostile rule files: nesting, macro and list chains that
// would overflow the stack or expand exponentially are refused with an error
// naming FILE:LINE:COL and the limit (docs/security.md, "Limits").
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rules/condition.h"
#include "rules/engine.h"

namespace vigil::rules {
namespace {

std::string rule(const std::string& cond, const std::string& name = "r") {
  return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: hit\n  priority: INFO\n";
}

// The error of a load expected to fail, or "" when it loaded.
std::string loadError(const std::string& yaml, const LoadOptions& opts = {}) {
  std::vector<Diagnostic> d;
  auto e = RuleEngine::loadTexts({{"t.yaml", yaml}}, opts, &d);
  if (e.ok()) return "";
  return std::string(e.status().message());
}

// m0 is a check; m<i> is `m<i-1> or m<i-1>`: 2^levels checks once expanded.
std::string doublingMacros(int levels) {
  std::string y = "- macro: m0\n  condition: proc.name = a\n";
  for (int i = 1; i <= levels; i++) {
    y += absl::StrCat("- macro: m", i, "\n  condition: m", i - 1, " or m", i - 1, "\n");
  }
  return y + rule(absl::StrCat("evt.type = execve and m", levels));
}

// Runs fn in a child whose address space is capped at limit_mb: a load that
// tries to expand exponentially fails there (bad_alloc or killed) instead of
// taking the machine. The child's exit status is fn's result (0: as expected).
int inChildWithMemoryLimit(size_t limit_mb, const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    rlimit rl{limit_mb << 20, limit_mb << 20};
    setrlimit(RLIMIT_AS, &rl);
    _exit(fn());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

TEST(RulesLimits, DeepParenthesesAreAParseErrorNotACrash) {
  std::string cond = std::string(100000, '(') + "evt.type = execve" + std::string(100000, ')');
  std::string err = loadError(rule(cond));
  EXPECT_NE(err.find("limit: parse depth"), std::string::npos) << err.substr(0, 300);
  // Line 3 (the condition), the column of the parenthesis that went too deep.
  EXPECT_EQ(err.rfind("t.yaml:3:", 0), 0u) << err.substr(0, 300);
  EXPECT_NE(err.find("t.yaml:3:" + std::to_string(14 + kDefaultMaxParseDepth) + ":"), std::string::npos)
      << err.substr(0, 300);
}

TEST(RulesLimits, DeepNotAndTransformersAreParseErrors) {
  std::string nots;
  for (int i = 0; i < 100000; i++) nots += "not ";
  std::string err = loadError(rule(nots + "proc.name = a"));
  EXPECT_NE(err.find("limit: parse depth"), std::string::npos) << err.substr(0, 300);

  std::string xf;
  for (int i = 0; i < 50000; i++) xf += "tolower(";
  xf += "proc.name" + std::string(50000, ')') + " = a";
  err = loadError(rule(xf));
  EXPECT_NE(err.find("limit: parse depth"), std::string::npos) << err.substr(0, 300);
}

TEST(RulesLimits, NestingUpToTheLimitStillLoads) {
  int n = kDefaultMaxParseDepth - 2;
  std::string cond = std::string(n, '(') + "evt.type = execve" + std::string(n, ')');
  EXPECT_EQ(loadError(rule(cond)), "");
  ParseError pe;
  EXPECT_EQ(parseCondition("((a.b = 1))", &pe, 2), nullptr);
  EXPECT_NE(pe.message.find("parse depth"), std::string::npos);
  EXPECT_NE(parseCondition("((a.b = 1))", &pe, 3), nullptr);
}

TEST(RulesLimits, MacroChainDeeperThanTheLimitIsAnError) {
  // m<i> is m<i-1>: 20000 macros deep would overflow the compiler's stack.
  std::string y = "- macro: m0\n  condition: proc.name = a\n";
  for (int i = 1; i <= 20000; i++) y += absl::StrCat("- macro: m", i, "\n  condition: m", i - 1, "\n");
  y += rule("evt.type = execve and m20000");
  std::string err = loadError(y);
  EXPECT_NE(err.find("limit: macro depth"), std::string::npos) << err.substr(0, 400);
  // Points at the reference that went one macro too deep, inside the macro that made it.
  RuleLimits lim;
  int m = 20000 - lim.max_macro_depth;  // m<m+1> refers to m<m>, one macro too deep
  std::string at = absl::StrCat("t.yaml:", 2 + 2 * (m + 1), ":14: rule 'r': macro 'm", m, "'");
  EXPECT_EQ(err.rfind(at, 0), 0u) << err.substr(0, 400);
  // Within the limit it loads.
  std::string y2 = "- macro: m0\n  condition: proc.name = a\n";
  for (int i = 1; i <= 20; i++) y2 += absl::StrCat("- macro: m", i, "\n  condition: m", i - 1, "\n");
  EXPECT_EQ(loadError(y2 + rule("evt.type = execve and m20")), "");
}

TEST(RulesLimits, DoublingMacrosHitTheSizeLimitInBoundedMemory) {
  // 30 levels: 2^30 checks once expanded (22 levels took 1.6 GB before the
  // limit); with it, the load fails fast within a 1 GB address space.
  int rc = inChildWithMemoryLimit(1024, [] {
    std::string err = loadError(doublingMacros(30));
    if (err.find("limit: expanded rule size") == std::string::npos) return 1;
    if (err.rfind("t.yaml:", 0) != 0) return 2;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  // 40 levels (more than 6.4 GB before): the macro depth stops it first.
  rc = inChildWithMemoryLimit(1024, [] {
    std::string err = loadError(doublingMacros(40));
    return err.find("limit: macro depth") == std::string::npos ? 1 : 0;
  });
  EXPECT_EQ(rc, 0);
  // Small enough to expand: loads.
  EXPECT_EQ(loadError(doublingMacros(10)), "");
}

TEST(RulesLimits, ExpandedSizeCountsListItems) {
  // l<i> holds l<i-1> four times: 4^12 items.
  std::string y = "- list: l0\n  items: [a, b, c, d]\n";
  for (int i = 1; i <= 12; i++) {
    y += absl::StrCat("- list: l", i, "\n  items: [l", i - 1, ", l", i - 1, ", l", i - 1, ", l", i - 1, "]\n");
  }
  int rc = inChildWithMemoryLimit(1024, [&] {
    std::string err = loadError(y + rule("evt.type = execve and proc.name in (l12)"));
    return err.find("limit: expanded rule size") == std::string::npos ? 1 : 0;
  });
  EXPECT_EQ(rc, 0);
  LoadOptions opts;
  opts.limits.max_rule_size = 1000;
  std::string err = loadError(y + rule("evt.type = execve and proc.name in (l5)"), opts);
  EXPECT_NE(err.find("limit: expanded rule size"), std::string::npos) << err;
  EXPECT_EQ(loadError(y + rule("evt.type = execve and proc.name in (l3)"), opts), "");
}

TEST(RulesLimits, ListNestingDeeperThanTheLimitIsAnError) {
  std::string y = "- list: l0\n  items: [a]\n";
  for (int i = 1; i <= 20; i++) y += absl::StrCat("- list: l", i, "\n  items: [l", i - 1, "]\n");
  std::string err = loadError(y + rule("evt.type = execve and proc.name in (l20)"));
  EXPECT_NE(err.find("limit: list depth"), std::string::npos) << err;
  EXPECT_EQ(err.rfind("t.yaml:", 0), 0u) << err;
  // Before, the innermost list name was silently taken as a value; a list
  // holding itself is refused the same way.
  err = loadError("- list: a\n  items: [b]\n- list: b\n  items: [a]\n" +
                  rule("evt.type = execve and proc.name in (a)"));
  EXPECT_NE(err.find("limit: list depth"), std::string::npos) << err;
  EXPECT_EQ(loadError(y + rule("evt.type = execve and proc.name in (l10)")), "");
}

TEST(RulesLimits, ExpandedDepthAcrossMacrosIsBounded) {
  // Each macro nests 90 levels and refers to the previous one: no single
  // condition is too deep, the expansion is.
  std::string nots;
  for (int i = 0; i < 90; i++) nots += "not ";
  std::string y = "- macro: m0\n  condition: proc.name = a\n";
  for (int i = 1; i <= 10; i++) {
    y += absl::StrCat("- macro: m", i, "\n  condition: ", nots, "(m", i - 1, " and proc.name = b)\n");
  }
  std::string err = loadError(y + rule("evt.type = execve and m10"));
  EXPECT_NE(err.find("limit: expanded condition depth"), std::string::npos) << err.substr(0, 400);
  EXPECT_EQ(err.rfind("t.yaml:", 0), 0u) << err.substr(0, 400);
  EXPECT_EQ(loadError(y + rule("evt.type = execve and m3")), "");
}

TEST(RulesLimits, TotalSizeOfAllRulesIsBounded) {
  LoadOptions opts;
  opts.limits.max_total_size = 25;
  std::string rules;
  for (int i = 0; i < 3; i++) {
    rules += rule("evt.type = execve and (m0 or proc.name = x or proc.name = y or proc.name = z)",
                  absl::StrCat("r", i));
  }
  // Each rule is 7 nodes: the first three fit in 25, the fourth does not.
  std::string yaml = "- macro: m0\n  condition: proc.name = a\n" + rules;
  EXPECT_EQ(loadError(yaml, opts), "");
  yaml += rule("evt.type = execve and (m0 or proc.name = x or proc.name = y or proc.name = z)", "r3");
  std::string err = loadError(yaml, opts);
  EXPECT_NE(err.find("rule 'r3'"), std::string::npos) << err;
  EXPECT_NE(err.find("limit: total expanded size"), std::string::npos) << err;
}

// The defaults leave real rule sets far from every limit: the Falco corpus and
// the shipped rules compile the same rules under limits a tenth of the
// defaults (a third for the depths). Prints the smallest limits they need.
TEST(RulesLimits, RealRuleSetsAreFarBelowTheDefaults) {
  std::vector<std::string> files = {std::string(VIGIL_SOURCE_DIR) + "/rules/default/vigil_rules.yaml"};
  std::string corpus = std::string(VIGIL_CORPUS_DIR) + "/falco-rules/falco_rules.yaml";
  if (access(corpus.c_str(), R_OK) == 0) files.insert(files.begin(), corpus);
  auto compiled = [&](const RuleLimits& l) -> size_t {
    LoadOptions o;
    o.skip_invalid_rules = true;
    o.limits = l;
    auto e = RuleEngine::load(files, o);
    return e.ok() ? (*e)->compiledRules() : 0;
  };
  const RuleLimits def;
  size_t want = compiled(def);
  ASSERT_GT(want, 0u);
  RuleLimits tight;
  tight.max_parse_depth = def.max_parse_depth / 3;
  tight.max_macro_depth = def.max_macro_depth / 3;
  tight.max_list_depth = def.max_list_depth / 3;
  tight.max_condition_depth = def.max_condition_depth / 3;
  tight.max_rule_size = def.max_rule_size / 10;
  tight.max_total_size = def.max_total_size / 10;
  EXPECT_EQ(compiled(tight), want);
  // The smallest of each that still compiles everything (informational).
  auto smallest = [&](auto set) {
    for (size_t v = 1; v < 1000000; v = v < 16 ? v + 1 : v * 5 / 4) {
      RuleLimits l = def;
      set(l, v);
      if (compiled(l) == want) return v;
    }
    return size_t{0};
  };
  std::printf("rules needed: parse depth %zu, macro depth %zu, list depth %zu, condition depth %zu, rule size %zu\n",
              smallest([](RuleLimits& l, size_t v) { l.max_parse_depth = static_cast<int>(v); }),
              smallest([](RuleLimits& l, size_t v) { l.max_macro_depth = static_cast<int>(v); }),
              smallest([](RuleLimits& l, size_t v) { l.max_list_depth = static_cast<int>(v); }),
              smallest([](RuleLimits& l, size_t v) { l.max_condition_depth = static_cast<int>(v); }),
              smallest([](RuleLimits& l, size_t v) { l.max_rule_size = v; }));
}

TEST(RulesLimits, AFailedLoadLeavesTheLoadedEngineAlone) {
  // What a reload does: load the new files; only on success replace the engine.
  auto good = RuleEngine::loadTexts({{"t.yaml", rule("evt.type = execve and proc.name = a")}});
  ASSERT_TRUE(good.ok());
  auto bad = RuleEngine::loadTexts({{"t.yaml", doublingMacros(40)}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ((*good)->compiledRules(), 1u);
}

}  // namespace
}  // namespace vigil::rules
