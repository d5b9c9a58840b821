// Vigil's userspace rules engine: Falco rule files evaluated on Vigil's events.
//
//   auto engine = RuleEngine::load({"/etc/vigil/rules.d/a.yaml"}, {}, &diags);
//   engine->evaluate(event, [](api::Event&& alert) { export(alert); });
//
// load() parses and compiles once: macros expanded, lists turned into hash
// sets, regexes compiled, rules indexed by event type. evaluate() does no I/O,
// takes no lock and never throws; a rule that fails at run time is counted (per
// rule and in stats()) and treated as not matching. One engine per thread:
// evaluate() is not reentrant (a concurrent call is refused and counted).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "rules/condition.h"
#include "rules/loader.h"
#include "vigil/events.pb.h"

namespace vigil::rules {

// Falco priorities; the value is the syslog severity (RFC 5424).
enum class Priority { kEmergency = 0, kAlert, kCritical, kError, kWarning, kNotice, kInformational, kDebug };
bool parsePriority(const std::string& s, Priority* out);  // case-insensitive; "info" too
const char* priorityName(Priority p);                     // "WARNING"
inline int syslogSeverity(Priority p) { return static_cast<int>(p); }

// Bounds on the work and memory a rules file can make load() spend; each is
// documented with its default in docs/security.md, "Limits". Hitting one fails
// the rule that hit it (FILE:LINE:COL, naming the limit); load() then fails
// like for any other bad rule, so a reload keeps the rules in force.
struct RuleLimits {
  int max_parse_depth = kDefaultMaxParseDepth;  // (), not, transformers in one condition
  int max_macro_depth = 32;                     // macros expanding macros
  int max_list_depth = 16;                      // lists naming lists
  int max_condition_depth = 400;                // nesting of a rule after macro expansion
  // Expanded size of one rule: and/or/not nodes, checks and list items after
  // macro and list expansion (a macro used twice counts twice).
  size_t max_rule_size = 100000;
  size_t max_total_size = 2000000;  // of all rules together
};

struct LoadOptions {
  RuleLimits limits;
  // Default: any error fails load(). With this set, rules that do not compile
  // are left out (and reported in diagnostics and rules()); file-level errors
  // (bad YAML, bad list) still fail.
  bool skip_invalid_rules = false;
  // With skip_invalid_rules: a rule that does not compile is reported as a
  // warning ("; rule skipped"), not an error (`vigilctl rules check
  // --skip-invalid`, so a stock Falco file can pass a CI gate).
  bool invalid_rules_warn = false;
  // Rules less severe than this are not loaded (Falco's `priority` setting).
  Priority min_priority = Priority::kDebug;
};

struct RuleInfo {
  enum class State { kCompiled, kDisabled, kFiltered, kSkipped, kFailed };
  std::string name;
  SourcePos pos;
  State state = State::kFailed;
  bool dormant = false;                  // compiled, but for event types Vigil never emits
  std::vector<std::string> event_types;  // empty: every event
  std::vector<std::string> problems;     // why it failed / was skipped, or why it is dormant
  std::vector<std::string> missing_fields;
};
const char* ruleStateName(RuleInfo::State s);

struct Stats {
  uint64_t events = 0;          // events evaluated
  uint64_t rule_evaluations = 0;  // rule conditions run
  uint64_t alerts = 0;
  uint64_t runtime_errors = 0;  // rule evaluations that failed (counted, treated as no match)
  uint64_t refused = 0;         // concurrent evaluate() calls refused
};

struct RuleStats {
  std::string name;
  uint64_t matches = 0;
  uint64_t errors = 0;
};

class RuleEngine {
 public:
  // Loads files in order (later files override earlier ones) and compiles.
  // diags (optional) receives every error and warning, FILE:LINE:COL.
  static absl::StatusOr<std::unique_ptr<RuleEngine>> load(const std::vector<std::string>& files,
                                                          const LoadOptions& options = {},
                                                          std::vector<Diagnostic>* diags = nullptr);
  // Same from in-memory documents: {name, yaml text}.
  static absl::StatusOr<std::unique_ptr<RuleEngine>> loadTexts(
      const std::vector<std::pair<std::string, std::string>>& docs, const LoadOptions& options = {},
      std::vector<Diagnostic>* diags = nullptr);
  // *.yaml and *.yml files of a directory (e.g. /etc/vigil/rules.d), sorted by name.
  static std::vector<std::string> ruleFilesIn(const std::string& dir);

  ~RuleEngine();
  RuleEngine(const RuleEngine&) = delete;
  RuleEngine& operator=(const RuleEngine&) = delete;

  // Evaluates every rule that can match the event's type; calls on_alert with a
  // rule_alert event for each match, in rule order. The alert lives in the
  // engine and is reused for the next one: read it, copy it or move it away
  // during the call (a callee that changes it must move it).
  void evaluate(const api::Event& event, const std::function<void(api::Event&&)>& on_alert);

  Stats stats() const;
  std::vector<RuleStats> ruleStats() const;
  const std::vector<RuleInfo>& rules() const;
  size_t compiledRules() const;

  struct Impl;

 private:
  explicit RuleEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::rules
