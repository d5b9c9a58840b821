#include "rules/engine.h"

#include <dirent.h>
#include <fnmatch.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rules/condition.h"
#include "rules/fields.h"

namespace vigil::rules {
namespace {

absl::string_view asv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ---- evaluation state ------------------------------------------------------

struct Slot {
  uint64_t gen = 0;
  FieldValues v;
};

struct EvalState {
  EventView view;
  int type_id = -1;  // interned evt.type of the event, -1 if no rule names it
  uint64_t gen = 0;
  std::vector<Slot> slots;
  // Per-event results of the engine's distinct checks: (gen << 1) | result,
  // valid when the stamp is this event's gen. A check shared by several rules
  // (a macro, a common exception) runs once per event.
  std::vector<uint64_t> memo;

  FieldValues& fetch(const FieldRef& f) { return fetch(f.slot, f.def, f); }
  FieldValues& fetch(int slot, const FieldDef* def, const FieldRef& f) {
    return fetchSlot(slot, def, f).v;
  }
  Slot& fetchSlot(int slot, const FieldDef* def, const FieldRef& f) {
    Slot& s = slots[static_cast<size_t>(slot)];
    if (s.gen != gen) {
      s.gen = gen;
      s.v.clear();
      s.v.type = def->type;
      def->extract(f, view, s.v);
    }
    return s;
  }
};

// ---- compiled expressions ----------------------------------------------------
// The compiler builds a tree (and / or / not over checks); the planner then
// merges identical checks across rules, orders operands cheapest first and
// flattens each rule into a branch program (Instr below) that runs without
// recursion or virtual calls.

class Expr {
 public:
  virtual ~Expr() = default;
};

class AndExpr : public Expr {
 public:
  std::vector<std::unique_ptr<Expr>> c;
};

class OrExpr : public Expr {
 public:
  std::vector<std::unique_ptr<Expr>> c;
};

class NotExpr : public Expr {
 public:
  std::unique_ptr<Expr> c;
};

enum class Op {
  kEq, kNe, kLt, kLe, kGt, kGe, kContains, kIContains, kBContains, kStartsWith, kBStartsWith,
  kEndsWith, kGlob, kIGlob, kRegex, kIn, kIntersects, kPmatch, kExists
};

bool opFromString(const std::string& s, Op* op) {
  static const std::map<std::string, Op> m = {
      {"=", Op::kEq},           {"!=", Op::kNe},           {"<", Op::kLt},
      {"<=", Op::kLe},          {">", Op::kGt},            {">=", Op::kGe},
      {"contains", Op::kContains}, {"icontains", Op::kIContains}, {"bcontains", Op::kBContains},
      {"startswith", Op::kStartsWith}, {"bstartswith", Op::kBStartsWith},
      {"endswith", Op::kEndsWith}, {"glob", Op::kGlob},     {"iglob", Op::kIGlob},
      {"regex", Op::kRegex},    {"in", Op::kIn},           {"intersects", Op::kIntersects},
      {"pmatch", Op::kPmatch},  {"exists", Op::kExists}};
  auto it = m.find(s);
  if (it == m.end()) return false;
  *op = it->second;
  return true;
}

bool icontains(std::string_view hay, std::string_view lowered_needle) {
  if (lowered_needle.empty()) return true;
  if (hay.size() < lowered_needle.size()) return false;
  for (size_t i = 0; i + lowered_needle.size() <= hay.size(); i++) {
    size_t k = 0;
    while (k < lowered_needle.size() &&
           std::tolower(static_cast<unsigned char>(hay[i + k])) == lowered_needle[k]) {
      k++;
    }
    if (k == lowered_needle.size()) return true;
  }
  return false;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

enum class Xf { kToLower, kToUpper, kBaseName, kLen };

class CheckExpr final : public Expr {
 public:
  // Hot members first: the common path (type check, length reject, cached
  // field, short operand) stays within the first cache line of the node.
  bool type_check = false;  // evt.type = / != / in: tested on interned type ids
  Op op = Op::kEq;
  FieldType type = FieldType::kString;  // after transformers
  int slot = -1;
  // = and in on strings: bit L set when some operand has length L (L < 64; bit 63:
  // any longer one). Most values are rejected on their length alone.
  uint64_t len_mask = ~0ull;
  // in on strings: a 256-bit filter on a signature of last and middle byte and
  // length (sig()); a value whose bit is clear is in no operand, without hashing.
  std::array<uint64_t, 4> sig_mask{~0ull, ~0ull, ~0ull, ~0ull};
  bool sig_set = false;
  const FieldDef* def = nullptr;
  std::vector<bool> type_ids;
  std::string str;
  int64_t num = 0;
  std::vector<Xf> xf;  // applied in order (innermost first)
  FieldRef field;
  IpNet net;
  absl::flat_hash_set<std::string> strset;
  absl::flat_hash_set<int64_t> numset;
  std::vector<int64_t> numlist;  // numset's operands when there are at most 8
  std::vector<IpNet> nets;
  std::vector<std::string> paths;
  std::unique_ptr<RE2> re;
  mutable FieldValues scratch_;
  mutable std::string cbuf_;
  // Planning: what the check tests, as text (field with transformers, operator,
  // operands; list operands sorted): equal keys are the same check.
  std::string key;
  int id = -1;  // index of the canonical check in EvalState::memo

  static uint64_t lenBit(size_t n) { return 1ull << (n < 63 ? n : 63); }
  void addLen(size_t n) {
    if (len_mask == ~0ull) len_mask = 0;
    len_mask |= lenBit(n);
  }
  static uint8_t sig(std::string_view v) {
    if (v.empty()) return 0;
    return static_cast<uint8_t>(static_cast<uint8_t>(v.back()) * 31u + static_cast<uint8_t>(v[v.size() / 2]) * 7u +
                                v.size());
  }
  void addSig(std::string_view v) {
    if (!sig_set) sig_mask = {0, 0, 0, 0};
    sig_set = true;
    uint8_t g = sig(v);
    sig_mask[g >> 6] |= 1ull << (g & 63);
  }
  bool sigMayHold(std::string_view v) const {
    uint8_t g = sig(v);
    return (sig_mask[g >> 6] >> (g & 63)) & 1;
  }

  // The check's result on this event; a check several rules share is
  // computed once per event.
  bool test(EvalState& st) const {
    if (!shared) return run(st);
    uint64_t& m = st.memo[static_cast<size_t>(id)];
    if ((m >> 1) == st.gen) return m & 1;
    bool r = run(st);
    m = (st.gen << 1) | static_cast<uint64_t>(r);
    return r;
  }

  // The common shapes (string field without transformers and =, in,
  // startswith, endswith, contains; numbers =, in, >=; evt.type) have their own
  // routine; the others go through the general eval(). (A switch inlined into
  // the program loop measured slower than this one indirect call.)
  enum class Shape : uint8_t {
    kGeneric, kTypeIn, kTypeNe, kStrEq, kStrIn, kStrPrefix, kStrSuffix, kStrContains, kNumEq, kNumIn, kNumGe
  };
  using Routine = bool (*)(const CheckExpr&, EvalState&);
  static Routine routine(Shape s) {
    switch (s) {
      case Shape::kTypeIn: return [](const CheckExpr& c, EvalState& st) { return c.typeMatch(st); };
      case Shape::kTypeNe:
        return [](const CheckExpr& c, EvalState& st) { return !c.typeMatch(st) && !st.view.evt_type.empty(); };
      case Shape::kStrEq: return strCheck<StrEq>;
      case Shape::kStrIn: return strCheck<StrIn>;
      case Shape::kStrPrefix: return strCheck<StrPrefix>;
      case Shape::kStrSuffix: return strCheck<StrSuffix>;
      case Shape::kStrContains: return strCheck<StrContains>;
      case Shape::kNumEq: return numCheck<NumEq>;
      case Shape::kNumIn: return numCheck<NumIn>;
      case Shape::kNumGe: return numCheck<NumGe>;
      case Shape::kGeneric: break;
    }
    return [](const CheckExpr& c, EvalState& st) { return c.eval(st); };
  }
  bool run(EvalState& st) const { return fn(*this, st); }

  void specialise() {
    shape = Shape::kGeneric;
    if (type_check) {
      shape = op == Op::kNe ? Shape::kTypeNe : Shape::kTypeIn;
      return;
    }
    if (xf.empty() && type == FieldType::kNumber) {
      switch (op) {
        case Op::kEq: shape = Shape::kNumEq; break;
        case Op::kIn: case Op::kIntersects: shape = Shape::kNumIn; break;
        case Op::kGe: shape = Shape::kNumGe; break;
        default: break;
      }
      return;
    }
    if (!xf.empty() || type != FieldType::kString) return;
    switch (op) {
      case Op::kEq: shape = Shape::kStrEq; break;
      case Op::kIn: case Op::kIntersects: shape = Shape::kStrIn; break;
      case Op::kStartsWith: case Op::kBStartsWith: shape = Shape::kStrPrefix; break;
      case Op::kEndsWith: shape = Shape::kStrSuffix; break;
      case Op::kContains: case Op::kBContains: shape = Shape::kStrContains; break;
      default: break;
    }
  }
  void setRoutine() { fn = routine(shape); }
  bool shared = false;  // used by more than one rule: memoised per event
  Shape shape = Shape::kGeneric;
  Routine fn = routine(Shape::kGeneric);

  bool typeMatch(const EvalState& st) const {
    return st.type_id >= 0 && static_cast<size_t>(st.type_id) < type_ids.size() && type_ids[st.type_id];
  }
  struct StrEq {
    static bool m(const CheckExpr& c, std::string_view v) {
      return (c.len_mask & lenBit(v.size())) && v == c.str;
    }
  };
  struct StrIn {
    static bool m(const CheckExpr& c, std::string_view v) {
      return (c.len_mask & lenBit(v.size())) && c.sigMayHold(v) && c.strset.contains(asv(v));
    }
  };
  struct StrPrefix {
    static bool m(const CheckExpr& c, std::string_view v) {
      size_t n = c.str.size();
      if (v.size() < n) return false;
      if (n >= 8) {  // most values differ in the first 8 bytes: no memcmp call
        uint64_t a, b;
        memcpy(&a, v.data(), 8);
        memcpy(&b, c.str.data(), 8);
        if (a != b) return false;
      }
      return memcmp(v.data(), c.str.data(), n) == 0;
    }
  };
  struct StrSuffix {
    static bool m(const CheckExpr& c, std::string_view v) {
      return v.size() >= c.str.size() &&
             memcmp(v.data() + v.size() - c.str.size(), c.str.data(), c.str.size()) == 0;
    }
  };
  struct StrContains {
    static bool m(const CheckExpr& c, std::string_view v) { return v.find(c.str) != std::string_view::npos; }
  };
  struct NumEq {
    static bool m(const CheckExpr& c, int64_t v) { return v == c.num; }
  };
  struct NumGe {
    static bool m(const CheckExpr& c, int64_t v) { return v >= c.num; }
  };
  struct NumIn {
    static bool m(const CheckExpr& c, int64_t v) {
      if (!c.numlist.empty()) {  // a few operands: a scan beats hashing
        for (int64_t x : c.numlist) {
          if (x == v) return true;
        }
        return false;
      }
      return c.numset.contains(v);
    }
  };
  template <class M>
  static bool numCheck(const CheckExpr& c, EvalState& st) {
    const FieldValues& v = st.fetch(c.slot, c.def, c.field);
    for (int64_t x : v.n) {
      if (M::m(c, x)) return true;
    }
    return false;
  }
  template <class M>
  static bool strCheck(const CheckExpr& c, EvalState& st) {
    const FieldValues& v = st.fetch(c.slot, c.def, c.field);
    for (std::string_view s : v.s) {
      if (M::m(c, s)) return true;
    }
    return false;
  }

  bool eval(EvalState& st) const {
    if (type_check) {
      bool in = st.type_id >= 0 && static_cast<size_t>(st.type_id) < type_ids.size() && type_ids[st.type_id];
      return op == Op::kNe ? (!in && !st.view.evt_type.empty()) : in;
    }
    const FieldValues* v = &st.fetch(slot, def, field);
    if (!xf.empty()) v = transform(*v);
    size_t n = v->size();
    if (op == Op::kExists) return n > 0;
    for (size_t i = 0; i < n; i++) {
      bool m = type == FieldType::kString   ? matchString(v->s[i])
               : type == FieldType::kNumber ? matchNumber(v->n[i])
                                            : matchIp(v->ip[i]);
      if (m) return true;
    }
    return false;
  }

 private:
  const FieldValues* transform(const FieldValues& in) const {
    const FieldValues* cur = &in;
    for (Xf x : xf) {
      FieldValues& out = scratch_;
      if (x == Xf::kLen) {
        // cur is a string list (checked at compile time).
        std::vector<int64_t> lens;
        for (auto s : cur->s) lens.push_back(static_cast<int64_t>(s.size()));
        out.clear();
        out.type = FieldType::kNumber;
        out.n = std::move(lens);
      } else {
        std::vector<std::string> strs;
        for (auto s : cur->s) {
          std::string t(s);
          if (x == Xf::kToLower) {
            for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          } else if (x == Xf::kToUpper) {
            for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          } else {
            std::string_view b = t;
            if (b.size() > 1 && b.back() == '/') b.remove_suffix(1);
            auto p = b.rfind('/');
            t = std::string(p == std::string_view::npos ? b : b.substr(p + 1));
          }
          strs.push_back(std::move(t));
        }
        out.clear();
        out.type = FieldType::kString;
        out.bufs = std::move(strs);
        for (const auto& s : out.bufs) out.s.push_back(s);
      }
      cur = &out;
    }
    return cur;
  }

  bool matchString(std::string_view v) const {
    switch (op) {
      case Op::kEq: return (len_mask & lenBit(v.size())) && v == str;
      case Op::kNe: return v != str;
      case Op::kLt: return v < std::string_view(str);
      case Op::kLe: return v <= std::string_view(str);
      case Op::kGt: return v > std::string_view(str);
      case Op::kGe: return v >= std::string_view(str);
      case Op::kContains:
      case Op::kBContains: return v.find(str) != std::string_view::npos;
      case Op::kIContains: return icontains(v, str);
      case Op::kStartsWith:
      case Op::kBStartsWith: return v.substr(0, str.size()) == str;
      case Op::kEndsWith:
        return v.size() >= str.size() && v.substr(v.size() - str.size()) == str;
      case Op::kGlob:
      case Op::kIGlob:
        cbuf_.assign(v.data(), v.size());
        return fnmatch(str.c_str(), cbuf_.c_str(), op == Op::kIGlob ? FNM_CASEFOLD : 0) == 0;
      case Op::kRegex: return RE2::FullMatch(re2::StringPiece(v.data(), v.size()), *re);
      case Op::kIn:
      case Op::kIntersects: return (len_mask & lenBit(v.size())) && strset.contains(asv(v));
      case Op::kPmatch:
        for (const auto& p : paths) {
          if (p == "/") {
            if (!v.empty() && v[0] == '/') return true;
            continue;
          }
          if (v.size() >= p.size() && v.substr(0, p.size()) == p &&
              (v.size() == p.size() || v[p.size()] == '/')) {
            return true;
          }
        }
        return false;
      case Op::kExists: return true;
    }
    return false;
  }

  bool matchNumber(int64_t v) const {
    switch (op) {
      case Op::kEq: return v == num;
      case Op::kNe: return v != num;
      case Op::kLt: return v < num;
      case Op::kLe: return v <= num;
      case Op::kGt: return v > num;
      case Op::kGe: return v >= num;
      case Op::kIn:
      case Op::kIntersects: return numset.contains(v);
      default: return false;
    }
  }

  bool matchIp(const IpNet& v) const {
    switch (op) {
      case Op::kEq: return net.contains(v);
      case Op::kNe: return !net.contains(v);
      case Op::kIn:
      case Op::kIntersects:
        for (const auto& n : nets) {
          if (n.contains(v)) return true;
        }
        return false;
      default: return false;
    }
  }
};

// The evt.type values a condition can match: `all` or a finite set.
struct TypeSet {
  bool all = true;
  std::set<std::string> names;
  static TypeSet of(std::set<std::string> n) {
    TypeSet t;
    t.all = false;
    t.names = std::move(n);
    return t;
  }
  TypeSet intersect(const TypeSet& o) const {
    if (all) return o;
    if (o.all) return *this;
    std::set<std::string> r;
    for (const auto& n : names) {
      if (o.names.count(n)) r.insert(n);
    }
    return of(std::move(r));
  }
  TypeSet unite(const TypeSet& o) const {
    if (all || o.all) return TypeSet{};
    auto r = names;
    r.insert(o.names.begin(), o.names.end());
    return of(std::move(r));
  }
};

// ---- output templates ----------------------------------------------------------

struct OutputTemplate {
  struct Seg {
    std::string lit;
    int field = -1;
  };
  std::vector<Seg> segs;
  std::vector<FieldRef> fields;
  size_t keys = 0;  // distinct field names among fields
};

// ---- compiled rules ------------------------------------------------------------

// One step of a rule's branch program: test a check, go to on_true / on_false:
// the index of the next step, or kAccept / kReject. Every jump goes forward.
struct Instr {
  static constexpr int32_t kAccept = -1;
  static constexpr int32_t kReject = -2;
  const CheckExpr* check = nullptr;  // nullptr: always true (an empty `and`)
  int32_t on_true = kAccept;
  int32_t on_false = kReject;
};

bool runProgram(const std::vector<Instr>& prog, EvalState& st) {
  int32_t pc = 0;
  for (;;) {
    const Instr& in = prog[static_cast<size_t>(pc)];
    bool r = in.check == nullptr || in.check->test(st);
    pc = r ? in.on_true : in.on_false;
    if (pc < 0) return pc == Instr::kAccept;
  }
}

struct CompiledRule {
  std::string name;
  Priority priority = Priority::kDebug;
  std::vector<std::string> tags;
  std::unique_ptr<Expr> cond;  // the tree, for planning
  std::vector<Instr> prog;     // what evaluate() runs
  OutputTemplate output;
  mutable std::atomic<uint64_t> matches{0};
  mutable std::atomic<uint64_t> errors{0};
};

}  // namespace

// ---- the engine ------------------------------------------------------------------

// The rules one event type meets. Rules whose condition requires proc.name to
// be one of a set of names are listed only under those names.
// The rules one event type meets, and which of them an event can match:
// a rule whose condition requires proc.name to be one of some names is
// listed only under those names; otherwise a rule that requires fd.name to be
// one of some paths or to start with one of some prefixes (startswith, pmatch,
// fd.directory) only under those; the rest run on every event of the type.
// Sets of rules are bit masks over `rules`, so the union keeps rule order.
struct Bucket {
  using Mask = std::vector<uint64_t>;
  int type_id = -1;
  std::vector<const CompiledRule*> rules;  // all, in rule order
  Mask always;                             // rules no index can skip
  absl::flat_hash_map<std::string, Mask> by_name;      // proc.name value
  absl::flat_hash_map<std::string, Mask> path_exact;   // fd.name value
  absl::flat_hash_map<std::string, Mask> path_prefix;  // fd.name prefix
  std::vector<size_t> prefix_lens;                     // of path_prefix keys, ascending
  size_t words() const { return (rules.size() + 63) / 64; }
};

struct RuleEngine::Impl {
  std::vector<RuleInfo> infos;
  std::vector<std::unique_ptr<CompiledRule>> rules;
  absl::flat_hash_map<std::string, Bucket> by_type;
  Bucket any_type;  // rules for event types no rule names
  FieldRef proc_name, fd_name;
  std::vector<uint64_t> mask;  // evaluate(): the rules to run
  absl::flat_hash_map<std::string, int> slot_of;  // field name -> cache slot
  EvalState state;
  uint64_t seq = 0;
  size_t check_uses = 0, distinct_checks = 0;  // checks in all rules / after merging
  api::Event alert;                             // reused for every alert (see evaluate)
  const void* alert_fields_of = nullptr;        // rule whose output_fields keys alert holds
  std::array<std::string, 16> source_names;     // Event field name by event_case
  const std::string& sourceName(int c) {
    static const std::string kNone;
    if (c <= 0 || c >= static_cast<int>(source_names.size())) return kNone;
    std::string& n = source_names[static_cast<size_t>(c)];
    if (n.empty()) {
      const auto* d = api::Event::descriptor()->FindFieldByNumber(c);
      if (d) n = d->name();
    }
    return n;
  }
  std::atomic<bool> busy{false};
  std::atomic<uint64_t> events{0}, evaluations{0}, alerts{0}, runtime_errors{0}, refused{0};

  absl::flat_hash_map<std::string, int> type_id_of;  // interned evt.type names
  int typeId(const std::string& t) {
    auto it = type_id_of.find(t);
    if (it != type_id_of.end()) return it->second;
    int id = static_cast<int>(type_id_of.size());
    type_id_of[t] = id;
    return id;
  }

  int slotFor(const std::string& name) {
    auto it = slot_of.find(name);
    if (it != slot_of.end()) return it->second;
    int s = static_cast<int>(slot_of.size());
    slot_of[name] = s;
    return s;
  }
};

namespace {

// Compiles one rule's condition tree; records problems instead of stopping at
// the first, so a rule's report lists every missing field.
class Compiler {
 public:
  Compiler(const RuleSet& set, RuleEngine::Impl& impl, std::vector<Diagnostic>& diags,
           const RuleLimits& limits)
      : set_(set), impl_(impl), diags_(diags), limits_(limits) {}

  size_t totalSize() const { return total_size_; }

  struct Result {
    std::unique_ptr<Expr> expr;
    TypeSet types;
    std::vector<std::string> problems;
    std::vector<std::string> missing_fields;
    bool unknown_field_only = true;  // every problem is an unknown/unavailable field
  };

  Result compileRule(const RuleDef& r, std::vector<std::unique_ptr<CondNode>>* keep) {
    Result res;
    res_ = &res;
    rule_ = &r;
    cond_ = &r.condition;
    size_ = 0;
    depth_ = 0;
    over_limit_ = false;
    size_budget_ = std::min(limits_.max_rule_size,
                            limits_.max_total_size > total_size_ ? limits_.max_total_size - total_size_ : 0);
    ParseError pe;
    auto ast = parseCondition(r.condition.joined(), &pe, limits_.max_parse_depth);
    if (!ast) {
      problem(r.condition.posAt(pe.pos), "condition: " + pe.message, false);
      return res;
    }
    std::unique_ptr<CondNode> full = std::move(ast);
    // Exceptions: cond and not (row or row ...) for each exception.
    for (const auto& ex : r.exceptions) {
      auto node = exceptionNode(ex);
      if (!node) continue;  // problem recorded, or no values
      auto a = std::make_unique<CondNode>();
      a->kind = CondNode::Kind::kAnd;
      a->children.push_back(std::move(full));
      auto n = std::make_unique<CondNode>();
      n->kind = CondNode::Kind::kNot;
      n->children.push_back(std::move(node));
      a->children.push_back(std::move(n));
      full = std::move(a);
    }
    cond_ = &r.condition;
    TypeSet ts;
    auto e = compile(*full, &ts);
    if (res.problems.empty()) {
      total_size_ += size_;
      res.expr = std::move(e);
      res.types = ts;
    }
    keep->push_back(std::move(full));
    return res;
  }

  bool compileOutput(const RuleDef& r, OutputTemplate* out, Result* res) {
    res_ = res;
    rule_ = &r;
    const std::string& s = r.output;
    std::string lit;
    for (size_t i = 0; i < s.size(); i++) {
      if (s[i] != '%') {
        lit += s[i];
        continue;
      }
      size_t b = i + 1, e = b;
      while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_' || s[e] == '.')) e++;
      while (e > b && s[e - 1] == '.') e--;
      if (e < s.size() && s[e] == '[') {
        auto close = s.find(']', e);
        if (close != std::string::npos) e = close + 1;
      }
      if (e == b) {
        lit += '%';
        continue;
      }
      std::string tok = s.substr(b, e - b);
      auto f = resolveFieldToken(tok);
      if (!f.ok()) {
        problem(r.output_pos, "output: " + std::string(f.status().message()), true, fieldOf(tok));
      } else {
        if (!lit.empty()) out->segs.push_back({std::move(lit), -1});
        lit.clear();
        f->slot = impl_.slotFor(f->name);
        out->fields.push_back(*f);
        out->segs.push_back({"", static_cast<int>(out->fields.size() - 1)});
      }
      i = e - 1;
    }
    if (!lit.empty()) out->segs.push_back({std::move(lit), -1});
    std::set<std::string> names;
    for (const auto& f : out->fields) names.insert(f.name);
    out->keys = names.size();
    return true;
  }

 private:
  const RuleSet& set_;
  RuleEngine::Impl& impl_;
  std::vector<Diagnostic>& diags_;
  Result* res_ = nullptr;
  const RuleDef* rule_ = nullptr;
  const CondText* cond_ = nullptr;           // text positions of the node being compiled
  std::vector<std::string> macro_stack_;
  std::map<std::string, std::unique_ptr<CondNode>> macro_ast_;
  std::set<std::string> bad_macros_;
  const RuleLimits limits_;
  size_t size_ = 0;          // expanded size of the rule being compiled
  size_t size_budget_ = 0;   // what it may reach
  size_t total_size_ = 0;    // of the rules compiled so far
  int depth_ = 0;            // nesting of the node being compiled, macros expanded
  bool over_limit_ = false;  // a limit was hit: stop expanding this rule

  // Counts n more nodes/items of the rule; false (problem recorded once) past the budget.
  bool grow(size_t n, const SourcePos& pos) {
    if (over_limit_) return false;
    size_ += n;
    if (size_ <= size_budget_) return true;
    over_limit_ = true;
    if (size_budget_ < limits_.max_rule_size) {
      problem(pos, absl::StrCat("the rules expand to more than ", limits_.max_total_size,
                                " condition nodes and list items in all (limit: total expanded size)"),
              false);
    } else {
      problem(pos, absl::StrCat("condition expands to more than ", limits_.max_rule_size,
                                " nodes and list items after macro and list expansion (limit: expanded "
                                "rule size; a macro used twice is expanded twice)"),
              false);
    }
    return false;
  }

  static std::string fieldOf(const std::string& tok) {
    auto lb = tok.find('[');
    return lb == std::string::npos ? tok : tok.substr(0, lb);
  }

  void problem(const SourcePos& pos, const std::string& msg, bool is_field,
               const std::string& field = "") {
    std::string where;
    if (macro_stack_.size() > 8) {
      where = absl::StrCat(" (in macro '", absl::StrJoin(macro_stack_.begin(), macro_stack_.begin() + 3, "' <- '"),
                           "' <- ... ", macro_stack_.size() - 6, " more ... <- '",
                           absl::StrJoin(macro_stack_.end() - 3, macro_stack_.end(), "' <- '"), "')");
    } else if (!macro_stack_.empty()) {
      where = " (in macro '" + absl::StrJoin(macro_stack_, "' <- '") + "')";
    }
    std::string full = msg + where;
    diags_.push_back({false, pos, "rule '" + rule_->name + "': " + full});
    res_->problems.push_back(full);
    if (!is_field) res_->unknown_field_only = false;
    if (!field.empty() &&
        std::find(res_->missing_fields.begin(), res_->missing_fields.end(), field) ==
            res_->missing_fields.end()) {
      res_->missing_fields.push_back(field);
    }
  }

  SourcePos posOf(const CondNode& n) const {
    return cond_ ? cond_->posAt(n.pos) : rule_->pos;
  }

  std::unique_ptr<CondNode> exceptionNode(const ExceptionDef& ex) {
    if (ex.values.empty()) return nullptr;
    if (ex.fields.empty()) {
      problem(ex.pos, "exception '" + ex.name + "' has values but no fields", false);
      return nullptr;
    }
    std::vector<std::string> comps = ex.comps;
    if (comps.empty()) comps.assign(ex.fields.size(), ex.single_field ? "in" : "=");
    if (comps.size() != ex.fields.size()) {
      problem(ex.pos, absl::StrCat("exception '", ex.name, "': ", comps.size(), " comps for ",
                                   ex.fields.size(), " fields"), false);
      return nullptr;
    }
    auto any = std::make_unique<CondNode>();
    any->kind = CondNode::Kind::kOr;
    auto check = [&](const std::string& field, const std::string& comp,
                     const std::vector<ExceptionDef::Entry>& entries) -> std::unique_ptr<CondNode> {
      auto c = std::make_unique<CondNode>();
      c->kind = CondNode::Kind::kCheck;
      auto lb = field.find('[');
      if (lb != std::string::npos && field.back() == ']') {
        c->field = field.substr(0, lb);
        c->has_arg = true;
        c->field_arg = field.substr(lb + 1, field.size() - lb - 2);
      } else {
        c->field = field;
      }
      c->op = comp == "==" ? "=" : comp;
      c->list_rhs = isListOperator(c->op);
      for (const auto& en : entries) {
        for (const auto& it : en.items) c->values.push_back({it, false});
      }
      if (!c->list_rhs && c->values.size() != 1) {
        problem(ex.pos, "exception '" + ex.name + "': operator '" + comp + "' takes one value", false);
        return nullptr;
      }
      return c;
    };
    if (ex.single_field) {
      // fields: f, values: [a, b] -> f in (a, b)
      std::vector<ExceptionDef::Entry> all;
      for (const auto& row : ex.values) all.insert(all.end(), row.begin(), row.end());
      auto c = check(ex.fields[0], comps[0], all);
      if (!c) return nullptr;
      any->children.push_back(std::move(c));
    } else {
      for (const auto& row : ex.values) {
        if (row.size() != ex.fields.size()) {
          problem(ex.pos, absl::StrCat("exception '", ex.name, "': ", row.size(), " values for ",
                                       ex.fields.size(), " fields"), false);
          return nullptr;
        }
        auto a = std::make_unique<CondNode>();
        a->kind = CondNode::Kind::kAnd;
        for (size_t i = 0; i < ex.fields.size(); i++) {
          auto c = check(ex.fields[i], comps[i], {row[i]});
          if (!c) return nullptr;
          a->children.push_back(std::move(c));
        }
        any->children.push_back(std::move(a));
      }
    }
    return any;
  }

  const CondNode* macroAst(const std::string& name, const MacroDef& m) {
    auto it = macro_ast_.find(name);
    if (it != macro_ast_.end()) return it->second.get();
    if (bad_macros_.count(name)) {
      problem(m.pos, "macro '" + name + "' does not parse", false);
      return nullptr;
    }
    ParseError pe;
    auto ast = parseCondition(m.condition.joined(), &pe, limits_.max_parse_depth);
    if (!ast) {
      bad_macros_.insert(name);
      problem(m.condition.posAt(pe.pos), "macro '" + name + "' condition: " + pe.message, false);
      return nullptr;
    }
    return (macro_ast_[name] = std::move(ast)).get();
  }

  // Expands list names among the values (recursively: lists may hold lists).
  // False (problem recorded) when a limit is hit.
  bool expandValues(const CondNode& n, const std::vector<CondValue>& in, std::vector<std::string>* out,
                    int depth = 0) {
    for (const auto& v : in) {
      auto it = v.quoted ? set_.lists.end() : set_.lists.find(v.text);
      if (it == set_.lists.end()) {
        if (!grow(1, posOf(n))) return false;
        out->push_back(v.text);
        continue;
      }
      if (depth >= limits_.max_list_depth) {
        over_limit_ = true;
        problem(it->second.pos, absl::StrCat("list '", v.text, "' nests lists deeper than ",
                                             limits_.max_list_depth, " levels (limit: list depth)"),
                false);
        return false;
      }
      std::vector<CondValue> sub;
      for (const auto& s : it->second.items) sub.push_back({s, false});
      if (!expandValues(n, sub, out, depth + 1)) return false;
    }
    return true;
  }

  std::unique_ptr<Expr> compile(const CondNode& n, TypeSet* ts) {
    if (over_limit_) return nullptr;
    if (n.kind != CondNode::Kind::kMacro) {
      if (!grow(1, posOf(n))) return nullptr;
      if (depth_ >= limits_.max_condition_depth) {
        over_limit_ = true;
        problem(posOf(n), absl::StrCat("condition nests deeper than ", limits_.max_condition_depth,
                                       " levels after macro expansion (limit: expanded condition depth)"),
                false);
        return nullptr;
      }
    }
    ++depth_;
    auto e = compileNode(n, ts);
    --depth_;
    return e;
  }

  std::unique_ptr<Expr> compileNode(const CondNode& n, TypeSet* ts) {
    switch (n.kind) {
      case CondNode::Kind::kAnd:
      case CondNode::Kind::kOr: {
        bool is_and = n.kind == CondNode::Kind::kAnd;
        auto a = std::make_unique<AndExpr>();
        auto o = std::make_unique<OrExpr>();
        TypeSet acc = is_and ? TypeSet{} : TypeSet::of({});
        bool ok = true;
        for (const auto& c : n.children) {
          TypeSet t;
          auto e = compile(*c, &t);
          acc = is_and ? acc.intersect(t) : acc.unite(t);
          if (!e) {
            ok = false;
            if (over_limit_) break;
            continue;
          }
          (is_and ? a->c : o->c).push_back(std::move(e));
        }
        *ts = acc;
        if (!ok) return nullptr;
        if (is_and) return a;
        return o;
      }
      case CondNode::Kind::kNot: {
        TypeSet t;
        auto c = compile(*n.children[0], &t);
        *ts = TypeSet{};  // conservative: a negation may match any type
        if (!c) return nullptr;
        auto e = std::make_unique<NotExpr>();
        e->c = std::move(c);
        return e;
      }
      case CondNode::Kind::kMacro: {
        auto it = set_.macros.find(n.name);
        if (it == set_.macros.end()) {
          problem(posOf(n), "undefined macro '" + n.name + "'", false);
          return nullptr;
        }
        if (std::find(macro_stack_.begin(), macro_stack_.end(), n.name) != macro_stack_.end()) {
          problem(posOf(n), "macro '" + n.name + "' refers to itself", false);
          return nullptr;
        }
        if (macro_stack_.size() >= static_cast<size_t>(limits_.max_macro_depth)) {
          over_limit_ = true;
          problem(posOf(n), absl::StrCat("macro '", n.name, "' is expanded ", macro_stack_.size() + 1,
                                         " macros deep, more than ", limits_.max_macro_depth,
                                         " (limit: macro depth)"),
                  false);
          return nullptr;
        }
        const CondNode* ast = macroAst(n.name, it->second);
        if (!ast) return nullptr;
        const CondText* saved = cond_;
        cond_ = &it->second.condition;
        macro_stack_.push_back(n.name);
        auto e = compile(*ast, ts);
        macro_stack_.pop_back();
        cond_ = saved;
        return e;
      }
      case CondNode::Kind::kCheck: return compileCheck(n, ts);
    }
    return nullptr;
  }

  std::unique_ptr<Expr> compileCheck(const CondNode& n, TypeSet* ts) {
    *ts = TypeSet{};
    auto f = resolveField(n.field, n.has_arg, n.field_arg);
    if (!f.ok()) {
      bool unknown = f.status().code() == absl::StatusCode::kNotFound;
      problem(posOf(n), std::string(f.status().message()), unknown, unknown ? n.field : "");
      return nullptr;
    }
    auto e = std::make_unique<CheckExpr>();
    f->slot = impl_.slotFor(f->name);
    e->field = *f;
    e->slot = f->slot;
    e->def = f->def;
    e->type = f->def->type;
    if (!opFromString(n.op, &e->op)) {
      problem(posOf(n), "unknown operator '" + n.op + "'", false);
      return nullptr;
    }
    for (auto it = n.transformers.rbegin(); it != n.transformers.rend(); ++it) {
      const std::string& t = *it;
      if (e->type != FieldType::kString) {
        problem(posOf(n), "transformer " + t + "() needs a string field, '" + f->name + "' is a " +
                              fieldTypeName(e->type), false);
        return nullptr;
      }
      if (t == "tolower") e->xf.push_back(Xf::kToLower);
      else if (t == "toupper") e->xf.push_back(Xf::kToUpper);
      else if (t == "basename") e->xf.push_back(Xf::kBaseName);
      else if (t == "len") {
        e->xf.push_back(Xf::kLen);
        e->type = FieldType::kNumber;
      } else {
        problem(posOf(n), "transformer " + t + "() is not supported by Vigil", false);
        return nullptr;
      }
    }
    std::string fname = f->name;
    if (!n.transformers.empty()) {
      for (const auto& t : n.transformers) fname = t + "(" + fname;
      fname += std::string(n.transformers.size(), ')');
    }
    Op op = e->op;
    e->key = fname + '\x1f' + n.op;
    if (op == Op::kExists) return e;
    bool string_only = op == Op::kContains || op == Op::kIContains || op == Op::kBContains ||
                       op == Op::kStartsWith || op == Op::kBStartsWith || op == Op::kEndsWith ||
                       op == Op::kGlob || op == Op::kIGlob || op == Op::kRegex || op == Op::kPmatch;
    if (string_only && e->type != FieldType::kString) {
      problem(posOf(n), "operator '" + n.op + "' needs a string field, '" + fname + "' is a " +
                            fieldTypeName(e->type), false);
      return nullptr;
    }
    if (e->type == FieldType::kIp && (op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe)) {
      problem(posOf(n), "operator '" + n.op + "' does not apply to address field '" + fname + "'", false);
      return nullptr;
    }
    std::vector<std::string> vals;
    if (n.list_rhs) {
      if (!expandValues(n, n.values, &vals)) return nullptr;
    } else {
      vals.push_back(n.values.at(0).text);
    }
    {
      std::vector<std::string> k = vals;
      if (n.list_rhs) {
        std::sort(k.begin(), k.end());
        k.erase(std::unique(k.begin(), k.end()), k.end());
        e->key += "\x1f(";
      }
      for (const auto& v : k) absl::StrAppend(&e->key, "\x1f", v.size(), ":", v);
    }
    auto badValue = [&](const std::string& v, const char* what) {
      problem(posOf(n), "'" + v + "' is not " + what + " (field '" + fname + "' is a " +
                            fieldTypeName(e->type) + ")", false);
    };
    auto parseNum = [&](const std::string& v, int64_t* out) {
      if (v == "true") *out = 1;
      else if (v == "false") *out = 0;
      else if (!absl::SimpleAtoi(v, out)) return false;
      return true;
    };
    if (n.list_rhs) {
      for (const auto& v : vals) {
        if (e->type == FieldType::kString) {
          if (op == Op::kPmatch) {
            std::string p = v;
            while (p.size() > 1 && p.back() == '/') p.pop_back();
            e->paths.push_back(p);
          } else {
            e->strset.insert(v);
            e->addLen(v.size());
            e->addSig(v);
          }
        } else if (e->type == FieldType::kNumber) {
          int64_t x;
          if (!parseNum(v, &x)) {
            badValue(v, "a number");
            return nullptr;
          }
          e->numset.insert(x);
        } else {
          IpNet ip;
          if (!parseIpNet(v, &ip)) {
            badValue(v, "an address or network");
            return nullptr;
          }
          e->nets.push_back(ip);
        }
      }
    } else {
      const std::string& v = vals[0];
      if (e->type == FieldType::kString) {
        e->str = v;
        if (op == Op::kEq) e->addLen(v.size());
        if (op == Op::kIContains) e->str = lower(v);
        if (op == Op::kBContains || op == Op::kBStartsWith) {
          // Operand is hex bytes ("48454c4c4f").
          std::string bytes;
          bool ok = v.size() % 2 == 0;
          for (size_t i = 0; ok && i < v.size(); i += 2) {
            int x = 0;
            ok = absl::SimpleHexAtoi(v.substr(i, 2), &x);
            bytes += static_cast<char>(x);
          }
          if (!ok) {
            badValue(v, "hex bytes");
            return nullptr;
          }
          e->str = bytes;
        }
        if (op == Op::kRegex) {
          RE2::Options o;
          o.set_log_errors(false);
          e->re = std::make_unique<RE2>(v, o);
          if (!e->re->ok()) {
            problem(posOf(n), "regex '" + v + "': " + e->re->error(), false);
            return nullptr;
          }
        }
      } else if (e->type == FieldType::kNumber) {
        if (!parseNum(v, &e->num)) {
          badValue(v, "a number");
          return nullptr;
        }
      } else if (!parseIpNet(v, &e->net)) {
        badValue(v, "an address or network");
        return nullptr;
      }
    }
    if (f->name == "evt.type" && n.transformers.empty() && (op == Op::kEq || op == Op::kIn)) {
      *ts = TypeSet::of(std::set<std::string>(vals.begin(), vals.end()));
    }
    if (f->name == "evt.type" && n.transformers.empty() &&
        (op == Op::kEq || op == Op::kIn || op == Op::kNe)) {
      e->type_check = true;
      for (const auto& v : vals) {
        size_t id = static_cast<size_t>(impl_.typeId(v));
        if (e->type_ids.size() <= id) e->type_ids.resize(id + 1, false);
        e->type_ids[id] = true;
      }
    }
    return e;
  }
};

void renderField(EvalState& st, const FieldRef& f, std::string* out) {
  const FieldValues& v = st.fetch(f);
  if (v.size() == 0) out->assign("<NA>");
  else if (v.type == FieldType::kString) out->assign(v.s[0].data(), v.s[0].size());
  else *out = v.render(0);
}

}  // namespace

bool parsePriority(const std::string& s, Priority* out) {
  static const std::map<std::string, Priority> m = {
      {"emergency", Priority::kEmergency}, {"alert", Priority::kAlert},
      {"critical", Priority::kCritical},   {"error", Priority::kError},
      {"warning", Priority::kWarning},     {"notice", Priority::kNotice},
      {"informational", Priority::kInformational}, {"info", Priority::kInformational},
      {"debug", Priority::kDebug}};
  auto it = m.find(lower(s));
  if (it == m.end()) return false;
  *out = it->second;
  return true;
}

const char* priorityName(Priority p) {
  static const char* kNames[] = {"EMERGENCY", "ALERT",  "CRITICAL",      "ERROR",
                                 "WARNING",   "NOTICE", "INFORMATIONAL", "DEBUG"};
  return kNames[static_cast<int>(p)];
}

const char* ruleStateName(RuleInfo::State s) {
  switch (s) {
    case RuleInfo::State::kCompiled: return "compiled";
    case RuleInfo::State::kDisabled: return "disabled";
    case RuleInfo::State::kFiltered: return "below minimum priority";
    case RuleInfo::State::kSkipped: return "skipped";
    case RuleInfo::State::kFailed: return "failed";
  }
  return "?";
}

RuleEngine::RuleEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleEngine::~RuleEngine() = default;

namespace {

// The proc.name values a condition can match, if it can only match some:
// `a and proc.name in (x, y)` -> {x, y}; `(proc.name = x and ..) or proc.name = y`
// -> {x, y}; anything under `not`, or a branch without such a check -> none.
std::optional<std::set<std::string>> requiredNames(const Expr* e) {
  if (auto* c = dynamic_cast<const CheckExpr*>(e)) {
    if (c->field.name != "proc.name" || !c->xf.empty() || c->type_check) return std::nullopt;
    if (c->op == Op::kEq) return std::set<std::string>{c->str};
    if (c->op == Op::kIn) return std::set<std::string>(c->strset.begin(), c->strset.end());
    return std::nullopt;
  }
  if (auto* a = dynamic_cast<const AndExpr*>(e)) {
    std::optional<std::set<std::string>> r;
    for (const auto& ch : a->c) {
      auto x = requiredNames(ch.get());
      if (!x) continue;
      if (!r) {
        r = std::move(x);
        continue;
      }
      std::set<std::string> both;
      for (const auto& n : *r) {
        if (x->count(n)) both.insert(n);
      }
      r = std::move(both);
    }
    return r;
  }
  if (auto* o = dynamic_cast<const OrExpr*>(e)) {
    std::set<std::string> all;
    for (const auto& ch : o->c) {
      auto x = requiredNames(ch.get());
      if (!x) return std::nullopt;
      all.insert(x->begin(), x->end());
    }
    return all;
  }
  return std::nullopt;
}

// ---- planning ---------------------------------------------------------------

// Merges identical checks across all rules (the first one of each key becomes
// the canonical check with a memo slot) and counts how many rules use each.
class Planner {
 public:
  void intern(Expr* e) {
    if (auto* c = dynamic_cast<CheckExpr*>(e)) {
      auto [it, fresh] = by_key_.try_emplace(c->key, c);
      if (fresh) {
        c->id = static_cast<int>(checks_.size());
        if (!c->numset.empty() && c->numset.size() <= 8) c->numlist.assign(c->numset.begin(), c->numset.end());
        c->specialise();
        c->setRoutine();
        checks_.push_back(c);
        uses_.push_back(0);
      }
      if (++uses_[static_cast<size_t>(it->second->id)] > 1) it->second->shared = true;
      return;
    }
    if (auto* a = dynamic_cast<AndExpr*>(e)) {
      for (auto& ch : a->c) intern(ch.get());
    } else if (auto* o = dynamic_cast<OrExpr*>(e)) {
      for (auto& ch : o->c) intern(ch.get());
    } else if (auto* n = dynamic_cast<NotExpr*>(e)) {
      intern(n->c.get());
    }
  }

  // Orders the operands of every and/or so that the expected work is least:
  // an `and` runs first what is cheap and likely false, an `or` what is cheap
  // and likely true (the classic order by cost / chance of deciding, for
  // independent operands). Checks have no side effects, so the result is the
  // same; only the work to reach it changes. Chances are guesses: a positive
  // check is rarely true (0.1), `!=`, `exists` and evt.type usually (0.9); a `not`
  // inverts. The sort is stable, so equal estimates keep the author's order.
  struct Est {
    double cost = 0;
    double p = 0.5;  // chance of being true
  };
  Est order(Expr* e) {
    if (auto* c = dynamic_cast<CheckExpr*>(e)) {
      const CheckExpr& k = *canonical(c);
      // Rules are indexed by event type, so where a type check runs it is
      // nearly always true.
      double p = k.op == Op::kNe || k.op == Op::kExists || k.type_check ? 0.9 : 0.1;
      return {static_cast<double>(cost(k)), p};
    }
    if (auto* n = dynamic_cast<NotExpr*>(e)) {
      Est x = order(n->c.get());
      return {x.cost, 1 - x.p};
    }
    bool is_and = dynamic_cast<AndExpr*>(e) != nullptr;
    auto* kids = is_and ? &static_cast<AndExpr*>(e)->c : &static_cast<OrExpr*>(e)->c;
    std::vector<std::pair<Est, std::unique_ptr<Expr>>> est;
    for (auto& k : *kids) {
      Est x = order(k.get());
      est.emplace_back(x, std::move(k));
    }
    // and: stop on false (1 - p); or: stop on true (p).
    auto rank = [is_and](const Est& x) {
      double decide = is_and ? 1 - x.p : x.p;
      return x.cost / std::max(decide, 1e-3);
    };
    std::stable_sort(est.begin(), est.end(),
                     [&](const auto& x, const auto& y) { return rank(x.first) < rank(y.first); });
    kids->clear();
    Est total{0, is_and ? 1.0 : 0.0};
    double reach = 1;  // chance that evaluation gets to this operand
    for (auto& [x, k] : est) {
      total.cost += reach * x.cost;
      reach *= is_and ? x.p : 1 - x.p;
      kids->push_back(std::move(k));
    }
    total.p = is_and ? reach : 1 - reach;
    return total;
  }

  // Flattens a condition into a branch program.
  std::vector<Instr> flatten(const Expr* e) {
    prog_.clear();
    labels_.clear();
    emit(e, Instr::kAccept, Instr::kReject);
    for (auto& in : prog_) {
      if (in.on_true >= 0) in.on_true = labels_[static_cast<size_t>(in.on_true)];
      if (in.on_false >= 0) in.on_false = labels_[static_cast<size_t>(in.on_false)];
    }
    return std::move(prog_);
  }

  size_t distinctChecks() const { return checks_.size(); }
  size_t checkUses() const {
    size_t n = 0;
    for (int u : uses_) n += static_cast<size_t>(u);
    return n;
  }

 private:
  absl::flat_hash_map<std::string, CheckExpr*> by_key_;
  std::vector<CheckExpr*> checks_;
  std::vector<int> uses_;
  std::vector<Instr> prog_;
  std::vector<int32_t> labels_;  // label -> program index (targets >= 0 are labels until resolved)

  CheckExpr* canonical(const CheckExpr* c) const { return by_key_.at(c->key); }

  // Rough instructions to run a check: the operator, the field's extraction,
  // transformers; a check several rules share is paid for once per event.
  int cost(const CheckExpr& c) const {
    if (c.type_check) return 1;
    int k = 0;
    switch (c.op) {
      case Op::kExists: k = 1; break;
      case Op::kEq: case Op::kNe: case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe:
      case Op::kStartsWith: case Op::kBStartsWith: case Op::kEndsWith: k = 2; break;
      case Op::kIn: case Op::kIntersects: k = 4; break;
      case Op::kContains: case Op::kBContains: k = 6; break;
      case Op::kPmatch: k = 3 + static_cast<int>(c.paths.size()); break;
      case Op::kIContains: k = 12; break;
      case Op::kGlob: case Op::kIGlob: k = 25; break;
      case Op::kRegex: k = 40; break;
    }
    const std::string& f = c.field.name;
    if (f.find("cmdline") != std::string::npos || f == "evt.args" || f.rfind("thread.cap", 0) == 0) {
      k += 6;  // built from several fields
    } else if (f.rfind("evt.time", 0) == 0 || f == "evt.rawtime" || f == "proc.duration" ||
               (f.rfind("proc.a", 0) == 0 && c.field.index < 0)) {
      k += 8;  // parses time, or walks every ancestor
    } else if (f.rfind("fd.", 0) == 0) {
      k += 2;
    }
    k += 8 * static_cast<int>(c.xf.size());
    int uses = uses_[static_cast<size_t>(c.id)];
    return uses > 1 ? std::max(1, k / uses) : k;
  }

  int32_t newLabel() {
    labels_.push_back(-1);
    return static_cast<int32_t>(labels_.size() - 1);
  }
  void bind(int32_t label) { labels_[static_cast<size_t>(label)] = static_cast<int32_t>(prog_.size()); }

  // Emits e so that it continues at t when true and at f when false.
  void emit(const Expr* e, int32_t t, int32_t f) {
    if (auto* c = dynamic_cast<const CheckExpr*>(e)) {
      prog_.push_back({canonical(c), t, f});
      return;
    }
    if (auto* n = dynamic_cast<const NotExpr*>(e)) {
      emit(n->c.get(), f, t);
      return;
    }
    bool is_and = dynamic_cast<const AndExpr*>(e) != nullptr;
    const auto& kids = is_and ? static_cast<const AndExpr*>(e)->c : static_cast<const OrExpr*>(e)->c;
    if (kids.empty()) {  // and() is true, or() is false
      prog_.push_back({nullptr, is_and ? t : f, is_and ? t : f});
      return;
    }
    for (size_t i = 0; i < kids.size(); i++) {
      if (i + 1 == kids.size()) {
        emit(kids[i].get(), t, f);
        break;
      }
      int32_t next = newLabel();
      if (is_and) emit(kids[i].get(), next, f);
      else emit(kids[i].get(), t, next);
      bind(next);
    }
  }
};

// The fd.name values a condition can match, if it can only match some: exact
// paths and prefixes. fd.directory = D needs fd.name to start with D/ (the
// directory is fd.name up to its last slash); pmatch P is P itself or below P/.
struct PathReq {
  std::set<std::string> exact, prefix;
  size_t size() const { return exact.size() + prefix.size(); }
};
std::optional<PathReq> requiredPaths(const Expr* e) {
  if (auto* c = dynamic_cast<const CheckExpr*>(e)) {
    if (!c->xf.empty() || c->type_check) return std::nullopt;
    PathReq r;
    if (c->field.name == "fd.name") {
      if (c->op == Op::kEq) r.exact.insert(c->str);
      else if (c->op == Op::kIn) r.exact.insert(c->strset.begin(), c->strset.end());
      else if (c->op == Op::kStartsWith) r.prefix.insert(c->str);
      else if (c->op == Op::kPmatch) {
        for (const auto& p : c->paths) {
          if (p == "/") {
            r.prefix.insert("/");
          } else {
            r.exact.insert(p);
            r.prefix.insert(p + "/");
          }
        }
      } else {
        return std::nullopt;
      }
      return r;
    }
    if (c->field.name == "fd.directory" && (c->op == Op::kEq || c->op == Op::kIn)) {
      std::vector<std::string> dirs;
      if (c->op == Op::kEq) dirs.push_back(c->str);
      else dirs.assign(c->strset.begin(), c->strset.end());
      for (const auto& d : dirs) {
        if (d.empty() || d[0] != '/') return std::nullopt;  // "." (no slash): not a prefix
        r.prefix.insert(d == "/" ? d : d + "/");
      }
      return r;
    }
    return std::nullopt;
  }
  if (auto* a = dynamic_cast<const AndExpr*>(e)) {
    std::optional<PathReq> best;  // any operand's requirement holds; keep the narrowest
    for (const auto& ch : a->c) {
      auto x = requiredPaths(ch.get());
      if (x && (!best || x->size() < best->size())) best = std::move(x);
    }
    return best;
  }
  if (auto* o = dynamic_cast<const OrExpr*>(e)) {
    PathReq all;
    for (const auto& ch : o->c) {
      auto x = requiredPaths(ch.get());
      if (!x) return std::nullopt;
      all.exact.insert(x->exact.begin(), x->exact.end());
      all.prefix.insert(x->prefix.begin(), x->prefix.end());
    }
    return all;
  }
  return std::nullopt;
}

void indexBucket(Bucket& b) {
  size_t words = b.words();
  b.always.assign(words, 0);
  std::set<size_t> lens;
  auto set = [&](Bucket::Mask& m, size_t i) {
    if (m.empty()) m.assign(words, 0);
    m[i / 64] |= 1ull << (i % 64);
  };
  for (size_t i = 0; i < b.rules.size(); i++) {
    const Expr* cond = b.rules[i]->cond.get();
    if (auto names = requiredNames(cond)) {
      for (const auto& n : *names) set(b.by_name[n], i);
    } else if (auto paths = requiredPaths(cond)) {
      for (const auto& p : paths->exact) set(b.path_exact[p], i);
      for (const auto& p : paths->prefix) {
        set(b.path_prefix[p], i);
        lens.insert(p.size());
      }
    } else {
      set(b.always, i);
    }
  }
  b.prefix_lens.assign(lens.begin(), lens.end());
}

absl::StatusOr<std::unique_ptr<RuleEngine::Impl>> build(const RuleSet& set, const LoadOptions& opts,
                                                        std::vector<Diagnostic>* out_diags) {
  auto impl = std::make_unique<RuleEngine::Impl>();
  std::vector<Diagnostic> diags = set.diags;
  Compiler comp(set, *impl, diags, opts.limits);
  std::vector<std::unique_ptr<CondNode>> asts;
  std::vector<std::pair<std::unique_ptr<CompiledRule>, TypeSet>> compiled;
  bool failed = set.hasErrors();
  for (const auto& r : set.rules) {
    RuleInfo info;
    info.name = r.name;
    info.pos = r.pos;
    if (!r.enabled) {
      info.state = RuleInfo::State::kDisabled;
      impl->infos.push_back(std::move(info));
      continue;
    }
    if (r.source != "syscall") {
      info.state = RuleInfo::State::kSkipped;
      info.problems.push_back("source '" + r.source + "' is not Vigil's (syscall)");
      diags.push_back({true, r.pos, "rule '" + r.name + "': source '" + r.source + "' skipped"});
      impl->infos.push_back(std::move(info));
      continue;
    }
    auto cr = std::make_unique<CompiledRule>();
    cr->name = r.name;
    cr->tags = r.tags;
    Priority p = Priority::kDebug;
    size_t ndiags = diags.size();
    auto res = comp.compileRule(r, &asts);
    comp.compileOutput(r, &cr->output, &res);
    if (!parsePriority(r.priority, &p)) {
      diags.push_back({false, r.priority_pos,
                       "rule '" + r.name + "': unknown priority '" + r.priority +
                           "' (emergency, alert, critical, error, warning, notice, informational, debug)"});
      res.problems.push_back("unknown priority '" + r.priority + "'");
      res.unknown_field_only = false;
    }
    if (res.problems.empty() && !res.expr) {
      res.problems.push_back("condition did not compile");
      res.unknown_field_only = false;
    }
    info.missing_fields = res.missing_fields;
    info.problems = res.problems;
    if (!res.problems.empty()) {
      if (r.skip_if_unknown_filter && res.unknown_field_only) {
        // The file asked for it: a warning, not an error.
        for (size_t i = ndiags; i < diags.size(); i++) {
          diags[i].warning = true;
          diags[i].message += "; rule skipped (skip-if-unknown-filter)";
        }
        info.state = RuleInfo::State::kSkipped;
      } else {
        info.state = RuleInfo::State::kFailed;
        if (!opts.skip_invalid_rules) failed = true;
        if (opts.skip_invalid_rules && opts.invalid_rules_warn) {
          for (size_t i = ndiags; i < diags.size(); i++) {
            diags[i].warning = true;
            diags[i].message += "; rule skipped (--skip-invalid)";
          }
        }
      }
      impl->infos.push_back(std::move(info));
      continue;
    }
    if (p > opts.min_priority) {
      info.state = RuleInfo::State::kFiltered;
      impl->infos.push_back(std::move(info));
      continue;
    }
    cr->priority = p;
    cr->cond = std::move(res.expr);
    info.state = RuleInfo::State::kCompiled;
    if (!res.types.all) {
      info.event_types.assign(res.types.names.begin(), res.types.names.end());
      bool live = std::any_of(info.event_types.begin(), info.event_types.end(),
                              [](const std::string& t) { return isEmittedEventType(t); });
      if (!live) {
        info.dormant = true;
        std::string why = "Vigil's built-in hooks emit no " + absl::StrJoin(info.event_types, "/") +
                          " events; a policy on " + eventTypeSources(info.event_types) + " does";
        info.problems.push_back(why);
        diags.push_back({true, r.pos, "rule '" + r.name + "': matches only with a TracingPolicy: " + why});
      }
    } else {
      diags.push_back({true, r.pos, "rule '" + r.name +
                                        "': condition does not restrict evt.type; it runs on every event"});
    }
    impl->infos.push_back(std::move(info));
    compiled.emplace_back(std::move(cr), res.types);
  }
  if (out_diags) *out_diags = diags;
  if (failed) {
    std::string first;
    size_t n = 0;
    for (const auto& d : diags) {
      if (d.warning) continue;
      if (n++ == 0) first = d.str();
    }
    return absl::InvalidArgumentError(
        n > 1 ? absl::StrCat(first, " (and ", n - 1, " more errors)") : first);
  }
  // Index by event type, keeping rule order within each bucket.
  std::set<std::string> names;
  for (const auto& [r, t] : compiled) {
    if (!t.all) names.insert(t.names.begin(), t.names.end());
  }
  for (const auto& n : names) impl->by_type[n];
  // Plan: merge identical checks, order operands cheapest first, flatten.
  Planner plan;
  for (auto& [r, t] : compiled) plan.intern(r->cond.get());
  for (auto& [r, t] : compiled) {
    plan.order(r->cond.get());
    r->prog = plan.flatten(r->cond.get());
  }
  impl->state.memo.assign(plan.distinctChecks(), 0);
  impl->check_uses = plan.checkUses();
  impl->distinct_checks = plan.distinctChecks();
  for (auto& [r, t] : compiled) {
    const CompiledRule* cr = r.get();
    if (t.all) {
      impl->any_type.rules.push_back(cr);
      for (auto& [n, b] : impl->by_type) b.rules.push_back(cr);
    } else {
      for (const auto& n : t.names) impl->by_type[n].rules.push_back(cr);
    }
    impl->rules.push_back(std::move(r));
  }
  for (auto& [n, b] : impl->by_type) {
    indexBucket(b);
    b.type_id = impl->typeId(n);
  }
  indexBucket(impl->any_type);
  impl->proc_name = *resolveField("proc.name", false, "");
  impl->proc_name.slot = impl->slotFor("proc.name");
  impl->fd_name = *resolveField("fd.name", false, "");
  impl->fd_name.slot = impl->slotFor("fd.name");
  impl->state.slots.resize(impl->slot_of.size());
  return impl;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RuleEngine>> RuleEngine::loadTexts(
    const std::vector<std::pair<std::string, std::string>>& docs, const LoadOptions& options,
    std::vector<Diagnostic>* diags) {
  try {
    RuleSet set;
    for (const auto& [name, text] : docs) loadRuleText(name, text, &set);
    auto impl = build(set, options, diags);
    if (!impl.ok()) return impl.status();
    return std::unique_ptr<RuleEngine>(new RuleEngine(std::move(*impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("rules: ") + e.what());
  }
}

absl::StatusOr<std::unique_ptr<RuleEngine>> RuleEngine::load(const std::vector<std::string>& files,
                                                             const LoadOptions& options,
                                                             std::vector<Diagnostic>* diags) {
  try {
    RuleSet set;
    for (const auto& f : files) loadRuleFile(f, &set);
    auto impl = build(set, options, diags);
    if (!impl.ok()) return impl.status();
    return std::unique_ptr<RuleEngine>(new RuleEngine(std::move(*impl)));
  } catch (const std::exception& e) {
    return absl::InternalError(std::string("rules: ") + e.what());
  }
}

std::vector<std::string> RuleEngine::ruleFilesIn(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    auto ends = [&](const char* s) {
      size_t l = strlen(s);
      return n.size() > l && n.compare(n.size() - l, l, s) == 0;
    };
    if (ends(".yaml") || ends(".yml")) out.push_back(dir + "/" + n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
// Counters written only by the thread inside evaluate() (the busy flag keeps it
// to one) and read by any: a plain add, not a locked read-modify-write.
void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
}  // namespace

void RuleEngine::evaluate(const api::Event& event,
                          const std::function<void(api::Event&&)>& on_alert) {
  Impl& m = *impl_;
  if (m.busy.exchange(true, std::memory_order_acquire)) {
    m.refused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bump(m.events);
  EvalState& st = m.state;
  st.view.reset(event, ++m.seq);
  st.gen++;
  if (st.view.evt_type.empty()) {  // status and rule alerts are not evaluated
    m.busy.store(false, std::memory_order_release);
    return;
  }
  auto it = m.by_type.find(asv(st.view.evt_type));
  if (it != m.by_type.end()) {
    st.type_id = it->second.type_id;
  } else {
    auto tid = m.type_id_of.find(asv(st.view.evt_type));
    st.type_id = tid != m.type_id_of.end() ? tid->second : -1;
  }
  const Bucket& bucket = it != m.by_type.end() ? it->second : m.any_type;
  std::vector<uint64_t>& mask = m.mask;
  mask.assign(bucket.always.begin(), bucket.always.end());
  auto add = [&](const absl::flat_hash_map<std::string, Bucket::Mask>& index, std::string_view key) {
    auto n = index.find(asv(key));
    if (n == index.end()) return;
    for (size_t w = 0; w < mask.size(); w++) mask[w] |= n->second[w];
  };
  if (!bucket.by_name.empty()) {
    const FieldValues& name = st.fetch(m.proc_name);
    if (name.size() > 0) add(bucket.by_name, name.s[0]);
  }
  if (!bucket.path_exact.empty() || !bucket.path_prefix.empty()) {
    const FieldValues& path = st.fetch(m.fd_name);
    if (path.size() > 0) {
      std::string_view p = path.s[0];
      if (!bucket.path_exact.empty()) add(bucket.path_exact, p);
      for (size_t len : bucket.prefix_lens) {
        if (len > p.size()) break;
        add(bucket.path_prefix, p.substr(0, len));
      }
    }
  }
  size_t nrules = 0;
  for (uint64_t w : mask) nrules += static_cast<size_t>(__builtin_popcountll(w));
  bump(m.evaluations, nrules);
  for (size_t w = 0; w < mask.size(); w++) {
   for (uint64_t bits = mask[w]; bits != 0; bits &= bits - 1) {
    const CompiledRule* r = bucket.rules[w * 64 + static_cast<size_t>(__builtin_ctzll(bits))];
    uint32_t errs = st.view.extract_errors;
    bool hit = false;
    try {
      hit = runProgram(r->prog, st);
    } catch (const std::exception&) {
      st.view.extract_errors++;
    }
    if (st.view.extract_errors != errs) {
      bump(r->errors);
      bump(m.runtime_errors);
    }
    if (!hit) continue;
    bump(r->matches);
    bump(m.alerts);
    try {
      // The alert is built in an event the engine keeps: its strings, tags,
      // map nodes and process messages keep their memory from one alert to
      // the next (a callee that moves the alert away just leaves it empty).
      api::Event& out = m.alert;
      out.set_node_name(event.node_name());
      out.set_time(event.time());
      out.set_schema_version(event.schema_version());
      auto* a = out.mutable_rule_alert();
      a->set_rule(r->name);
      a->set_priority(priorityName(r->priority));
      a->clear_tags();
      for (const auto& t : r->tags) a->add_tags(t);
      std::string* text = a->mutable_output();
      text->clear();
      auto* fields = a->mutable_output_fields();
      // The same rule fills the same keys: overwrite them in place.
      if (m.alert_fields_of != r || fields->size() != r->output.keys) fields->clear();
      m.alert_fields_of = r;
      for (const auto& seg : r->output.segs) {
        if (seg.field < 0) {
          *text += seg.lit;
          continue;
        }
        const FieldRef& f = r->output.fields[static_cast<size_t>(seg.field)];
        std::string& v = (*fields)[f.name];
        renderField(st, f, &v);
        *text += v;
      }
      a->set_source(m.sourceName(event.event_case()));
      if (st.view.proc) *a->mutable_process() = *st.view.proc;
      else a->clear_process();
      if (st.view.parent && st.view.parent->ByteSizeLong() > 0) *a->mutable_parent() = *st.view.parent;
      else a->clear_parent();
      on_alert(std::move(out));
    } catch (const std::exception&) {
      bump(r->errors);
      bump(m.runtime_errors);
    }
   }
  }
  m.busy.store(false, std::memory_order_release);
}

Stats RuleEngine::stats() const {
  Stats s;
  s.events = impl_->events.load(std::memory_order_relaxed);
  s.rule_evaluations = impl_->evaluations.load(std::memory_order_relaxed);
  s.alerts = impl_->alerts.load(std::memory_order_relaxed);
  s.runtime_errors = impl_->runtime_errors.load(std::memory_order_relaxed);
  s.refused = impl_->refused.load(std::memory_order_relaxed);
  return s;
}

std::vector<RuleStats> RuleEngine::ruleStats() const {
  std::vector<RuleStats> out;
  for (const auto& r : impl_->rules) {
    out.push_back({r->name, r->matches.load(std::memory_order_relaxed),
                   r->errors.load(std::memory_order_relaxed)});
  }
  return out;
}

const std::vector<RuleInfo>& RuleEngine::rules() const { return impl_->infos; }
size_t RuleEngine::compiledRules() const { return impl_->rules.size(); }

}  // namespace vigil::rules
