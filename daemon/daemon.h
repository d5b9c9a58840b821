// vigild's life cycle: load and check policies, probe the kernel, refuse what
// cannot be enforced, load and attach, then stream events until told to stop.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "daemon/policy/policy_ir.h"

namespace vigil {

struct DaemonOptions {
  std::vector<std::string> policy_files;
  std::vector<std::string> policy_dirs;
  bool audit_all = false;
  bool allow_degraded = false;  // run without the policies the kernel cannot enforce
  bool process_events = true;   // emit process_exec / process_exit
  uint32_t args_max = 1024;
  // How exec records get binary, argv and cwd: "auto" (probe), "helper"
  // (bpf_probe_read_kernel), "btf" (BTF-typed reads only, as under
  // lockdown=confidentiality), "proc" (userspace reads /proc). Hidden option
  // --exec-reads, for tests.
  std::string exec_reads = "auto";
  // --kprobe-mechanism (or vigil.yaml kprobe_mechanism): auto | fentry |
  // kprobe; empty: the config's, else auto.
  std::string kprobe_mechanism;
  int ancestors = 4;
  std::string node_name;  // default: hostname
  uint32_t ringbuf_kb = 0;       // 0: default (8 MiB)
  std::string pin_dir;
  std::string metrics_listen;
  std::string control_socket;    // unix socket for vigilctl (status, policy changes, events)    // "127.0.0.1:9464": Prometheus /metrics; empty: off           // bpffs dir: enforcement survives the daemon (see LoadPlan)
  // Keep the kernel's BPF run-time stats on while vigild runs (BPF_ENABLE_STATS)
  // so /metrics has run time and count per program; off: only if the sysctl
  // kernel.bpf_stats_enabled is set.
  bool bpf_stats = true;
  int loss_report_seconds = 5;  // how often kernel-side losses are checked and reported
  std::string config_file;              // vigil.yaml: `rules:` and `exporters:` sections
  std::vector<std::string> rule_files;  // Falco-style rule files, in order
  std::vector<std::string> rule_dirs;
};

// Exit codes, documented in vigild --help.
enum ExitCode {
  kExitOk = 0,
  kExitUsage = 1,
  kExitPolicyError = 2,   // a policy file is invalid
  kExitUnenforceable = 3, // the kernel cannot enforce a requested policy
  kExitKernelError = 4,   // loading or attaching failed
  kExitUnavailable = 5,   // an address to listen on is in use or unavailable (metrics)
};

// Policy files named directly plus the *.yaml / *.yml files of each directory,
// sorted by name. Errors name the directory.
absl::StatusOr<std::vector<std::string>> listPolicyFiles(const std::vector<std::string>& files,
                                                         const std::vector<std::string>& dirs);

// Parses and validates every file; prints every diagnostic as FILE:LINE:COL.
// Returns the policies, or nothing if any file had an error.
// When errors is given, the diagnostics are also appended there.
std::optional<std::vector<policy::Policy>> loadPolicies(const std::vector<std::string>& files,
                                                        std::vector<std::string>* errors = nullptr);

int runDaemon(const DaemonOptions& options);

}  // namespace vigil
