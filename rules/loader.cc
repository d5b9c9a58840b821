#include "rules/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace vigil::rules {

std::string SourcePos::str() const {
  if (line <= 0) return file;
  return absl::StrCat(file, ":", line, ":", col);
}

std::string Diagnostic::str() const {
  return absl::StrCat(pos.str(), ": ", message, warning ? " (warning)" : "");
}

bool RuleSet::hasErrors() const {
  return std::any_of(diags.begin(), diags.end(), [](const Diagnostic& d) { return !d.warning; });
}

std::string CondText::joined() const {
  std::string s;
  for (const auto& p : pieces) {
    if (!s.empty()) s += ' ';
    s += p.text;
  }
  return s;
}

SourcePos CondText::posAt(size_t offset) const {
  size_t base = 0;
  for (const auto& p : pieces) {
    if (base > 0) base++;  // the joining space
    if (offset < base + p.text.size() || &p == &pieces.back()) {
      SourcePos r = p.pos;
      size_t o = offset >= base ? offset - base : 0;
      // Point at the next mapped byte at or after o; past the end, just after
      // the last mapped one.
      for (size_t i = o; i < p.line_of.size(); i++) {
        if (p.line_of[i] > 0) {
          r.line = p.line_of[i];
          r.col = p.col_of[i];
          return r;
        }
      }
      for (size_t i = std::min(o, p.line_of.size()); i-- > 0;) {
        if (p.line_of[i] > 0) {
          r.line = p.line_of[i];
          r.col = p.col_of[i] + static_cast<int>(o - i);
          return r;
        }
      }
      return r;
    }
    base += p.text.size();
  }
  return pieces.empty() ? SourcePos() : pieces.front().pos;
}

namespace {

struct FileCtx {
  std::string name;
  std::string text;
  std::vector<size_t> line_starts;
  RuleSet* set;

  SourcePos pos(const YAML::Node& n) const {
    SourcePos p;
    p.file = name;
    if (n.IsDefined()) {
      auto m = n.Mark();
      if (m.line >= 0) {
        p.line = m.line + 1;
        p.col = m.column + 1;
      }
    }
    return p;
  }
  void error(const SourcePos& p, std::string msg) { set->diags.push_back({false, p, std::move(msg)}); }
  void warn(const SourcePos& p, std::string msg) { set->diags.push_back({true, p, std::move(msg)}); }

  std::pair<int, int> lineCol(size_t off) const {
    auto it = std::upper_bound(line_starts.begin(), line_starts.end(), off);
    size_t line = it - line_starts.begin();  // 1-based
    return {static_cast<int>(line), static_cast<int>(off - line_starts[line - 1] + 1)};
  }

  // Maps each byte of a scalar's value back to the file by walking both in
  // step: YAML folding only changes whitespace and quoting, never the other
  // characters. Bytes that cannot be aligned stay unmapped (line 0).
  CondText::Piece piece(const YAML::Node& n, const std::string& value) const {
    CondText::Piece pc;
    pc.text = value;
    pc.pos = pos(n);
    pc.line_of.assign(value.size(), 0);
    pc.col_of.assign(value.size(), 0);
    auto m = n.Mark();
    if (m.pos < 0 || static_cast<size_t>(m.pos) >= text.size()) return pc;
    size_t i = m.pos;
    if (text[i] == '>' || text[i] == '|') {
      i = text.find('\n', i);
      if (i == std::string::npos) return pc;
    }
    for (size_t k = 0; k < value.size(); k++) {
      char c = value[k];
      if (std::isspace(static_cast<unsigned char>(c))) continue;
      size_t j = i;
      while (j < text.size() && text[j] != c &&
             (std::isspace(static_cast<unsigned char>(text[j])) || text[j] == '"' ||
              text[j] == '\'' || text[j] == '\\')) {
        j++;
      }
      if (j >= text.size() || text[j] != c) break;  // lost alignment: leave the rest unmapped
      auto [l, col] = lineCol(j);
      pc.line_of[k] = l;
      pc.col_of[k] = col;
      i = j + 1;
    }
    return pc;
  }
};

bool scalar(const YAML::Node& n, std::string* out) {
  if (!n.IsDefined() || n.IsNull()) {
    out->clear();
    return true;
  }
  if (!n.IsScalar()) return false;
  *out = n.Scalar();
  return true;
}

// '"sh -c x"' in a list is the string sh -c x: Falco quotes items that would
// not parse as bare words.
std::string unquoteItem(const std::string& s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    std::string out;
    char q = s.front();
    for (size_t i = 1; i + 1 < s.size(); i++) {
      if (s[i] == '\\' && i + 2 < s.size() && (s[i + 1] == q || s[i + 1] == '\\')) {
        out += s[++i];
        continue;
      }
      out += s[i];
    }
    return out;
  }
  return s;
}

bool parseVersion(const std::string& s, std::vector<int>* out) {
  out->clear();
  int single = 0;
  if (absl::SimpleAtoi(s, &single)) {  // old integer engine versions: N is 0.N.0
    *out = {0, single, 0};
    return true;
  }
  for (auto part : absl::StrSplit(s, '.')) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v)) return false;
    out->push_back(v);
  }
  while (out->size() < 3) out->push_back(0);
  return true;
}

bool boolValue(const YAML::Node& n, bool* out) {
  std::string s;
  if (!scalar(n, &s)) return false;
  if (s == "true" || s == "True" || s == "TRUE") *out = true;
  else if (s == "false" || s == "False" || s == "FALSE") *out = false;
  else return false;
  return true;
}

bool stringList(const YAML::Node& n, std::vector<std::string>* out) {
  out->clear();
  if (!n.IsDefined() || n.IsNull()) return true;
  if (!n.IsSequence()) return false;
  for (const auto& it : n) {
    std::string s;
    if (!scalar(it, &s)) return false;
    out->push_back(s);
  }
  return true;
}

// Which keys an override may append / replace (Falco's rule_loader_reader).
const std::set<std::string> kRuleAppendable = {"condition", "output", "desc", "tags", "exceptions"};
const std::set<std::string> kRuleReplaceable = {
    "condition", "output",  "desc",          "priority",       "tags",   "exceptions",
    "enabled",   "source",  "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration"};
const std::set<std::string> kRuleKeys = {
    "rule",     "desc",   "condition", "output",        "priority",
    "tags",     "enabled", "exceptions", "source",      "append",
    "override", "skip-if-unknown-filter", "warn_evttypes", "capture", "capture_duration"};

bool parseExceptions(FileCtx& f, const YAML::Node& n, std::vector<ExceptionDef>* out) {
  if (!n.IsSequence()) {
    f.error(f.pos(n), "exceptions must be a list");
    return false;
  }
  for (const auto& e : n) {
    ExceptionDef ex;
    ex.pos = f.pos(e);
    if (!e.IsMap() || !scalar(e["name"], &ex.name) || ex.name.empty()) {
      f.error(ex.pos, "an exception needs a name");
      return false;
    }
    const auto fields = e["fields"];
    if (fields.IsDefined() && fields.IsScalar()) {
      ex.single_field = true;
      ex.fields = {fields.Scalar()};
    } else if (fields.IsDefined() && !stringList(fields, &ex.fields)) {
      f.error(f.pos(fields), "exception '" + ex.name + "': fields must be a field or a list of fields");
      return false;
    }
    const auto comps = e["comps"];
    if (comps.IsDefined() && comps.IsScalar()) {
      ex.comps = {comps.Scalar()};
    } else if (comps.IsDefined() && !stringList(comps, &ex.comps)) {
      f.error(f.pos(comps), "exception '" + ex.name + "': comps must be an operator or a list");
      return false;
    }
    const auto values = e["values"];
    if (values.IsDefined() && !values.IsNull()) {
      if (!values.IsSequence()) {
        f.error(f.pos(values), "exception '" + ex.name + "': values must be a list");
        return false;
      }
      for (const auto& row : values) {
        std::vector<ExceptionDef::Entry> r;
        if (ex.single_field || (!row.IsSequence() && ex.fields.empty())) {
          // A plain value (single-field form, or values appended to one).
          ExceptionDef::Entry en;
          if (row.IsSequence()) {
            if (!stringList(row, &en.items)) {
              f.error(f.pos(row), "exception '" + ex.name + "': a value must be a string");
              return false;
            }
            en.is_list = true;
          } else {
            std::string s;
            if (!scalar(row, &s)) {
              f.error(f.pos(row), "exception '" + ex.name + "': a value must be a string");
              return false;
            }
            en.items = {s};
          }
          r.push_back(std::move(en));
        } else {
          if (!row.IsSequence()) {
            f.error(f.pos(row), "exception '" + ex.name + "': each value must be a list, one entry per field");
            return false;
          }
          for (const auto& v : row) {
            ExceptionDef::Entry en;
            if (v.IsSequence()) {
              if (!stringList(v, &en.items)) {
                f.error(f.pos(v), "exception '" + ex.name + "': nested values must be strings");
                return false;
              }
              en.is_list = true;
            } else {
              std::string s;
              if (!scalar(v, &s)) {
                f.error(f.pos(v), "exception '" + ex.name + "': a value must be a string or a list");
                return false;
              }
              en.items = {s};
            }
            r.push_back(std::move(en));
          }
          // Without fields, these values are appended to an exception defined before.
          if (!ex.fields.empty() && r.size() != ex.fields.size()) {
            f.error(f.pos(row), absl::StrCat("exception '", ex.name, "': ", r.size(),
                                             " values for ", ex.fields.size(), " fields"));
            return false;
          }
        }
        ex.values.push_back(std::move(r));
      }
    }
    out->push_back(std::move(ex));
  }
  return true;
}

void appendExceptions(std::vector<ExceptionDef>* into, std::vector<ExceptionDef> more) {
  for (auto& e : more) {
    auto it = std::find_if(into->begin(), into->end(),
                           [&](const ExceptionDef& x) { return x.name == e.name; });
    if (it == into->end()) {
      into->push_back(std::move(e));
    } else {
      for (auto& v : e.values) it->values.push_back(std::move(v));
    }
  }
}

// The `override:` map of an item, or empty. Returns false (error emitted) if malformed.
bool overrides(FileCtx& f, const YAML::Node& item, const std::string& what,
               std::map<std::string, std::string>* out) {
  const auto o = item["override"];
  if (!o.IsDefined()) return true;
  if (!o.IsMap()) {
    f.error(f.pos(o), what + ": override must be a map of key: append|replace");
    return false;
  }
  for (const auto& kv : o) {
    std::string k, v;
    if (!scalar(kv.first, &k) || !scalar(kv.second, &v) || (v != "append" && v != "replace")) {
      f.error(f.pos(kv.first), what + ": override values are append or replace");
      return false;
    }
    (*out)[k] = v;
  }
  return true;
}

bool appendFlag(FileCtx& f, const YAML::Node& item, const std::string& what, bool* out) {
  *out = false;
  if (!item["append"].IsDefined()) return true;
  if (!boolValue(item["append"], out)) {
    f.error(f.pos(item["append"]), what + ": append must be true or false");
    return false;
  }
  return true;
}

void loadList(FileCtx& f, const YAML::Node& item) {
  std::string name;
  scalar(item["list"], &name);
  std::string what = "list '" + name + "'";
  std::vector<std::string> items;
  if (!stringList(item["items"], &items)) {
    f.error(f.pos(item["items"]), what + ": items must be a list of strings");
    return;
  }
  for (auto& s : items) s = unquoteItem(s);
  bool append = false;
  std::map<std::string, std::string> ov;
  if (!appendFlag(f, item, what, &append) || !overrides(f, item, what, &ov)) return;
  for (const auto& [k, v] : ov) {
    if (k != "items") {
      f.error(f.pos(item["override"]), what + ": only items can be overridden, not " + k);
      return;
    }
  }
  auto it = f.set->lists.find(name);
  bool modify = append || !ov.empty();
  if (modify) {
    if (it == f.set->lists.end()) {
      f.error(f.pos(item), what + " has " + (append ? "append: true" : "override") +
                               " but no list by that name is defined before it");
      return;
    }
    if (append || ov["items"] == "append") {
      it->second.items.insert(it->second.items.end(), items.begin(), items.end());
    } else {
      it->second.items = std::move(items);
    }
    return;
  }
  if (!item["items"].IsDefined()) {
    f.error(f.pos(item), what + ": items missing");
    return;
  }
  f.set->lists[name] = ListDef{name, std::move(items), f.pos(item)};
}

void loadMacro(FileCtx& f, const YAML::Node& item) {
  std::string name;
  scalar(item["macro"], &name);
  std::string what = "macro '" + name + "'";
  std::string cond;
  if (!item["condition"].IsDefined() || !scalar(item["condition"], &cond) || cond.empty()) {
    f.error(f.pos(item), what + ": condition missing");
    return;
  }
  bool append = false;
  std::map<std::string, std::string> ov;
  if (!appendFlag(f, item, what, &append) || !overrides(f, item, what, &ov)) return;
  for (const auto& [k, v] : ov) {
    if (k != "condition") {
      f.error(f.pos(item["override"]), what + ": only condition can be overridden, not " + k);
      return;
    }
  }
  auto pc = f.piece(item["condition"], cond);
  auto it = f.set->macros.find(name);
  if (append || !ov.empty()) {
    if (it == f.set->macros.end()) {
      f.error(f.pos(item), what + " has " + (append ? "append: true" : "override") +
                               " but no macro by that name is defined before it");
      return;
    }
    if (append || ov["condition"] == "append") {
      it->second.condition.pieces.push_back(std::move(pc));
    } else {
      it->second.condition.pieces = {std::move(pc)};
    }
    return;
  }
  MacroDef m;
  m.name = name;
  m.pos = f.pos(item);
  m.condition.pieces.push_back(std::move(pc));
  f.set->macros[name] = std::move(m);
}

void loadRule(FileCtx& f, const YAML::Node& item) {
  std::string name;
  scalar(item["rule"], &name);
  std::string what = "rule '" + name + "'";
  for (const auto& kv : item) {
    std::string k;
    scalar(kv.first, &k);
    if (!kRuleKeys.count(k)) f.warn(f.pos(kv.first), what + ": unknown key '" + k + "' ignored");
  }
  bool append = false;
  std::map<std::string, std::string> ov;
  if (!appendFlag(f, item, what, &append) || !overrides(f, item, what, &ov)) return;
  if (append && !ov.empty()) {
    f.error(f.pos(item), what + ": append and override cannot be used together");
    return;
  }
  // Read every key that is present.
  RuleDef r;
  r.name = name;
  r.pos = f.pos(item);
  std::string cond;
  bool has_cond = item["condition"].IsDefined();
  if (has_cond && !scalar(item["condition"], &cond)) {
    f.error(f.pos(item["condition"]), what + ": condition must be a string");
    return;
  }
  if (has_cond) r.condition.pieces.push_back(f.piece(item["condition"], cond));
  if (item["output"].IsDefined() && !scalar(item["output"], &r.output)) {
    f.error(f.pos(item["output"]), what + ": output must be a string");
    return;
  }
  r.output_pos = f.pos(item["output"]);
  if (item["desc"].IsDefined() && !scalar(item["desc"], &r.desc)) {
    f.error(f.pos(item["desc"]), what + ": desc must be a string");
    return;
  }
  if (item["priority"].IsDefined() && !scalar(item["priority"], &r.priority)) {
    f.error(f.pos(item["priority"]), what + ": priority must be a string");
    return;
  }
  r.priority_pos = f.pos(item["priority"]);
  if (item["tags"].IsDefined() && !stringList(item["tags"], &r.tags)) {
    f.error(f.pos(item["tags"]), what + ": tags must be a list of strings");
    return;
  }
  if (item["enabled"].IsDefined() && !boolValue(item["enabled"], &r.enabled)) {
    f.error(f.pos(item["enabled"]), what + ": enabled must be true or false");
    return;
  }
  if (item["skip-if-unknown-filter"].IsDefined() &&
      !boolValue(item["skip-if-unknown-filter"], &r.skip_if_unknown_filter)) {
    f.error(f.pos(item["skip-if-unknown-filter"]), what + ": skip-if-unknown-filter must be true or false");
    return;
  }
  if (item["source"].IsDefined() && (!scalar(item["source"], &r.source) || r.source.empty())) {
    f.error(f.pos(item["source"]), what + ": source must be a string");
    return;
  }
  if (item["exceptions"].IsDefined() && !parseExceptions(f, item["exceptions"], &r.exceptions)) return;

  auto it = std::find_if(f.set->rules.begin(), f.set->rules.end(),
                         [&](const RuleDef& x) { return x.name == name; });
  if (append || !ov.empty()) {
    if (it == f.set->rules.end()) {
      f.error(f.pos(item), what + " has " + (append ? "append: true" : "override") +
                               " but no rule by that name is defined before it");
      return;
    }
    if (append) {
      // Deprecated form: appends condition, output and exceptions.
      if (has_cond) it->condition.pieces.push_back(r.condition.pieces.front());
      if (item["output"].IsDefined()) it->output += " " + r.output;
      if (item["desc"].IsDefined()) it->desc += " " + r.desc;
      if (item["tags"].IsDefined()) it->tags.insert(it->tags.end(), r.tags.begin(), r.tags.end());
      appendExceptions(&it->exceptions, std::move(r.exceptions));
      for (const char* k : {"priority", "enabled", "source", "skip-if-unknown-filter"}) {
        if (item[k].IsDefined()) {
          f.error(f.pos(item[k]), what + ": '" + k + "' cannot be appended (use override: replace)");
        }
      }
      return;
    }
    // Every key in the item must be listed in override, and the other way round.
    for (const auto& kv : item) {
      std::string k;
      scalar(kv.first, &k);
      if (k == "rule" || k == "override") continue;
      if (!ov.count(k)) {
        f.error(f.pos(kv.first), what + ": key '" + k + "' is not listed in override");
        return;
      }
    }
    for (const auto& [k, mode] : ov) {
      if (!item[k].IsDefined()) {
        f.error(f.pos(item["override"]), what + ": override lists '" + k + "' but the rule does not set it");
        return;
      }
      const auto& allowed = mode == "append" ? kRuleAppendable : kRuleReplaceable;
      if (!allowed.count(k)) {
        f.error(f.pos(item["override"]), what + ": '" + k + "' cannot be overridden with " + mode);
        return;
      }
      bool app = mode == "append";
      if (k == "condition") {
        if (app) it->condition.pieces.push_back(r.condition.pieces.front());
        else it->condition = r.condition;
      } else if (k == "output") {
        it->output = app ? it->output + " " + r.output : r.output;
        it->output_pos = r.output_pos;
      } else if (k == "desc") {
        it->desc = app ? it->desc + " " + r.desc : r.desc;
      } else if (k == "tags") {
        if (!app) it->tags.clear();
        it->tags.insert(it->tags.end(), r.tags.begin(), r.tags.end());
      } else if (k == "exceptions") {
        if (app) appendExceptions(&it->exceptions, std::move(r.exceptions));
        else it->exceptions = std::move(r.exceptions);
      } else if (k == "priority") {
        it->priority = r.priority;
        it->priority_pos = r.priority_pos;
      } else if (k == "enabled") {
        it->enabled = r.enabled;
      } else if (k == "source") {
        it->source = r.source;
      } else if (k == "skip-if-unknown-filter") {
        it->skip_if_unknown_filter = r.skip_if_unknown_filter;
      }
    }
    return;
  }
  // `- rule: X` with only `enabled:` toggles an existing rule.
  if (!has_cond && item["enabled"].IsDefined() && item.size() == 2) {
    if (it == f.set->rules.end()) {
      f.error(f.pos(item), what + ": only 'enabled' is given but no rule by that name is defined before it");
      return;
    }
    it->enabled = r.enabled;
    return;
  }
  for (const char* k : {"condition", "output", "desc", "priority"}) {
    if (!item[k].IsDefined()) {
      f.error(f.pos(item), what + ": '" + k + "' missing");
      return;
    }
  }
  if (it != f.set->rules.end()) {
    *it = std::move(r);  // a redefinition replaces the rule, in its original place
  } else {
    f.set->rules.push_back(std::move(r));
  }
}

void loadRequiredEngineVersion(FileCtx& f, const YAML::Node& item) {
  std::string v;
  std::vector<int> want, have;
  if (!scalar(item["required_engine_version"], &v) || !parseVersion(v, &want)) {
    f.error(f.pos(item["required_engine_version"]), "required_engine_version must be a version (0.57.0 or 17)");
    return;
  }
  parseVersion(kFalcoEngineVersion, &have);
  if (want > have) {
    f.error(f.pos(item), absl::StrCat("rules require engine version ", v,
                                      "; Vigil implements the Falco rule language of engine ",
                                      kFalcoEngineVersion));
  }
}

void loadRequiredPlugins(FileCtx& f, const YAML::Node& item) {
  const auto n = item["required_plugin_versions"];
  if (!n.IsSequence()) {
    f.error(f.pos(n), "required_plugin_versions must be a list");
    return;
  }
  for (const auto& p : n) {
    std::string name;
    if (!p.IsMap() || !scalar(p["name"], &name)) {
      f.error(f.pos(p), "required_plugin_versions: each entry needs a name");
      continue;
    }
    // Vigil's events carry container metadata themselves.
    if (name != "container") {
      f.warn(f.pos(p), "plugin '" + name + "' is not available in Vigil; rules with its source are skipped");
    }
  }
}

void loadItems(FileCtx& f, const YAML::Node& root) {
  if (!root.IsDefined() || root.IsNull()) return;
  if (!root.IsSequence()) {
    f.error(f.pos(root), "a rules file is a YAML list of rule, macro and list items");
    return;
  }
  for (const auto& item : root) {
    if (!item.IsMap()) {
      f.error(f.pos(item), "each item must be a map (rule, macro, list, required_engine_version)");
      continue;
    }
    try {
      if (item["rule"].IsDefined()) {
        std::string n;
        if (!scalar(item["rule"], &n) || n.empty()) f.error(f.pos(item), "rule name must be a non-empty string");
        else loadRule(f, item);
      } else if (item["macro"].IsDefined()) {
        std::string n;
        if (!scalar(item["macro"], &n) || n.empty()) f.error(f.pos(item), "macro name must be a non-empty string");
        else loadMacro(f, item);
      } else if (item["list"].IsDefined()) {
        std::string n;
        if (!scalar(item["list"], &n) || n.empty()) f.error(f.pos(item), "list name must be a non-empty string");
        else loadList(f, item);
      } else if (item["required_engine_version"].IsDefined()) {
        loadRequiredEngineVersion(f, item);
      } else if (item["required_plugin_versions"].IsDefined()) {
        loadRequiredPlugins(f, item);
      } else {
        std::string k;
        if (item.begin() != item.end()) scalar(item.begin()->first, &k);
        f.error(f.pos(item), "unknown item '" + k + "' (expected rule, macro, list, required_engine_version)");
      }
    } catch (const YAML::Exception& e) {
      SourcePos p = f.pos(item);
      if (e.mark.line >= 0) {
        p.line = e.mark.line + 1;
        p.col = e.mark.column + 1;
      }
      f.error(p, e.msg);
    }
  }
}

}  // namespace

void loadRuleText(const std::string& name, const std::string& text, RuleSet* set) {
  FileCtx f{name, text, {0}, set};
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == '\n') f.line_starts.push_back(i + 1);
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourcePos p{name, e.mark.line + 1, e.mark.column + 1};
    f.error(p, "YAML: " + e.msg);
    return;
  }
  loadItems(f, root);
}

void loadRuleFile(const std::string& path, RuleSet* set) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    set->diags.push_back({false, SourcePos{path, 0, 0}, "cannot read file"});
    return;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  loadRuleText(path, ss.str(), set);
}

}  // namespace vigil::rules
