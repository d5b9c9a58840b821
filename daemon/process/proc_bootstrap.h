// Seeds the kernel process table with processes that started before Vigil:
// their binaries come from /proc/PID/exe, resolved the way the kernel's
// d_path resolves them at exec.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vigil/abi/abi.h"

namespace vigil::process {

// hash_key: vg_config.hash_key, as the kernel hashes binaries at exec.
vg_proc procEntryForBinary(const std::string& path, const __u64 hash_key[2]);

// The capabilities and namespaces of the process at /proc/PID (dir) into
// p.exec_caps / exec_ns: the baseline matchCapabilityChanges and
// matchNamespaceChanges compare with for processes that predate Vigil.
void seedExecState(const std::string& dir, vg_proc& p);

// Every process under proc_root whose executable can be read (kernel threads
// have none and are skipped).
std::vector<std::pair<uint32_t, vg_proc>> scanProcesses(const std::string& proc_root,
                                                        const __u64 hash_key[2]);

}  // namespace vigil::process
