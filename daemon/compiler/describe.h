// What a set of policies becomes in the kernel, as JSON, without a kernel:
// `vigilctl policy compile`. Programs and their attach points, per-argument
// reads, every selector with its filters and the map entries it owns.
#pragma once

#include <string>
#include <vector>

#include "daemon/compiler/compiler.h"
#include "daemon/policy/policy_ir.h"

namespace vigil::compiler {

// policies: what `set` was compiled from, in the same order.
std::string describeJson(const std::vector<policy::Policy>& policies, const CompiledSet& set);

}  // namespace vigil::compiler
