#include "daemon/policy/policy_parser.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "vigil/abi/abi.h"

namespace vigil::policy {

std::string Diagnostic::str() const { return pos.str() + ": " + message; }

namespace {

// String helpers. Plain std: this Abseil build's absl::string_view is not
// std::string_view, so absl::StrCat would not take our string_views.
void appendTo(std::string& out, std::string_view s) { out.append(s); }
void appendTo(std::string& out, const char* s) { out.append(s); }
void appendTo(std::string& out, const std::string& s) { out.append(s); }
template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
void appendTo(std::string& out, T v) {
  out.append(std::to_string(v));
}

template <typename... Args>
std::string cat(const Args&... args) {
  std::string out;
  (appendTo(out, args), ...);
  return out;
}

template <typename Range>
std::string join(const Range& range, std::string_view sep) {
  std::string out;
  bool first = true;
  for (const auto& x : range) {
    if (!first) out.append(sep);
    first = false;
    appendTo(out, x);
  }
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

bool has(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

using YAML::Node;

constexpr std::string_view kApiVersion = "cilium.io/v1alpha1";
constexpr std::string_view kKind = "TracingPolicy";
// Kernel paths are at most PATH_MAX bytes including the NUL.
constexpr size_t kMaxValueLen = VG_PATH_MAX - 1;
constexpr size_t kMaxNameLen = 253;  // Kubernetes object names (DNS subdomain)

// The hooks this slice implements. Both take one argument, a path the kernel
// resolves, so matchArgs values are absolute paths.
struct HookInfo {
  std::string_view name;
  std::string_view arg_type;  // type of argument 0, as Tetragon names it
  std::string_view arg_what;
};
constexpr HookInfo kHooks[] = {
    {"bprm_check_security", "linux_binprm", "the program being executed"},
    {"file_open", "file", "the file being opened"},
};

const HookInfo* findHook(std::string_view name) {
  for (const auto& h : kHooks) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

// Names Tetragon defines that this slice does not implement: using one is a
// "not supported yet" error rather than an "unknown" one, so users can tell a
// typo from a missing feature.
constexpr std::string_view kTetragonArgOperators[] = {
    "NotEqual",   "NotPrefix", "NotPostfix",         "GreaterThan",  "LessThan",     "GT",
    "LT",         "SPort",     "NotSPort",           "SPortPriv",    "NotSportPriv", "NotSPortPriv",
    "DPort",      "NotDPort",  "DPortPriv",          "NotDPortPriv", "SAddr",        "NotSAddr",
    "DAddr",      "NotDAddr",  "Protocol",           "Family",       "State",        "Mask",
    "InMap",      "NotInMap",  "CapabilitiesGained", "InRange",      "NotInRange",   "FileType",
    "NotFileType"};
constexpr std::string_view kTetragonBinaryOperators[] = {"NotIn", "Prefix", "NotPrefix", "Postfix",
                                                         "NotPostfix"};
constexpr std::string_view kTetragonActions[] = {"FollowFD",
                                                 "UnfollowFD",
                                                 "CopyFD",
                                                 "GetUrl",
                                                 "DnsLookup",
                                                 "NoPost",
                                                 "Signal",
                                                 "TrackSock",
                                                 "UntrackSock",
                                                 "NotifyEnforcer",
                                                 "CleanupEnforcerNotification",
                                                 "Set"};

template <typename Range>
bool contains(const Range& range, std::string_view s) {
  return std::find(std::begin(range), std::end(range), s) != std::end(range);
}

// A hint for names that differ from a supported one only in case.
template <typename Range>
std::string didYouMean(const Range& candidates, std::string_view s) {
  for (std::string_view c : candidates) {
    if (equalsIgnoreCase(c, s)) return cat(" (did you mean \"", c, "\"?)");
  }
  return "";
}

std::string shortQuoted(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() <= kMax) return cat("\"", s, "\"");
  return cat("\"", s.substr(0, kMax), "...\"");
}

std::string describe(const Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "null";
    case YAML::NodeType::Scalar: return cat("the string ", shortQuoted(n.Scalar()));
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Undefined: break;
  }
  return "nothing";
}

std::string child(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : cat(path, ".", key);
}

std::string item(std::string_view path, size_t i) { return cat(path, "[", i, "]"); }

// Paths the kernel reports are canonical: no "//", "/./", "/../", no trailing '/'.
bool hasEmptyOrDotComponent(std::string_view p) {
  return has(p, "//") || has(p, "/./") || has(p, "/../") || p.ends_with("/.") || p.ends_with("/..");
}

bool isDnsSubdomain(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLen) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

// One key of a YAML map, with the nodes needed to point at it.
struct Entry {
  std::string key;
  Node key_node;
  Node value;
};

// Keys of one kind of YAML map.
struct Schema {
  std::string_view noun;  // for messages: "fields of spec", "selectors"
  std::initializer_list<std::string_view> supported;
  // Defined by Tetragon but not implemented: an error, since ignoring them
  // would change what the policy means.
  std::initializer_list<std::string_view> unsupported;
  // Defined by Tetragon/Kubernetes, irrelevant to enforcement: a warning.
  std::initializer_list<std::string_view> ignored = {};
  std::string (*hint)(std::string_view key, const Node& value) = nullptr;
};

// kprobes on the LSM entry points are the old way to write what lsmhooks say now.
std::string specHint(std::string_view key, const Node& value) {
  if (key != "kprobes" || !value.IsSequence()) return "";
  std::string out;
  for (const auto& kp : value) {
    if (!kp.IsMap() || !kp["call"] || !kp["call"].IsScalar()) continue;
    const std::string& call = kp["call"].Scalar();
    if (call == "security_bprm_check" || call == "security_file_open") {
      out += cat(out.empty() ? "; " : ", ", "kprobe \"", call,
                 "\" can be written as spec.lsmhooks hook \"",
                 call == "security_bprm_check" ? "bprm_check_security" : "file_open", "\"");
    }
  }
  return out;
}

const Schema kRootSchema{"top-level fields", {"apiVersion", "kind", "metadata", "spec"}, {}};

const Schema kMetadataSchema{
    "fields of metadata",
    {"name", "labels", "annotations"},
    {},
    // Set by the Kubernetes API server (kubectl get -o yaml) or scoping that a
    // cluster-wide TracingPolicy does not have.
    {"namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
     "deletionGracePeriodSeconds", "managedFields", "selfLink", "ownerReferences", "finalizers",
     "generateName"}};

const Schema kSpecSchema{
    "fields of spec",
    {"lsmhooks", "options"},
    {"kprobes", "tracepoints", "uprobes", "usdts", "loader", "lists", "enforcers", "podSelector",
     "containerSelector", "hostSelector", "selectorsMacros"},
    {},
    specHint};

const Schema kOptionSchema{"fields of an option", {"name", "value"}, {}};

const Schema kHookSchema{
    "fields of an lsmhook", {"hook", "args", "selectors", "message", "tags"}, {}};

const Schema kArgSchema{"fields of an argument",
                        {"index", "type", "label"},
                        {"sizeArgIndex", "returnCopy", "maxData", "resolve"}};

const Schema kSelectorSchema{
    "selectors",
    {"matchArgs", "matchBinaries", "matchActions"},
    {"matchPIDs", "matchReturnArgs", "matchData", "matchNamespaces", "matchNamespaceChanges",
     "matchCapabilities", "matchCapabilityChanges", "matchReturnActions", "matchParentBinaries"}};

const Schema kArgFilterSchema{"fields of matchArgs", {"index", "operator", "values"}, {"args"}};

const Schema kBinaryFilterSchema{
    "fields of matchBinaries", {"operator", "values"}, {"followChildren"}};

const Schema kActionSchema{
    "fields of matchActions",
    {"action", "argError"},
    {"argFd", "argName", "argUrl", "argFqdn", "argSig", "argSock", "argIndex", "argValue",
     "rateLimit", "rateLimitScope", "kernelStackTrace", "userStackTrace", "imaHash"}};

class Fields {
 public:
  const Entry* find(std::string_view key) const {
    for (const auto& e : entries_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  void add(Entry e) { entries_.push_back(std::move(e)); }

 private:
  std::vector<Entry> entries_;  // a handful per map: a linear scan is fastest
};

// How matchArgs/matchBinaries values are checked.
struct ValueRules {
  bool absolute = false;  // must start with '/'
  bool exact = false;     // whole-path match (Equal, In): canonical paths only
  bool path = false;      // compared against kernel paths at all
  std::string_view why;   // completes "must start with '/'" messages
};

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  ParseResult run(std::string_view yaml) {
    std::optional<Policy> policy;
    try {
      policy = parseDocument(yaml);
    } catch (const std::exception& e) {
      // yaml-cpp reports misuse by throwing; never let it escape.
      errors_.push_back({SourcePos{file_, 0, 0}, cat("internal parser error: ", e.what())});
    }
    return finish(std::move(policy));
  }

 private:
  // ---- diagnostics -------------------------------------------------------

  SourcePos posOf(const YAML::Mark& m) const {
    if (m.line < 0) return SourcePos{file_, 0, 0};
    return SourcePos{file_, m.line + 1, m.column + 1};
  }
  SourcePos posOf(const Node& n) const { return posOf(n.Mark()); }
  // An implicit null ("key:" with nothing after it) is marked at the next
  // token, so point at the key instead.
  SourcePos posOf(const Entry& e) const {
    return e.value.IsNull() ? posOf(e.key_node) : posOf(e.value);
  }

  void error(const SourcePos& pos, std::string_view path, std::string_view msg) {
    errors_.push_back({pos, path.empty() ? std::string(msg) : cat(path, ": ", msg)});
  }
  void warning(const SourcePos& pos, std::string_view path, std::string_view msg) {
    warnings_.push_back({pos, path.empty() ? std::string(msg) : cat(path, ": ", msg)});
  }

  ParseResult finish(std::optional<Policy> policy) {
    auto by_pos = [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.pos.line, a.pos.col) < std::tie(b.pos.line, b.pos.col);
    };
    std::stable_sort(errors_.begin(), errors_.end(), by_pos);
    std::stable_sort(warnings_.begin(), warnings_.end(), by_pos);
    ParseResult r;
    r.errors = std::move(errors_);
    r.warnings = std::move(warnings_);
    if (r.errors.empty() && policy) r.policy = std::move(policy);
    if (r.errors.empty() && !r.policy) {
      r.errors.push_back({SourcePos{file_, 0, 0}, "no policy found"});  // not reached
    }
    return r;
  }

  // ---- generic YAML access -------------------------------------------------

  // Reads the keys of a map: rejects non-string and duplicate keys, and sorts
  // the rest into supported (returned), unsupported (error), ignored (warning)
  // and unknown (error).
  std::optional<Fields> readMap(const Node& node, const SourcePos& pos, std::string_view path,
                                const Schema& schema) {
    if (!node.IsMap()) {
      error(pos, path, cat("expected a map, got ", describe(node)));
      return std::nullopt;
    }
    Fields fields;
    std::unordered_map<std::string, SourcePos> seen;
    for (const auto& kv : node) {
      const Node& k = kv.first;
      if (!k.IsScalar()) {
        error(posOf(k), path, cat("keys must be strings, got ", describe(k)));
        continue;
      }
      const std::string& key = k.Scalar();
      const std::string key_path = child(path, key);
      auto [it, inserted] = seen.emplace(key, posOf(k));
      if (!inserted) {
        error(posOf(k), key_path,
              cat("duplicate key (first at line ", it->second.line, ", column ", it->second.col,
                  ")"));
        continue;
      }
      if (contains(schema.supported, key)) {
        fields.add(Entry{key, k, kv.second});
      } else if (contains(schema.unsupported, key)) {
        std::string hint = schema.hint ? schema.hint(key, kv.second) : "";
        error(posOf(k), key_path,
              cat("not supported yet; supported ", schema.noun, ": ", join(schema.supported, ", "),
                  hint));
      } else if (contains(schema.ignored, key)) {
        warning(posOf(k), key_path, "ignored by Vigil");
      } else {
        std::string hint = didYouMean(schema.supported, key);
        if (hint.empty()) hint = didYouMean(schema.unsupported, key);
        error(posOf(k), key_path,
              cat("unknown field", hint, "; supported ", schema.noun, ": ",
                  join(schema.supported, ", ")));
      }
    }
    return fields;
  }

  // Absent required field: reported at the map that should hold it.
  void missing(const SourcePos& map_pos, std::string_view path, std::string_view key) {
    error(map_pos, path, cat("missing required field \"", key, "\""));
  }

  std::optional<std::string> getString(const Entry& e, std::string_view path) {
    if (!e.value.IsScalar()) {
      error(posOf(e), path, cat("expected a string, got ", describe(e.value)));
      return std::nullopt;
    }
    return e.value.Scalar();
  }

  // A required string field; nullopt (with an error) if absent or mistyped.
  std::optional<std::string> requiredString(const Fields& f, const SourcePos& map_pos,
                                            std::string_view path, std::string_view key) {
    const Entry* e = f.find(key);
    if (e == nullptr) {
      missing(map_pos, path, key);
      return std::nullopt;
    }
    return getString(*e, child(path, key));
  }

  std::optional<int64_t> getInt(const Entry& e, std::string_view path, int64_t lo, int64_t hi) {
    const Node& v = e.value;
    // A quoted "0" is a string to Tetragon's (JSON) decoder, so it is here too.
    if (!v.IsScalar() || v.Tag() == "!") {
      error(posOf(e), path, cat("expected an integer, got ", describe(v)));
      return std::nullopt;
    }
    const std::string& s = v.Scalar();
    const char* begin = s.data();
    const char* end = s.data() + s.size();
    if (begin != end && *begin == '+' && begin + 1 != end && begin[1] != '-') ++begin;
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(begin, end, out);
    if (ec == std::errc::result_out_of_range) {
      error(posOf(e), path, cat("integer ", s, " is out of range [", lo, ", ", hi, "]"));
      return std::nullopt;
    }
    if (ec != std::errc() || ptr != end || begin == end) {
      error(posOf(e), path, cat("expected an integer, got ", describe(v)));
      return std::nullopt;
    }
    if (out < lo || out > hi) {
      error(posOf(e), path, cat("integer ", s, " is out of range [", lo, ", ", hi, "]"));
      return std::nullopt;
    }
    return out;
  }

  // A list field: null counts as empty (Kubernetes treats null as unset).
  bool isList(const Entry& e, std::string_view path) {
    if (e.value.IsSequence() || e.value.IsNull()) return true;
    error(posOf(e), path, cat("expected a list, got ", describe(e.value)));
    return false;
  }

  // ---- document ------------------------------------------------------------

  std::optional<Policy> parseDocument(std::string_view yaml) {
    std::vector<Node> docs;
    try {
      docs = YAML::LoadAll(std::string(yaml));
    } catch (const YAML::Exception& e) {
      error(posOf(e.mark), "", cat("YAML syntax error: ", e.msg));
      return std::nullopt;
    }
    // Empty documents ("---" with nothing after it) are harmless.
    std::vector<Node> nonempty;
    for (const auto& d : docs) {
      if (!d.IsNull()) nonempty.push_back(d);
    }
    if (nonempty.empty()) {
      error(SourcePos{file_, 1, 1}, "",
            "empty file; expected a TracingPolicy (apiVersion, kind, metadata, spec)");
      return std::nullopt;
    }
    if (nonempty.size() > 1) {
      error(posOf(nonempty[1]), "",
            cat("found ", nonempty.size(),
                " YAML documents; a policy file holds exactly one TracingPolicy"));
      return std::nullopt;
    }
    return parseRoot(nonempty[0]);
  }

  std::optional<Policy> parseRoot(const Node& root) {
    const SourcePos root_pos = posOf(root);
    if (!root.IsMap()) {
      error(root_pos, "",
            cat("expected a TracingPolicy map (apiVersion, kind, metadata, spec), got ",
                describe(root)));
      return std::nullopt;
    }
    auto f = readMap(root, root_pos, "", kRootSchema);
    Policy p;
    p.file = file_;
    p.pos = root_pos;

    if (auto v = requiredString(*f, root_pos, "", "apiVersion"); v && *v != kApiVersion) {
      error(posOf(*f->find("apiVersion")), "apiVersion",
            cat("unsupported apiVersion ", shortQuoted(*v), "; expected ", kApiVersion));
    }
    if (auto v = requiredString(*f, root_pos, "", "kind"); v && *v != kKind) {
      const SourcePos pos = posOf(*f->find("kind"));
      if (*v == "TracingPolicyNamespaced") {
        error(pos, "kind",
              "TracingPolicyNamespaced: namespaced policies are not supported yet; use kind "
              "TracingPolicy");
      } else {
        error(pos, "kind", cat("unsupported kind ", shortQuoted(*v), "; expected ", kKind));
      }
    }
    if (const Entry* e = f->find("metadata")) {
      parseMetadata(*e, p);
    } else {
      missing(root_pos, "", "metadata");
    }
    if (const Entry* e = f->find("spec")) {
      parseSpec(*e, p);
    } else {
      missing(root_pos, "", "spec");
    }
    return p;
  }

  void parseMetadata(const Entry& e, Policy& p) {
    const SourcePos pos = posOf(e);
    auto f = readMap(e.value, pos, "metadata", kMetadataSchema);
    if (!f) return;
    if (auto name = requiredString(*f, pos, "metadata", "name")) {
      if (!isDnsSubdomain(*name)) {
        error(posOf(*f->find("name")), "metadata.name",
              cat("invalid name ", shortQuoted(*name),
                  "; use lowercase letters, digits, '-' and '.', starting and ending "
                  "with a letter or digit (at most ",
                  kMaxNameLen, " characters)"));
      } else {
        p.name = *name;
      }
    }
    for (std::string_view key : {"labels", "annotations"}) {
      const Entry* m = f->find(key);
      if (m == nullptr || m->value.IsNull()) continue;
      const std::string path = child("metadata", key);
      if (!m->value.IsMap()) {
        error(posOf(*m), path, cat("expected a map, got ", describe(m->value)));
        continue;
      }
      for (const auto& kv : m->value) {
        if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
          error(posOf(kv.first), path, "expected a map of strings to strings");
        }
      }
    }
  }

  void parseSpec(const Entry& e, Policy& p) {
    const SourcePos pos = posOf(e);
    const size_t errors_before = errors_.size();
    auto f = readMap(e.value, pos, "spec", kSpecSchema);
    if (!f) return;
    if (const Entry* o = f->find("options")) parseOptions(*o, p);
    const Entry* hooks = f->find("lsmhooks");
    if (hooks != nullptr && isList(*hooks, "spec.lsmhooks")) {
      size_t i = 0;
      for (const auto& h : hooks->value) {
        parseLsmHook(h, item("spec.lsmhooks", i++), p);
      }
    }
    // A policy with nothing to enforce is a mistake; say so unless the spec
    // already failed for another reason (e.g. it only has kprobes).
    if (p.lsm_hooks.empty() && errors_.size() == errors_before) {
      if (hooks == nullptr) {
        error(pos, "spec",
              "no lsmhooks: the policy does nothing; supported hooks: "
              "bprm_check_security, file_open");
      } else {
        error(posOf(*hooks), "spec.lsmhooks", "empty: the policy does nothing");
      }
    }
  }

  void parseOptions(const Entry& e, Policy& p) {
    if (!isList(e, "spec.options")) return;
    std::optional<SourcePos> mode_pos;
    size_t i = 0;
    for (const auto& o : e.value) {
      const std::string path = item("spec.options", i++);
      const SourcePos pos = posOf(o);
      auto f = readMap(o, pos, path, kOptionSchema);
      if (!f) continue;
      auto name = requiredString(*f, pos, path, "name");
      auto value = requiredString(*f, pos, path, "value");
      if (!name) continue;
      if (*name != "policy-mode") {
        warning(posOf(*f->find("name")), child(path, "name"),
                cat("option ", shortQuoted(*name),
                    " is ignored by Vigil (it only implements policy-mode)"));
        continue;
      }
      if (mode_pos) {
        error(posOf(*f->find("name")), child(path, "name"),
              cat("policy-mode is set twice (first at line ", mode_pos->line, ", column ",
                  mode_pos->col, ")"));
        continue;
      }
      mode_pos = posOf(*f->find("name"));
      if (!value) continue;
      if (*value == "enforce") {
        p.mode = Mode::kEnforce;
      } else if (*value == "monitor") {
        p.mode = Mode::kMonitor;
      } else {
        error(posOf(*f->find("value")), child(path, "value"),
              cat("invalid policy-mode ", shortQuoted(*value), "; supported: enforce, monitor"));
      }
    }
  }

  // ---- lsmhooks --------------------------------------------------------------

  void parseLsmHook(const Node& n, const std::string& path, Policy& p) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kHookSchema);
    if (!f) return;
    LsmHook h;
    h.pos = pos;
    const HookInfo* info = nullptr;
    if (auto name = requiredString(*f, pos, path, "hook")) {
      h.hook = *name;
      info = findHook(*name);
      if (info == nullptr) {
        std::string hint;
        if (std::string_view(*name).starts_with("security_")) {
          // LSM hook names drop the security_ prefix of the kernel functions.
          std::string_view bare = std::string_view(*name).substr(strlen("security_"));
          if (bare == "bprm_check") bare = "bprm_check_security";
          if (findHook(bare)) hint = cat(" (did you mean \"", bare, "\"?)");
        }
        if (hint.empty()) {
          std::vector<std::string_view> names;
          for (const auto& hk : kHooks) names.push_back(hk.name);
          hint = didYouMean(names, *name);
        }
        error(posOf(*f->find("hook")), child(path, "hook"),
              cat("hook ", shortQuoted(*name), " is not supported yet", hint,
                  "; supported: bprm_check_security, file_open"));
      }
    }

    // Declared arguments: index -> where it was declared.
    std::unordered_map<int64_t, SourcePos> declared;
    if (const Entry* args = f->find("args"); args && isList(*args, child(path, "args"))) {
      size_t i = 0;
      for (const auto& a : args->value) {
        if (auto arg = parseHookArg(a, item(child(path, "args"), i++), info, declared)) {
          h.args.push_back(std::move(*arg));
        }
      }
    }
    if (const Entry* m = f->find("message"); m && !m->value.IsNull()) {
      if (auto s = getString(*m, child(path, "message"))) h.message = *s;
    }
    if (const Entry* t = f->find("tags"); t && isList(*t, child(path, "tags"))) {
      size_t i = 0;
      for (const auto& tag : t->value) {
        const std::string tpath = item(child(path, "tags"), i++);
        if (!tag.IsScalar() || tag.Scalar().empty()) {
          error(tag.IsNull() ? posOf(t->key_node) : posOf(tag), tpath,
                cat("expected a non-empty string, got ", describe(tag)));
          continue;
        }
        h.tags.push_back(tag.Scalar());
      }
    }

    const Entry* sels = f->find("selectors");
    const std::string spath = child(path, "selectors");
    if (sels != nullptr && isList(*sels, spath)) {
      size_t i = 0;
      for (const auto& s : sels->value) {
        const std::string ipath = item(spath, i);
        if (i++ == VG_MAX_HOOK_SELECTORS) {
          error(posOf(s), ipath,
                cat("too many selectors; a hook evaluates at most ", VG_MAX_HOOK_SELECTORS));
        }
        if (auto sel = parseSelector(s, ipath, info, declared)) {
          h.selectors.push_back(std::move(*sel));
        }
      }
    }
    if (sels == nullptr || sels->value.IsNull() ||
        (sels->value.IsSequence() && sels->value.size() == 0)) {
      // Tetragon reports every call of a hook without selectors; that floods
      // events and is rarely meant, so ask for it explicitly.
      error(sels ? posOf(*sels) : pos, sels ? spath : path,
            "a hook without selectors is not supported yet; add a selector (an empty one, "
            "{}, matches every call)");
    }
    p.lsm_hooks.push_back(std::move(h));
  }

  std::optional<HookArg> parseHookArg(const Node& n, const std::string& path, const HookInfo* info,
                                      std::unordered_map<int64_t, SourcePos>& declared) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kArgSchema);
    if (!f) return std::nullopt;
    HookArg a;
    a.pos = pos;
    bool ok = true;
    if (const Entry* e = f->find("index")) {
      auto index = getInt(*e, child(path, "index"), 0, UINT32_MAX);
      if (index && info && *index != 0) {
        error(posOf(*e), child(path, "index"),
              cat("hook ", info->name, " has no argument ", *index, "; its only argument is 0 (",
                  info->arg_type, ": ", info->arg_what, ")"));
        index.reset();
      }
      if (index) {
        a.index = static_cast<int>(*index);
        auto [it, inserted] = declared.emplace(*index, posOf(*e));
        if (!inserted) {
          error(posOf(*e), child(path, "index"),
                cat("argument ", *index, " is declared twice (first at line ", it->second.line,
                    ", column ", it->second.col, ")"));
        }
      } else {
        ok = false;
      }
    } else {
      missing(pos, path, "index");
      ok = false;
    }
    if (auto type = requiredString(*f, pos, path, "type")) {
      a.type = *type;
      if (info && *type != info->arg_type) {
        error(posOf(*f->find("type")), child(path, "type"),
              cat("argument 0 of hook ", info->name, " has type \"", info->arg_type, "\" (",
                  info->arg_what, "), not ", shortQuoted(*type)));
        ok = false;
      }
    } else {
      ok = false;
    }
    if (const Entry* l = f->find("label"); l && !l->value.IsNull()) {
      if (auto s = getString(*l, child(path, "label"))) a.label = *s;
    }
    if (!ok) return std::nullopt;
    return a;
  }

  // ---- selectors -------------------------------------------------------------

  std::optional<Selector> parseSelector(const Node& n, const std::string& path,
                                        const HookInfo* info,
                                        const std::unordered_map<int64_t, SourcePos>& declared) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kSelectorSchema);
    if (!f) return std::nullopt;
    Selector s;
    s.pos = pos;
    if (const Entry* e = f->find("matchArgs"); e && isList(*e, child(path, "matchArgs"))) {
      size_t i = 0;
      for (const auto& a : e->value) {
        const std::string ipath = item(child(path, "matchArgs"), i);
        if (i++ == VG_MAX_ARG_FILTERS) {
          error(posOf(a), ipath,
                cat("too many matchArgs filters; a selector holds at most ", VG_MAX_ARG_FILTERS));
        }
        if (auto af = parseArgFilter(a, ipath, info, declared)) {
          s.match_args.push_back(std::move(*af));
        }
      }
    }
    if (const Entry* e = f->find("matchBinaries"); e && isList(*e, child(path, "matchBinaries"))) {
      size_t i = 0;
      for (const auto& b : e->value) {
        const std::string ipath = item(child(path, "matchBinaries"), i);
        if (i++ == 1) {
          error(posOf(b), ipath,
                "only one matchBinaries filter per selector is supported; list all binaries "
                "in the values of the first one");
        }
        if (auto bf = parseBinaryFilter(b, ipath)) s.match_binaries.push_back(std::move(*bf));
      }
    }
    if (const Entry* e = f->find("matchActions"); e && isList(*e, child(path, "matchActions"))) {
      size_t i = 0;
      std::unordered_map<int, SourcePos> kinds;
      for (const auto& a : e->value) {
        const std::string ipath = item(child(path, "matchActions"), i++);
        auto act = parseAction(a, ipath);
        if (!act) continue;
        auto [it, inserted] = kinds.emplace(static_cast<int>(act->kind), act->pos);
        if (!inserted) {
          error(act->pos, ipath,
                cat("action ", actionName(act->kind),
                    " appears twice in this selector (first at line ", it->second.line, ", column ",
                    it->second.col, ")"));
          continue;
        }
        s.match_actions.push_back(std::move(*act));
      }
    }
    return s;
  }

  std::optional<ArgFilter> parseArgFilter(const Node& n, const std::string& path,
                                          const HookInfo* info,
                                          const std::unordered_map<int64_t, SourcePos>& declared) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kArgFilterSchema);
    if (!f) return std::nullopt;
    ArgFilter af;
    af.pos = pos;
    bool ok = true;
    if (const Entry* e = f->find("index")) {
      auto index = getInt(*e, child(path, "index"), 0, UINT32_MAX);
      if (index && !declared.count(*index)) {
        std::vector<int64_t> idx;
        for (const auto& [k, v] : declared) idx.push_back(k);
        std::sort(idx.begin(), idx.end());
        error(posOf(*e), child(path, "index"),
              cat("argument ", *index, " is not declared in args (",
                  idx.empty() ? "no arguments declared" : cat("declared: ", join(idx, ", ")), ")"));
        index.reset();
      }
      ok = ok && index.has_value();
      if (index) af.index = static_cast<int>(*index);
    } else {
      missing(pos, path, "index");
      ok = false;
    }
    std::optional<StrOp> op;
    if (auto name = requiredString(*f, pos, path, "operator")) {
      if (*name == "Equal") {
        op = StrOp::kEqual;
      } else if (*name == "Prefix") {
        op = StrOp::kPrefix;
      } else if (*name == "Postfix") {
        op = StrOp::kPostfix;
      } else {
        constexpr std::string_view kSupported[] = {"Equal", "Prefix", "Postfix"};
        error(posOf(*f->find("operator")), child(path, "operator"),
              cat(contains(kTetragonArgOperators, *name) ? "unsupported" : "unknown", " operator ",
                  shortQuoted(*name), didYouMean(kSupported, *name),
                  "; supported: Equal, Prefix, Postfix"));
      }
    }
    ok = ok && op.has_value();
    // Both hooks' argument 0 is a path the kernel resolves to an absolute one.
    ValueRules rules;
    if (op && info && af.index == 0) {
      rules.path = true;
      rules.absolute = *op != StrOp::kPostfix;
      rules.exact = *op == StrOp::kEqual;
      rules.why = *op == StrOp::kEqual ? "Equal values are compared with absolute kernel paths"
                                       : "Prefix values are compared with absolute kernel paths";
    }
    auto values = requiredValues(*f, pos, path, rules);
    if (!ok || !values) return std::nullopt;
    af.op = *op;
    af.values = std::move(*values);
    return af;
  }

  std::optional<BinaryFilter> parseBinaryFilter(const Node& n, const std::string& path) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kBinaryFilterSchema);
    if (!f) return std::nullopt;
    BinaryFilter bf;
    bf.pos = pos;
    bool ok = false;
    if (auto name = requiredString(*f, pos, path, "operator")) {
      if (*name == "In") {
        bf.op = BinOp::kIn;
        ok = true;
      } else {
        constexpr std::string_view kSupported[] = {"In"};
        error(
            posOf(*f->find("operator")), child(path, "operator"),
            cat(contains(kTetragonBinaryOperators, *name) ? "unsupported" : "unknown", " operator ",
                shortQuoted(*name), didYouMean(kSupported, *name), "; supported: In"));
      }
    }
    ValueRules rules{true, true, true, "matchBinaries values are absolute paths of executables"};
    auto values = requiredValues(*f, pos, path, rules);
    if (!ok || !values) return std::nullopt;
    bf.values = std::move(*values);
    return bf;
  }

  std::optional<Action> parseAction(const Node& n, const std::string& path) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kActionSchema);
    if (!f) return std::nullopt;
    Action a;
    a.pos = pos;
    auto name = requiredString(*f, pos, path, "action");
    if (!name) return std::nullopt;
    const SourcePos name_pos = posOf(*f->find("action"));
    if (*name == "Post") {
      a.kind = ActionKind::kPost;
    } else if (*name == "Override") {
      a.kind = ActionKind::kOverride;
    } else if (*name == "Sigkill") {
      a.kind = ActionKind::kSigkill;
    } else {
      constexpr std::string_view kSupported[] = {"Post", "Override", "Sigkill"};
      if (contains(kTetragonActions, *name)) {
        error(name_pos, child(path, "action"),
              cat("action ", shortQuoted(*name),
                  " is not supported yet; supported: Post, Override, Sigkill"));
      } else {
        error(name_pos, child(path, "action"),
              cat("unknown action ", shortQuoted(*name), didYouMean(kSupported, *name),
                  "; supported: Post, Override, Sigkill"));
      }
      return std::nullopt;
    }
    const Entry* err = f->find("argError");
    const std::string epath = child(path, "argError");
    if (a.kind == ActionKind::kOverride) {
      if (err == nullptr) {
        error(pos, path,
              "Override requires argError, the negative errno the hook returns (e.g. -1 for "
              "EPERM)");
        return std::nullopt;
      }
      auto v = getInt(*err, epath, INT32_MIN, INT32_MAX);
      if (!v) return std::nullopt;
      if (*v < -4095 || *v > -1) {
        error(posOf(*err), epath,
              cat("must be a negative errno in [-4095, -1] (e.g. -1 for EPERM, -13 for "
                  "EACCES), got ",
                  *v));
        return std::nullopt;
      }
      a.arg_error = static_cast<int>(*v);
    } else if (err != nullptr) {
      error(posOf(err->key_node), epath, cat("only valid with action Override, not ", *name));
      return std::nullopt;
    }
    return a;
  }

  // The values list of matchArgs/matchBinaries: non-empty, of non-empty strings.
  std::optional<std::vector<std::string>> requiredValues(const Fields& f, const SourcePos& map_pos,
                                                         const std::string& path,
                                                         const ValueRules& rules) {
    const Entry* e = f.find("values");
    if (e == nullptr) {
      missing(map_pos, path, "values");
      return std::nullopt;
    }
    const std::string vpath = child(path, "values");
    if (!isList(*e, vpath)) return std::nullopt;
    if (e->value.IsNull() || e->value.size() == 0) {
      error(posOf(*e), vpath, "must be a non-empty list");
      return std::nullopt;
    }
    std::vector<std::string> out;
    out.reserve(e->value.size());
    // Keys point into the node's own strings, which outlive this function.
    std::unordered_map<std::string_view, std::pair<int, int>> seen;
    bool ok = true;
    size_t i = 0;
    for (const auto& v : e->value) {
      const size_t idx = i++;
      if (!v.IsScalar()) {
        error(v.IsNull() ? posOf(e->key_node) : posOf(v), item(vpath, idx),
              cat("expected a string, got ", describe(v)));
        ok = false;
        continue;
      }
      const std::string& s = v.Scalar();
      if (!checkValue(s, v, vpath, idx, rules)) {
        ok = false;
        continue;
      }
      const SourcePos vpos = posOf(v);
      auto [it, inserted] = seen.emplace(std::string_view(s), std::pair(vpos.line, vpos.col));
      if (!inserted) {
        warning(vpos, item(vpath, idx),
                cat("duplicate value ", shortQuoted(s), " (first at line ", it->second.first,
                    ", column ", it->second.second, ")"));
        continue;
      }
      out.push_back(s);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  bool checkValue(const std::string& s, const Node& v, const std::string& vpath, size_t idx,
                  const ValueRules& rules) {
    const SourcePos pos = posOf(v);
    // Built lazily: with 10,000 values most of them never need a path string.
    auto path = [&] { return item(vpath, idx); };
    if (s.empty()) {
      error(pos, path(), "must not be empty");
      return false;
    }
    if (s.size() > kMaxValueLen) {
      error(pos, path(),
            cat("value is ", s.size(), " bytes long; at most ", kMaxValueLen,
                " bytes (kernel paths are shorter than PATH_MAX)"));
      return false;
    }
    if (s.find('\0') != std::string::npos) {
      error(pos, path(), "must not contain a NUL byte");
      return false;
    }
    if (rules.absolute && s.front() != '/') {
      error(pos, path(),
            cat(shortQuoted(s), " is not an absolute path; ", rules.why,
                ", so it must start with '/'"));
      return false;
    }
    if (rules.path) {
      const bool trailing = rules.exact && s.size() > 1 && s.back() == '/';
      const bool dots = rules.exact ? hasEmptyOrDotComponent(s) : has(s, "//");
      if (trailing || dots) {
        warning(pos, path(),
                cat(shortQuoted(s),
                    " is not a canonical path; the kernel reports canonical paths, so "
                    "this value never matches"));
      }
    }
    return true;
  }

  std::string file_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

}  // namespace

ParseResult parsePolicyString(std::string_view yaml, const std::string& file_name) {
  return Parser(file_name).run(yaml);
}

ParseResult parsePolicyFile(const std::string& path) {
  auto fail = [&](std::string msg) {
    ParseResult r;
    r.errors.push_back({SourcePos{path, 0, 0}, std::move(msg)});
    return r;
  };
  try {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return fail(cat("cannot read policy file: ", std::generic_category().message(errno)));
    }
    // Not a FIFO or a device: reading those could block or never end.
    if (!S_ISREG(st.st_mode)) return fail("cannot read policy file: not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(cat("cannot read policy file: ", std::generic_category().message(errno)));
    std::ostringstream buf;
    buf << in.rdbuf();
    if (in.bad()) return fail("cannot read policy file: read error");
    return parsePolicyString(buf.str(), path);
  } catch (const std::exception& e) {
    return fail(cat("cannot read policy file: ", e.what()));
  }
}

}  // namespace vigil::policy
