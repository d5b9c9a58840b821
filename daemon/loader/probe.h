// Kernel feature probe: what this kernel lets Vigil load and attach.
//
// Probes load tiny programs (never attach them) and read sysfs/securityfs, so
// they are safe on any host. The daemon decides per hook from the result and
// says why a hook cannot be enforced.
#pragma once

#include <string>
#include <vector>

namespace vigil::loader {

struct Feature {
  std::string name;
  bool ok = false;
  std::string detail;  // what was seen: the reason when !ok
};

struct KernelFeatures {
  std::string kernel_release;
  Feature btf;            // /sys/kernel/btf/vmlinux
  Feature bpf_lsm_active; // "bpf" among the active LSMs
  Feature lsm_programs;   // an lsm/file_open program loads
  Feature trampolines;    // an fentry program loads
  Feature tp_btf;         // a tp_btf program loads
  Feature kprobes;        // kprobe PMU present
  Feature ringbuf;
  Feature send_signal;
  Feature d_path;         // bpf_d_path (needed by the file hooks)
  Feature read_kernel;    // bpf_probe_read_kernel (refused by lockdown=confidentiality)
  Feature btf_reads;      // bpf_rdonly_cast in tp_btf: exec paths without read_kernel (6.2+)
  std::string lockdown;   // none | integrity | confidentiality | unknown

  // BPF LSM can enforce: active in lsm= and its programs load.
  bool lsmUsable() const { return bpf_lsm_active.ok && lsm_programs.ok; }
  // fmod_ret on security_* functions: enforces lsmhooks where BPF LSM is off.
  bool fmodRetUsable() const { return trampolines.ok; }
  // Why LSM hooks cannot be enforced by either mechanism; empty when they can.
  std::string lsmUnusableReason() const;
  std::vector<const Feature*> all() const;
};

KernelFeatures probeKernel();

}  // namespace vigil::loader
