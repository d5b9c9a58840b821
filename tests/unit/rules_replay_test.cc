// Replays recorded-shape events (rules/testdata/replay_events.jsonl) through the
// Falco corpus rules and Vigil's shipped rules, as `vigilctl rules test` does.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "rules/cli.h"
#include "rules/engine.h"
#include "rules_events.h"

namespace vigil::rules {
namespace {

const std::string kCorpus = std::string(VIGIL_CORPUS_DIR) + "/falco-rules/falco_rules.yaml";
const std::string kDefault = std::string(VIGIL_SOURCE_DIR) + "/rules/default/vigil_rules.yaml";
const std::string kEvents = std::string(VIGIL_SOURCE_DIR) + "/rules/testdata/replay_events.jsonl";

struct Replayed {
  std::vector<std::pair<int, std::string>> hits;  // (event line, rule)
  std::vector<api::Event> alerts;
};

Replayed replay(RuleEngine& e) {
  Replayed r;
  auto events = readEventsJsonl(kEvents);
  for (size_t i = 0; i < events.size(); i++) {
    int n = static_cast<int>(i) + 1;  // line number
    e.evaluate(events[i], [&](api::Event&& a) {
      r.hits.emplace_back(n, a.rule_alert().rule());
      r.alerts.push_back(std::move(a));
    });
  }
  return r;
}

TEST(RulesReplay, CorpusAndVigilRulesFireOnTheRightEvents) {
  LoadOptions o;
  o.skip_invalid_rules = true;
  auto e = RuleEngine::load({kCorpus, kDefault}, o);
  ASSERT_TRUE(e.ok()) << e.status().message();
  auto r = replay(**e);
  const std::vector<std::pair<int, std::string>> want = {
      {1, "Run shell untrusted"},                          // bash under nginx
      {3, "Read sensitive file untrusted"},                // the corpus rule: read flags, fd.num >= 0
      {3, "Sensitive file opened by untrusted program"},   // cat /etc/shadow (monitor policy)
      {5, "Sensitive file opened by untrusted program"},   // python3 under nginx, denied
      {5, "Kernel policy denied an operation"},
      {6, "Outbound connection from unexpected binary"},   // /tmp/.cache/kworkerd -> 203.0.113.9:4444
      {9, "Search Private Keys or Passwords"},             // grep "BEGIN RSA PRIVATE"
      {10, "Netcat Remote Code Execution in Container"},   // nc -e /bin/sh
      {11, "Terminal shell in container"},                 // kubectl exec -it bash
  };
  EXPECT_EQ(r.hits, want);
  EXPECT_EQ((*e)->stats().runtime_errors, 0u);

  // The web-server shell alert carries the lineage the corpus rule asks for.
  const auto& shell = r.alerts.at(0).rule_alert();
  EXPECT_EQ(shell.priority(), "NOTICE");
  EXPECT_NE(shell.output().find("parent=nginx command=bash -c \"id; uname -a\""), std::string::npos)
      << shell.output();
  EXPECT_EQ(shell.output_fields().at("proc.aname[2]"), "nginx");
  EXPECT_EQ(shell.output_fields().at("proc.aname[3]"), "systemd");
  EXPECT_EQ(shell.output_fields().at("proc.aname[4]"), "<NA>");
  EXPECT_EQ(shell.output_fields().at("user.name"), "www-data");
  EXPECT_EQ(shell.process().pid(), 4242u);
  EXPECT_EQ(shell.parent().pid(), 812u);
  EXPECT_EQ(shell.source(), "process_exec");

  const auto& conn = r.alerts.at(5).rule_alert();
  EXPECT_EQ(conn.output_fields().at("fd.name"), "10.0.2.15:51234->203.0.113.9:4444");
  const auto& denied = r.alerts.at(4).rule_alert();
  EXPECT_NE(denied.output().find("Kernel policy protect-shadow denied file_open on /etc/shadow"), std::string::npos);
  EXPECT_EQ(denied.output_fields().at("evt.res"), "EPERM");
}

TEST(RulesReplay, ShippedRulesCompileCleanly) {
  std::vector<Diagnostic> d;
  auto e = RuleEngine::load({kDefault}, {}, &d);
  ASSERT_TRUE(e.ok()) << e.status().message();
  for (const auto& r : (*e)->rules()) {
    EXPECT_EQ(r.state, RuleInfo::State::kCompiled) << r.name;
    EXPECT_FALSE(r.dormant) << r.name;
  }
  for (const auto& x : d) EXPECT_TRUE(x.warning) << x.str();
}

TEST(RulesReplay, VigilctlRulesCommands) {
  testing::internal::CaptureStdout();
  int rc = rulesCommand({"test", "--rules", kCorpus, "--rules", kDefault, "--events", kEvents, "--skip-invalid"});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, 9u) << out;
  EXPECT_NE(out.find("{\"rule_alert\":{\"rule\":\"Run shell untrusted\",\"priority\":\"NOTICE\""), std::string::npos)
      << out;

  testing::internal::CaptureStdout();
  EXPECT_EQ(rulesCommand({"check", kDefault}), 0);
  out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("3 rules: 3 compiled"), std::string::npos) << out;

  testing::internal::CaptureStdout();
  EXPECT_EQ(rulesCommand({"check", kCorpus}), 1);  // some corpus rules need fields Vigil lacks
  out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("falco_rules.yaml:313:15: rule 'Directory traversal monitored file read': field "
                     "'fd.nameraw' is not provided by Vigil"),
            std::string::npos)
      << out;

  // Without --skip-invalid, rules that do not compile fail the replay.
  testing::internal::CaptureStderr();
  EXPECT_EQ(rulesCommand({"test", "--rules", kCorpus, "--events", kEvents}), 1);
  testing::internal::GetCapturedStderr();
  testing::internal::CaptureStderr();
  EXPECT_EQ(rulesCommand({"test", "--rules", kDefault}), 2);
  testing::internal::GetCapturedStderr();
}

}  // namespace
}  // namespace vigil::rules
