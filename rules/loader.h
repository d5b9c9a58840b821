// Falco rule files (YAML) -> the merged set of rules, macros and lists, with
// the position of everything for errors. Later files and later items override
// earlier ones the way Falco does: a redefinition replaces, `append: true` and
// `override:` append or replace single keys.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vigil::rules {

struct SourcePos {
  std::string file;
  int line = 0;  // 1-based; 0: unknown
  int col = 0;
  std::string str() const;  // "file:line:col"
};

struct Diagnostic {
  bool warning = false;
  SourcePos pos;
  std::string message;
  std::string str() const;  // "file:line:col: message" (+ " (warning)")
};

// A condition may be built from several pieces (appends); each keeps its own
// position so an error in an appended piece points into the file it came from.
struct CondText {
  struct Piece {
    std::string text;
    SourcePos pos;             // where the scalar starts
    std::vector<int> line_of;  // per byte of text: file line (0: unknown)
    std::vector<int> col_of;   // per byte of text: file column
  };
  std::vector<Piece> pieces;
  std::string joined() const;  // pieces joined with a space
  SourcePos posAt(size_t offset) const;  // file position of a byte of joined()
  bool empty() const { return pieces.empty(); }
};

struct ListDef {
  std::string name;
  std::vector<std::string> items;  // surrounding quotes removed
  SourcePos pos;
};

struct MacroDef {
  std::string name;
  CondText condition;
  SourcePos pos;
};

struct ExceptionDef {
  struct Entry {
    std::vector<std::string> items;  // one scalar, or a list
    bool is_list = false;
  };
  std::string name;
  std::vector<std::string> fields;
  bool single_field = false;  // `fields: proc.name` (values are a plain list)
  std::vector<std::string> comps;
  std::vector<std::vector<Entry>> values;
  SourcePos pos;
};

struct RuleDef {
  std::string name;
  std::string desc;
  CondText condition;
  std::string output;
  SourcePos output_pos;
  std::string priority;
  SourcePos priority_pos;
  std::vector<std::string> tags;
  bool enabled = true;
  bool skip_if_unknown_filter = false;
  std::string source = "syscall";
  std::vector<ExceptionDef> exceptions;
  SourcePos pos;
};

struct RuleSet {
  std::vector<RuleDef> rules;  // in order of first definition
  std::map<std::string, MacroDef> macros;
  std::map<std::string, ListDef> lists;
  std::vector<Diagnostic> diags;
  bool hasErrors() const;
};

// The Falco engine version whose rule language this engine implements; a
// file's required_engine_version above it is an error.
inline constexpr const char* kFalcoEngineVersion = "0.57.0";

// Adds one file's items to set. Never throws; problems go to set->diags.
void loadRuleFile(const std::string& path, RuleSet* set);
// Same, from text (name is used in positions).
void loadRuleText(const std::string& name, const std::string& text, RuleSet* set);

}  // namespace vigil::rules
