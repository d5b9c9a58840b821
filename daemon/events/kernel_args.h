// Rendering of the kernel argument types (enum vg_arg_kind 20..31: char_buf,
// skb, module, bpf_attr, ...) into the schema's Arg, in Tetragon's shapes
// (skb_arg, module_arg, bpf_attr_arg, ...).
#pragma once

#include <string>
#include <string_view>

#include "vigil/events.pb.h"
#include "daemon/events/hook_event.h"

namespace vigil::events {

// Fills arg from a, a kind 20..31; type is the policy's type name (it tells
// kernel_cap_t from cap_effective, ...). False for other kinds.
bool fillKernelArg(const HookArgValue& a, std::string_view type, api::Arg* arg);

// Names Tetragon uses for these numbers ("BPF_PROG_TYPE_KPROBE").
std::string bpfProgTypeName(uint32_t t);
std::string bpfMapTypeName(uint32_t t);
std::string perfTypeName(uint32_t t);
// "CAP_CHOWN CAP_DAC_OVERRIDE" for a capability set.
std::string capabilitySetNames(uint64_t caps);
std::string familyName(uint16_t family);
std::string protocolName(uint8_t protocol);

}  // namespace vigil::events
