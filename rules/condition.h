// Falco condition language: the syntax tree and its parser.
//
// Grammar (Falco's, libsinsp filter/parser):
//   expr    := and_expr ("or" and_expr)*
//   and     := not_expr ("and" not_expr)*
//   not     := "not" not | primary
//   primary := "(" expr ")" | MACRO | check
//   check   := lhs "exists" | lhs OP value | lhs LISTOP "(" [value ("," value)*] ")"
//   lhs     := FIELD | TRANSFORMER "(" lhs ")"     (tolower, toupper, basename, len)
//   value   := QUOTED | BARESTR
// Macros and lists are names only here; the engine expands them when it compiles a rule.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace vigil::rules {

struct CondValue {
  std::string text;
  bool quoted = false;  // a quoted value is never taken for a list name
};

struct CondNode {
  enum class Kind { kAnd, kOr, kNot, kCheck, kMacro };
  Kind kind = Kind::kCheck;
  size_t pos = 0;  // byte offset in the condition text

  std::vector<std::unique_ptr<CondNode>> children;  // kAnd, kOr (2+), kNot (1)

  // kCheck
  std::string field;                      // "proc.aname"
  std::string field_arg;                  // "2" for proc.aname[2], "flags" for evt.arg.flags
  bool has_arg = false;                   // [..] given
  std::vector<std::string> transformers;  // outermost first: tolower(basename(x)) -> {tolower, basename}
  std::string op;                         // "=", "in", "exists", ...
  bool list_rhs = false;                  // rhs is a parenthesised list
  std::vector<CondValue> values;

  // kMacro
  std::string name;

  std::string fieldName() const;  // field with its argument, as written
};

// A syntax error: offset in the text and a message naming the offending token.
struct ParseError {
  size_t pos = 0;
  std::string message;
};

// How deeply a condition may nest parentheses, `not` and transformers: the
// parser (and everything that walks the tree) recurses once per level, so an
// unbounded depth is a stack overflow. docs/security.md, "Limits".
inline constexpr int kDefaultMaxParseDepth = 100;

// Parses a condition. On error, fills *error (never throws). Nesting deeper than
// max_depth is an error naming the limit, at the token that went too deep.
std::unique_ptr<CondNode> parseCondition(const std::string& text, ParseError* error,
                                         int max_depth = kDefaultMaxParseDepth);

// Whether op takes a list on its right-hand side / no operand at all.
bool isListOperator(const std::string& op);
bool isUnaryOperator(const std::string& op);

}  // namespace vigil::rules
