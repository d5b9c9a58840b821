#include "daemon/daemon.h"

#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>
#include <yaml-cpp/yaml.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <source_location>

#include "absl/strings/str_join.h"
#include "daemon/compiler/compiler.h"
#include "daemon/control.h"
#include "daemon/events/json_writer.h"
#include "daemon/journal_log.h"
#include "daemon/metrics.h"
#include "daemon/pipeline.h"
#include "daemon/loader/loader.h"
#include "daemon/loader/probe.h"
#include "daemon/policy/policy_parser.h"
#include "daemon/process/process_cache.h"
#include "exporters/exporter.h"
#include "rules/engine.h"

namespace vigil {
namespace {

// An error in an input file (FILE:LINE:COL: ...): raw on stderr, as `vigilctl
// policy check` prints it, or logged when lines go to the journal, where it
// gets PRIORITY, VIGIL_FILE/LINE/COLUMN and the caller's CODE_* fields.
void reportError(const std::string& line,
                 std::source_location at = std::source_location::current()) {
  if (log::toJournal()) {
    spdlog::log(spdlog::source_loc{at.file_name(), static_cast<int>(at.line()), at.function_name()},
                spdlog::level::err, "{}", line);
  } else {
    fprintf(stderr, "%s\n", line.c_str());
  }
}

// One line per policy in force, with VIGIL_POLICY in the journal
// (`journalctl VIGIL_POLICY=NAME` follows a policy through loads and changes).
void logPolicies(const std::vector<policy::Policy>& policies, bool audit_all) {
  for (const auto& p : policies) {
    log::Fields f{{"VIGIL_POLICY", p.name}};
    SPDLOG_INFO("policy {}: {}, from {}", p.name,
                audit_all || p.effectiveMode() == policy::Mode::kMonitor ? "monitor" : "enforce",
                p.file);
  }
}

constexpr size_t kMaxPoliciesPerGen = compiler::kGenPolicies;
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};

void onSignal(int) { g_stop = true; }
void onHangup(int) { g_reload = true; }

// Every generic hook instance holds its own descriptors of the shared maps
// (libbpf dups them when it loads the object): some 30 per hook, so about 35
// hooks exhaust the usual soft limit of 1024 open files. The hard limit is
// what the service manager granted: take it.
void raiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  const rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("open files limit stays at {}: {} (each hook takes ~30 descriptors)", was,
                 strerror(errno));
  }
}

// Hooks that need BPF LSM or trampolines (or kprobes); tracepoints (tp_btf)
// and uprobes need neither.
bool usesHooks(const compiler::CompiledSet& set) {
  return std::any_of(set.generic.begin(), set.generic.end(), [](const compiler::HookSpec& h) {
    return h.kind != policy::HookKind::kTracepoint && h.kind != policy::HookKind::kUprobe;
  });
}


api::Event statusEvent(const std::string& node, api::Status::Kind kind, const std::string& subject,
                       const std::string& message) {
  api::Event ev;
  ev.set_node_name(node);
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  ev.set_time(api::formatRfc3339Nanos(now.tv_sec * 1'000'000'000LL + now.tv_nsec));
  ev.set_schema_version(api::SCHEMA_VERSION_1);
  auto* st = ev.mutable_status();
  st->set_kind(kind);
  st->set_subject(subject);
  st->set_message(message);
  return ev;
}


std::string bootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string hostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> listPolicyFiles(const std::vector<std::string>& files,
                                                         const std::vector<std::string>& dirs) {
  std::vector<std::string> out = files;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      auto ext = e.path().extension();
      if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) found.push_back(e.path());
    }
    if (ec) {
      return absl::InvalidArgumentError(dir + ": cannot read policy directory: " + ec.message());
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::optional<std::vector<policy::Policy>> loadPolicies(const std::vector<std::string>& files,
                                                        std::vector<std::string>* errors) {
  std::vector<policy::Policy> policies;
  bool ok = true;
  for (const auto& f : files) {
    auto r = policy::parsePolicyFile(f);
    for (const auto& w : r.warnings) spdlog::warn("{}", w.str());
    for (const auto& e : r.errors) {
      if (!errors || !log::toJournal()) reportError(e.str());
      if (errors) errors->push_back(e.str());
    }
    if (!r.errors.empty() || !r.policy) {
      ok = false;
      continue;
    }
    policies.push_back(std::move(*r.policy));
  }
  if (!ok) return std::nullopt;
  return policies;
}

int runDaemon(const DaemonOptions& options) {
  auto files = listPolicyFiles(options.policy_files, options.policy_dirs);
  if (!files.ok()) {
    spdlog::error("{}", std::string(files.status().message()));
    return kExitPolicyError;
  }
  auto policies = loadPolicies(*files);
  if (!policies) {
    spdlog::error("invalid policy: nothing loaded");
    return kExitPolicyError;
  }
  compiler::CompileOptions copts;
  copts.audit_all = options.audit_all;
  copts.host_ns = compiler::readHostNamespaces();  // matchNamespaces' host_ns
  auto compiled = compiler::compile(*policies, copts);
  if (!compiled.ok()) {
    reportError(std::string(compiled.status().message()));
    spdlog::error("policies do not fit the kernel's tables: nothing loaded");
    return kExitPolicyError;
  }

  // Rules and exporters are checked before anything touches the kernel: a
  // broken file stops the start with FILE:LINE:COL, nothing half-loaded.
  std::vector<std::string> rule_files = options.rule_files;
  for (const auto& d : options.rule_dirs) {
    auto more = rules::RuleEngine::ruleFilesIn(d);
    rule_files.insert(rule_files.end(), more.begin(), more.end());
  }
  std::optional<exporters::ExportersConfig> export_cfg;
  std::string kprobe_mechanism = options.kprobe_mechanism;
  if (!options.config_file.empty()) {
    YAML::Node cfg;
    try {
      cfg = YAML::LoadFile(options.config_file);
    } catch (const YAML::Exception& e) {
      reportError(fmt::format("{}:{}:{}: {}", options.config_file, e.mark.line + 1,
                              e.mark.column + 1, e.msg));
      return kExitPolicyError;
    }
    if (cfg && !cfg.IsMap() && !cfg.IsNull()) {
      reportError(fmt::format("{}:{}:{}: the configuration must be a map", options.config_file,
                              cfg.Mark().line + 1, cfg.Mark().column + 1));
      return kExitPolicyError;
    }
    for (const auto& kv : cfg) {
      const std::string key = kv.first.as<std::string>("");
      if (key == "exporters") {
        auto parsed = exporters::parseExportersConfig(kv.second, options.config_file);
        if (!parsed.ok()) {
          reportError(std::string(parsed.status().message()));
          return kExitPolicyError;
        }
        export_cfg = *parsed;
      } else if (key == "rules") {
        for (const auto& r : kv.second["files"]) rule_files.push_back(r.as<std::string>(""));
        for (const auto& d : kv.second["dirs"]) {
          auto more = rules::RuleEngine::ruleFilesIn(d.as<std::string>(""));
          rule_files.insert(rule_files.end(), more.begin(), more.end());
        }
      } else if (key == "kprobe_mechanism") {
        const std::string v = kv.second.as<std::string>("");
        if (!loader::parseKprobeMode(v).ok()) {
          reportError(fmt::format("{}:{}:{}: kprobe_mechanism wants auto, fentry or kprobe, got \"{}\"",
                                  options.config_file, kv.second.Mark().line + 1,
                                  kv.second.Mark().column + 1, v));
          return kExitPolicyError;
        }
        if (kprobe_mechanism.empty()) kprobe_mechanism = v;  // --kprobe-mechanism wins
      } else {
        reportError(fmt::format("{}:{}:{}: unknown section \"{}\" (known: exporters, rules, kprobe_mechanism)",
                                options.config_file, kv.first.Mark().line + 1,
                                kv.first.Mark().column + 1, key));
        return kExitPolicyError;
      }
    }
  }
  std::unique_ptr<rules::RuleEngine> rule_engine;
  if (!rule_files.empty()) {
    std::vector<rules::Diagnostic> diags;
    auto engine = rules::RuleEngine::load(rule_files, {}, &diags);
    for (const auto& d : diags) {
      if (d.warning) spdlog::warn("{}", d.str());
    }
    if (!engine.ok()) {
      for (const auto& d : diags) {
        if (!d.warning) reportError(d.str());
      }
      reportError(std::string(engine.status().message()));
      spdlog::error("invalid rules: nothing loaded");
      return kExitPolicyError;
    }
    rule_engine = std::move(*engine);
    spdlog::info("rules: {} compiled from {} files", rule_engine->compiledRules(),
                 rule_files.size());
  }

  const std::string node = options.node_name.empty() ? hostName() : options.node_name;
  std::unique_ptr<exporters::Exporter> exporter;
  if (export_cfg) {
    exporters::ExporterOptions eopts;
    eopts.node_name = node;
    eopts.on_status = [](const api::Event& ev) {
      spdlog::warn("exporter {}: {}", ev.status().subject(), ev.status().message());
    };
    auto ex = exporters::Exporter::create(*export_cfg, eopts);
    if (!ex.ok()) {
      spdlog::error("{}", std::string(ex.status().message()));
      return kExitPolicyError;
    }
    exporter = std::move(*ex);
  }

  const loader::KprobeMode kprobe_mode =
      loader::parseKprobeMode(kprobe_mechanism.empty() ? "auto" : kprobe_mechanism)
          .value_or(loader::KprobeMode::kAuto);
  loader::routeLibbpfLogs();
  auto features = loader::probeKernel();
  spdlog::info("kernel {}: BPF LSM {}, trampolines {}, tp_btf {}, lockdown {}",
               features.kernel_release, features.lsmUsable() ? "usable" : "unusable",
               features.trampolines.ok ? "load" : "refused", features.tp_btf.ok ? "ok" : "refused",
               features.lockdown);

  std::vector<api::Event> startup_status;
  bool need_lsm = usesHooks(*compiled);
  // The hook programs are attached whenever the kernel allows, policies or
  // not, so that a reload can add lsmhooks policies (a hook with no selectors
  // returns at its first map lookup).
  loader::HookMechanism mechanism = loader::HookMechanism::kNone;
  if (features.lsmUsable()) {
    mechanism = loader::HookMechanism::kLsm;
  } else if (features.fmodRetUsable()) {
    mechanism = loader::HookMechanism::kFmodRet;
    std::string msg = "BPF LSM unusable (" + features.bpf_lsm_active.detail + "; " +
                      features.lsm_programs.detail +
                      "): lsmhooks enforced through fmod_ret on security_* functions";
    spdlog::warn("{}", msg);
    startup_status.push_back(statusEvent(node, api::Status::KIND_DEGRADED, "bpf_lsm", msg));
  }
  // How kprobes attach (mechanism.h): fentry/fexit where the kernel allows
  // it, else kprobe/kretprobe, per function; --kprobe-mechanism forces one.
  loader::MechanismInputs kprobe_in;
  kprobe_in.lsm = mechanism;
  kprobe_in.mode = kprobe_mode;
  kprobe_in.trampolines = features.trampolines.ok;
  kprobe_in.trampolines_detail = features.trampolines.detail;
  kprobe_in.kprobes = features.kprobes.ok;
  kprobe_in.kprobes_detail = features.kprobes.detail;
  kprobe_in.tp_btf = features.tp_btf.ok;
  kprobe_in.tp_btf_detail = features.tp_btf.detail;
  std::string kprobe_how;
  if (kprobe_mode != loader::KprobeMode::kKprobe && features.trampolines.ok) kprobe_how = "fentry/fexit";
  if (kprobe_mode != loader::KprobeMode::kFentry && features.kprobes.ok) {
    kprobe_how += kprobe_how.empty() ? "kprobe/kretprobe" : ", else kprobe/kretprobe per function";
  }
  spdlog::info("kprobes attach as {} (--kprobe-mechanism {}; trampolines {}, kprobes {})",
               kprobe_how.empty() ? "nothing: kprobes policies cannot load" : kprobe_how,
               loader::kprobeModeName(kprobe_mode), features.trampolines.ok ? "load" : "refused",
               features.kprobes.ok ? "present" : "absent");
  // Why a policy cannot be enforced here (its first hook no mechanism can
  // serve), or empty.
  const std::string lsm_reason = features.lsmUnusableReason();
  auto refusal = [&](const policy::Policy& p) -> std::string {
    for (const auto& h : p.hooks) {
      std::string why = loader::hookRefusal(h, kprobe_in, lsm_reason);
      if (!why.empty()) return why;
    }
    return {};
  };
  if (need_lsm) {
    // Refuse rather than pretend: a policy that is loaded but not enforced is
    // worse than one that visibly is not loaded.
    std::vector<policy::Policy> kept;
    size_t refused = 0;
    std::string last_why;
    for (const auto& p : *policies) {
      std::string why = refusal(p);
      if (why.empty()) {
        kept.push_back(p);
        continue;
      }
      refused++;
      last_why = why;
      std::set<std::string> hooks;
      for (const auto& h : p.hooks) {
        if (h.kind != policy::HookKind::kTracepoint && h.kind != policy::HookKind::kUprobe) {
          hooks.insert(h.hook);
        }
      }
      std::string msg = fmt::format("{}: policy {}: {} {} cannot be enforced on this kernel: {}",
                                    p.file, p.name,
                                    p.hooks[0].kind == policy::HookKind::kLsm ? "lsmhooks" : "kprobes",
                                    absl::StrJoin(hooks, ", "), why);
      log::Fields lf{{"VIGIL_POLICY", p.name}};
      SPDLOG_ERROR("{}", msg);
      startup_status.push_back(statusEvent(node, api::Status::KIND_POLICY_FAILED, p.name, msg));
    }
    if (refused && !options.allow_degraded) {
      spdlog::error(
          "refusing to start: the policies above would load without being enforced "
          "(degraded kernel; see `vigilctl probe`; --allow-degraded runs without them)");
      return kExitUnenforceable;
    }
    if (refused) {
      spdlog::warn("DEGRADED MODE: running without the policies above{}",
                   kept.empty() ? "; process events only" : "");
      startup_status.push_back(statusEvent(node, api::Status::KIND_DEGRADED,
                                           mechanism == loader::HookMechanism::kNone ? "bpf_lsm" : "kprobe",
                                           "policies not loaded: " + last_why));
      *policies = std::move(kept);
      auto recompiled = compiler::compile(*policies, copts);
      if (!recompiled.ok()) {
        spdlog::error("{}", std::string(recompiled.status().message()));
        return kExitPolicyError;
      }
      compiled = std::move(*recompiled);
      need_lsm = usesHooks(*compiled);
    }
  }
  if (!features.tp_btf.ok && mechanism == loader::HookMechanism::kNone) {
    spdlog::error("nothing to run: no enforceable policies and tp_btf programs are refused ({})",
                  features.tp_btf.detail);
    return kExitUnenforceable;
  }
  // Exec paths: bpf_probe_read_kernel where allowed, else BTF-typed reads,
  // else /proc. --exec-reads forces one (btf also withholds the helper from
  // every program, as lockdown=confidentiality would).
  bool can_read_kernel = features.read_kernel.ok;
  bool btf_reads = !can_read_kernel && features.btf_reads.ok;
  const std::string& reads = options.exec_reads;
  if ((reads == "helper" && !features.read_kernel.ok) || (reads == "btf" && !features.btf_reads.ok)) {
    spdlog::error("--exec-reads {}: {}", reads,
                  reads == "helper" ? features.read_kernel.detail : features.btf_reads.detail);
    return kExitUnenforceable;
  }
  if (reads == "helper") btf_reads = false;
  if (reads == "btf") btf_reads = true, can_read_kernel = false;
  if (reads == "proc") btf_reads = false, can_read_kernel = false;
  if (features.tp_btf.ok && btf_reads) {
    spdlog::info("exec events read binary and cwd through BTF-typed pointers{}",
                 features.read_kernel.ok ? "" : " (" + features.read_kernel.detail + ")");
  } else if (features.tp_btf.ok && !can_read_kernel) {
    std::string msg = "exec events take binary, arguments and cwd from /proc (racy): " +
                      (reads == "proc" ? std::string("--exec-reads proc")
                                       : features.read_kernel.detail + "; " + features.btf_reads.detail);
    spdlog::warn("{}", msg);
    startup_status.push_back(statusEvent(node, api::Status::KIND_DEGRADED, "read_kernel", msg));
  }

  loader::LoadPlan plan;
  plan.hooks = mechanism;
  plan.kprobe = kprobe_in;
  plan.process_table = features.tp_btf.ok;
  plan.can_read_kernel = can_read_kernel;
  plan.btf_reads = btf_reads;
  plan.args_max = options.args_max;
  plan.ringbuf_bytes = options.ringbuf_kb * 1024;
  plan.pin_dir = options.pin_dir;
  if (!plan.process_table) {
    spdlog::warn("process table disabled: {}; matchBinaries only knows processes "
                 "seen exec'ing since start",
                 features.tp_btf.detail);
  }
  raiseFdLimit();
  auto loader = loader::Loader::create(plan);
  if (!loader.ok()) {
    spdlog::error("{}", std::string(loader.status().message()));
    return kExitKernelError;
  }
  // Adopting what an earlier daemon pinned: its policies stay in force until
  // ours replace them, hook by hook, from the other half of the tables.
  int generation = 0;
  // String values are hashed with the kernel's secret keys (the pinned maps'
  // when adopting them): compile again now that they are known.
  copts.hash_key = (*loader)->hashKey();
  if (int adopted = (*loader)->adoptedGeneration(); adopted >= 0) {
    generation = 1 - adopted;
    copts.generation = generation;
    copts.hook_ids = (*loader)->hookIds();  // the pinned hooks keep their ids
    spdlog::info("adopting pinned maps and links from {} (policy generation {} in force)",
                 options.pin_dir, adopted);
  }
  if (auto recompiled = compiler::compile(*policies, copts); recompiled.ok()) {
    compiled = std::move(*recompiled);
  } else {
    spdlog::error("{}", std::string(recompiled.status().message()));
    return kExitPolicyError;
  }
  if (auto s = (*loader)->apply(*compiled); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return kExitKernelError;
  }
  for (const auto& note : (*loader)->enforcerNotes()) {
    startup_status.push_back(statusEvent(node, api::Status::KIND_DEGRADED, "enforcer", note));
  }
  // Hooks that run as kprobes because the kernel refused fentry for them.
  std::vector<std::string> kprobe_fallbacks = (*loader)->takeFallbacks();
  for (const auto& msg : kprobe_fallbacks) {
    startup_status.push_back(statusEvent(node, api::Status::KIND_DEGRADED, "kprobe", msg));
  }
  if (int adopted = (*loader)->adoptedGeneration(); adopted >= 0) {
    usleep(50 * 1000);  // in-flight readers of the old selectors finish first
    (*loader)->retireGeneration(adopted);
  }
  if (auto s = (*loader)->attach(); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return kExitKernelError;
  }

  std::vector<events::PolicyInfo> infos(compiled->policy_base);  // ids below ours: unnamed
  for (const auto& p : *policies) infos.push_back(events::PolicyInfo::from(p));
  const int64_t boot_offset = events::bootToRealtimeOffsetNs();
  process::CacheOptions cache_opts;
  cache_opts.node_name = node;
  cache_opts.boot_id = bootId();
  cache_opts.ancestor_depth = options.ancestors;
  cache_opts.boot_to_realtime_ns = boot_offset;
  Pipeline pipeline{events::JsonRenderer(node, std::move(infos), options.audit_all, boot_offset),
                    process::ProcessCache(cache_opts), options.process_events};
  pipeline.renderer.setHookRefs(compiled->hook_refs);
  pipeline.renderer.setTracepointSlots(compiled->tp_slots);
  if (int adopted = (*loader)->adoptedGeneration(); adopted >= 0) {
    // Events the previous daemon's policies produced while no one read them.
    for (const auto& [id, meta] : (*loader)->policyMeta(adopted)) {
      pipeline.renderer.setPolicies(
          id, {{meta.name,
                meta.mode == VG_MODE_MONITOR ? policy::Mode::kMonitor : policy::Mode::kEnforce,
                {}}});
    }
  }
  pipeline.exporter = exporter.get();
  pipeline.rules = rule_engine.get();
  pipeline.loader = loader->get();
  ring_buffer* rb = ring_buffer__new((*loader)->eventsFd(), onRecord, &pipeline, nullptr);
  if (!rb) {
    spdlog::error("opening the event ring buffer failed");
    return kExitKernelError;
  }
  for (const auto& ev : startup_status) pipeline.write(ev);
  // Processes that predate Vigil, announced before any kernel record so that
  // no event names an exec_id whose exec event was not emitted first.
  auto existing = pipeline.cache.bootstrap();
  if (options.process_events) {
    for (const auto& ev : existing) pipeline.write(ev);
  }
  fflush(stdout);

  struct sigaction sa = {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  struct sigaction hup = {};
  hup.sa_handler = onHangup;
  sigaction(SIGHUP, &hup, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // SIGHUP: re-read policies and rules as one transaction. The new policies
  // are compiled into the other half of the kernel's tables and each hook is
  // switched over with one map write, so no hook is ever without its rules;
  // any error leaves the running set exactly as it was.
  // Run-time changes made through the control socket (vigilctl policy
  // enable/disable/set-mode), per policy index; a successful reload drops them.
  std::vector<uint8_t> disabled(kMaxPoliciesPerGen, 0);
  std::vector<int8_t> mode_override(kMaxPoliciesPerGen, -1);
  auto isMonitor = [&](size_t i) {
    return mode_override[i] >= 0 ? mode_override[i] == 1
                                 : (*policies)[i].effectiveMode() == policy::Mode::kMonitor;
  };
  std::string last_reload_error;
  // Refuses a transaction: every error is logged and becomes a status event,
  // and the running set stays exactly as it was.
  auto refuse = [&](const std::string& what, const std::vector<std::string>& errors) {
    for (const auto& e : errors) {
      SPDLOG_ERROR("{}: {}", what, e);
      pipeline.write(statusEvent(node, api::Status::KIND_POLICY_FAILED, what, e));
    }
    spdlog::error("{} failed: the running policies and rules stay as they were", what);
    sd_notifyf(0, "READY=1\nSTATUS=%s failed; previous policies still enforced", what.c_str());
    return absl::StrJoin(errors, "\n");
  };
  // Puts a new policy list in force as one transaction, the single path for a
  // reload (files re-read), `policy add` (running set plus one) and `policy
  // delete` (running set minus one): compiled into the other half of the
  // kernel's tables, applied, each hook switched with one map write, the old
  // half retired. reread_rules: a reload also swaps the rules engine.
  // keep_overrides: policies that stay keep their run-time enable/mode changes
  // (add, delete); a reload drops them. Returns the error, empty on success.
  auto transact = [&](const std::string& what, std::vector<policy::Policy> next_policies,
                      bool reread_rules, bool keep_overrides) -> std::string {
    std::vector<std::string> errors;
    std::optional<compiler::CompiledSet> next;
    compiler::CompileOptions nopts = copts;
    nopts.generation = 1 - generation;
    nopts.hook_ids = (*loader)->hookIds();
    auto c = compiler::compile(next_policies, nopts);
    if (!c.ok()) {
      errors.push_back(std::string(c.status().message()));
    } else {
      for (const auto& p : next_policies) {
        if (std::string why = refusal(p); !why.empty()) {
          errors.push_back(fmt::format("{}: policy {} cannot be enforced on this kernel: {}", p.file,
                                       p.name, why));
        }
      }
    }
    if (c.ok() && errors.empty()) {
      next = std::move(*c);
    }
    std::unique_ptr<rules::RuleEngine> next_rules;
    if (reread_rules && !rule_files.empty() && errors.empty()) {
      std::vector<rules::Diagnostic> diags;
      auto engine = rules::RuleEngine::load(rule_files, {}, &diags);
      if (engine.ok()) {
        next_rules = std::move(*engine);
      } else {
        for (const auto& d : diags) {
          if (!d.warning) errors.push_back(d.str());
        }
        errors.push_back(std::string(engine.status().message()));
      }
    }
    if (!errors.empty()) return refuse(what, errors);
    // Run-time overrides follow their policy by name into the new ids.
    std::vector<uint8_t> next_disabled(kMaxPoliciesPerGen, 0);
    std::vector<int8_t> next_mode(kMaxPoliciesPerGen, -1);
    for (size_t i = 0; keep_overrides && i < policies->size(); i++) {
      for (size_t j = 0; j < next_policies.size(); j++) {
        if (next_policies[j].name != (*policies)[i].name) continue;
        next_disabled[j] = disabled[i];
        next_mode[j] = mode_override[i];
      }
    }
    for (auto& [id, st] : next->policies) {
      const size_t j = id - next->policy_base;
      if (next_disabled[j]) st.enabled = 0;
      if (next_mode[j] >= 0) {
        st.mode = next_mode[j] == 1 ? VG_MODE_MONITOR : VG_MODE_ENFORCE;
      }
    }
    if (auto s = (*loader)->apply(*next); !s.ok()) {
      // Hooks are written last: a failure before them left the running set in force.
      return refuse(what, {std::string(s.message())});
    }
    for (auto& msg : (*loader)->takeFallbacks()) {
      pipeline.write(statusEvent(node, api::Status::KIND_DEGRADED, "kprobe", msg));
      kprobe_fallbacks.push_back(std::move(msg));
    }
    // Programs that read the old selectors are RCU readers running for
    // microseconds: give them time to finish before their entries go.
    usleep(50 * 1000);
    (*loader)->retireGeneration(generation);
    std::vector<events::PolicyInfo> next_infos;
    for (size_t j = 0; j < next_policies.size(); j++) {
      auto info = events::PolicyInfo::from(next_policies[j]);
      if (next_mode[j] >= 0) info.mode = next_mode[j] == 1 ? policy::Mode::kMonitor : policy::Mode::kEnforce;
      next_infos.push_back(std::move(info));
    }
    pipeline.renderer.setPolicies(next->policy_base, next_infos);
    // Ids of hooks that stay keep their meaning; add the new ones.
    auto refs = compiled->hook_refs;
    for (const auto& [id, ref] : next->hook_refs) refs[id] = ref;
    pipeline.renderer.setHookRefs(std::move(refs));
    pipeline.renderer.setTracepointSlots(next->tp_slots);
    compiled = std::move(*next);
    *policies = std::move(next_policies);
    generation = 1 - generation;
    disabled = std::move(next_disabled);
    mode_override = std::move(next_mode);
    if (next_rules) {
      rule_engine = std::move(next_rules);
      pipeline.rules = rule_engine.get();
    }
    std::vector<std::string> names;
    for (const auto& p : *policies) names.push_back(p.name);
    spdlog::info("{}: {} policies [{}] in force", what, policies->size(), absl::StrJoin(names, ", "));
    logPolicies(*policies, options.audit_all);
    for (const auto& p : *policies) {
      pipeline.write(statusEvent(node, api::Status::KIND_POLICY_LOADED, p.name, p.file));
    }
    sd_notifyf(0, "READY=1\nSTATUS=%zu policies enforced", policies->size());
    return std::string();
  };
  // SIGHUP, `vigilctl reload`: policy files and rules re-read.
  auto reload = [&]() -> std::string {
    sd_notify(0, "RELOADING=1");
    spdlog::info("reload: re-reading policies and rules");
    std::vector<std::string> errors;
    auto files = listPolicyFiles(options.policy_files, options.policy_dirs);
    std::optional<std::vector<policy::Policy>> pols;
    if (!files.ok()) {
      errors.push_back(std::string(files.status().message()));
    } else {
      pols = loadPolicies(*files, &errors);
    }
    if (!pols) return last_reload_error = refuse("reload", errors);
    return last_reload_error = transact("reload", std::move(*pols), true, false);
  };
  // `vigilctl policy add FILE`: the running set plus the file's policy. It
  // lives until the next reload or restart unless persist writes it into the
  // first --policy-dir, where the next reload finds it.
  auto addPolicy = [&](const api::AddPolicyRequest& req, api::Response* resp) {
    auto r = policy::parsePolicyString(req.yaml(), req.file_name());
    std::vector<std::string> errors;
    for (const auto& e : r.errors) errors.push_back(e.str());
    if (!r.ok()) {
      if (errors.empty()) errors.push_back(req.file_name() + ": no policy in the file");
      resp->set_error(refuse("policy add", errors));
      return;
    }
    for (const auto& w : r.warnings) spdlog::warn("{}", w.str());
    std::string persist_path;
    if (req.persist()) {
      auto path = persistPath(options.policy_dirs, req.file_name(), req.replace());
      if (!path.ok()) {
        resp->set_error(refuse("policy add", {std::string(path.status().message())}));
        return;
      }
      persist_path = *path;
      r.policy->file = persist_path;
    }
    const std::string name = r.policy->name;
    auto next = withPolicyAdded(*policies, std::move(*r.policy), req.replace());
    if (!next.ok()) {
      resp->set_error(refuse("policy add", {std::string(next.status().message())}));
      return;
    }
    sd_notify(0, "RELOADING=1");
    if (auto err = transact("policy add", std::move(*next), false, true); !err.empty()) {
      resp->set_error("policy add failed, the running set stays:\n" + err);
      return;
    }
    log::Fields lf{{"VIGIL_POLICY", name}};
    std::string msg = absl::StrCat("added policy ", name, "; ", policies->size(), " policies in force");
    if (!persist_path.empty()) {
      // Written whole, then renamed: a reload never reads half a file.
      std::string tmp = persist_path + ".tmp";
      std::ofstream out(tmp, std::ios::trunc);
      out << req.yaml();
      out.close();
      std::error_code ec;
      if (!out) ec = std::make_error_code(std::errc::io_error);
      if (!ec) std::filesystem::rename(tmp, persist_path, ec);
      if (ec) {
        std::filesystem::remove(tmp);
        resp->set_error(absl::StrCat(msg, ", but not persisted: ", persist_path, ": ", ec.message(),
                                     " (it lasts until the next reload)"));
        return;
      }
      absl::StrAppend(&msg, "; persisted as ", persist_path);
    } else {
      absl::StrAppend(&msg, " (until the next reload; --persist keeps it)");
    }
    SPDLOG_INFO("control: {}", msg);
    resp->set_message(msg);
  };

  // The control socket (vigilctl): status, run-time policy changes, reload,
  // event streams.
  auto handle = [&](const api::Request& req) -> api::Response {
    api::Response resp;
    if (req.has_status()) {
      auto* st = resp.mutable_status();
      st->set_kernel(features.kernel_release);
      st->set_mechanism(mechanism == loader::HookMechanism::kLsm       ? "bpf_lsm"
                        : mechanism == loader::HookMechanism::kFmodRet ? "fmod_ret"
                                                                       : "none");
      st->set_audit_all(options.audit_all);
      for (size_t i = 0; i < policies->size(); i++) {
        const auto& p = (*policies)[i];
        auto* ps = st->add_policies();
        ps->set_id(compiled->policy_base + i);
        ps->set_name(p.name);
        ps->set_file(p.file);
        ps->set_mode(isMonitor(i) ? api::POLICY_MODE_MONITOR : api::POLICY_MODE_ENFORCE);
        ps->set_enabled(!disabled[i]);
        std::set<std::string> hooks;
        for (const auto& h : p.hooks) hooks.insert(h.hook);
        for (const auto& h : hooks) ps->add_hooks(h);
        uint64_t n = 0;
        for (const auto& [k, c] : pipeline.by_policy) {
          if (std::get<0>(k) == p.name) n += c;
        }
        ps->set_events(n);
      }
      for (const auto& a : (*loader)->attachedPrograms()) st->add_attached_programs(a);
      for (const auto* f : features.all()) {
        if (!f->ok) st->add_degraded(f->name + ": " + f->detail);
      }
      for (const auto& note : (*loader)->enforcerNotes()) st->add_degraded(note);
      for (const auto& msg : kprobe_fallbacks) st->add_degraded("kprobe: " + msg);
      for (const auto& [name, c] : kernelCounters(**loader, *compiled)) {
        auto* hc = st->add_hooks();
        hc->set_hook(name);
        hc->set_events(c.events);
        hc->set_lost(c.lost);
        hc->set_denied(c.denied);
        hc->set_killed(c.killed);
      }
      st->set_events_emitted(pipeline.emitted);
      st->set_rule_alerts(pipeline.alerts);
      st->set_last_reload_error(last_reload_error);
    } else if (req.has_set_policy()) {
      const auto& sp = req.set_policy();
      size_t i = 0;
      while (i < policies->size() && (*policies)[i].name != sp.name()) i++;
      if (i == policies->size()) {
        resp.set_error("no loaded policy named " + sp.name());
        return resp;
      }
      if (sp.has_enabled()) disabled[i] = !sp.enabled();
      if (sp.change_case() == api::SetPolicyRequest::kMode) {
        if (sp.mode() != api::POLICY_MODE_ENFORCE && sp.mode() != api::POLICY_MODE_MONITOR) {
          resp.set_error("mode must be enforce or monitor");
          return resp;
        }
        mode_override[i] = sp.mode() == api::POLICY_MODE_MONITOR ? 1 : 0;
      }
      const auto& p = (*policies)[i];
      const bool monitor = isMonitor(i);
      vg_policy_state state{};
      state.mode = monitor ? VG_MODE_MONITOR : VG_MODE_ENFORCE;
      state.enabled = !disabled[i];
      uint32_t id = compiled->policy_base + i;
      if (auto s = (*loader)->setPolicyState(id, state); !s.ok()) {
        resp.set_error(std::string(s.message()));
        return resp;
      }
      auto info = events::PolicyInfo::from(p);
      info.mode = monitor ? policy::Mode::kMonitor : policy::Mode::kEnforce;
      pipeline.renderer.setPolicies(id, {info});
      std::string msg = absl::StrCat("policy ", p.name, ": ", state.enabled ? "enabled" : "disabled",
                                     ", ", monitor ? "monitor" : "enforce");
      log::Fields lf{{"VIGIL_POLICY", p.name}};
      SPDLOG_INFO("control: {}", msg);
      resp.set_message(msg);
    } else if (req.has_add_policy()) {
      addPolicy(req.add_policy(), &resp);
    } else if (req.has_delete_policy()) {
      const std::string& name = req.delete_policy().name();
      auto next = withPolicyDeleted(*policies, name);
      if (!next.ok()) {
        resp.set_error(std::string(next.status().message()));
        return resp;
      }
      sd_notify(0, "RELOADING=1");
      if (auto err = transact("policy delete", std::move(*next), false, true); !err.empty()) {
        resp.set_error("policy delete failed, the running set stays:\n" + err);
        return resp;
      }
      std::string msg = absl::StrCat("deleted policy ", name, "; ", policies->size(),
                                     " policies in force (its file, if any, returns at the next reload)");
      log::Fields lf{{"VIGIL_POLICY", name}};
      SPDLOG_INFO("control: {}", msg);
      resp.set_message(msg);
    } else if (req.has_reload()) {
      std::string err = reload();
      if (!err.empty()) {
        resp.set_error("reload failed, the running set stays:\n" + err);
      } else {
        resp.set_message(absl::StrCat("reloaded: ", policies->size(), " policies in force"));
      }
    } else {
      resp.set_error("unknown request");
    }
    return resp;
  };
  std::unique_ptr<ControlServer> control;
  if (!options.control_socket.empty()) {
    auto cs = ControlServer::start(options.control_socket, handle);
    if (!cs.ok()) {
      spdlog::error("{}", std::string(cs.status().message()));
      return kExitUsage;
    }
    control = std::move(*cs);
    pipeline.control = control.get();
    spdlog::info("control socket {}", options.control_socket);
  }

  // Bound before READY: a port in use fails the start, not a running service.
  std::unique_ptr<MetricsServer> metrics;
  if (!options.metrics_listen.empty()) {
    auto ms = MetricsServer::start(options.metrics_listen);
    if (!ms.ok()) {
      spdlog::error("{}", std::string(ms.status().message()));
      // A port in use may free up: systemd restarts on 5, not on 1.
      return absl::IsInvalidArgument(ms.status()) ? kExitUsage : kExitUnavailable;
    }
    metrics = std::move(*ms);
    spdlog::info("metrics on http://{}/metrics (port {})", options.metrics_listen, metrics->port());
  }
  std::vector<std::string> names;
  for (const auto& p : *policies) {
    names.push_back(p.name + (options.audit_all || p.effectiveMode() == policy::Mode::kMonitor
                                  ? "(monitor)"
                                  : "(enforce)"));
  }
  logPolicies(*policies, options.audit_all);
  spdlog::info("ready: {} policies [{}]; attached: {}", policies->size(),
               absl::StrJoin(names, ", "), absl::StrJoin((*loader)->attachedPrograms(), ", "));

  int rc = kExitOk;
  // systemd (Type=notify): ready only now that policies are attached and
  // the metrics endpoint listens.
  sd_notifyf(0, "READY=1\nSTATUS=%zu policies enforced%s; process events %s", policies->size(),
             options.audit_all ? " (audit)" : "", plan.process_table ? "on" : "off");
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) <= 0) watchdog_usec = 0;
  timespec last_ping{};
  clock_gettime(CLOCK_MONOTONIC, &last_ping);

  // Kernel-side losses (ring buffer full) are never silent: every few seconds
  // the per-hook counters are compared and each increase becomes a status event.
  std::map<std::string, uint64_t> lost_reported;
  auto reportLosses = [&] {
    for (const auto& [name, c] : kernelCounters(**loader, *compiled)) {
      uint64_t& reported = lost_reported[name];
      if (c.lost <= reported) continue;
      uint64_t delta = c.lost - reported;
      uint64_t lost = reported = c.lost;
      spdlog::warn("{}: {} events lost (ring buffer full), {} in total", name, delta, lost);
      api::Event ev = statusEvent(node, api::Status::KIND_LOST_EVENTS, name,
                                  "ring buffer full: events dropped in the kernel");
      ev.mutable_status()->set_count(delta);
      pipeline.write(ev);
    }
  };
  timespec last_report{};
  clock_gettime(CLOCK_MONOTONIC, &last_report);
  // BPF run-time stats for /metrics: on while this fd is open, unless the
  // sysctl already has them on or --no-bpf-stats.
  int stats_fd = -1;
  if (metrics && options.bpf_stats && !bpfStatsOn(-1)) {
    if (auto fd = loader::enableRunTimeStats(); fd.ok()) {
      stats_fd = *fd;
      spdlog::info("BPF run-time stats on while vigild runs (vigil_bpf_run_* in /metrics)");
    } else {
      spdlog::warn("BPF run-time stats stay off: {}", std::string(fd.status().message()));
    }
  }
  struct CloseFd {
    int& fd;
    ~CloseFd() {
      if (fd >= 0) close(fd);
    }
  } close_stats{stats_fd};
  timespec last_metrics{};
  while (!g_stop) {
    if (g_reload.exchange(false)) reload();
    if (control) control->poll();
    int n = ring_buffer__poll(rb, 200);
    if (n < 0 && n != -EINTR) {
      spdlog::error("ring buffer poll failed: {}", strerror(-n));
      rc = kExitKernelError;
      break;
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - last_report.tv_sec >= options.loss_report_seconds) {
      reportLosses();
      last_report = now;
    }
    if (metrics && now.tv_sec != last_metrics.tv_sec) {
      metrics->publish(renderMetrics(pipeline, **loader, *compiled, exporter.get(), rule_engine.get(),
                                     stats_fd));
      last_metrics = now;
    }
    // Ping at half the watchdog interval, from the loop that reads events, so a
    // stuck pipeline stops the pings and systemd restarts the daemon.
    if (watchdog_usec &&
        ((now.tv_sec - last_ping.tv_sec) * 1'000'000 + (now.tv_nsec - last_ping.tv_nsec) / 1000) >=
            static_cast<int64_t>(watchdog_usec / 2)) {
      sd_notify(0, "WATCHDOG=1");
      last_ping = now;
    }
    fflush(stdout);
    if (pipeline.output_broken) {
      spdlog::error("stdout closed; stopping");
      break;
    }
  }
  sd_notify(0, "STOPPING=1");
  ring_buffer__consume(rb);
  reportLosses();
  // A clean stop removes what was pinned: enforcement ends with the daemon.
  // (A crash leaves the pins, and with them the enforcement, for the next start.)
  (*loader)->unpinAll();
  fflush(stdout);
  ring_buffer__free(rb);
  for (const auto& [name, c] : kernelCounters(**loader, *compiled)) {
    if (c.events || c.lost) {
      spdlog::info("{}: {} events, {} lost, {} denied, {} killed", name, c.events, c.lost,
                   c.denied, c.killed);
    }
  }
  if (exporter) {
    exporter->stop();
    for (const auto& sk : exporter->stats().sinks) {
      spdlog::info("sink {} ({}): {} delivered, {} dropped, {} spooled for later", sk.name, sk.type,
                   sk.delivered, sk.dropped(), sk.spool_records);
    }
  }
  spdlog::info("stopped: {} events written ({} rule alerts), {} malformed records",
               pipeline.emitted, pipeline.alerts, pipeline.malformed);
  return rc;
}

}  // namespace vigil
