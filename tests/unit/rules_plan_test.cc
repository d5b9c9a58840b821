// The evaluation plan (shared checks memoised per event, operands reordered,
// conditions flattened into branch programs, rules indexed by event type,
// proc.name and fd.name paths and prefixes) must not change any result:
// random and/or/not conditions over a pool of checks, many rules sharing the
// same checks in one engine, against the truth computed here from each check
// evaluated alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "rules/engine.h"

namespace vigil::rules {
namespace {

// Every operator family, the evt.type index and the proc.name index included.
const std::vector<std::string> kChecks = {
    "evt.type = execve",
    "evt.type in (openat, execve)",
    "evt.type != openat",
    "proc.name = bash",
    "proc.name in (bash, sh, nginx)",
    "proc.name != cat",
    "proc.pname startswith ng",
    "proc.pname exists",
    "proc.cmdline contains \"-c\"",
    "proc.args icontains SHADOW",
    "proc.exe endswith /sh",
    "proc.name glob 'ba*'",
    "proc.cwd regex '/srv/.*'",
    "proc.aname in (systemd, containerd)",
    "user.uid = 0",
    "user.uid > 100",
    "user.uid in (0, 1000)",
    "fd.name startswith /etc/",
    "fd.name in (/etc/shadow, /etc/passwd)",
    "fd.directory = /etc",
    "fd.name pmatch (/var/log, /tmp)",
    "tolower(proc.name) = bash",
    "len(proc.name) > 3",
    "fd.typechar = f",
    "fd.directory in (/etc, /var/log)",
    "fd.directory = /",
    "fd.name = /tmp/x",
    "fd.name pmatch (/)",
    "fd.name startswith /etc/sh",
};

uint64_t next(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// A random condition over kChecks; truth(i) gives check i's value on an event.
struct Cond {
  enum Kind { kCheck, kAnd, kOr, kNot } kind = kCheck;
  size_t check = 0;
  std::vector<Cond> kids;
  std::string text() const {
    switch (kind) {
      case kCheck: return kChecks[check];
      case kNot: return "not (" + kids[0].text() + ")";
      default: {
        std::string s = "(";
        for (size_t i = 0; i < kids.size(); i++) {
          if (i) s += kind == kAnd ? " and " : " or ";
          s += kids[i].text();
        }
        return s + ")";
      }
    }
  }
  bool eval(const std::vector<bool>& truth) const {
    switch (kind) {
      case kCheck: return truth[check];
      case kNot: return !kids[0].eval(truth);
      case kAnd:
        for (const auto& k : kids) {
          if (!k.eval(truth)) return false;
        }
        return true;
      case kOr:
        for (const auto& k : kids) {
          if (k.eval(truth)) return true;
        }
        return false;
    }
    return false;
  }
};

Cond randomCond(uint64_t& s, int depth) {
  Cond c;
  int r = static_cast<int>(next(s) % 10);
  if (depth == 0 || r < 3) {
    c.check = next(s) % kChecks.size();
    return c;
  }
  if (r < 5) {
    c.kind = Cond::kNot;
    c.kids.push_back(randomCond(s, depth - 1));
    return c;
  }
  c.kind = r < 8 ? Cond::kAnd : Cond::kOr;
  size_t n = 2 + next(s) % 3;
  for (size_t i = 0; i < n; i++) c.kids.push_back(randomCond(s, depth - 1));
  return c;
}

api::Event event(uint64_t& s) {
  static const char* kNames[] = {"bash", "sh", "cat", "nginx", "python3", "Bash", "ba"};
  static const char* kPaths[] = {"/etc/shadow", "/etc/passwd", "/var/log/syslog", "/tmp/x",
                                 "/etc/nginx/a.conf", "/x", "/", "data.txt", "/etc", "/tmp"};
  api::Event ev;
  ev.set_time("2026-11-23T18:40:12.123456789Z");
  api::Process* p;
  api::Process* parent;
  if (next(s) % 2) {
    auto* x = ev.mutable_process_exec();
    p = x->mutable_process();
    parent = x->mutable_parent();
    auto* a = x->add_ancestors();
    a->set_pid(1);
    a->set_comm(next(s) % 2 ? "systemd" : "init");
  } else {
    auto* l = ev.mutable_process_lsm();
    p = l->mutable_process();
    parent = l->mutable_parent();
    l->set_hook("file_open");
    l->set_policy_name("p");
    l->set_path(kPaths[next(s) % 10]);
  }
  std::string name = kNames[next(s) % 7];
  p->set_pid(10 + static_cast<uint32_t>(next(s) % 100));
  p->set_comm(name);
  p->set_binary(next(s) % 2 ? "/bin/" + name : "/usr/bin/sh");
  p->set_arguments(next(s) % 2 ? "-c id" : "/etc/Shadow");
  p->set_cwd(next(s) % 2 ? "/srv/www" : "/root");
  p->set_uid(next(s) % 3 == 0 ? 0 : 1000 + static_cast<uint32_t>(next(s) % 2));
  if (next(s) % 4) {
    parent->set_pid(5);
    parent->set_comm(next(s) % 2 ? "nginx" : "sshd");
  }
  return ev;
}

TEST(RulesPlan, SharedReorderedFlattenedConditionsKeepTheirResults) {
  uint64_t s = 0x2545f4914f6cdd1dull;
  // One engine per check: the reference truth of each check on each event.
  std::vector<std::unique_ptr<RuleEngine>> single;
  for (const auto& c : kChecks) {
    auto e = RuleEngine::loadTexts(
        {{"c.yaml", "- rule: c\n  desc: d\n  condition: " + c + "\n  output: o\n  priority: INFO\n"}});
    ASSERT_TRUE(e.ok()) << c << ": " << e.status().message();
    single.push_back(std::move(*e));
  }
  // 300 random rules in one engine: most checks appear in many rules.
  std::vector<Cond> conds;
  std::string yaml;
  for (int i = 0; i < 300; i++) {
    conds.push_back(randomCond(s, 3));
    yaml += "- rule: r" + std::to_string(i) + "\n  desc: d\n  condition: " + conds.back().text() +
            "\n  output: o\n  priority: INFO\n";
  }
  auto all = RuleEngine::loadTexts({{"all.yaml", yaml}});
  ASSERT_TRUE(all.ok()) << all.status().message();
  size_t fired = 0, checked = 0;
  for (int n = 0; n < 400; n++) {
    api::Event ev = event(s);
    std::vector<bool> truth;
    for (auto& e : single) {
      bool hit = false;
      e->evaluate(ev, [&](api::Event&&) { hit = true; });
      truth.push_back(hit);
    }
    std::set<std::string> got;
    (*all)->evaluate(ev, [&](api::Event&& a) { got.insert(a.rule_alert().rule()); });
    for (size_t i = 0; i < conds.size(); i++) {
      bool want = conds[i].eval(truth);
      std::string name = "r" + std::to_string(i);
      EXPECT_EQ(got.count(name) == 1, want) << name << ": " << conds[i].text() << "\nevent " << ev.DebugString();
      fired += want;
      checked++;
    }
    if (HasFailure()) break;
  }
  // The mix is not degenerate: rules both fire and do not.
  EXPECT_GT(fired, checked / 20);
  EXPECT_LT(fired, checked - checked / 20);
  EXPECT_EQ((*all)->stats().runtime_errors, 0u);
}

}  // namespace
}  // namespace vigil::rules
