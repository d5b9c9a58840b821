#include "daemon/daemon.h"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>

#include "absl/strings/str_join.h"
#include "daemon/compiler/compiler.h"
#include "daemon/events/event_decoder.h"
#include "daemon/events/json_writer.h"
#include "daemon/loader/loader.h"
#include "daemon/loader/probe.h"
#include "daemon/policy/policy_parser.h"

namespace vigil {
namespace {

std::atomic<bool> g_stop{false};

void onSignal(int) { g_stop = true; }

struct Pipeline {
  events::JsonRenderer renderer;
  uint64_t emitted = 0;
  uint64_t malformed = 0;
  bool output_broken = false;
};

int onRecord(void* ctx, void* data, size_t size) {
  auto* p = static_cast<Pipeline*>(ctx);
  auto ev = events::decodeLsmEvent(data, size);
  if (!ev.ok()) {
    p->malformed++;
    spdlog::warn("dropping malformed kernel record: {}", std::string(ev.status().message()));
    return 0;
  }
  std::string line = p->renderer.render(*ev);
  line.push_back('\n');
  if (fwrite(line.data(), 1, line.size(), stdout) != line.size()) p->output_broken = true;
  p->emitted++;
  return 0;
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

std::optional<std::vector<policy::Policy>> loadPolicies(const std::vector<std::string>& files) {
  std::vector<policy::Policy> policies;
  bool ok = true;
  for (const auto& f : files) {
    auto r = policy::parsePolicyFile(f);
    for (const auto& w : r.warnings) spdlog::warn("{}", w.str());
    for (const auto& e : r.errors) fprintf(stderr, "%s\n", e.str().c_str());
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
  auto compiled = compiler::compile(*policies, copts);
  if (!compiled.ok()) {
    fprintf(stderr, "%s\n", std::string(compiled.status().message()).c_str());
    spdlog::error("policies do not fit the kernel's tables: nothing loaded");
    return kExitPolicyError;
  }

  loader::routeLibbpfLogs();
  auto features = loader::probeKernel();
  spdlog::info("kernel {}: BPF LSM {}, trampolines {}, tp_btf {}, lockdown {}",
               features.kernel_release, features.lsmUsable() ? "usable" : "unusable",
               features.trampolines.ok ? "load" : "refused", features.tp_btf.ok ? "ok" : "refused",
               features.lockdown);

  const bool need_lsm = compiled->usesHook(VG_HOOK_FILE_OPEN) ||
                        compiled->usesHook(VG_HOOK_BPRM_CHECK_SECURITY);
  if (need_lsm && !features.lsmUsable()) {
    // Refuse rather than pretend: a policy that is loaded but not enforced is
    // worse than one that visibly is not loaded.
    std::string why = features.lsmUnusableReason();
    for (const auto& p : *policies) {
      std::set<std::string> hooks;
      for (const auto& h : p.lsm_hooks) hooks.insert(h.hook);
      if (hooks.empty()) continue;
      spdlog::error("{}: policy {}: lsmhooks {} cannot be enforced on this kernel: {}", p.file,
                    p.name, absl::StrJoin(hooks, ", "), why);
    }
    spdlog::error(
        "refusing to start: the policies above would load without being enforced "
        "(degraded kernel; see `vigilctl probe`)");
    return kExitUnenforceable;
  }
  if (!features.tp_btf.ok && !need_lsm) {
    spdlog::error("nothing to run: no policies and tp_btf programs are refused ({})",
                  features.tp_btf.detail);
    return kExitUnenforceable;
  }

  loader::LoadPlan plan;
  plan.lsm_hooks = need_lsm;
  plan.process_table = features.tp_btf.ok;
  if (!plan.process_table) {
    spdlog::warn("process table disabled: {}; matchBinaries only knows processes "
                 "seen exec'ing since start",
                 features.tp_btf.detail);
  }
  auto loader = loader::Loader::create(plan);
  if (!loader.ok()) {
    spdlog::error("{}", std::string(loader.status().message()));
    return kExitKernelError;
  }
  if (auto s = (*loader)->apply(*compiled); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return kExitKernelError;
  }
  if (auto s = (*loader)->attach(); !s.ok()) {
    spdlog::error("{}", std::string(s.message()));
    return kExitKernelError;
  }

  std::vector<events::PolicyInfo> infos;
  for (const auto& p : *policies) infos.push_back({p.name, p.effectiveMode()});
  Pipeline pipeline{events::JsonRenderer(options.node_name.empty() ? hostName() : options.node_name,
                                         std::move(infos), options.audit_all,
                                         events::bootToRealtimeOffsetNs())};
  ring_buffer* rb = ring_buffer__new((*loader)->eventsFd(), onRecord, &pipeline, nullptr);
  if (!rb) {
    spdlog::error("opening the event ring buffer failed");
    return kExitKernelError;
  }

  struct sigaction sa = {};
  sa.sa_handler = onSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> names;
  for (const auto& p : *policies) {
    names.push_back(p.name + (options.audit_all || p.effectiveMode() == policy::Mode::kMonitor
                                  ? "(monitor)"
                                  : "(enforce)"));
  }
  spdlog::info("ready: {} policies [{}]; attached: {}", policies->size(),
               absl::StrJoin(names, ", "), absl::StrJoin((*loader)->attachedPrograms(), ", "));

  int rc = kExitOk;
  while (!g_stop) {
    int n = ring_buffer__poll(rb, 200);
    if (n < 0 && n != -EINTR) {
      spdlog::error("ring buffer poll failed: {}", strerror(-n));
      rc = kExitKernelError;
      break;
    }
    fflush(stdout);
    if (pipeline.output_broken) {
      spdlog::error("stdout closed; stopping");
      break;
    }
  }
  ring_buffer__consume(rb);
  fflush(stdout);
  ring_buffer__free(rb);
  for (uint32_t h = 1; h < VG_HOOK_MAX; h++) {
    auto c = (*loader)->counters(h);
    if (c.events || c.lost) {
      spdlog::info("{}: {} events, {} lost, {} denied, {} killed", compiler::hookName(h), c.events,
                   c.lost, c.denied, c.killed);
    }
  }
  spdlog::info("stopped: {} events written, {} malformed records", pipeline.emitted,
               pipeline.malformed);
  return rc;
}

}  // namespace vigil
