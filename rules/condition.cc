#include "rules/condition.h"

#include <cctype>
#include <cstring>

namespace vigil::rules {
namespace {

constexpr const char* kWordOps[] = {"contains", "icontains",  "bcontains", "startswith",
                                    "bstartswith", "endswith", "glob",     "iglob",
                                    "regex",    "in",         "intersects", "pmatch",
                                    "exists"};
constexpr const char* kTransformers[] = {"tolower", "toupper", "basename", "len", "b64"};

bool isIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
// Falco's bare string: anything but blanks, parentheses, quotes, '=' and ','.
bool isBareChar(char c) {
  return !(std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '"' ||
           c == '\'' || c == '=' || c == ',');
}

class Parser {
 public:
  Parser(const std::string& s, int max_depth) : s_(s), max_depth_(max_depth) {}

  std::unique_ptr<CondNode> parse(ParseError* err) {
    auto n = parseOr();
    if (n && (skipWs(), pos_ < s_.size())) {
      fail("unexpected '" + tokenAt(pos_) + "' after a complete expression");
      n.reset();
    }
    if (!n) *err = err_;
    return n;
  }

 private:
  const std::string& s_;
  size_t pos_ = 0;
  ParseError err_;
  bool failed_ = false;
  const int max_depth_;
  int depth_ = 0;

  // One nesting level, for as long as it lives; ok() is false (and the error
  // recorded) when the level is one too many.
  class Nest {
   public:
    explicit Nest(Parser& p) : p_(p) {
      if (++p_.depth_ > p_.max_depth_) {
        p_.fail("condition nests deeper than " + std::to_string(p_.max_depth_) +
                " levels of parentheses, 'not' and transformers (limit: parse depth)");
      }
    }
    ~Nest() { --p_.depth_; }
    bool ok() const { return p_.depth_ <= p_.max_depth_; }

   private:
    Parser& p_;
  };

  void fail(const std::string& msg, size_t at = std::string::npos) {
    if (failed_) return;
    failed_ = true;
    err_.pos = at == std::string::npos ? pos_ : at;
    err_.message = msg;
  }

  std::string tokenAt(size_t p) const {
    if (p >= s_.size()) return "end of condition";
    size_t e = p;
    while (e < s_.size() && !std::isspace(static_cast<unsigned char>(s_[e])) && e - p < 32) e++;
    if (e == p) e = p + 1;
    return s_.substr(p, e - p);
  }

  void skipWs() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) pos_++;
  }

  // A keyword is a whole word: "and" but not "android".
  bool peekWord(const char* w) {
    skipWs();
    size_t n = strlen(w);
    if (s_.compare(pos_, n, w) != 0) return false;
    return pos_ + n >= s_.size() || !isIdentChar(s_[pos_ + n]) || s_[pos_ + n] == '(';
  }
  bool acceptWord(const char* w) {
    if (!peekWord(w)) return false;
    pos_ += strlen(w);
    return true;
  }

  std::unique_ptr<CondNode> parseOr() {
    Nest nest(*this);
    if (!nest.ok()) return nullptr;
    auto first = parseAnd();
    if (!first) return nullptr;
    if (!peekWord("or")) return first;
    auto n = std::make_unique<CondNode>();
    n->kind = CondNode::Kind::kOr;
    n->pos = first->pos;
    n->children.push_back(std::move(first));
    while (acceptWord("or")) {
      auto c = parseAnd();
      if (!c) return nullptr;
      n->children.push_back(std::move(c));
    }
    return n;
  }

  std::unique_ptr<CondNode> parseAnd() {
    auto first = parseNot();
    if (!first) return nullptr;
    if (!peekWord("and")) return first;
    auto n = std::make_unique<CondNode>();
    n->kind = CondNode::Kind::kAnd;
    n->pos = first->pos;
    n->children.push_back(std::move(first));
    while (acceptWord("and")) {
      auto c = parseNot();
      if (!c) return nullptr;
      n->children.push_back(std::move(c));
    }
    return n;
  }

  std::unique_ptr<CondNode> parseNot() {
    skipWs();
    size_t at = pos_;
    if (acceptWord("not")) {
      Nest nest(*this);
      if (!nest.ok()) return nullptr;
      auto c = parseNot();
      if (!c) return nullptr;
      auto n = std::make_unique<CondNode>();
      n->kind = CondNode::Kind::kNot;
      n->pos = at;
      n->children.push_back(std::move(c));
      return n;
    }
    return parsePrimary();
  }

  std::unique_ptr<CondNode> parsePrimary() {
    skipWs();
    if (pos_ >= s_.size()) {
      fail("expression expected, found end of condition");
      return nullptr;
    }
    if (s_[pos_] == '(') {
      pos_++;
      auto n = parseOr();
      if (!n) return nullptr;
      skipWs();
      if (pos_ >= s_.size() || s_[pos_] != ')') {
        fail("')' expected, found '" + tokenAt(pos_) + "'");
        return nullptr;
      }
      pos_++;
      return n;
    }
    size_t at = pos_;
    if (!isIdentStart(s_[pos_])) {
      fail("field or macro name expected, found '" + tokenAt(pos_) + "'");
      return nullptr;
    }
    if (peekWord("and") || peekWord("or")) {
      fail("expression expected before '" + tokenAt(pos_) + "'");
      return nullptr;
    }
    auto n = std::make_unique<CondNode>();
    n->pos = at;
    if (!parseLhs(*n)) return nullptr;
    if (n->field.find('.') == std::string::npos && n->transformers.empty() && !n->has_arg &&
        !operatorFollows()) {
      // A name without a dot is a macro (Falco's fields are class.name; Vigil's
      // `hook` is the one dotless field, and a field is followed by an operator).
      skipWs();
      n->kind = CondNode::Kind::kMacro;
      n->name = n->field;
      n->field.clear();
      return n;
    }
    n->kind = CondNode::Kind::kCheck;
    if (!parseOperator(*n)) return nullptr;
    if (isUnaryOperator(n->op)) return n;
    if (!parseRhs(*n)) return nullptr;
    return n;
  }

  std::string readIdent() {
    size_t b = pos_;
    while (pos_ < s_.size() && (isIdentChar(s_[pos_]) || s_[pos_] == '.')) pos_++;
    return s_.substr(b, pos_ - b);
  }

  bool parseLhs(CondNode& n) {
    skipWs();
    size_t at = pos_;
    std::string id = readIdent();
    if (id.empty()) {
      fail("field name expected, found '" + tokenAt(at) + "'", at);
      return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '(' && id.find('.') == std::string::npos) {
      bool known = false;
      for (const char* t : kTransformers) known |= id == t;
      if (!known) {
        fail("unknown field transformer '" + id + "'", at);
        return false;
      }
      pos_++;
      Nest nest(*this);
      if (!nest.ok()) return false;
      n.transformers.push_back(id);
      if (!parseLhs(n)) return false;
      skipWs();
      if (pos_ >= s_.size() || s_[pos_] != ')') {
        fail("')' expected to close " + id + "(, found '" + tokenAt(pos_) + "'");
        return false;
      }
      pos_++;
      return true;
    }
    n.field = id;
    if (pos_ < s_.size() && s_[pos_] == '[') {
      size_t close = s_.find(']', pos_);
      if (close == std::string::npos) {
        fail("']' expected to close the field argument", pos_);
        return false;
      }
      n.has_arg = true;
      n.field_arg = s_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
    }
    if (!n.transformers.empty() && n.field.find('.') == std::string::npos) {
      fail("field name expected inside " + n.transformers.back() + "(), found '" + id + "'", at);
      return false;
    }
    return true;
  }

  bool operatorFollows() {
    size_t save = pos_;
    bool saved_failed = failed_;
    CondNode probe;
    bool ok = parseOperator(probe);
    pos_ = save;
    failed_ = saved_failed;
    return ok;
  }

  bool parseOperator(CondNode& n) {
    skipWs();
    size_t at = pos_;
    static constexpr const char* kSymOps[] = {"==", "!=", "<=", ">=", "=", "<", ">"};
    for (const char* op : kSymOps) {
      if (s_.compare(pos_, strlen(op), op) == 0) {
        pos_ += strlen(op);
        n.op = op;
        if (n.op == "==") n.op = "=";
        return true;
      }
    }
    for (const char* op : kWordOps) {
      if (peekWord(op)) {
        pos_ += strlen(op);
        n.op = op;
        return true;
      }
    }
    fail("operator expected after field '" + n.fieldName() + "', found '" + tokenAt(at) + "'", at);
    return false;
  }

  bool parseValue(CondValue& v) {
    skipWs();
    if (pos_ >= s_.size()) {
      fail("value expected, found end of condition");
      return false;
    }
    char q = s_[pos_];
    if (q == '"' || q == '\'') {
      size_t at = pos_++;
      std::string out;
      while (pos_ < s_.size() && s_[pos_] != q) {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
          char e = s_[pos_ + 1];
          if (e == q || e == '\\' || e == '"' || e == '\'') {
            out += e;
            pos_ += 2;
            continue;
          }
        }
        out += s_[pos_++];
      }
      if (pos_ >= s_.size()) {
        fail("unterminated quoted string", at);
        return false;
      }
      pos_++;
      v.text = std::move(out);
      v.quoted = true;
      return true;
    }
    size_t b = pos_;
    while (pos_ < s_.size() && isBareChar(s_[pos_])) pos_++;
    if (pos_ == b) {
      fail("value expected, found '" + tokenAt(pos_) + "'");
      return false;
    }
    v.text = s_.substr(b, pos_ - b);
    return true;
  }

  bool parseRhs(CondNode& n) {
    skipWs();
    if (isListOperator(n.op)) {
      if (pos_ >= s_.size() || s_[pos_] != '(') {
        fail("'(' expected: operator '" + n.op + "' takes a list, found '" + tokenAt(pos_) + "'");
        return false;
      }
      pos_++;
      n.list_rhs = true;
      skipWs();
      if (pos_ < s_.size() && s_[pos_] == ')') {
        pos_++;
        return true;  // empty list: matches nothing
      }
      while (true) {
        CondValue v;
        if (!parseValue(v)) return false;
        n.values.push_back(std::move(v));
        skipWs();
        if (pos_ < s_.size() && s_[pos_] == ',') {
          pos_++;
          continue;
        }
        if (pos_ < s_.size() && s_[pos_] == ')') {
          pos_++;
          return true;
        }
        fail("',' or ')' expected in the list, found '" + tokenAt(pos_) + "'");
        return false;
      }
    }
    if (pos_ < s_.size() && s_[pos_] == '(') {
      fail("operator '" + n.op + "' takes a single value, not a list");
      return false;
    }
    CondValue v;
    if (!parseValue(v)) return false;
    n.values.push_back(std::move(v));
    return true;
  }
};

}  // namespace

std::string CondNode::fieldName() const {
  return has_arg ? field + "[" + field_arg + "]" : field;
}

bool isListOperator(const std::string& op) {
  return op == "in" || op == "intersects" || op == "pmatch";
}
bool isUnaryOperator(const std::string& op) { return op == "exists"; }

std::unique_ptr<CondNode> parseCondition(const std::string& text, ParseError* error, int max_depth) {
  Parser p(text, max_depth);
  return p.parse(error);
}

}  // namespace vigil::rules
