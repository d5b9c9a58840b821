// `vigilctl rules ...`: offline checks of rule files and replays of recorded
// events (the way users tune rules).
#pragma once

#include <string>
#include <vector>

namespace vigil::rules {

// args: what follows "rules" on the command line. Returns the exit code.
//   check FILE...                                  0 ok, 1 errors, 2 usage
//   test --rules FILE [--rules FILE]... --events FILE.jsonl [--skip-invalid]
int rulesCommand(const std::vector<std::string>& args);

}  // namespace vigil::rules
