#include "daemon/policy/policy_parser.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>
#include <regex>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <span>
#include <sstream>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "daemon/policy/hook_catalog.h"
#include "daemon/policy/tracepoints.h"
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

// Names Tetragon defines that Vigil does not implement yet: using one is a
// "not supported yet" error rather than an "unknown" one, so users can tell a
// typo from a missing feature.
constexpr std::string_view kTetragonArgOperators[] = {"CapabilitiesGained", "FileType",
                                                      "NotFileType"};
constexpr std::string_view kTetragonActions[] = {"FollowFD",
                                                 "UnfollowFD",
                                                 "CopyFD",
                                                 "TrackSock",
                                                 "CleanupEnforcerNotification",
                                                 "Set"};

struct OpName {
  std::string_view name;
  ArgOp op;
};
constexpr OpName kArgOps[] = {
    {"Equal", ArgOp::kEqual},         {"NotEqual", ArgOp::kNotEqual},
    {"Prefix", ArgOp::kPrefix},       {"NotPrefix", ArgOp::kNotPrefix},
    {"Postfix", ArgOp::kPostfix},     {"NotPostfix", ArgOp::kNotPostfix},
    {"GT", ArgOp::kGT},               {"GreaterThan", ArgOp::kGT},
    {"LT", ArgOp::kLT},               {"LessThan", ArgOp::kLT},
    {"Mask", ArgOp::kMask},           {"InRange", ArgOp::kInRange},
    {"NotInRange", ArgOp::kNotInRange}, {"SPort", ArgOp::kSPort},
    {"NotSPort", ArgOp::kNotSPort},   {"DPort", ArgOp::kDPort},
    {"NotDPort", ArgOp::kNotDPort},   {"SPortPriv", ArgOp::kSPortPriv},
    {"NotSPortPriv", ArgOp::kNotSPortPriv}, {"NotSportPriv", ArgOp::kNotSPortPriv},
    {"DPortPriv", ArgOp::kDPortPriv}, {"NotDPortPriv", ArgOp::kNotDPortPriv},
    {"SAddr", ArgOp::kSAddr},         {"NotSAddr", ArgOp::kNotSAddr},
    {"DAddr", ArgOp::kDAddr},         {"NotDAddr", ArgOp::kNotDAddr},
    {"Protocol", ArgOp::kProtocol},   {"Family", ArgOp::kFamily},
    {"State", ArgOp::kState},         {"InMap", ArgOp::kInMap},
    {"NotInMap", ArgOp::kNotInMap},
};

struct BinOpName {
  std::string_view name;
  BinOp op;
};
constexpr BinOpName kBinOps[] = {{"In", BinOp::kIn},           {"NotIn", BinOp::kNotIn},
                                 {"Prefix", BinOp::kPrefix},   {"NotPrefix", BinOp::kNotPrefix},
                                 {"Postfix", BinOp::kPostfix}, {"NotPostfix", BinOp::kNotPostfix}};

// Symbolic values of Family, Protocol and State (Linux's numbers).
struct NamedNumber {
  std::string_view name;
  uint64_t value;
};
constexpr NamedNumber kFamilies[] = {{"AF_UNSPEC", 0}, {"AF_UNIX", 1},     {"AF_LOCAL", 1},
                                     {"AF_INET", 2},   {"AF_INET6", 10},   {"AF_NETLINK", 16},
                                     {"AF_PACKET", 17}, {"AF_VSOCK", 40}};
constexpr NamedNumber kProtocols[] = {{"IPPROTO_IP", 0},     {"IPPROTO_ICMP", 1},
                                      {"IPPROTO_TCP", 6},    {"IPPROTO_UDP", 17},
                                      {"IPPROTO_IPV6", 41},  {"IPPROTO_ICMPV6", 58},
                                      {"IPPROTO_SCTP", 132}, {"IPPROTO_UDPLITE", 136},
                                      {"IPPROTO_RAW", 255},  {"IPPROTO_MPTCP", 262}};
constexpr NamedNumber kTcpStates[] = {
    {"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2},   {"TCP_SYN_RECV", 3},  {"TCP_FIN_WAIT1", 4},
    {"TCP_FIN_WAIT2", 5},   {"TCP_TIME_WAIT", 6},  {"TCP_CLOSE", 7},     {"TCP_CLOSE_WAIT", 8},
    {"TCP_LAST_ACK", 9},    {"TCP_LISTEN", 10},    {"TCP_CLOSING", 11},  {"TCP_NEW_SYN_RECV", 12}};

// An integer as written in a value: decimal (may be negative) or 0x hex.
std::optional<uint64_t> parseNumber(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (neg) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    v = static_cast<uint64_t>(-static_cast<int64_t>(v - 1) - 1);
  }
  return v;
}

std::optional<Cidr> parseCidr(std::string_view s) {
  Cidr c;
  std::string addr(s.substr(0, s.find('/')));
  int max_bits = 0;
  if (inet_pton(AF_INET, addr.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET;
    max_bits = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET6;
    max_bits = 128;
  } else {
    return std::nullopt;
  }
  c.bits = static_cast<uint8_t>(max_bits);
  if (size_t slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view b = s.substr(slash + 1);
    int bits = -1;
    auto [ptr, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    if (ec != std::errc() || ptr != b.data() + b.size() || bits < 0 || bits > max_bits) {
      return std::nullopt;
    }
    c.bits = static_cast<uint8_t>(bits);
  }
  return c;
}

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
    {"lsmhooks", "kprobes", "tracepoints", "uprobes", "options", "lists", "enforcers"},
    {"usdts", "loader", "podSelector", "containerSelector", "hostSelector", "selectorsMacros"}};

const Schema kTracepointSchema{
    "fields of a tracepoint", {"subsystem", "event", "args", "selectors", "message", "tags"},
    {"raw"}};

const Schema kListSchema{"fields of a list", {"name", "type", "values", "pattern"}, {},
                         {"validated"}};

const Schema kEnforcerSchema{"fields of an enforcer", {"calls"}, {}};

const Schema kOptionSchema{"fields of an option", {"name", "value"}, {}};

const Schema kHookSchema{
    "fields of an lsmhook", {"hook", "args", "selectors", "message", "tags"}, {}};

const Schema kKprobeSchema{"fields of a kprobe",
                           {"call", "syscall", "args", "selectors", "message", "tags", "return",
                            "returnArg", "ignore", "returnArgAction"},
                           {"data"}};

const Schema kUprobeSchema{"fields of a uprobe",
                           {"path", "symbols", "offsets", "refCtrOffsets", "args", "selectors",
                            "message", "tags", "return", "returnArg"},
                           {"data", "btfPath", "returnArgAction"}};

const Schema kIgnoreSchema{"fields of ignore", {"callNotFound"}, {}};

const Schema kArgSchema{"fields of an argument",
                        {"index", "type", "label", "sizeArgIndex", "returnCopy", "maxData"},
                        {"resolve"}};

const Schema kSelectorSchema{
    "selectors",
    {"matchArgs", "matchReturnArgs", "matchBinaries", "matchPIDs", "matchNamespaces",
     "matchCapabilities", "matchActions", "matchParentBinaries", "matchCapabilityChanges",
     "matchNamespaceChanges"},
    {"matchData", "matchReturnActions"}};

const Schema kArgFilterSchema{"fields of matchArgs", {"index", "operator", "values"}, {"args"}};

const Schema kPidsSchema{
    "fields of matchPIDs", {"operator", "values", "followForks", "isNamespacePID"}, {}};
const Schema kNamespacesSchema{"fields of matchNamespaces", {"namespace", "operator", "values"}, {}};
const Schema kCapabilitiesSchema{"fields of matchCapabilities",
                                 {"type", "operator", "values", "isNamespaceCapability"}, {}};

const Schema kBinaryFilterSchema{
    "fields of matchBinaries", {"operator", "values", "followChildren"}, {}};
const Schema kParentBinariesSchema{"fields of matchParentBinaries", {"operator", "values"}, {}};
const Schema kNamespaceChangesSchema{"fields of matchNamespaceChanges", {"operator", "values"}, {}};

const Schema kActionSchema{
    "fields of matchActions",
    {"action", "argError", "argSig", "rateLimit", "rateLimitScope", "argUrl", "argFqdn",
     "argSock", "kernelStackTrace", "userStackTrace"},
    {"argFd", "argName", "argIndex", "argValue", "imaHash"}};

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
  Parser(std::string file, ParseOptions options)
      : file_(std::move(file)), options_(std::move(options)) {}

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

  // Selectors are tried in order and the first that matches wins: one with no
  // filters matches every call, so the selectors after it in the same hook
  // never run. Not an error (Tetragon loads such policies), but almost always
  // a mistake, worst when what is shadowed is an Override or a kill.
  void warnUnreachableSelectors(const Policy& policy) {
    std::set<std::pair<int, int>> seen;  // a hook spec may yield several hooks (uprobe symbols)
    for (const auto& h : policy.hooks) {
      for (size_t i = 0; i + 1 < h.selectors.size(); i++) {
        const Selector& broad = h.selectors[i];
        if (!broad.match_args.empty() || !broad.match_return_args.empty() || !broad.match_binaries.empty() ||
            !broad.match_task.empty()) {
          continue;
        }
        for (size_t j = i + 1; j < h.selectors.size(); j++) {
          const Selector& s = h.selectors[j];
          if (!seen.insert({s.pos.line, s.pos.col}).second) continue;
          std::string actions;
          for (const auto& a : s.match_actions) {
            if (a.kind == ActionKind::kPost) continue;
            if (!actions.empty()) actions += ", ";
            actions += actionName(a.kind);
          }
          std::string what = actions.empty() ? "it" : cat("its ", actions, " action");
          warning(s.pos, "",
                  cat("selector ", j + 1, " of ", h.ref(), " is unreachable: selector ", i + 1, " (line ",
                      broad.pos.line, ") has no filters and matches every call first (the first matching "
                      "selector wins), so ", what, " never applies; move it before selector ", i + 1,
                      " or give that one filters"));
        }
        break;  // the first broad selector already shadows everything after it
      }
    }
  }

  ParseResult finish(std::optional<Policy> policy) {
    if (policy && errors_.empty()) warnUnreachableSelectors(*policy);
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
    if (const Entry* l = f->find("lists")) parseLists(*l, p);
    const Entry* lsm = f->find("lsmhooks");
    if (lsm != nullptr && isList(*lsm, "spec.lsmhooks")) {
      size_t i = 0;
      for (const auto& h : lsm->value) parseHook(h, item("spec.lsmhooks", i++), HookKind::kLsm, p);
    }
    const Entry* kprobes = f->find("kprobes");
    if (kprobes != nullptr && isList(*kprobes, "spec.kprobes")) {
      size_t i = 0;
      for (const auto& h : kprobes->value) {
        parseHook(h, item("spec.kprobes", i++), HookKind::kKprobe, p);
      }
    }
    const Entry* uprobes = f->find("uprobes");
    if (uprobes != nullptr && isList(*uprobes, "spec.uprobes")) {
      size_t i = 0;
      for (const auto& h : uprobes->value) {
        parseHook(h, item("spec.uprobes", i++), HookKind::kUprobe, p);
      }
    }
    const Entry* tps = f->find("tracepoints");
    if (tps != nullptr && isList(*tps, "spec.tracepoints")) {
      size_t i = 0;
      for (const auto& h : tps->value) {
        parseHook(h, item("spec.tracepoints", i++), HookKind::kTracepoint, p);
      }
    }
    if (const Entry* e = f->find("enforcers")) parseEnforcers(*e, p);
    if (p.enforcers.empty()) {
      for (const auto& at : notify_actions_) {
        error(at.first, at.second,
              "NotifyEnforcer needs spec.enforcers, the system calls where its decision applies");
      }
    }
    // A policy with nothing to enforce is a mistake; say so unless the spec
    // already failed for another reason.
    if (p.hooks.empty() && errors_.size() == errors_before) {
      if (lsm == nullptr && kprobes == nullptr && tps == nullptr && uprobes == nullptr) {
        error(pos, "spec", "no lsmhooks, kprobes, tracepoints or uprobes: the policy does nothing");
      } else {
        const Entry* where = lsm ? lsm : kprobes ? kprobes : tps ? tps : uprobes;
        error(posOf(*where), lsm ? "spec.lsmhooks" : kprobes ? "spec.kprobes" : tps ? "spec.tracepoints" : "spec.uprobes",
              "empty: the policy does nothing");
      }
    }
  }

  // ---- lists and enforcers -----------------------------------------------------

  void parseLists(const Entry& e, Policy& p) {
    if (!isList(e, "spec.lists")) return;
    size_t i = 0;
    for (const auto& n : e.value) {
      const std::string path = item("spec.lists", i++);
      const SourcePos pos = posOf(n);
      auto f = readMap(n, pos, path, kListSchema);
      if (!f) continue;
      List l;
      l.pos = pos;
      auto name = requiredString(*f, pos, path, "name");
      if (!name) continue;
      l.name = *name;
      const SourcePos npos = posOf(*f->find("name"));
      if (l.name.empty() || l.name.find(':') != std::string::npos) {
        error(npos, child(path, "name"), cat("invalid list name ", shortQuoted(l.name)));
        continue;
      }
      if (auto it = lists_.find(l.name); it != lists_.end()) {
        error(npos, child(path, "name"),
              cat("list ", shortQuoted(l.name), " is defined twice (first at line ",
                  it->second.pos.line, ", column ", it->second.pos.col, ")"));
        continue;
      }
      if (const Entry* t = f->find("type"); t && !t->value.IsNull()) {
        auto type = getString(*t, child(path, "type"));
        if (!type) continue;
        if (*type != "syscalls" && *type != "generated_syscalls" && *type != "generated_ftrace") {
          error(posOf(*t), child(path, "type"),
                cat("unknown list type ", shortQuoted(*type),
                    "; supported: syscalls, generated_syscalls, generated_ftrace (or no type)"));
          continue;
        }
        l.type = *type;
      }
      const Entry* pat = f->find("pattern");
      const Entry* vals = f->find("values");
      bool ok = true;
      if (l.type == "generated_ftrace") {
        auto pattern = pat ? getString(*pat, child(path, "pattern")) : std::nullopt;
        if (!pat) missing(pos, path, "pattern");
        if (!pattern) continue;
        l.pattern = *pattern;
        auto fns = ftraceFunctions(l.pattern, posOf(*pat), child(path, "pattern"));
        if (!fns) continue;
        l.values = std::move(*fns);
      } else if (pat) {
        error(posOf(pat->key_node), child(path, "pattern"), "only for type generated_ftrace");
        ok = false;
      }
      if (l.type == "generated_syscalls") {
        l.values = allSyscalls();
      } else if (l.type != "generated_ftrace") {
        auto values = requiredValues(*f, pos, path, ValueRules{});
        if (!values) continue;
        if (l.type == "syscalls") {
          for (size_t k = 0; k < values->size(); k++) {
            if (!syscallNumber((*values)[k])) {
              const Node& list = vals->value;
              error(k < list.size() ? posOf(list[k]) : posOf(*vals), item(child(path, "values"), k),
                    cat(shortQuoted((*values)[k]),
                        " is not an x86_64 system call (sys_NAME, __x64_sys_NAME or "
                        "__ia32_sys_NAME)"));
              ok = false;
            }
          }
        }
        l.values = std::move(*values);
      } else if (vals) {
        error(posOf(vals->key_node), child(path, "values"),
              "a generated list takes no values (they are generated)");
        ok = false;
      }
      if (!ok) continue;
      lists_.emplace(l.name, l);
      p.lists.push_back(std::move(l));
    }
  }

  // Kernel functions matching a generated_ftrace pattern. Tetragon reads
  // tracefs' available_filter_functions, which lockdown refuses; the function
  // names of /proc/kallsyms are readable there (addresses hidden), so those.
  std::optional<std::vector<std::string>> ftraceFunctions(const std::string& pattern,
                                                          const SourcePos& pos,
                                                          const std::string& path) {
    std::regex re;
    try {
      re = std::regex(pattern, std::regex::extended);
    } catch (const std::regex_error& e) {
      error(pos, path, cat("invalid regular expression ", shortQuoted(pattern), ": ", e.what()));
      return std::nullopt;
    }
    std::ifstream in(options_.kallsyms_path);
    if (!in) {
      error(pos, path,
            cat("cannot read ", options_.kallsyms_path,
                " to generate the list of kernel functions"));
      return std::nullopt;
    }
    std::vector<std::string> out;
    std::string addr, type, name;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      if (!(ls >> addr >> type >> name)) continue;
      // Text symbols of vmlinux only (no [module]), no compiler clones
      // (name.constprop.0) and no __init functions' usual names.
      if ((type != "t" && type != "T") || line.find('[') != std::string::npos ||
          name.find('.') != std::string::npos)
        continue;
      if (std::regex_search(name, re) &&
          std::find(out.begin(), out.end(), name) == out.end()) {
        out.push_back(name);
      }
    }
    if (out.empty()) {
      error(pos, path, cat("no kernel function matches ", shortQuoted(pattern)));
      return std::nullopt;
    }
    return out;
  }

  // "list:NAME": the list, or an error at pos.
  const List* listRef(std::string_view ref, const SourcePos& pos, const std::string& path) {
    std::string name(ref.substr(strlen("list:")));
    auto it = lists_.find(name);
    if (it == lists_.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : lists_) names.push_back(k);
      error(pos, path,
            cat("list ", shortQuoted(name), " is not defined in spec.lists",
                names.empty() ? std::string() : cat(" (defined: ", join(names, ", "), ")")));
      return nullptr;
    }
    return &it->second;
  }

  void parseEnforcers(const Entry& e, Policy& p) {
    if (!isList(e, "spec.enforcers")) return;
    size_t i = 0;
    for (const auto& n : e.value) {
      const std::string path = item("spec.enforcers", i++);
      const SourcePos pos = posOf(n);
      auto f = readMap(n, pos, path, kEnforcerSchema);
      if (!f) continue;
      Enforcer enf;
      enf.pos = pos;
      auto calls = requiredValues(*f, pos, path, ValueRules{}, "calls");
      if (!calls) continue;
      const Node& list = f->find("calls")->value;
      bool ok = true;
      for (size_t k = 0; k < calls->size(); k++) {
        const std::string& c = (*calls)[k];
        const SourcePos cpos = k < list.size() ? posOf(list[k]) : pos;
        const std::string cpath = item(child(path, "calls"), k);
        std::vector<std::string> names{c};
        if (c.starts_with("list:")) {
          const List* l = listRef(c, cpos, cpath);
          if (!l) {
            ok = false;
            continue;
          }
          if (l->type != "syscalls" && l->type != "generated_syscalls") {
            error(cpos, cpath,
                  cat("list ", shortQuoted(l->name), " is not a list of system calls (type: "
                      "syscalls)"));
            ok = false;
            continue;
          }
          names = l->values;
        }
        for (const auto& nm : names) {
          if (!syscallNumber(nm)) {
            error(cpos, cpath, cat(shortQuoted(nm), " is not an x86_64 system call"));
            ok = false;
          } else if (!std::string_view(nm).starts_with("__ia32")) {
            // Compat entry points are not enforced (x86_64 only); Tetragon
            // attaches to them where the kernel has them.
            enf.calls.push_back(nm);
          }
        }
      }
      if (ok) p.enforcers.push_back(std::move(enf));
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

  // ---- lsmhooks and kprobes -----------------------------------------------------

  // What the selectors of one hook may refer to.
  struct DeclaredArg {
    SourcePos pos;
    uint8_t kind = VG_ARG_NONE;
    std::string type;
  };
  struct HookCtx {
    HookKind kind = HookKind::kLsm;
    const LsmHookInfo* info = nullptr;  // lsmhooks: the hook's signature
    bool syscall = false;
    bool known = false;                 // the hook/call itself is valid
    std::string name;
    std::unordered_map<int64_t, DeclaredArg> declared;
    std::optional<DeclaredArg> return_arg;  // return probes
    const TracepointInfo* tp = nullptr;     // tracepoints: the record's fields
    size_t tp_args = 0;                     // tracepoints: arguments declared so far
    const List* list = nullptr;             // kprobes: call: list:NAME
  };

  void parseHook(const Node& n, const std::string& path, HookKind kind, Policy& p) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path,
                     kind == HookKind::kLsm      ? kHookSchema
                     : kind == HookKind::kKprobe ? kKprobeSchema
                     : kind == HookKind::kUprobe ? kUprobeSchema
                                                 : kTracepointSchema);
    if (!f) return;
    Hook h;
    h.kind = kind;
    h.pos = pos;
    HookCtx ctx;
    ctx.kind = kind;
    std::vector<UprobeTarget> targets;
    if (kind == HookKind::kLsm) {
      parseLsmName(*f, pos, path, h, ctx);
    } else if (kind == HookKind::kUprobe) {
      parseUprobeTarget(*f, pos, path, h, ctx, targets);
    } else if (kind == HookKind::kKprobe) {
      parseKprobeCall(*f, pos, path, h, ctx);
    } else {
      parseTracepointName(*f, pos, path, h, ctx);
    }

    if (const Entry* args = f->find("args"); args && isList(*args, child(path, "args"))) {
      size_t i = 0;
      for (const auto& a : args->value) {
        if (auto arg = parseHookArg(a, item(child(path, "args"), i++), ctx)) {
          h.args.push_back(std::move(*arg));
        }
      }
    }
    for (const auto& a : h.args) {
      if (!a.return_copy) continue;
      if (kind == HookKind::kLsm) {
        error(a.pos, path, "returnCopy on an lsmhook: LSM hooks have no return probe");
        break;
      }
      // The buffer is filled by the call: read it when the call returns
      // (a return probe, with the return value as its length).
      if (!h.return_probe) {
        h.return_probe = true;
        h.return_arg.kind = VG_ARG_S64;
        h.return_arg.type = "long";
        ctx.return_arg = DeclaredArg{h.pos, h.return_arg.kind, h.return_arg.type};
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
        if (auto sel = parseSelector(s, ipath, ctx)) h.selectors.push_back(std::move(*sel));
      }
    }
    if (sels == nullptr || sels->value.IsNull() ||
        (sels->value.IsSequence() && sels->value.size() == 0)) {
      // As in Tetragon: a hook without selectors posts every call. Say so,
      // since on a busy hook that is a flood.
      warning(sels ? posOf(*sels) : pos, sels ? spath : path,
              "no selectors: every call is posted as an event (add matchArgs or matchBinaries "
              "to filter in the kernel)");
      Selector all;
      all.pos = sels ? posOf(*sels) : pos;
      h.selectors.push_back(std::move(all));
    }
    if (kind == HookKind::kUprobe) {
      if (h.return_probe && !h.args.empty()) {
        error(h.args.front().pos, child(path, "args"),
              "a uprobe with return: true sees the return value only (the argument registers are "
              "gone when the function returns); read it with returnArg, or probe the entry");
        return;
      }
      // One hook per symbol or offset: each is its own attach point (and link).
      for (const auto& t : targets) {
        Hook one = h;
        one.hook = t.name;
        one.offset = t.offset;
        one.ref_ctr_offset = t.ref_ctr_offset;
        one.pos = t.pos;
        p.hooks.push_back(std::move(one));
      }
      return;
    }
    if (ctx.list) {
      // call: list:NAME is one kprobe per member of the list.
      for (const auto& fn : ctx.list->values) {
        // x86_64 entry points only: __ia32_sys_X would name the same one.
        if (h.syscall && std::string_view(fn).starts_with("__ia32")) continue;
        Hook one = h;
        one.hook = fn;
        one.generated = ctx.list->type == "generated_ftrace";
        p.hooks.push_back(std::move(one));
      }
      return;
    }
    p.hooks.push_back(std::move(h));
  }

  struct UprobeTarget {
    std::string name;  // the symbol, or "+0x<offset>"
    uint64_t offset = 0;
    uint64_t ref_ctr_offset = 0;
    SourcePos pos;
  };

  // A list of non-negative integers (offsets, refCtrOffsets).
  std::vector<std::pair<uint64_t, SourcePos>> getOffsets(const Entry* e, const std::string& path) {
    std::vector<std::pair<uint64_t, SourcePos>> out;
    if (!e || !isList(*e, path)) return out;
    size_t i = 0;
    for (const auto& v : e->value) {
      const std::string ipath = item(path, i++);
      std::optional<uint64_t> n;
      if (v.IsScalar() && v.Tag() != "!" && !v.Scalar().starts_with("-")) n = parseNumber(v.Scalar());
      if (!n) {
        error(posOf(v), ipath, cat("expected a non-negative integer, got ", describe(v)));
        continue;
      }
      out.emplace_back(*n, posOf(v));
    }
    return out;
  }

  // path, symbols, offsets, refCtrOffsets, return, returnArg of a uprobe.
  // Whether the file and its symbols exist is checked at load, on the
  // machine that attaches (the file named may be a container's).
  void parseUprobeTarget(const Fields& f, const SourcePos& pos, const std::string& path, Hook& h,
                         HookCtx& ctx, std::vector<UprobeTarget>& targets) {
    const size_t errors_before = errors_.size();
    ctx.syscall = true;  // arguments come from user space: strings are user pointers
    parseReturnProbe(f, path, h, ctx, "uprobe");
    if (auto file = requiredString(f, pos, path, "path")) {
      const SourcePos ppos = posOf(*f.find("path"));
      if (file->empty() || (*file)[0] != '/') {
        error(ppos, child(path, "path"),
              cat("must be an absolute path to an executable or shared library, got ",
                  shortQuoted(*file)));
      } else if (file->find(':') != std::string::npos || file->size() > VG_BIN_MAX) {
        error(ppos, child(path, "path"),
              cat(shortQuoted(*file), ": a uprobe path may not contain ':' and is at most ",
                  VG_BIN_MAX, " bytes"));
      } else {
        h.path = *file;
        ctx.name = *file;
        ctx.known = true;
      }
    }
    const Entry* syms = f.find("symbols");
    if (syms && isList(*syms, child(path, "symbols"))) {
      size_t i = 0;
      for (const auto& s : syms->value) {
        const std::string ipath = item(child(path, "symbols"), i++);
        if (!s.IsScalar() || s.Scalar().empty()) {
          error(s.IsNull() ? posOf(syms->key_node) : posOf(s), ipath,
                cat("expected a symbol name, got ", describe(s)));
          continue;
        }
        const std::string& name = s.Scalar();
        if (name.find_first_of(": \t/") != std::string::npos || name[0] == '+') {
          error(posOf(s), ipath, cat(shortQuoted(name), " is not an ELF symbol name"));
          continue;
        }
        targets.push_back({name, 0, 0, posOf(s)});
      }
    }
    const std::string opath = child(path, "offsets");
    const std::string rpath = child(path, "refCtrOffsets");
    auto offsets = getOffsets(f.find("offsets"), opath);
    auto refs = getOffsets(f.find("refCtrOffsets"), rpath);
    if (const Entry* r = f.find("refCtrOffsets"); r && refs.size() != offsets.size()) {
      error(posOf(*r), rpath,
            cat("has ", refs.size(), " entries for ", offsets.size(),
                " offsets; give one reference counter offset per offset"));
    }
    if (!targets.empty() && !offsets.empty()) {
      error(posOf(*f.find("offsets")), opath,
            "give either symbols or offsets, not both (an offset is from the start of the file)");
      return;
    }
    for (size_t i = 0; i < offsets.size(); i++) {
      char name[32];
      snprintf(name, sizeof(name), "+0x%llx", static_cast<unsigned long long>(offsets[i].first));
      targets.push_back({name, offsets[i].first, i < refs.size() ? refs[i].first : 0,
                         offsets[i].second});
    }
    if (targets.empty() && !syms && !f.find("offsets")) {
      missing(pos, path, "symbols");
    } else if (targets.empty() && errors_.size() == errors_before) {
      error(syms ? posOf(*syms) : pos, child(path, syms ? "symbols" : "offsets"),
            "empty: name at least one symbol (or offset) to probe");
    }
  }

  void parseTracepointName(const Fields& f, const SourcePos& pos, const std::string& path,
                           Hook& h, HookCtx& ctx) {
    auto subsys = requiredString(f, pos, path, "subsystem");
    auto event = requiredString(f, pos, path, "event");
    if (!subsys || !event) return;
    h.subsystem = *subsys;
    h.event = *event;
    h.hook = cat(*subsys, "/", *event);
    ctx.name = h.hook;
    ctx.tp = findTracepoint(*subsys, *event);
    ctx.known = ctx.tp != nullptr;
    if (ctx.tp) return;
    if (*subsys == "syscalls") {
      unknownSyscallTracepoint(posOf(*f.find("event")), child(path, "event"), *event);
      return;
    }
    std::vector<std::string> names;
    for (const auto& t : tracepoints()) names.push_back(cat(t.subsystem, "/", t.event));
    names.push_back("syscalls/sys_enter_NAME, syscalls/sys_exit_NAME (x86_64 system calls)");
    error(posOf(*f.find("event")), child(path, "event"),
          cat("tracepoint ", h.hook, " is not supported yet; supported: ", join(names, ", ")));
  }

  // syscalls/EVENT that is not sys_enter_NAME/sys_exit_NAME of a known call.
  void unknownSyscallTracepoint(const SourcePos& pos, const std::string& path,
                                std::string_view event) {
    std::string_view name = event;
    for (std::string_view prefix : {"sys_enter_", "sys_exit_"}) {
      if (event.starts_with(prefix)) name = event.substr(prefix.size());
    }
    if (name == event) {
      error(pos, path,
            cat("syscalls/", event, ": the syscalls events are sys_enter_NAME and sys_exit_NAME"));
      return;
    }
    if (auto ev = syscallEventName(name); !ev.empty()) {
      error(pos, path,
            cat("syscalls/", event, ": the kernel names the events of the x86_64 system call ",
                name, " after its function: syscalls/", event.substr(0, event.size() - name.size()),
                ev));
      return;
    }
    if (syscallNumber(name)) {
      error(pos, path,
            cat("syscalls/", event, ": the x86_64 system call ", name,
                " has no syscalls tracepoint on Debian's kernels (it is not a SYSCALL_DEFINE); "
                "use raw_syscalls/sys_enter with a matchArgs on the id"));
      return;
    }
    error(pos, path,
          cat("syscalls/", event, ": no x86_64 system call ", shortQuoted(name),
              didYouMean(syscallTracepointNames(), name)));
  }

  // A tracepoint argument: index is the record field (format order).
  std::optional<HookArg> parseTracepointArg(const Fields& f, const SourcePos& pos,
                                            const std::string& path, HookCtx& ctx) {
    HookArg a;
    a.pos = pos;
    a.index = static_cast<int>(ctx.tp_args++);
    const Entry* ie = f.find("index");
    if (!ie) {
      missing(pos, path, "index");
      return std::nullopt;
    }
    auto field = getInt(*ie, child(path, "index"), 0, UINT32_MAX);
    auto type = requiredString(f, pos, path, "type");
    if (!field || !type) return std::nullopt;
    a.field = static_cast<int>(*field);
    a.type = *type;
    if (const Entry* l = f.find("label"); l && !l->value.IsNull()) {
      if (auto s = getString(*l, child(path, "label"))) a.label = *s;
    }
    if (a.index >= VG_HOOK_ARGS) {
      error(pos, path, cat("a tracepoint reads at most ", VG_HOOK_ARGS, " fields"));
      return std::nullopt;
    }
    if (!ctx.tp) return std::nullopt;
    const auto& fields = ctx.tp->fields;
    if (*field >= static_cast<int64_t>(fields.size())) {
      std::vector<std::string> fmt;
      for (size_t i = 0; i < fields.size(); i++) {
        fmt.push_back(cat(i, ": ", fields[i].name, " (", fields[i].type, ")"));
      }
      error(posOf(*ie), child(path, "index"),
            cat("tracepoint ", ctx.name, " has no field ", *field, "; its fields are ",
                join(fmt, ", ")));
      return std::nullopt;
    }
    const TracepointField& tf = fields[*field];
    if (tf.src == 0) {
      error(posOf(*ie), child(path, "index"),
            cat("field ", *field, " of ", ctx.name, " (", tf.name, ", ", tf.type,
                ") is not readable by Vigil yet"));
      return std::nullopt;
    }
    const SourcePos tpos = posOf(*f.find("type"));
    if (isStringField(tf) && a.type == "string") {
      a.kind = isUserStringField(*ctx.tp, tf) ? VG_ARG_USTR : VG_ARG_STR;
    } else if (isStringField(tf) && !isUserStringField(*ctx.tp, tf)) {
      error(tpos, child(path, "type"),
            cat("field ", *field, " of ", ctx.name, " (", tf.name, ", ", tf.type,
                ") is a string; read it as string, not ", shortQuoted(a.type)));
      return std::nullopt;
    } else if (a.type == "syscall64") {
      if (tf.name != "id" && tf.name != "__syscall_nr") {
        error(tpos, child(path, "type"),
              cat("syscall64 reads a system call number; field ", *field, " of ", ctx.name,
                  " is ", tf.name));
        return std::nullopt;
      }
      a.kind = VG_ARG_SYSCALL64;
    } else if (auto k = argKindOf(a.type, false); k && isIntegerKind(*k)) {
      a.kind = *k;
    } else {
      error(tpos, child(path, "type"),
            cat("field ", *field, " of ", ctx.name, " (", tf.name, ") is ",
                isStringField(tf) ? "a user-space string pointer" : "an integer", " (", tf.type,
                "); read it as ", isStringField(tf) ? "string, " : "",
                "int, int64, uint64, long, ... or syscall64 (the system call number), not ",
                shortQuoted(a.type)));
      return std::nullopt;
    }
    a.src = tf.src;
    ctx.declared.emplace(a.index, DeclaredArg{posOf(*ie), a.kind, a.type});
    return a;
  }

  void parseLsmName(const Fields& f, const SourcePos& pos, const std::string& path, Hook& h,
                    HookCtx& ctx) {
    auto name = requiredString(f, pos, path, "hook");
    if (!name) return;
    h.hook = *name;
    ctx.name = *name;
    ctx.info = findLsmHook(*name);
    ctx.known = ctx.info != nullptr;
    if (ctx.info) return;
    std::string hint;
    if (std::string_view(*name).starts_with("security_")) {
      // LSM hook names drop the security_ prefix of the kernel functions.
      std::string_view bare = std::string_view(*name).substr(strlen("security_"));
      if (bare == "bprm_check") bare = "bprm_check_security";
      if (findLsmHook(bare)) hint = cat(" (did you mean \"", bare, "\"?)");
    }
    std::vector<std::string_view> names;
    for (const auto& hk : lsmHooks()) names.push_back(hk.name);
    if (hint.empty()) hint = didYouMean(names, *name);
    error(posOf(*f.find("hook")), child(path, "hook"),
          cat("hook ", shortQuoted(*name), " is not supported yet", hint,
              "; supported: ", join(names, ", "), " (or write it as a kprobe)"));
  }

  void parseKprobeCall(const Fields& f, const SourcePos& pos, const std::string& path, Hook& h,
                       HookCtx& ctx) {
    if (const Entry* e = f.find("syscall"); e && !e->value.IsNull()) {
      if (auto b = getBool(*e, child(path, "syscall"))) h.syscall = *b;
    }
    ctx.syscall = h.syscall;
    parseReturnProbe(f, path, h, ctx, "kprobe");
    if (const Entry* e = f.find("ignore"); e && !e->value.IsNull()) {
      const std::string ipath = child(path, "ignore");
      if (auto g = readMap(e->value, posOf(*e), ipath, kIgnoreSchema)) {
        if (const Entry* c = g->find("callNotFound")) {
          if (auto b = getBool(*c, child(ipath, "callNotFound"))) h.skip_if_missing = *b;
        }
      }
    }
    auto call = requiredString(f, pos, path, "call");
    if (!call) return;
    const SourcePos cpos = posOf(*f.find("call"));
    if (call->empty()) {
      error(cpos, child(path, "call"), "must not be empty");
      return;
    }
    if (std::string_view(*call).starts_with("list:")) {
      const List* l = listRef(*call, cpos, child(path, "call"));
      if (!l) return;
      if (l->type.empty()) {
        error(cpos, child(path, "call"),
              cat("list ", shortQuoted(l->name),
                  " has no type; a call list is of type syscalls, generated_syscalls or "
                  "generated_ftrace"));
        return;
      }
      // Tetragon: a list of system calls makes syscall kprobes.
      if (l->type != "generated_ftrace") h.syscall = true;
      ctx.syscall = h.syscall;
      ctx.list = l;
      h.hook = *call;
      ctx.name = *call;
      ctx.known = true;
      return;
    }
    auto ident = [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '_' || ch == '.';
    };
    if (!std::all_of(call->begin(), call->end(), ident)) {
      error(cpos, child(path, "call"),
            cat(shortQuoted(*call), " is not a kernel function name (letters, digits, '_', '.')"));
      return;
    }
    h.hook = *call;
    ctx.name = *call;
    ctx.known = true;
  }

  // return and returnArg of a kprobe or uprobe (what is a noun for messages).
  void parseReturnProbe(const Fields& f, const std::string& path, Hook& h, HookCtx& ctx,
                        std::string_view what) {
    if (const Entry* e = f.find("return"); e && !e->value.IsNull()) {
      if (auto b = getBool(*e, child(path, "return"))) h.return_probe = *b;
    }
    const Entry* ra = f.find("returnArg");
    if (ra && !h.return_probe) {
      // Tetragon reads returnArg only for return probes.
      warning(posOf(ra->key_node), child(path, "returnArg"),
              cat("ignored: the ", what, " does not set return: true"));
    }
    if (h.return_probe) {
      // The return value reads as returnArg's type; a long without one.
      h.return_arg.kind = VG_ARG_S64;
      h.return_arg.type = "long";
      if (ra && !ra->value.IsNull()) {
        const std::string rpath = child(path, "returnArg");
        HookCtx rctx;
        rctx.kind = HookKind::kKprobe;
        if (auto a = parseHookArg(ra->value, rpath, rctx)) {
          if (a->index != 0) {
            error(posOf(ra->value), child(rpath, "index"), "the return value is argument 0");
          } else if (!isIntegerKind(a->kind) && a->kind != VG_ARG_SOCK &&
                     a->kind != VG_ARG_SOCKET) {
            error(posOf(ra->value), child(rpath, "type"),
                  cat("return values are read as integers, sock or socket; ",
                      shortQuoted(a->type), " is not supported yet"));
          } else {
            h.return_arg = *a;
          }
        }
      }
      ctx.return_arg = DeclaredArg{h.pos, h.return_arg.kind, h.return_arg.type};
    }
    if (const Entry* e = f.find("returnArgAction"); e && !e->value.IsNull()) {
      const std::string apath = child(path, "returnArgAction");
      if (auto v = getString(*e, apath)) {
        const bool sock = h.return_arg.kind == VG_ARG_SOCK || h.return_arg.kind == VG_ARG_SOCKET;
        if (*v == "Post") {
          // Tetragon's default: the return probe posts.
        } else if (*v != "TrackSock") {
          error(posOf(*e), apath,
                cat("returnArgAction ", shortQuoted(*v),
                    " is not supported yet; supported: Post, TrackSock"));
        } else if (!h.return_probe || !sock) {
          error(posOf(*e), apath, "TrackSock needs return: true and a returnArg of type sock");
        } else {
          h.track_sock = true;
        }
      }
    }
  }

  std::optional<bool> getBool(const Entry& e, std::string_view path) {
    if (e.value.IsScalar() && e.value.Tag() != "!") {
      const std::string& v = e.value.Scalar();
      if (v == "true" || v == "True" || v == "TRUE") return true;
      if (v == "false" || v == "False" || v == "FALSE") return false;
    }
    error(posOf(e), path, cat("expected true or false, got ", describe(e.value)));
    return std::nullopt;
  }

  std::optional<HookArg> parseHookArg(const Node& n, const std::string& path, HookCtx& ctx) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kArgSchema);
    if (!f) return std::nullopt;
    if (ctx.kind == HookKind::kTracepoint) return parseTracepointArg(*f, pos, path, ctx);
    HookArg a;
    a.pos = pos;
    bool ok = true;
    const LsmHookInfo* info = ctx.info;
    const int64_t max_index =
        info ? static_cast<int64_t>(info->args.size()) - 1 : VG_HOOK_ARGS - 1;
    if (const Entry* e = f->find("index")) {
      auto index = getInt(*e, child(path, "index"), 0, UINT32_MAX);
      if (index && *index > max_index) {
        if (info) {
          std::vector<std::string> sig;
          for (size_t i = 0; i < info->args.size(); i++) {
            sig.push_back(cat(i, ": ", info->args[i].type, " (", info->args[i].what, ")"));
          }
          error(posOf(*e), child(path, "index"),
                cat("hook ", info->name, " has no argument ", *index, "; its arguments are ",
                    join(sig, ", ")));
        } else {
          error(posOf(*e), child(path, "index"),
                cat("argument ", *index, " is out of reach; Vigil reads arguments 0 to ",
                    VG_HOOK_ARGS - 1));
        }
        index.reset();
      }
      if (index) {
        a.index = static_cast<int>(*index);
      } else {
        ok = false;
      }
    } else {
      missing(pos, path, "index");
      ok = false;
    }
    if (auto type = requiredString(*f, pos, path, "type")) {
      a.type = *type;
      const SourcePos tpos = posOf(*f->find("type"));
      auto kind = argKindOf(*type, ctx.syscall);
      if (info && ok) {
        const CatalogArg& want = info->args[a.index];
        // Any integer type reads an integer argument (at the kernel's width).
        const bool same = *type == want.type || (kind && *kind == want.kind) ||
                          (kind && isIntegerKind(*kind) && isIntegerKind(want.kind)) ||
                          *type == "nop";
        if (!same) {
          error(tpos, child(path, "type"),
                cat("argument ", a.index, " of hook ", info->name, " has type \"", want.type,
                    "\" (", want.what, "), not ", shortQuoted(*type)));
          ok = false;
        } else if (want.kind == VG_ARG_NONE && *type != "nop") {
          error(tpos, child(path, "type"),
                cat("reading argument ", a.index, " of hook ", info->name, " (", want.type,
                    ") is not supported yet; declare it as type \"nop\" or leave it out"));
          ok = false;
        } else {
          a.kind = *type == "nop" ? static_cast<uint8_t>(VG_ARG_NONE) : want.kind;
        }
      } else if (!kind) {
        error(tpos, child(path, "type"),
              cat(isTetragonArgType(*type) ? "reading arguments of type " : "unknown type ",
                  shortQuoted(*type), isTetragonArgType(*type) ? " is not supported yet" : "",
                  "; supported: int, int8..int64, uint8..uint64, size_t, long, fd, capability, "
                  "string, file, path, dentry, linux_binprm, sock, socket, sockaddr, cred, task, "
                  "char_buf, iov_iter, skb, module, bpf_attr, perf_event, bpf_map, kiocb, "
                  "filename, user_namespace, kernel_cap_t, cap_effective, cap_permitted, "
                  "cap_inheritable, nop"));
        ok = false;
      } else if (ctx.kind == HookKind::kUprobe && *kind != VG_ARG_NONE && !isIntegerKind(*kind) &&
                 *kind != VG_ARG_USTR) {
        error(tpos, child(path, "type"),
              cat("a uprobe reads user-space registers: ", shortQuoted(*type),
                  " is a kernel object; supported: int, int8..int64, uint8..uint64, size_t, long, "
                  "string (a char * in the process's memory), nop"));
        ok = false;
      } else {
        a.kind = *kind;
      }
    } else {
      ok = false;
    }
    if (const Entry* l = f->find("label"); l && !l->value.IsNull()) {
      if (auto s = getString(*l, child(path, "label"))) a.label = *s;
    }
    const bool buffer = a.kind == VG_ARG_CHAR_BUF || a.kind == VG_ARG_UCHAR_BUF;
    if (const Entry* e = f->find("sizeArgIndex"); e && !e->value.IsNull()) {
      // Tetragon counts it from 1: sizeArgIndex 3 is argument index 2.
      if (auto v = getInt(*e, child(path, "sizeArgIndex"), 1, VG_HOOK_ARGS)) {
        if (!buffer && ok) {
          error(posOf(*e), child(path, "sizeArgIndex"),
                cat("only for char_buf arguments, not ", shortQuoted(a.type)));
          ok = false;
        }
        a.size_arg = static_cast<int>(*v - 1);
      } else {
        ok = false;
      }
    }
    if (const Entry* e = f->find("returnCopy"); e && !e->value.IsNull()) {
      if (auto b = getBool(*e, child(path, "returnCopy"))) {
        if (*b && !buffer && ok) {
          error(posOf(*e), child(path, "returnCopy"),
                cat("only for char_buf arguments, not ", shortQuoted(a.type)));
          ok = false;
        }
        a.return_copy = *b;
      } else {
        ok = false;
      }
    }
    if (const Entry* e = f->find("maxData"); e && !e->value.IsNull()) {
      if (auto b = getBool(*e, child(path, "maxData")); b && *b) {
        warning(posOf(*e), child(path, "maxData"),
                cat("Vigil reads at most ", VG_PATH_MAX - 1,
                    " bytes of a buffer (longer ones are flagged truncated)"));
      }
    }
    if (ok && buffer && a.size_arg < 0 && !a.return_copy) {
      error(pos, path,
            "char_buf needs sizeArgIndex (the argument holding its length, counted from 1) "
            "or returnCopy: true (the call's return value)");
      ok = false;
    }
    if (!ok) return std::nullopt;
    auto [it, inserted] = ctx.declared.emplace(a.index, DeclaredArg{posOf(*f->find("index")),
                                                                    a.kind, a.type});
    if (!inserted) {
      error(posOf(*f->find("index")), child(path, "index"),
            cat("argument ", a.index, " is declared twice (first at line ", it->second.pos.line,
                ", column ", it->second.pos.col, ")"));
      return std::nullopt;
    }
    return a;
  }

  // ---- selectors -------------------------------------------------------------

  std::optional<Selector> parseSelector(const Node& n, const std::string& path,
                                        const HookCtx& ctx) {
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
        if (auto af = parseArgFilter(a, ipath, ctx)) s.match_args.push_back(std::move(*af));
      }
    }
    if (const Entry* e = f->find("matchReturnArgs");
        e && isList(*e, child(path, "matchReturnArgs"))) {
      if (!ctx.return_arg) {
        error(posOf(e->key_node), child(path, "matchReturnArgs"),
              "only for return probes (return: true)");
      } else {
        HookCtx rctx = ctx;
        rctx.declared = {{0, *ctx.return_arg}};
        size_t i = 0;
        for (const auto& a : e->value) {
          const std::string ipath = item(child(path, "matchReturnArgs"), i++);
          if (auto af = parseArgFilter(a, ipath, rctx)) s.match_return_args.push_back(std::move(*af));
        }
      }
      if (s.match_args.size() + s.match_return_args.size() > VG_MAX_ARG_FILTERS) {
        error(posOf(e->key_node), child(path, "matchReturnArgs"),
              cat("too many filters; matchArgs and matchReturnArgs of a selector hold at most ",
                  VG_MAX_ARG_FILTERS, " together"));
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
        if (auto bf = parseBinaryFilter(b, ipath, kBinaryFilterSchema)) {
          s.match_binaries.push_back(std::move(*bf));
        }
      }
    }
    for (auto [key, kind] :
         {std::pair{"matchPIDs", TaskFilter::Kind::kPids},
          std::pair{"matchNamespaces", TaskFilter::Kind::kNamespaces},
          std::pair{"matchCapabilities", TaskFilter::Kind::kCapabilities},
          std::pair{"matchParentBinaries", TaskFilter::Kind::kParentBinaries},
          std::pair{"matchCapabilityChanges", TaskFilter::Kind::kCapabilityChanges},
          std::pair{"matchNamespaceChanges", TaskFilter::Kind::kNamespaceChanges}}) {
      const Entry* e = f->find(key);
      if (!e || !isList(*e, child(path, key))) continue;
      size_t i = 0;
      for (const auto& t : e->value) {
        const std::string ipath = item(child(path, key), i++);
        std::optional<TaskFilter> tf;
        if (kind == TaskFilter::Kind::kParentBinaries) {
          auto bf = parseBinaryFilter(t, ipath, kParentBinariesSchema);
          if (bf) {
            tf.emplace();
            tf->kind = kind;
            tf->bin_op = bf->op;
            tf->not_in = bf->op == BinOp::kNotIn || bf->op == BinOp::kNotPrefix ||
                         bf->op == BinOp::kNotPostfix;
            tf->binaries = std::move(bf->values);
            tf->pos = bf->pos;
          }
        } else {
          tf = parseTaskFilter(t, ipath, kind);
        }
        if (tf) {
          if (s.match_task.size() == VG_MAX_TASK_FILTERS) {
            error(tf->pos, ipath,
                  cat("too many task filters; matchPIDs, matchNamespaces, matchCapabilities, "
                      "matchParentBinaries, matchCapabilityChanges and matchNamespaceChanges "
                      "of a selector hold at most ",
                      VG_MAX_TASK_FILTERS, " together"));
            continue;
          }
          s.match_task.push_back(std::move(*tf));
        }
      }
    }
    if (const Entry* e = f->find("matchActions"); e && isList(*e, child(path, "matchActions"))) {
      size_t i = 0;
      std::unordered_map<int, SourcePos> kinds;
      for (const auto& a : e->value) {
        const std::string ipath = item(child(path, "matchActions"), i++);
        auto act = parseAction(a, ipath, ctx);
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

  // Which kinds of argument an operator applies to.
  enum class OpClass { kString, kNumberOrString, kNumber, kSocketField, kAddress };
  static OpClass opClass(ArgOp op) {
    switch (op) {
      case ArgOp::kEqual:
      case ArgOp::kNotEqual: return OpClass::kNumberOrString;
      case ArgOp::kPrefix:
      case ArgOp::kNotPrefix:
      case ArgOp::kPostfix:
      case ArgOp::kNotPostfix: return OpClass::kString;
      case ArgOp::kGT:
      case ArgOp::kLT:
      case ArgOp::kMask:
      case ArgOp::kInRange:
      case ArgOp::kNotInRange:
      case ArgOp::kInMap:
      case ArgOp::kNotInMap: return OpClass::kNumber;
      case ArgOp::kSAddr:
      case ArgOp::kNotSAddr:
      case ArgOp::kDAddr:
      case ArgOp::kNotDAddr: return OpClass::kAddress;
      default: return OpClass::kSocketField;
    }
  }
  static bool opFits(ArgOp op, uint8_t kind) {
    const bool str = isStringKind(kind);
    const bool num = isNumberKind(kind) || kind == VG_ARG_SYSCALL64;
    const bool sock = isSocketKind(kind);
    switch (opClass(op)) {
      case OpClass::kString: return str;
      case OpClass::kNumberOrString: return str || num;
      case OpClass::kNumber: return num;
      case OpClass::kSocketField:
      case OpClass::kAddress: return sock;
    }
    return false;
  }
  // The operators an argument kind takes, without Tetragon's aliases.
  static std::vector<std::string_view> opsFor(uint8_t kind) {
    std::vector<std::string_view> out;
    for (const auto& o : kArgOps) {
      if (opFits(o.op, kind) && argOpName(o.op) == o.name) out.push_back(o.name);
    }
    return out;
  }
  static bool isPrivOp(ArgOp op) {
    return op == ArgOp::kSPortPriv || op == ArgOp::kNotSPortPriv || op == ArgOp::kDPortPriv ||
           op == ArgOp::kNotDPortPriv;
  }

  std::optional<ArgFilter> parseArgFilter(const Node& n, const std::string& path,
                                          const HookCtx& ctx) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kArgFilterSchema);
    if (!f) return std::nullopt;
    ArgFilter af;
    af.pos = pos;
    bool ok = true;
    const DeclaredArg* decl = nullptr;
    if (const Entry* e = f->find("index")) {
      auto index = getInt(*e, child(path, "index"), 0, UINT32_MAX);
      if (index) {
        auto it = ctx.declared.find(*index);
        if (it == ctx.declared.end()) {
          std::vector<int64_t> idx;
          for (const auto& [k, v] : ctx.declared) idx.push_back(k);
          std::sort(idx.begin(), idx.end());
          error(posOf(*e), child(path, "index"),
                cat("argument ", *index, " is not declared in args (",
                    idx.empty() ? "no arguments declared" : cat("declared: ", join(idx, ", ")),
                    ")"));
          index.reset();
        } else {
          decl = &it->second;
        }
      }
      ok = ok && index.has_value();
      if (index) af.index = static_cast<int>(*index);
    } else {
      missing(pos, path, "index");
      ok = false;
    }
    std::optional<ArgOp> op;
    SourcePos op_pos = pos;
    if (auto name = requiredString(*f, pos, path, "operator")) {
      op_pos = posOf(*f->find("operator"));
      for (const auto& o : kArgOps) {
        if (o.name == *name) op = o.op;
      }
      if (!op) {
        std::vector<std::string_view> all;
        for (const auto& o : kArgOps) all.push_back(o.name);
        const auto names = decl ? opsFor(decl->kind) : all;
        error(op_pos, child(path, "operator"),
              cat(contains(kTetragonArgOperators, *name) ? "unsupported" : "unknown", " operator ",
                  shortQuoted(*name), didYouMean(all, *name), "; supported",
                  decl ? cat(" for ", decl->type, " arguments") : "", ": ", join(names, ", ")));
      }
    }
    ok = ok && op.has_value();
    if (!ok || decl == nullptr) {
      // Still read the values so their own errors are reported.
      requiredValues(*f, pos, path, ValueRules{});
      return std::nullopt;
    }
    af.op = *op;
    // The operator must fit the argument's kind.
    const uint8_t kind = decl->kind;
    const OpClass cls = opClass(*op);
    const bool str = isStringKind(kind);
    const bool fits = opFits(*op, kind);
    if (!fits) {
      error(op_pos, child(path, "operator"),
            cat("operator ", argOpName(*op), " does not apply to argument ", af.index, " (type ",
                decl->type, "); supported for ", decl->type, " arguments: ",
                join(opsFor(kind), ", ")));
      return std::nullopt;
    }
    if (isPrivOp(*op) && f->find("values") == nullptr) return af;  // no values needed
    if (str && (cls == OpClass::kString || cls == OpClass::kNumberOrString)) {
      ValueRules rules;
      const bool kernel_path = kind == VG_ARG_FILE || kind == VG_ARG_PATH || kind == VG_ARG_BINPRM;
      if (kernel_path) {
        const bool postfix = *op == ArgOp::kPostfix || *op == ArgOp::kNotPostfix;
        const bool exact = *op == ArgOp::kEqual || *op == ArgOp::kNotEqual;
        rules.path = true;
        rules.absolute = !postfix;
        rules.exact = exact;
        rules.why = exact ? "Equal values are compared with absolute kernel paths"
                          : "Prefix values are compared with absolute kernel paths";
      }
      auto values = requiredValues(*f, pos, path, rules);
      if (!values) return std::nullopt;
      af.values = std::move(*values);
      return af;
    }
    auto values = requiredValues(*f, pos, path, ValueRules{});
    if (!values) return std::nullopt;
    const Entry* ve = f->find("values");
    if (!encodeValues(af, *values, ve->value, child(path, "values"))) return std::nullopt;
    af.values = std::move(*values);
    return af;
  }

  // Numbers and prefixes of non-string operators, with errors at each value.
  bool encodeValues(ArgFilter& af, const std::vector<std::string>& values, const Node& list,
                    const std::string& vpath) {
    auto at = [&](size_t i) { return i < list.size() ? posOf(list[i]) : posOf(list); };
    auto named = [&](std::span<const NamedNumber> names, std::string_view v) -> std::optional<uint64_t> {
      for (const auto& nn : names) {
        if (nn.name == v) return nn.value;
      }
      return parseNumber(v);
    };
    bool ok = true;
    for (size_t i = 0; i < values.size(); i++) {
      const std::string& v = values[i];
      switch (af.op) {
        case ArgOp::kSAddr:
        case ArgOp::kNotSAddr:
        case ArgOp::kDAddr:
        case ArgOp::kNotDAddr: {
          auto c = parseCidr(v);
          if (!c) {
            error(at(i), item(vpath, i),
                  cat(shortQuoted(v), " is not an IPv4 or IPv6 address or prefix (e.g. "
                      "\"10.0.0.0/8\", \"fd00::/8\", \"127.0.0.1\")"));
            ok = false;
          } else {
            af.cidrs.push_back(*c);
          }
          continue;
        }
        case ArgOp::kInMap:
        case ArgOp::kNotInMap: {
          if (!v.starts_with("list:")) break;
          const List* l = listRef(v, at(i), item(vpath, i));
          if (!l) {
            ok = false;
            continue;
          }
          const bool sys = l->type == "syscalls" || l->type == "generated_syscalls";
          if (l->type == "generated_ftrace") {
            error(at(i), item(vpath, i),
                  cat("list ", shortQuoted(l->name), " holds kernel functions, not numbers"));
            ok = false;
            continue;
          }
          for (const auto& lv : l->values) {
            auto n = sys ? syscallNumber(lv) : parseNumber(lv);
            if (!n) {
              error(at(i), item(vpath, i),
                    cat("list ", shortQuoted(l->name), " value ", shortQuoted(lv), " is not ",
                        sys ? "a system call" : "an integer"));
              ok = false;
              break;
            }
            af.numbers.push_back(*n);
          }
          continue;
        }
        case ArgOp::kInRange:
        case ArgOp::kNotInRange: {
          size_t colon = v.find(':');
          auto lo = colon == std::string::npos ? std::nullopt : parseNumber(v.substr(0, colon));
          auto hi = colon == std::string::npos ? std::nullopt : parseNumber(v.substr(colon + 1));
          if (!lo || !hi) {
            error(at(i), item(vpath, i), cat(shortQuoted(v), " is not a range \"min:max\""));
            ok = false;
          } else if (values.size() > 1) {
            error(at(1), item(vpath, 1),
                  "one range per InRange/NotInRange filter; add a second filter for another");
            return false;
          } else {
            af.numbers = {*lo, *hi};
          }
          continue;
        }
        default: break;
      }
      std::optional<uint64_t> n;
      std::string_view what = "an integer";
      switch (af.op) {
        case ArgOp::kFamily: n = named(kFamilies, v); what = "an address family (AF_INET, 2, ...)"; break;
        case ArgOp::kProtocol: n = named(kProtocols, v); what = "a protocol (IPPROTO_TCP, 6, ...)"; break;
        case ArgOp::kState: n = named(kTcpStates, v); what = "a TCP state (TCP_ESTABLISHED, ...)"; break;
        default: n = parseNumber(v); break;
      }
      const bool port = af.op == ArgOp::kSPort || af.op == ArgOp::kNotSPort ||
                        af.op == ArgOp::kDPort || af.op == ArgOp::kNotDPort;
      if (port && n && *n > 65535) {
        what = "a port (0 to 65535)";
        n.reset();
      }
      if (!n) {
        error(at(i), item(vpath, i), cat(shortQuoted(v), " is not ", what));
        ok = false;
        continue;
      }
      af.numbers.push_back(*n);
    }
    if (!ok) return false;
    if ((af.op == ArgOp::kGT || af.op == ArgOp::kLT) && af.numbers.size() != 1) {
      error(at(1), item(vpath, 1), cat(argOpName(af.op), " takes exactly one value"));
      return false;
    }
    if (af.op == ArgOp::kMask) {
      uint64_t m = 0;
      for (uint64_t x : af.numbers) m |= x;
      af.numbers = {m};
    }
    return true;
  }

  // One matchPIDs / matchNamespaces / matchCapabilities entry.
  std::optional<TaskFilter> parseTaskFilter(const Node& n, const std::string& path,
                                            TaskFilter::Kind kind) {
    const SourcePos pos = posOf(n);
    const bool caps = kind == TaskFilter::Kind::kCapabilities ||
                      kind == TaskFilter::Kind::kCapabilityChanges;
    const Schema& schema = kind == TaskFilter::Kind::kPids         ? kPidsSchema
                           : kind == TaskFilter::Kind::kNamespaces ? kNamespacesSchema
                           : kind == TaskFilter::Kind::kNamespaceChanges ? kNamespaceChangesSchema
                                                                   : kCapabilitiesSchema;
    auto f = readMap(n, pos, path, schema);
    if (!f) return std::nullopt;
    TaskFilter tf;
    tf.kind = kind;
    tf.pos = pos;
    bool ok = true;
    if (auto op = requiredString(*f, pos, path, "operator")) {
      if (*op == "In" || *op == "NotIn") {
        tf.not_in = *op == "NotIn";
      } else {
        error(posOf(*f->find("operator")), child(path, "operator"),
              cat("unknown operator ", shortQuoted(*op), "; supported: In, NotIn"));
        ok = false;
      }
    } else {
      ok = false;
    }
    auto flag = [&](const char* key, bool* out) {
      if (const Entry* e = f->find(key); e && !e->value.IsNull()) {
        if (auto b = getBool(*e, child(path, key))) *out = *b; else ok = false;
      }
    };
    if (kind == TaskFilter::Kind::kPids) {
      flag("followForks", &tf.follow_forks);
      flag("isNamespacePID", &tf.namespace_pid);
    } else if (kind == TaskFilter::Kind::kNamespaces) {
      if (auto ns = requiredString(*f, pos, path, "namespace")) {
        if (auto which = namespaceOf(*ns)) {
          tf.which = *which;
        } else {
          error(posOf(*f->find("namespace")), child(path, "namespace"),
                cat("unknown namespace ", shortQuoted(*ns),
                    "; supported: Uts, Ipc, Mnt, Pid, PidForChildren, Net, Time, TimeForChildren, "
                    "Cgroup, User"));
          ok = false;
        }
      } else {
        ok = false;
      }
    } else if (kind == TaskFilter::Kind::kNamespaceChanges) {
      // values: namespace names
    } else {
      bool ns_cap = false;
      flag("isNamespaceCapability", &ns_cap);
      tf.namespace_cap = ns_cap;
      if (ns_cap && kind == TaskFilter::Kind::kCapabilities) {
        error(posOf(*f->find("isNamespaceCapability")), child(path, "isNamespaceCapability"),
              "true is not supported yet (capabilities are checked as the task holds them)");
        ok = false;
      }
      if (const Entry* e = f->find("type"); e && !e->value.IsNull()) {
        auto type = getString(*e, child(path, "type"));
        if (type && *type == "Effective") {
          tf.which = 0;
        } else if (type && *type == "Permitted") {
          tf.which = 1;
        } else if (type && *type == "Inheritable") {
          tf.which = 2;
        } else {
          if (type) {
            error(posOf(*e), child(path, "type"),
                  cat("unknown capability set ", shortQuoted(*type),
                      "; supported: Effective, Permitted, Inheritable"));
          }
          ok = false;
        }
      }
    }
    auto values = requiredValues(*f, pos, path, ValueRules{});
    if (!values) return std::nullopt;
    const Node& list = f->find("values")->value;
    for (size_t i = 0; i < values->size(); i++) {
      const std::string& v = (*values)[i];
      const SourcePos vpos = i < list.size() ? posOf(list[i]) : pos;
      if (kind == TaskFilter::Kind::kNamespaceChanges) {
        auto which = namespaceOf(v);
        if (!which || *which >= VG_NS_COUNT) {
          error(vpos, item(child(path, "values"), i),
                cat("unknown namespace ", shortQuoted(v),
                    "; supported: Uts, Ipc, Mnt, Pid, PidForChildren, Net, Time, Cgroup, User"));
          ok = false;
        } else {
          tf.values.push_back(*which);
        }
        continue;
      }
      if (caps) {
        if (auto cap = capabilityNumber(v)) {
          tf.values.push_back(*cap);
        } else {
          error(vpos, item(child(path, "values"), i),
                cat(shortQuoted(v), " is not a capability (CAP_SYS_ADMIN, CAP_NET_RAW, ...)"));
          ok = false;
        }
        continue;
      }
      if (kind == TaskFilter::Kind::kNamespaces && v == "host_ns") {
        tf.host_ns = true;
        continue;
      }
      auto num = parseNumber(v);
      if (!num || static_cast<int64_t>(*num) < 0 || *num > UINT32_MAX) {
        error(vpos, item(child(path, "values"), i),
              cat(shortQuoted(v), " is not ",
                  kind == TaskFilter::Kind::kPids ? "a pid" : "a namespace inode number or host_ns"));
        ok = false;
        continue;
      }
      tf.values.push_back(*num);
    }
    if (!ok) return std::nullopt;
    return tf;
  }

  std::optional<BinaryFilter> parseBinaryFilter(const Node& n, const std::string& path,
                                                const Schema& schema) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, schema);
    if (!f) return std::nullopt;
    BinaryFilter bf;
    bf.pos = pos;
    bool ok = false;
    if (const Entry* e = f->find("followChildren"); e && !e->value.IsNull()) {
      if (auto b = getBool(*e, child(path, "followChildren"))) bf.follow_children = *b;
    }
    if (auto name = requiredString(*f, pos, path, "operator")) {
      for (const auto& o : kBinOps) {
        if (o.name == *name) {
          bf.op = o.op;
          ok = true;
        }
      }
      if (!ok) {
        std::vector<std::string_view> names;
        for (const auto& o : kBinOps) names.push_back(o.name);
        error(posOf(*f->find("operator")), child(path, "operator"),
              cat("unknown operator ", shortQuoted(*name), didYouMean(names, *name),
                  "; supported: ", join(names, ", ")));
      }
    }
    const bool postfix = bf.op == BinOp::kPostfix || bf.op == BinOp::kNotPostfix;
    const bool exact = bf.op == BinOp::kIn || bf.op == BinOp::kNotIn;
    ValueRules rules{!postfix, exact, true,
                     "matchBinaries values are absolute paths of executables"};
    auto values = requiredValues(*f, pos, path, rules);
    if (!ok || !values) return std::nullopt;
    if (bf.follow_children && !exact) {
      error(posOf(*f->find("followChildren")), child(path, "followChildren"),
            cat("followChildren is supported with In and NotIn, not ", binOpName(bf.op)));
      return std::nullopt;
    }
    if (!exact) {
      for (size_t i = 0; i < values->size(); i++) {
        if ((*values)[i].size() >= VG_BIN_MAX) {
          error(pos, item(child(path, "values"), i),
                cat("Prefix/Postfix values of matchBinaries are at most ", VG_BIN_MAX - 1,
                    " bytes (the kernel's process table keeps that much of each binary)"));
          return std::nullopt;
        }
      }
    }
    bf.values = std::move(*values);
    return bf;
  }

  std::optional<Action> parseAction(const Node& n, const std::string& path, const HookCtx& ctx) {
    const SourcePos pos = posOf(n);
    auto f = readMap(n, pos, path, kActionSchema);
    if (!f) return std::nullopt;
    Action a;
    a.pos = pos;
    auto name = requiredString(*f, pos, path, "action");
    if (!name) return std::nullopt;
    const SourcePos name_pos = posOf(*f->find("action"));
    constexpr std::string_view kSupported[] = {"Post",   "NoPost",         "Override",
                                               "Sigkill", "Signal",        "NotifyEnforcer",
                                               "GetUrl", "DnsLookup",      "UntrackSock"};
    if (*name == "UntrackSock") {
      a.kind = ActionKind::kUntrackSock;
      if (const Entry* e = f->find("argSock"); e && !e->value.IsNull()) {
        auto v = getInt(*e, child(path, "argSock"), 0, VG_HOOK_ARGS - 1);
        if (!v) return std::nullopt;
        a.arg_sock = static_cast<int>(*v);
      }
      auto it = ctx.declared.find(a.arg_sock);
      if (it == ctx.declared.end() ||
          (it->second.kind != VG_ARG_SOCK && it->second.kind != VG_ARG_SOCKET)) {
        error(pos, path,
              cat("UntrackSock: argument ", a.arg_sock,
                  " (argSock) must be declared with type sock or socket"));
        return std::nullopt;
      }
    } else if (*name == "GetUrl" || *name == "DnsLookup") {
      const bool url = *name == "GetUrl";
      a.kind = url ? ActionKind::kGetUrl : ActionKind::kDnsLookup;
      const char* key = url ? "argUrl" : "argFqdn";
      auto v = requiredString(*f, pos, path, key);
      if (!v) return std::nullopt;
      const SourcePos vpos = posOf(*f->find(key));
      if (url) {
        if (!(v->starts_with("http://") || v->starts_with("https://")) || v->size() < 9 ||
            v->find_first_of(" \t\r\n") != std::string::npos) {
          error(vpos, child(path, key),
                cat(shortQuoted(*v), " is not an http:// or https:// URL"));
          return std::nullopt;
        }
        a.url = *v;
      } else {
        auto label = [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_';
        };
        if (v->empty() || v->size() > 253 || !std::all_of(v->begin(), v->end(), label)) {
          error(vpos, child(path, key), cat(shortQuoted(*v), " is not a DNS name"));
          return std::nullopt;
        }
        a.fqdn = *v;
      }
    } else if (*name == "Post") {
      a.kind = ActionKind::kPost;
    } else if (*name == "NoPost") {
      a.kind = ActionKind::kNoPost;
    } else if (*name == "Override") {
      a.kind = ActionKind::kOverride;
    } else if (*name == "Sigkill") {
      a.kind = ActionKind::kSigkill;
    } else if (*name == "Signal") {
      a.kind = ActionKind::kSignal;
    } else if (*name == "NotifyEnforcer") {
      a.kind = ActionKind::kNotifyEnforcer;
      notify_actions_.emplace_back(name_pos, child(path, "action"));
    } else {
      if (contains(kTetragonActions, *name)) {
        error(name_pos, child(path, "action"),
              cat("action ", shortQuoted(*name), " is not supported yet; supported: ",
                  join(kSupported, ", ")));
      } else {
        error(name_pos, child(path, "action"),
              cat("unknown action ", shortQuoted(*name), didYouMean(kSupported, *name),
                  "; supported: ", join(kSupported, ", ")));
      }
      return std::nullopt;
    }
    // kernelStackTrace/userStackTrace: the stacks of the call, in the event
    // (Tetragon: on Post; here on any action that posts).
    for (auto [key, flag] : {std::pair{"kernelStackTrace", &a.kernel_stack},
                             std::pair{"userStackTrace", &a.user_stack}}) {
      const Entry* e = f->find(key);
      if (!e || e->value.IsNull()) continue;
      auto b = getBool(*e, child(path, key));
      if (!b) return std::nullopt;
      *flag = *b;
      if (*b && (a.kind == ActionKind::kNoPost || a.kind == ActionKind::kUntrackSock)) {
        error(posOf(*e), child(path, key),
              cat(key, " needs an event, and ", *name, " posts none"));
        return std::nullopt;
      }
    }
    if (a.kind == ActionKind::kOverride && ctx.kind == HookKind::kTracepoint) {
      error(name_pos, child(path, "action"),
            "Override on a tracepoint: a tracepoint cannot change what the traced code returns; "
            "use NotifyEnforcer (spec.enforcers) to deny at the system call, or Sigkill");
      return std::nullopt;
    }
    if (a.kind == ActionKind::kOverride && ctx.kind == HookKind::kUprobe) {
      error(name_pos, child(path, "action"),
            "Override on a uprobe: a user-space function's return value cannot be changed from "
            "BPF; use Sigkill or Signal");
      return std::nullopt;
    }
    if (a.kind == ActionKind::kOverride && ctx.return_arg) {
      error(name_pos, child(path, "action"),
            "Override on a return probe: the call has already returned; override at entry "
            "(a kprobe without return: true)");
      return std::nullopt;
    }
    if (a.kind == ActionKind::kOverride && ctx.kind == HookKind::kKprobe && ctx.known &&
        !ctx.syscall && !std::string_view(ctx.name).starts_with("security_")) {
      error(name_pos, child(path, "action"),
            cat("Override on kprobe ", shortQuoted(ctx.name),
                ": the kernel lets Vigil change the return value of security_* functions and "
                "system calls (syscall: true) only; use an lsmhook, or Sigkill"));
      return std::nullopt;
    }
    const Entry* err = f->find("argError");
    const std::string epath = child(path, "argError");
    const bool notify = a.kind == ActionKind::kNotifyEnforcer;
    if (notify && err == nullptr && f->find("argSig") == nullptr) {
      error(pos, path,
            "NotifyEnforcer requires argError (the negative errno the system call returns) "
            "and/or argSig (the signal sent to the caller)");
      return std::nullopt;
    }
    if (a.kind == ActionKind::kOverride || (notify && err != nullptr)) {
      if (err == nullptr) {
        error(pos, path,
              "Override requires argError, the negative errno the hook returns (e.g. -1 for "
              "EPERM)");
        return std::nullopt;
      }
      auto v = getInt(*err, epath, INT32_MIN, INT32_MAX);
      if (!v) return std::nullopt;
      if (*v >= 1 && *v <= 4095) {
        // Tetragon takes the value as it is (security-socket-connect-block-
        // others.yaml writes 1): the call then returns a positive number its
        // caller does not read as an error. BPF LSM programs may only return
        // 0 or -errno, so Vigil denies with EPERM.
        warning(posOf(*err), epath,
                cat("a positive argError (", *v,
                    ") is not an errno; the operation is denied with -1 (EPERM)"));
        a.arg_error = -1;
      } else if (*v < -4095 || *v > -1) {
        error(posOf(*err), epath,
              cat("must be a negative errno in [-4095, -1] (e.g. -1 for EPERM, -13 for "
                  "EACCES), or a positive value (denied as EPERM), got ",
                  *v));
        return std::nullopt;
      } else {
        a.arg_error = static_cast<int>(*v);
      }
    } else if (err != nullptr) {
      // Tetragon ignores it there; a warning keeps such policies loading.
      warning(posOf(err->key_node), epath,
              cat("ignored: argError only applies to Override, not ", *name));
    }
    if (const Entry* rl = f->find("rateLimit"); rl && !rl->value.IsNull()) {
      const std::string rpath = child(path, "rateLimit");
      auto v = getString(*rl, rpath);
      if (!v) return std::nullopt;
      // "30s", "1m", "2h", "500ms", or seconds as a number.
      std::string_view t = *v;
      uint64_t unit = 1'000'000'000;
      if (t.ends_with("ms")) { unit = 1'000'000; t.remove_suffix(2); }
      else if (t.ends_with("s")) { t.remove_suffix(1); }
      else if (t.ends_with("m")) { unit = 60'000'000'000; t.remove_suffix(1); }
      else if (t.ends_with("h")) { unit = 3'600'000'000'000; t.remove_suffix(1); }
      auto n = parseNumber(t);
      if (!n || *n == 0 || static_cast<int64_t>(*n) < 0 || *n > 1'000'000) {
        error(posOf(*rl), rpath,
              cat("invalid rate ", shortQuoted(*v), "; a duration such as \"30s\", \"1m\", "
                  "\"2h\" or \"500ms\""));
        return std::nullopt;
      }
      a.rate_limit_ns = *n * unit;
    }
    if (const Entry* rs = f->find("rateLimitScope"); rs && !rs->value.IsNull()) {
      const std::string spath2 = child(path, "rateLimitScope");
      auto v = getString(*rs, spath2);
      if (!v) return std::nullopt;
      if (*v == "thread") a.rate_scope = VG_RATE_THREAD;
      else if (*v == "process") a.rate_scope = VG_RATE_PROCESS;
      else if (*v == "global") a.rate_scope = VG_RATE_GLOBAL;
      else {
        error(posOf(*rs), spath2,
              cat("unknown scope ", shortQuoted(*v), "; supported: thread, process, global"));
        return std::nullopt;
      }
    }
    const Entry* sig = f->find("argSig");
    const std::string spath = child(path, "argSig");
    if (notify && sig != nullptr) {
      auto v = getInt(*sig, spath, 1, 64);
      if (!v) return std::nullopt;
      a.arg_sig = static_cast<int>(*v);
    } else if (a.kind == ActionKind::kSignal) {
      if (sig == nullptr) {
        error(pos, path, "Signal requires argSig, the signal number (e.g. 10 for SIGUSR1)");
        return std::nullopt;
      }
      auto v = getInt(*sig, spath, 1, 64);
      if (!v) return std::nullopt;
      a.arg_sig = static_cast<int>(*v);
    } else if (sig != nullptr) {
      error(posOf(sig->key_node), spath,
            cat("only valid with actions Signal and NotifyEnforcer, not ", *name));
      return std::nullopt;
    }
    return a;
  }

  // The values list of matchArgs/matchBinaries: non-empty, of non-empty strings.
  std::optional<std::vector<std::string>> requiredValues(const Fields& f, const SourcePos& map_pos,
                                                         const std::string& path,
                                                         const ValueRules& rules,
                                                         std::string_view key = "values") {
    const Entry* e = f.find(key);
    if (e == nullptr) {
      missing(map_pos, path, key);
      return std::nullopt;
    }
    const std::string vpath = child(path, key);
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
  ParseOptions options_;
  std::map<std::string, List> lists_;  // spec.lists by name
  std::vector<std::pair<SourcePos, std::string>> notify_actions_;  // NotifyEnforcer uses
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

}  // namespace

ParseResult parsePolicyString(std::string_view yaml, const std::string& file_name,
                              const ParseOptions& options) {
  return Parser(file_name, options).run(yaml);
}

ParseResult parsePolicyFile(const std::string& path, const ParseOptions& options) {
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
    return parsePolicyString(buf.str(), path, options);
  } catch (const std::exception& e) {
    return fail(cat("cannot read policy file: ", e.what()));
  }
}

}  // namespace vigil::policy
