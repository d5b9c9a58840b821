// Rules engine throughput on one core: events/s through RuleEngine::evaluate.
//
//   taskset -c 1 build/rules/rules_bench --benchmark_min_time=2
//   valgrind --tool=callgrind --toggle-collect='*evalLoop*'
//       build/rules/rules_bench --benchmark_filter=rules100_fixed   # (one line) instructions
//
// The *_fixed variants run exactly 16,384 events (4 passes), so callgrind's
// count divided by 16,384 is the instructions per event, whatever the load.
//
// Event mix (deterministic, 4096 events): 60% process_exec, 30% file_open
// (process_lsm), 10% socket_connect (process_lsm), names drawn from ordinary
// server activity so alerts are rare, as in production. Rule sets:
//   Corpus:     every rule of falco_rules.yaml that compiles (20), with its macros and lists
//   Rules100:   those + Vigil's shipped rules + generated rules in the corpus's
//               style (lists, macros, startswith/contains/in/pmatch) up to 100 rules,
//               spread over exec, open and connect
//   Exec100Unindexed: 100 generated execve rules that name no proc.name (so the
//               proc.name index cannot skip them: every exec event runs all
//               100) + the corpus: the worst case
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "rules/engine.h"

namespace {

using vigil::api::Event;
using vigil::rules::LoadOptions;
using vigil::rules::RuleEngine;

const std::string kCorpus = std::string(VIGIL_CORPUS_DIR) + "/falco-rules/falco_rules.yaml";
const std::string kDefault = std::string(VIGIL_SOURCE_DIR) + "/rules/default/vigil_rules.yaml";

uint64_t rng(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

std::vector<Event> eventMix() {
  static const char* kComms[] = {"bash", "sh", "python3", "ls", "cat", "grep", "sed", "awk", "curl", "git",
                                 "node", "java", "nginx", "sshd", "cron", "systemd", "find", "tar", "gzip", "ps"};
  static const char* kParents[] = {"bash", "sshd", "systemd", "cron", "containerd-shim", "node", "java", "make"};
  static const char* kPaths[] = {"/etc/ld.so.cache", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/etc/passwd",
                                 "/var/log/syslog", "/home/alice/.bashrc", "/tmp/build/out.o",
                                 "/etc/nginx/nginx.conf", "/proc/self/status"};
  static const char* kDst[] = {"10.0.0.7:5432", "93.184.216.34:443", "192.168.1.10:53", "151.101.1.69:443"};
  std::vector<Event> out;
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < 4096; i++) {
    Event ev;
    ev.set_node_name("web-1");
    ev.set_time("2026-11-23T18:40:12.123456789Z");
    int kind = static_cast<int>(rng(s) % 10);
    vigil::api::Process* p;
    vigil::api::Process* parent;
    if (kind < 6) {
      auto* x = ev.mutable_process_exec();
      p = x->mutable_process();
      parent = x->mutable_parent();
      auto* gp = x->add_ancestors();
      gp->set_comm("systemd");
      gp->set_binary("/usr/lib/systemd/systemd");
      gp->set_pid(1);
    } else {
      auto* l = ev.mutable_process_lsm();
      p = l->mutable_process();
      parent = l->mutable_parent();
      l->set_policy_name("watch");
      l->set_action(vigil::api::ACTION_POST);
      l->set_outcome(vigil::api::OUTCOME_POSTED);
      l->set_mode(vigil::api::POLICY_MODE_MONITOR);
      if (kind < 9) {
        l->set_hook("file_open");
        l->set_path(kPaths[rng(s) % 8]);
      } else {
        l->set_hook("socket_connect");
        auto* a = l->add_args();
        a->set_label("sock");
        a->set_sock_arg(std::string("tcp 10.0.2.15:40000 -> ") + kDst[rng(s) % 4]);
      }
    }
    std::string comm = kComms[rng(s) % 20];
    p->set_pid(1000 + i);
    p->set_ppid(900);
    p->set_comm(comm);
    p->set_binary("/usr/bin/" + comm);
    p->set_arguments(i % 3 ? "-la /srv/app" : "--version");
    p->set_cwd("/srv/app");
    p->set_uid(1000);
    p->set_user_name("alice");
    p->set_auid(1000);
    p->set_start_time("2026-11-23T18:40:00Z");
    std::string pc = kParents[rng(s) % 8];
    parent->set_pid(900);
    parent->set_comm(pc);
    parent->set_binary("/usr/bin/" + pc);
    parent->set_arguments("-l");
    out.push_back(std::move(ev));
  }
  return out;
}

// Generated rules in the corpus's style, using its macros and lists.
std::string generatedRules(int n, bool exec_only) {
  std::string y;
  for (int i = 0; i < n; i++) {
    int kind = exec_only ? 3 : i % 3;
    std::string cond;
    if (kind == 3) {
      cond = "spawned_process and proc.pname in (parent_" + std::to_string(i) + ", " +
             std::string(i % 2 ? "node, java" : "nginx, httpd") + ") and proc.cmdline contains \"-x" +
             std::to_string(i) + "\" and not user_known_remove_data_activities";
    } else if (kind == 0) {
      cond = "spawned_process and proc.name in (tool_" + std::to_string(i) + ", " +
             std::string(i % 2 ? "nc, ncat" : "socat, telnet") + ") and not proc.pname in (shell_binaries) " +
             "and not proc.cmdline contains \"--safe-" + std::to_string(i) + "\" and not user_known_remove_data_activities";
    } else if (kind == 1) {
      cond = "evt.type = openat and (fd.name startswith /etc/app" + std::to_string(i) +
             "/ or fd.directory in (/var/lib/secret" + std::to_string(i) + ", /root/.ssh)) and not proc.name in " +
             "(user_mgmt_binaries, package_mgmt_binaries)";
    } else {
      cond = "evt.type = connect and fd.sport in (" + std::to_string(6000 + i) +
             ", 4444, 1337) and not fd.snet in (rfc_1918_addresses) and not proc.name in (curl, wget)";
    }
    y += "- rule: generated " + std::to_string(i) + "\n  desc: d\n  condition: " + cond +
         "\n  output: \"gen " + std::to_string(i) + " %proc.name %proc.cmdline %fd.name\"\n  priority: NOTICE\n";
  }
  return y;
}

std::unique_ptr<RuleEngine> loadOrDie(const std::vector<std::pair<std::string, std::string>>& docs) {
  LoadOptions o;
  o.skip_invalid_rules = true;
  auto e = RuleEngine::loadTexts(docs, o);
  if (!e.ok()) {
    fprintf(stderr, "load: %s\n", std::string(e.status().message()).c_str());
    std::abort();
  }
  return std::move(*e);
}

std::string readFile(const std::string& p) {
  FILE* f = fopen(p.c_str(), "r");
  if (!f) {
    fprintf(stderr, "%s: cannot read\n", p.c_str());
    std::abort();
  }
  std::string s;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}

// The measured loop, kept out of line so that callgrind can count exactly its
// instructions: --toggle-collect='*evalLoop*'.
[[gnu::noinline]] uint64_t evalLoop(benchmark::State& state, RuleEngine& e, const std::vector<Event>& events) {
  size_t i = 0;
  uint64_t alerts = 0;
  auto sink = [&](Event&& a) { alerts += a.rule_alert().rule().size() > 0; };
  for (auto _ : state) {
    e.evaluate(events[i], sink);
    i = (i + 1) & (events.size() - 1);
  }
  return alerts;
}

void run(benchmark::State& state, RuleEngine& e) {
  static const std::vector<Event> events = eventMix();
  uint64_t alerts = evalLoop(state, e, events);
  state.SetItemsProcessed(state.iterations());
  state.counters["rules"] = static_cast<double>(e.compiledRules());
  state.counters["alerts_per_event"] = static_cast<double>(alerts) / static_cast<double>(state.iterations());
  state.counters["rules_run_per_event"] =
      static_cast<double>(e.stats().rule_evaluations) / static_cast<double>(e.stats().events);
}

void BM_Corpus(benchmark::State& state) {
  static auto e = loadOrDie({{kCorpus, readFile(kCorpus)}});
  run(state, *e);
}
BENCHMARK(BM_Corpus);
// Fixed iteration counts (4 passes over the 4096 events) for instruction
// counts under callgrind; see docs/rules.md.
BENCHMARK(BM_Corpus)->Name("corpus_fixed")->Iterations(16384);

void BM_Rules100(benchmark::State& state) {
  static std::unique_ptr<RuleEngine> e = [] {
    auto base = loadOrDie({{kCorpus, readFile(kCorpus)}, {kDefault, readFile(kDefault)}});
    int have = static_cast<int>(base->compiledRules());
    return loadOrDie({{kCorpus, readFile(kCorpus)}, {kDefault, readFile(kDefault)},
                      {"generated.yaml", generatedRules(100 - have, false)}});
  }();
  run(state, *e);
}
BENCHMARK(BM_Rules100);
BENCHMARK(BM_Rules100)->Name("rules100_fixed")->Iterations(16384);

void BM_Exec100Unindexed(benchmark::State& state) {
  static auto e = loadOrDie({{kCorpus, readFile(kCorpus)}, {"generated.yaml", generatedRules(100, true)},
                             {"off.yaml", ""}});
  run(state, *e);
}
BENCHMARK(BM_Exec100Unindexed);
BENCHMARK(BM_Exec100Unindexed)->Name("exec100_fixed")->Iterations(16384);

}  // namespace

BENCHMARK_MAIN();
