#include "rules/cli.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "rules/engine.h"

namespace vigil::rules {
namespace {

constexpr const char* kUsage = R"(Usage:
  vigilctl rules check [--skip-invalid] FILE...
      load the files in order (later ones override earlier ones), compile every
      rule against Vigil's fields; print errors and warnings as FILE:LINE:COL;
      exit 1 on any error; --skip-invalid reports rules that do not compile as
      warnings (the file's own errors still fail)
  vigilctl rules test --rules FILE [--rules FILE]... --events FILE.jsonl [--skip-invalid]
      replay events (Vigil JSON lines) through the rules; print each alert as a
      JSON line on stdout, a summary on stderr; --skip-invalid leaves out rules
      that do not compile instead of failing
)";

int check(const std::vector<std::string>& args) {
  LoadOptions opts;
  opts.skip_invalid_rules = true;  // report every rule, not only the first error
  std::vector<std::string> files;
  for (const auto& a : args) {
    if (a == "--skip-invalid") {
      opts.invalid_rules_warn = true;
    } else if (a.starts_with("--")) {
      fprintf(stderr, "vigilctl rules check: unknown option '%s'\n%s", a.c_str(), kUsage);
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    fputs("vigilctl rules check: no files given\n", stderr);
    return 2;
  }
  std::vector<Diagnostic> diags;
  auto engine = RuleEngine::load(files, opts, &diags);
  bool errors = false;
  for (const auto& d : diags) {
    printf("%s\n", d.str().c_str());
    errors |= !d.warning;
  }
  if (!engine.ok()) {
    if (diags.empty()) printf("%s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  std::map<RuleInfo::State, int> by_state;
  int dormant = 0;
  for (const auto& r : (*engine)->rules()) {
    by_state[r.state]++;
    dormant += r.dormant;
  }
  printf("%zu rules: %d compiled (%d need a TracingPolicy for their event types), %d failed, %d skipped, %d disabled\n",
         (*engine)->rules().size(), by_state[RuleInfo::State::kCompiled], dormant,
         by_state[RuleInfo::State::kFailed], by_state[RuleInfo::State::kSkipped],
         by_state[RuleInfo::State::kDisabled]);
  return errors ? 1 : 0;
}

int test(const std::vector<std::string>& args) {
  std::vector<std::string> rules;
  std::string events;
  LoadOptions opts;
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "--rules" && i + 1 < args.size()) {
      rules.push_back(args[++i]);
    } else if (args[i] == "--events" && i + 1 < args.size()) {
      events = args[++i];
    } else if (args[i] == "--skip-invalid") {
      opts.skip_invalid_rules = true;
    } else {
      fprintf(stderr, "vigilctl rules test: unexpected argument '%s'\n%s", args[i].c_str(), kUsage);
      return 2;
    }
  }
  if (rules.empty() || events.empty()) {
    fprintf(stderr, "vigilctl rules test: --rules and --events are required\n%s", kUsage);
    return 2;
  }
  std::vector<Diagnostic> diags;
  auto engine = RuleEngine::load(rules, opts, &diags);
  if (!engine.ok() || !opts.skip_invalid_rules) {
    for (const auto& d : diags) {
      if (!d.warning) fprintf(stderr, "%s\n", d.str().c_str());
    }
  } else {
    int skipped = 0;
    for (const auto& r : (*engine)->rules()) skipped += r.state == RuleInfo::State::kFailed;
    if (skipped) fprintf(stderr, "%d rules left out: they do not compile (vigilctl rules check says why)\n", skipped);
  }
  if (!engine.ok()) {
    if (diags.empty()) fprintf(stderr, "%s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  std::ifstream in(events);
  if (!in) {
    fprintf(stderr, "%s: cannot read\n", events.c_str());
    return 1;
  }
  google::protobuf::util::JsonParseOptions popts;
  google::protobuf::util::JsonPrintOptions wopts;
  wopts.preserve_proto_field_names = true;
  std::string line;
  int lineno = 0, bad = 0, n = 0;
  while (std::getline(in, line)) {
    lineno++;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    api::Event ev;
    auto st = google::protobuf::util::JsonStringToMessage(line, &ev, popts);
    if (!st.ok()) {
      fprintf(stderr, "%s:%d: not a Vigil event: %s\n", events.c_str(), lineno, st.ToString().c_str());
      bad++;
      continue;
    }
    n++;
    (*engine)->evaluate(ev, [&](api::Event&& alert) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(alert, &json, wopts);
      printf("%s\n", json.c_str());
    });
  }
  auto s = (*engine)->stats();
  fprintf(stderr, "%d events, %llu alerts, %llu rule runtime errors, %d unreadable lines; %zu rules loaded\n", n,
          static_cast<unsigned long long>(s.alerts), static_cast<unsigned long long>(s.runtime_errors), bad,
          (*engine)->compiledRules());
  return bad ? 1 : 0;
}

}  // namespace

int rulesCommand(const std::vector<std::string>& args) {
  try {
    if (args.empty() || args[0] == "help" || args[0] == "--help") {
      fputs(kUsage, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "check") return check({args.begin() + 1, args.end()});
    if (args[0] == "test") return test({args.begin() + 1, args.end()});
    fprintf(stderr, "vigilctl rules: unknown subcommand '%s'\n%s", args[0].c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    fprintf(stderr, "vigilctl rules: %s\n", e.what());
    return 1;
  }
}

}  // namespace vigil::rules
