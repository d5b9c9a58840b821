// vigild: the Vigil daemon. Command line only here; the work is in daemon.cc.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "daemon/daemon.h"
#include "daemon/journal_log.h"

namespace {

constexpr const char* kUsage = R"(Usage: vigild [OPTION]...
Turns TracingPolicy YAML files into BPF LSM programs that filter and enforce in
the kernel, and writes one JSON event per line on stdout.

Options:
  --policy FILE       load a TracingPolicy file (repeatable)
  --policy-dir DIR    load every *.yaml / *.yml file in DIR, sorted by name
                      (repeatable; default /etc/vigil/policies.d when no
                      --policy or --policy-dir is given)
  --config FILE       vigil.yaml with `rules:` (files, dirs) and `exporters:`
                      (sinks: stdout, file, syslog, HTTP; see docs/exporters.md)
                      sections (default: /etc/vigil/vigil.yaml when it exists;
                      without exporters, events are JSON lines on stdout)
  --rules FILE        load a Falco-style rule file (repeatable, in order)
  --rules-dir DIR     load every *.yaml / *.yml rule file in DIR (repeatable)
  --audit             daemon-wide audit: every policy runs as if its mode were
                      monitor; nothing is denied or killed and events say what
                      would have happened
  --allow-degraded    on a kernel that cannot enforce lsmhooks (no BPF LSM, or
                      its programs refused), run without those policies
                      instead of exiting 3: each is reported as a status event
                      and process events still flow
  --kprobe-mechanism auto|fentry|kprobe
                      how kprobes attach: auto (default) uses fentry/fexit
                      where the kernel allows it for the function and falls
                      back to kprobe/kretprobe for that function only (logged,
                      and reported as a status event); fentry never uses
                      kprobes; kprobe never uses trampolines (kernels whose
                      trampolines are broken). Override needs fmod_ret: a
                      policy that overrides a kprobe is refused without it.
                      Also vigil.yaml `kprobe_mechanism:`; this option wins
  --no-process-events do not write process_exec / process_exit events
  --args-max BYTES    argv bytes kept in exec events (default 1024, max 4095;
                      longer argv is flagged truncated)
  --ancestors N       ancestors listed in exec events beyond the parent (default 4)
  --ring-buffer-kb N  kernel event ring buffer size in KiB, a power of two
                      (default 8192); events that do not fit while vigild is
                      busy are counted per hook and reported as status events
  --pin-dir DIR       pin maps and links in DIR (on bpffs, e.g. /sys/fs/bpf/vigil)
                      so that enforcement and the event ring buffer outlive a
                      crash or restart; the next start adopts them, reads the
                      events queued meanwhile, and a clean stop removes them
  --control-socket PATH
                      unix socket (mode 0600) for vigilctl status, policy
                      enable/disable/set-mode, reload and events
  --metrics-listen ADDR:PORT
                      serve Prometheus metrics at http://ADDR:PORT/metrics
                      (events by type and policy, kernel losses and denials,
                      exporter queues and drops, policy load errors) and
                      /healthz; ADDR is an IPv4 or [IPv6] literal; bound
                      before vigild reports ready
  --no-bpf-stats      do not turn the kernel's BPF run-time stats on for
                      vigild's lifetime (they cost some ns per program run);
                      /metrics then shows vigil_bpf_run_* only when the sysctl
                      kernel.bpf_stats_enabled is 1
  --node-name NAME    node_name in events (default: the host name)
  --log-level LEVEL   trace|debug|info|warn|error (default info)
  --log-target TARGET auto|stderr|journal (default auto): where log lines go;
                      auto sends them to the systemd journal, with structured
                      fields (PRIORITY, VIGIL_POLICY, VIGIL_FILE/LINE/COLUMN,
                      CODE_FILE/LINE), when stderr is connected to it
                      (JOURNAL_STREAM), else to stderr
  --help              this text
  --version           version

Signals: SIGHUP re-reads policies and rules as one transaction (a broken
file keeps the running set and is reported); SIGINT/SIGTERM stop.

Exit status:
  0 stopped by SIGINT/SIGTERM   1 usage error   2 invalid policy (FILE:LINE:COL
  on stderr)   3 the kernel cannot enforce a requested policy (the reason is
  logged; see `vigilctl probe`)   4 loading or attaching BPF programs failed
  5 the metrics address cannot be bound (in use; systemd retries)
)";

bool takeValue(int argc, char** argv, int& i, const char* name, std::string& out) {
  if (i + 1 >= argc) {
    fprintf(stderr, "vigild: %s needs a value\n", name);
    return false;
  }
  out = argv[++i];
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  vigil::DaemonOptions opts;
  std::string log_level = "info";
  vigil::log::Target log_target = vigil::log::Target::kAuto;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i], v;
    if (a == "--help" || a == "-h") {
      fputs(kUsage, stdout);
      return 0;
    } else if (a == "--version") {
      puts("vigild " VIGIL_VERSION);
      return 0;
    } else if (a == "--policy") {
      if (!takeValue(argc, argv, i, "--policy", v)) return vigil::kExitUsage;
      opts.policy_files.push_back(v);
    } else if (a == "--policy-dir") {
      if (!takeValue(argc, argv, i, "--policy-dir", v)) return vigil::kExitUsage;
      opts.policy_dirs.push_back(v);
    } else if (a == "--control-socket") {
      if (!takeValue(argc, argv, i, "--control-socket", opts.control_socket)) return vigil::kExitUsage;
    } else if (a == "--metrics-listen") {
      if (!takeValue(argc, argv, i, "--metrics-listen", opts.metrics_listen)) return vigil::kExitUsage;
    } else if (a == "--pin-dir") {
      if (!takeValue(argc, argv, i, "--pin-dir", opts.pin_dir)) return vigil::kExitUsage;
    } else if (a == "--config") {
      if (!takeValue(argc, argv, i, "--config", opts.config_file)) return vigil::kExitUsage;
    } else if (a == "--rules") {
      if (!takeValue(argc, argv, i, "--rules", v)) return vigil::kExitUsage;
      opts.rule_files.push_back(v);
    } else if (a == "--rules-dir") {
      if (!takeValue(argc, argv, i, "--rules-dir", v)) return vigil::kExitUsage;
      opts.rule_dirs.push_back(v);
    } else if (a == "--audit") {
      opts.audit_all = true;
    } else if (a == "--allow-degraded") {
      opts.allow_degraded = true;
    } else if (a == "--no-bpf-stats") {
      opts.bpf_stats = false;
    } else if (a == "--no-process-events") {
      opts.process_events = false;
    } else if (a == "--ring-buffer-kb") {
      if (!takeValue(argc, argv, i, "--ring-buffer-kb", v)) return vigil::kExitUsage;
      char* end = nullptr;
      long n = strtol(v.c_str(), &end, 10);
      if (!end || *end || n < 4 || n > (1 << 20) || (n & (n - 1))) {
        fprintf(stderr, "vigild: --ring-buffer-kb wants a power of two from 4 to 1048576, got '%s'\n",
                v.c_str());
        return vigil::kExitUsage;
      }
      opts.ringbuf_kb = static_cast<uint32_t>(n);
    } else if (a == "--args-max" || a == "--ancestors") {
      if (!takeValue(argc, argv, i, a.c_str(), v)) return vigil::kExitUsage;
      char* end = nullptr;
      long n = strtol(v.c_str(), &end, 10);
      long max = a == "--args-max" ? 4095 : 64;
      if (!end || *end || n < 0 || n > max) {
        fprintf(stderr, "vigild: %s wants a number from 0 to %ld, got '%s'\n", a.c_str(), max,
                v.c_str());
        return vigil::kExitUsage;
      }
      if (a == "--args-max") {
        opts.args_max = static_cast<uint32_t>(n);
      } else {
        opts.ancestors = static_cast<int>(n);
      }
    } else if (a == "--exec-reads") {  // hidden: tests force a variant
      if (!takeValue(argc, argv, i, "--exec-reads", opts.exec_reads)) return vigil::kExitUsage;
      if (opts.exec_reads != "auto" && opts.exec_reads != "helper" && opts.exec_reads != "btf" &&
          opts.exec_reads != "proc") {
        fprintf(stderr, "vigild: --exec-reads wants auto, helper, btf or proc, got '%s'\n",
                opts.exec_reads.c_str());
        return vigil::kExitUsage;
      }
    } else if (a == "--kprobe-mechanism") {
      if (!takeValue(argc, argv, i, "--kprobe-mechanism", opts.kprobe_mechanism)) return vigil::kExitUsage;
      if (opts.kprobe_mechanism != "auto" && opts.kprobe_mechanism != "fentry" &&
          opts.kprobe_mechanism != "kprobe") {
        fprintf(stderr, "vigild: --kprobe-mechanism wants auto, fentry or kprobe, got '%s'\n",
                opts.kprobe_mechanism.c_str());
        return vigil::kExitUsage;
      }
    } else if (a == "--node-name") {
      if (!takeValue(argc, argv, i, "--node-name", opts.node_name)) return vigil::kExitUsage;
    } else if (a == "--log-level") {
      if (!takeValue(argc, argv, i, "--log-level", log_level)) return vigil::kExitUsage;
    } else if (a == "--log-target") {
      if (!takeValue(argc, argv, i, "--log-target", v)) return vigil::kExitUsage;
      if (v == "auto") {
        log_target = vigil::log::Target::kAuto;
      } else if (v == "stderr") {
        log_target = vigil::log::Target::kStderr;
      } else if (v == "journal") {
        log_target = vigil::log::Target::kJournal;
      } else {
        fprintf(stderr, "vigild: --log-target wants auto, stderr or journal, got '%s'\n", v.c_str());
        return vigil::kExitUsage;
      }
    } else {
      fprintf(stderr, "vigild: unknown option %s (see --help)\n", a.c_str());
      return vigil::kExitUsage;
    }
  }
  vigil::log::installLogger(log_target);
  auto level = spdlog::level::from_str(log_level);
  if (level == spdlog::level::off && log_level != "off") {
    fprintf(stderr, "vigild: unknown log level %s\n", log_level.c_str());
    return vigil::kExitUsage;
  }
  spdlog::set_level(level);
  if (opts.policy_files.empty() && opts.policy_dirs.empty()) {
    opts.policy_dirs.push_back("/etc/vigil/policies.d");
  }
  if (opts.config_file.empty() && access("/etc/vigil/vigil.yaml", R_OK) == 0) {
    opts.config_file = "/etc/vigil/vigil.yaml";
  }
  return vigil::runDaemon(opts);
}
