// Replays events vigild recorded in the QEMU guest (tests/rules/fixtures/,
// made by tests/vm/record-rules-fixtures from tests/vm/cases/rules_record.sh,
// with a vigild that has the socket_connect hook)
// through the real Falco corpus rules (read from the shared corpus, never
// copied) and Vigil's shipped rules: the attacks in the recording raise exactly
// the expected alerts, the benign activity recorded with them raises none.
//
// Pids, times and exec ids change with every recording, so alerts are matched
// by rule name and output fields.
#include <gtest/gtest.h>

#include <map>
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
const std::string kRecorded = std::string(VIGIL_SOURCE_DIR) + "/tests/rules/fixtures/vm-recorded-6.12.jsonl";

const api::Process* processOf(const api::Event& e) {
  if (e.has_process_exec()) return &e.process_exec().process();
  if (e.has_process_lsm()) return &e.process_lsm().process();
  return nullptr;
}
const api::Process* parentOf(const api::Event& e) {
  if (e.has_process_exec()) return &e.process_exec().parent();
  if (e.has_process_lsm()) return &e.process_lsm().parent();
  return nullptr;
}

struct Expected {
  std::string rule;
  std::map<std::string, std::string> fields;  // a subset of output_fields
};

TEST(RulesVmReplay, RecordingHoldsTheScenarios) {
  auto events = readEventsJsonl(kRecorded);
  ASSERT_GT(events.size(), 50u);
  // The attacks and the benign activity are really in the recording, as vigild
  // wrote them (not hand-made): kernel-resolved paths, lineage, policy outcome.
  int web_shell = 0, cat_shadow = 0, sshd_shadow = 0, shell_under_shell = 0, denied = 0;
  std::vector<std::string> connects;  // "comm sockaddr"
  for (const auto& e : events) {
    const api::Process* p = processOf(e);
    const api::Process* parent = parentOf(e);
    if (p == nullptr) continue;
    if (e.has_process_exec() && p->comm() == "sh" && parent->comm() == "nginx" &&
        parent->binary() == "/usr/sbin/nginx") {
      web_shell++;
    }
    if (e.has_process_exec() && p->comm() == "sh" && parent->comm() == "sh") shell_under_shell++;
    if (e.has_process_lsm() && e.process_lsm().path() == "/etc/shadow") {
      EXPECT_EQ(e.process_lsm().policy_name(), "sensitive-files");
      EXPECT_EQ(e.process_lsm().outcome(), api::OUTCOME_POSTED);
      if (p->comm() == "cat") cat_shadow++;
      if (p->comm() == "sshd") sshd_shadow++;
    }
    if (e.has_process_lsm() && e.process_lsm().outcome() == api::OUTCOME_DENIED) denied++;
    if (e.has_process_lsm() && e.process_lsm().hook() == "socket_connect") {
      for (const auto& a : e.process_lsm().args()) {
        if (a.label() == "address") connects.push_back(p->comm() + " " + a.sock_arg());
      }
    }
  }
  EXPECT_EQ(web_shell, 1);
  EXPECT_EQ(cat_shadow, 1);
  EXPECT_EQ(sshd_shadow, 1);
  EXPECT_GE(shell_under_shell, 1);
  EXPECT_EQ(denied, 1);
  // Recorded with main's socket_connect hook (socket + sockaddr arguments).
  EXPECT_EQ(connects, (std::vector<std::string>{"kworkerd inet 203.0.113.9:4444", "curl inet 203.0.113.10:443",
                                                "kworkerd inet 10.0.2.2:80", "kworkerd inet 127.0.0.1:9"}));
}

TEST(RulesVmReplay, CorpusAndShippedRulesFireOnTheAttacksOnly) {
  LoadOptions o;
  o.skip_invalid_rules = true;  // the corpus rules that need fields Vigil lacks
  auto e = RuleEngine::load({kCorpus, kDefault}, o);
  ASSERT_TRUE(e.ok()) << e.status().message();
  std::vector<api::RuleAlert> alerts;
  std::vector<size_t> at;
  auto events = readEventsJsonl(kRecorded);
  for (size_t i = 0; i < events.size(); i++) {
    (*e)->evaluate(events[i], [&](api::Event&& a) {
      alerts.push_back(a.rule_alert());
      at.push_back(i);
    });
  }
  const std::vector<Expected> want = {
      // nginx forked and exec'd sh -c ...: Falco's web-server shell rule.
      {"Run shell untrusted",
       {{"proc.name", "sh"},
        {"proc.pname", "nginx"},
        {"proc.pexepath", "/usr/sbin/nginx"},
        {"proc.cmdline", "sh -c 'id >/dev/null; uname -a >/dev/null'"},
        {"proc.aname[2]", "sh"},
        {"evt.type", "execve"},
        {"user.name", "root"}}},
      // cat read /etc/shadow: the corpus rule (open flags say read) and Vigil's.
      {"Read sensitive file untrusted",
       {{"fd.name", "/etc/shadow"},
        {"proc.name", "cat"},
        {"proc.pname", "sh"},
        {"proc.cmdline", "cat /etc/shadow"},
        {"evt.type", "openat"}}},
      {"Sensitive file opened by untrusted program",
       {{"fd.name", "/etc/shadow"},
        {"proc.name", "cat"},
        {"proc.exepath", "/usr/local/bin/cat"},
        {"policy.name", "sensitive-files"},
        {"policy.outcome", "posted"}}},
      // The deny policy refused an open.
      {"Kernel policy denied an operation",
       {{"fd.name", "/etc/vigil-secret"},
        {"proc.name", "vigil-try"},
        {"policy.name", "test-deny-open"},
        {"policy.outcome", "denied"},
        {"evt.res", "EACCES"}}},
      // An unexpected binary connected to a public address; curl, and the
      // private and loopback destinations, raised nothing.
      {"Outbound connection from unexpected binary",
       {{"fd.name", "203.0.113.9:4444"},
        {"proc.name", "kworkerd"},
        {"proc.exepath", "/tmp/.cache/kworkerd"},
        {"fd.l4proto", "tcp"}}},
  };
  ASSERT_EQ(alerts.size(), want.size()) << [&] {
    std::string s;
    for (const auto& a : alerts) s += a.rule() + ": " + a.output() + "\n";
    return s;
  }();
  for (size_t i = 0; i < want.size(); i++) {
    SCOPED_TRACE(want[i].rule);
    EXPECT_EQ(alerts[i].rule(), want[i].rule);
    for (const auto& [k, v] : want[i].fields) {
      auto it = alerts[i].output_fields().find(k);
      ASSERT_NE(it, alerts[i].output_fields().end()) << k;
      EXPECT_EQ(it->second, v) << k;
    }
  }
  // Both /etc/shadow alerts are on the same event; the sshd read of the same
  // file (an expected reader) raised nothing.
  EXPECT_EQ(at[1], at[2]);
  EXPECT_EQ(alerts[0].process().comm(), "sh");
  EXPECT_EQ(alerts[0].parent().binary(), "/usr/sbin/nginx");
  EXPECT_EQ(alerts[1].source(), "process_lsm");
  EXPECT_EQ((*e)->stats().runtime_errors, 0u);
  EXPECT_EQ((*e)->stats().events, events.size());
}

TEST(RulesVmReplay, VigilctlRulesTestOnTheRecording) {
  testing::internal::CaptureStdout();
  int rc = rulesCommand({"test", "--rules", kCorpus, "--rules", kDefault, "--events", kRecorded, "--skip-invalid"});
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(rc, 0);
  size_t lines = 0;
  for (char c : out) lines += c == '\n';
  EXPECT_EQ(lines, 5u) << out;
  EXPECT_NE(out.find("\"rule\":\"Run shell untrusted\""), std::string::npos) << out;
  EXPECT_NE(out.find("Kernel policy test-deny-open denied file_open on /etc/vigil-secret"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace vigil::rules
