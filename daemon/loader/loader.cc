#include "daemon/loader/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/policy/tracepoints.h"
#include "daemon/process/proc_bootstrap.h"
#include "hook.skel.h"
#include "vigil.skel.h"
#include <bpf/btf.h>

namespace vigil::loader {
namespace {

// The verifier's verdict on the last program that failed to load: the last
// line of its log before the statistics, for error messages.
thread_local std::string g_verifier_verdict;
thread_local bool g_in_verifier_log = false;
// A load that may fail by design (bpf_d_path tried first): its log is debug.
thread_local bool g_quiet_load = false;

void noteVerifierLine(std::string_view line) {
  if (line.find("-- BEGIN PROG LOAD LOG --") != std::string_view::npos) {
    g_in_verifier_log = true;
    g_verifier_verdict.clear();
  } else if (line.find("-- END PROG LOAD LOG --") != std::string_view::npos) {
    g_in_verifier_log = false;
  } else if (g_in_verifier_log && !line.empty() && !line.starts_with("processed ") &&
             !line.starts_with("verification time")) {
    g_verifier_verdict = std::string(line);
  }
}

int libbpfPrint(libbpf_print_level level, const char* fmt, va_list args) {
  // One call can carry a whole verifier log: log it line by line.
  char* text = nullptr;
  if (vasprintf(&text, fmt, args) < 0) return 0;
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    noteVerifierLine(line);
    if (level == LIBBPF_WARN && !g_quiet_load) {
      spdlog::warn("libbpf: {}", line);
    } else {
      spdlog::debug("libbpf: {}", line);
    }
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  free(text);
  return 0;
}

absl::Status errnoStatus(const std::string& what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

absl::Status updateElem(bpf_map* map, const void* key, size_t ksz, const void* val, size_t vsz) {
  if (bpf_map__update_elem(map, key, ksz, val, vsz, BPF_ANY) != 0) {
    return errnoStatus(absl::StrCat("updating map ", bpf_map__name(map)), errno);
  }
  return absl::OkStatus();
}

}  // namespace

void routeLibbpfLogs() { libbpf_set_print(libbpfPrint); }

absl::StatusOr<std::unique_ptr<Loader>> Loader::create(const LoadPlan& plan) {
  std::unique_ptr<Loader> l(new Loader());
  l->plan_ = plan;
  l->skel_ = vigil_bpf__open();
  if (!l->skel_) return errnoStatus("opening the BPF object", errno);
  l->skel_->rodata->vg_can_read_kernel = plan.can_read_kernel;
  l->skel_->rodata->vg_btf_reads = plan.btf_reads;
  l->skel_->rodata->vg_args_max = std::min<uint32_t>(plan.args_max, VG_ARGS_MAX - 1);
  bpf_program__set_autoload(l->skel_->progs.vg_tp_exec, plan.process_table);
  bpf_program__set_autoload(l->skel_->progs.vg_tp_fork, plan.process_table);
  bpf_program__set_autoload(l->skel_->progs.vg_tp_exit, plan.process_table);
  if (plan.ringbuf_bytes && bpf_map__set_max_entries(l->skel_->maps.vg_events, plan.ringbuf_bytes)) {
    return errnoStatus("sizing the event ring buffer", errno);
  }
  if (!plan.pin_dir.empty()) {
    if (mkdir(plan.pin_dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return errnoStatus("creating pin directory " + plan.pin_dir + " (bpffs mounted?)", errno);
    }
    bpf_map* map;
    bpf_object__for_each_map(map, l->skel_->obj) {
      if (bpf_map__is_internal(map)) continue;  // .rodata/.bss belong to one load
      std::string path = plan.pin_dir + "/" + bpf_map__name(map);
      // libbpf reuses a compatible pinned map, or creates and pins a new one.
      if (bpf_map__set_pin_path(map, path.c_str()) != 0) {
        return errnoStatus("setting pin path " + path, errno);
      }
    }
  }
  if (int err = vigil_bpf__load(l->skel_); err != 0) {
    return errnoStatus("loading the BPF programs (run with --log-level debug for the verifier log)",
                       -err);
  }
  if (auto s = l->initHashKey(); !s.ok()) return s;
  if (!plan.pin_dir.empty()) {
    // Links a daemon of ABI 1 pinned for its built-in file_open and
    // bprm_check programs: those read hook ids 1 and 2 of vg_hooks, which
    // are now any hook's. Released before any selector is written.
    for (const char* old : {"vg_lsm_file_open", "vg_lsm_bprm_check", "vg_fmod_file_open",
                            "vg_fmod_bprm_check"}) {
      const std::string pin = absl::StrCat(plan.pin_dir, "/link_", old);
      if (unlink(pin.c_str()) == 0) spdlog::info("released {} of an earlier vigild", pin);
    }
    l->adopted_generation_ = l->findAdoptedGeneration();
    for (uint32_t id = VG_HOOK_FIRST; id < VG_HOOK_MAX; id++) {
      vg_hook_meta meta{};
      if (bpf_map__lookup_elem(l->skel_->maps.vg_hook_meta, &id, sizeof(id), &meta, sizeof(meta),
                               0) == 0 &&
          meta.in_use) {
        meta.key[sizeof(meta.key) - 1] = 0;
        l->adopted_hooks_[meta.key] = id;
      }
    }
  }
  return l;
}

namespace {

// Argument count of a kernel function, from the kernel's BTF.
absl::StatusOr<int> functionArgCount(const std::string& fn) {
  static btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return absl::UnavailableError("the kernel's BTF (/sys/kernel/btf/vmlinux) is unreadable");
  int id = btf__find_by_name_kind(vmlinux, fn.c_str(), BTF_KIND_FUNC);
  if (id < 0) return absl::NotFoundError(absl::StrCat("kernel function ", fn, " not found in the kernel's BTF"));
  const btf_type* func = btf__type_by_id(vmlinux, id);
  const btf_type* proto = func ? btf__type_by_id(vmlinux, func->type) : nullptr;
  if (!proto) return absl::InternalError(absl::StrCat("no prototype for ", fn, " in BTF"));
  return static_cast<int>(btf_vlen(proto));
}

// The record layout daemon/policy/tracepoints.cc describes, checked against
// the kernel's own: BTF struct trace_event_raw_EVENT holds ent (the common_*
// fields), then one member per field of the format, in format order.
const policy::TracepointInfo* tracepointOf(const compiler::HookSpec& spec) {
  const size_t slash = spec.name.find('/');
  return slash == std::string::npos
             ? nullptr
             : policy::findTracepoint(std::string_view(spec.name).substr(0, slash),
                                      std::string_view(spec.name).substr(slash + 1));
}

absl::Status checkTracepointLayout(const compiler::HookSpec& spec) {
  static btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return absl::UnavailableError("the kernel's BTF (/sys/kernel/btf/vmlinux) is unreadable");
  const policy::TracepointInfo* info = tracepointOf(spec);
  if (!info) return absl::InvalidArgumentError(absl::StrCat(spec.pos.str(), ": unknown tracepoint ", spec.name));
  // syscalls/*: fields come from raw_syscalls' pt_regs, not from a record.
  if (info->nr >= 0) return absl::OkStatus();
  std::string record = "trace_event_raw_" + spec.function;
  int id = btf__find_by_name_kind(vmlinux, record.c_str(), BTF_KIND_STRUCT);
  if (id < 0 && !info->record_class.empty()) {
    record = "trace_event_raw_" + std::string(info->record_class);
    id = btf__find_by_name_kind(vmlinux, record.c_str(), BTF_KIND_STRUCT);
  }
  if (id < 0) {
    return absl::NotFoundError(absl::StrCat(spec.pos.str(), ": tracepoint ", spec.name,
                                            ": no struct ", record, " in the kernel's BTF"));
  }
  const btf_type* t = btf__type_by_id(vmlinux, id);
  const btf_member* m = btf_members(t);
  for (size_t f = 4; f < info->fields.size(); f++) {
    const size_t mi = f - 3;
    const char* name = mi < btf_vlen(t) ? btf__name_by_offset(vmlinux, m[mi].name_off) : nullptr;
    // __data_loc fields (strings) are members named __data_loc_NAME.
    const std::string_view member = name ? std::string_view(name) : std::string_view();
    if (!name || (info->fields[f].name != member &&
                  "__data_loc_" + std::string(info->fields[f].name) != member)) {
      return absl::FailedPreconditionError(absl::StrCat(
          spec.pos.str(), ": tracepoint ", spec.name, ": the kernel's record (", record,
          ") has ", name ? name : "no member", " where Vigil expects field ", f, " ",
          std::string(info->fields[f].name)));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Loader::initHashKey() {
  const uint32_t zero = 0;
  vg_config cfg{};
  bpf_map__lookup_elem(skel_->maps.vg_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
  if (cfg.hash_key[0] == 0 && cfg.hash_key[1] == 0) {
    // Fresh maps: new keys, written before any program runs, so the process
    // table hashes binaries with them from its first exec.
    if (getrandom(cfg.hash_key, sizeof(cfg.hash_key), 0) != sizeof(cfg.hash_key)) {
      return errnoStatus("getrandom (string hash keys)", errno);
    }
    if (bpf_map__update_elem(skel_->maps.vg_config, &zero, sizeof(zero), &cfg, sizeof(cfg),
                             BPF_ANY) != 0) {
      return errnoStatus("writing vg_config", errno);
    }
  }
  hash_key_ = {cfg.hash_key[0], cfg.hash_key[1]};
  return absl::OkStatus();
}

namespace {

// A generic hook instance uses the main object's maps (one set of tables for
// every hook), except its own vg_kret_args: a kretprobe's entry arguments,
// sized only where it is used.
absl::Status shareMaps(bpf_object* main_obj, vigil_hook_bpf* skel, bool kretprobe) {
  bpf_map__set_max_entries(skel->maps.vg_kret_args, kretprobe ? 8192 : 1);
  bpf_map* map;
  bpf_object__for_each_map(map, skel->obj) {
    if (bpf_map__is_internal(map) || map == skel->maps.vg_kret_args) continue;
    bpf_map* main = bpf_object__find_map_by_name(main_obj, bpf_map__name(map));
    if (!main || bpf_map__reuse_fd(map, bpf_map__fd(main)) != 0) {
      return errnoStatus(absl::StrCat("sharing map ", bpf_map__name(map)), errno);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Loader::loadInstance(GenericHook& h,
                                  const std::function<bpf_program*(vigil_hook_bpf&)>& pick,
                                  const std::function<void(vigil_hook_bpf&)>& setup,
                                  const std::string& target, bool trampoline, bool kret_entry) {
  const auto start = std::chrono::steady_clock::now();
  h.skel = vigil_hook_bpf__open();
  if (!h.skel) return errnoStatus("opening the generic hook object", errno);
  h.prog = pick(*h.skel);
  setup(*h.skel);
  h.skel->rodata->vg_can_read_kernel = plan_.can_read_kernel;
  bpf_program* p;
  bpf_object__for_each_program(p, h.skel->obj) {
    bpf_program__set_autoload(p, p == h.prog || (kret_entry && p == h.skel->progs.vg_gen_kret_entry));
  }
  auto fail = [&](absl::Status st) {
    vigil_hook_bpf__destroy(h.skel);
    h.skel = nullptr;
    return st;
  };
  if (trampoline && bpf_program__set_attach_target(h.prog, 0, target.c_str()) != 0) {
    return fail(errnoStatus(absl::StrCat("attach target ", target), errno));
  }
  if (auto st = shareMaps(skel_->obj, h.skel, kret_entry); !st.ok()) return fail(st);
  g_verifier_verdict.clear();
  if (int err = vigil_hook_bpf__load(h.skel); err != 0) {
    return fail(absl::FailedPreconditionError(
        g_verifier_verdict.empty() ? std::string(strerror(-err)) : g_verifier_verdict));
  }
  // The verifier's work per instance is the cost of a hook at start and
  // reload: worth seeing (docs/benchmarks.md, bench/verifier_cost.sh).
  bpf_prog_info info{};
  __u32 len = sizeof(info);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
          .count();
  if (bpf_obj_get_info_by_fd(bpf_program__fd(h.prog), &info, &len) == 0) {
    spdlog::info("loaded {} for {}: {} instructions, {} verified, in {} ms", h.program,
                 h.spec.ref(), info.xlated_prog_len / 8, info.verified_insns, ms);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Loader::GenericHook>> Loader::loadEnforcer(
    const compiler::EnforcerSpec& e, bool* deny, std::string* why) {
  auto n = functionArgCount(e.function);
  if (!n.ok()) return n.status();
  for (bool fmod : {true, false}) {
    auto h = std::make_unique<GenericHook>();
    h->spec.name = e.call;
    h->spec.function = e.function;
    h->program = absl::StrCat(fmod ? "fmod_ret/" : "fentry/", e.function);
    g_quiet_load = fmod;  // refused on most kernels: fentry is the next choice
    absl::Status st = loadInstance(
        *h, [fmod](vigil_hook_bpf& k) { return fmod ? k.progs.vg_enf_fmod : k.progs.vg_enf_fentry; },
        [&](vigil_hook_bpf& k) { k.rodata->vg_gen_nargs = static_cast<uint8_t>(*n); },
        e.function, true, false);
    g_quiet_load = false;
    if (st.ok()) {
      h->link = bpf_program__attach(h->prog);
      if (!h->link) {
        st = errnoStatus("attaching " + h->program, errno);
        vigil_hook_bpf__destroy(h->skel);
      }
    }
    if (st.ok()) {
      *deny = fmod;
      return h;
    }
    if (fmod) {
      *why = absl::StrCat("fmod_ret/", e.function, " refused (", st.message(), ")");
    } else {
      *why += absl::StrCat("; fentry/", e.function, " refused (", st.message(), ")");
      return st;
    }
  }
  return absl::InternalError("unreachable");
}

uint8_t Loader::applyEnforcers(const compiler::CompiledSet& set) {
  enforcer_notes_.clear();
  if (set.enforcers.empty()) return 0;
  bool all_deny = true, all_signal = true;
  for (const auto& e : set.enforcers) {
    const std::string who = absl::StrCat("enforcer ", e.call, " (policy ",
                                         absl::StrJoin(e.policies, ", "), ")");
    if (!enforcers_.count(e.function)) {
      bool deny = false;
      std::string why;
      auto h = loadEnforcer(e, &deny, &why);
      if (!h.ok()) {
        all_deny = all_signal = false;
        enforcer_notes_.push_back(absl::StrCat(
            who, ": not attached (", why.empty() ? std::string(h.status().message()) : why,
            "): NotifyEnforcer's argError is not enforced; argSig is sent from the notifying "
            "selector instead"));
        continue;
      }
      spdlog::info("attached {} for {}", (*h)->program, who);
      attached_.push_back((*h)->program);
      enforcers_[e.function] = std::move(*h);
      enforcer_deny_[e.function] = deny;
      if (!deny) {
        enforcer_notes_.push_back(absl::StrCat(
            who, ": ", why, "; attached as fentry: argError is not enforced, argSig is"));
      }
    } else if (!enforcer_deny_[e.function]) {
      enforcer_notes_.push_back(absl::StrCat(
          who, ": attached as fentry (fmod_ret refused): argError is not enforced, argSig is"));
    }
    all_deny = all_deny && enforcers_.count(e.function) && enforcer_deny_[e.function];
  }
  for (const auto& n : enforcer_notes_) spdlog::warn("{}", n);
  return static_cast<uint8_t>((all_deny ? VG_ENF_DENY : 0) | (all_signal ? VG_ENF_SIGNAL : 0));
}

std::string Loader::hookPin(uint32_t id) const {
  return plan_.pin_dir.empty() ? std::string() : absl::StrCat(plan_.pin_dir, "/link_hook_", id);
}

absl::StatusOr<std::unique_ptr<Loader::GenericHook>> Loader::loadGeneric(
    const compiler::HookSpec& spec) {
  auto h = std::make_unique<GenericHook>();
  h->spec = spec;
  // Which programs may serve the hook, first choice first (mechanism.h):
  // BPF LSM or fmod_ret for lsmhooks; fmod_ret for a kprobe that overrides;
  // fentry/fexit, else kprobe/kretprobe, for the others. The next one is
  // tried for this function only when the kernel refuses the previous one.
  MechanismInputs in = plan_.kprobe;
  in.lsm = plan_.hooks;
  auto order = hookMechanisms(spec, in);
  if (!order.ok()) return order.status();
  std::vector<std::string> refused;
  absl::Status st;
  for (size_t k = 0; k < order->size(); k++) {
    const uint8_t mech = (*order)[k];
    st = loadAs(*h, mech);
    if (st.ok()) {
      if (k > 0) {
        std::string msg = absl::StrCat(spec.pos.str(), ": ", spec.ref(), ": attached as ",
                                       h->program, " because the kernel refused ",
                                       absl::StrJoin(refused, "; "));
        spdlog::warn("{}", msg);
        fallbacks_.push_back(std::move(msg));
      }
      return h;
    }
    refused.push_back(absl::StrCat(mechanismName(mech), ": ", st.message()));
    if (k + 1 < order->size()) {
      spdlog::info("{}: {} refused ({}); trying {}", spec.ref(), mechanismName(mech),
                   std::string(st.message()), mechanismName((*order)[k + 1]));
    }
  }
  if (refused.size() == 1) return st;
  // Every mechanism refused: say why for each. Not found by all of them:
  // the function does not exist (ignore.callNotFound skips it).
  return absl::Status(st.code(), absl::StrCat(spec.pos.str(), ": ", spec.ref(),
                                              ": no mechanism attaches: ",
                                              absl::StrJoin(refused, "; ")));
}

absl::Status Loader::loadAs(GenericHook& gh, uint8_t mech) {
  GenericHook* h = &gh;
  const compiler::HookSpec& spec = gh.spec;
  const bool kprobe = isKprobeMechanism(mech);
  const bool uprobe = mech == VG_MECH_UPROBE || mech == VG_MECH_URETPROBE;
  if (uprobe) {
    // Before any load: a clear error for a file that is not there.
    struct stat st {};
    if (stat(spec.path.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat(spec.pos.str(), ": ", spec.ref(), ": ", spec.path,
                                              ": ", strerror(errno)));
    }
    if (!S_ISREG(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(spec.pos.str(), ": ", spec.ref(), ": ",
                                                     spec.path, " is not a regular file"));
    }
  }
  const std::string target = mech == VG_MECH_LSM ? spec.name
                             : uprobe            ? absl::StrCat(spec.path, ":", spec.name)
                                                 : spec.function;
  // tp_btf: attaches by name and loads under lockdown (classic tracepoints
  // need the tracefs id, which lockdown withholds).
  const bool tp = mech == VG_MECH_TRACEPOINT;
  if (tp) {
    if (auto s = checkTracepointLayout(spec); !s.ok()) return s;
  }
  int nargs = tp ? 0 : spec.nargs;
  if (mech != VG_MECH_LSM && !tp && !uprobe) {
    auto n = functionArgCount(target);
    if (!n.ok() && !kprobe) {
      return absl::Status(n.status().code(), absl::StrCat(spec.pos.str(), ": ", n.status().message()));
    }
    // A kprobe needs no BTF: without it the argument count is unchecked.
    nargs = n.ok() ? *n : VG_HOOK_ARGS;
    if (n.ok() && spec.syscall && *n != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          spec.pos.str(), ": ", target, " is not a system call wrapper taking pt_regs (", *n,
          " arguments)"));
    }
    for (int i = 0; i < VG_HOOK_ARGS; i++) {
      if (spec.size_of[i] >= (spec.syscall ? VG_HOOK_ARGS : nargs)) {
        return absl::InvalidArgumentError(absl::StrCat(
            spec.pos.str(), ": ", target, " has ", nargs, " arguments; argument ", i,
            "'s sizeArgIndex ", spec.size_of[i] + 1, " names none of them"));
      }
    }
    for (int i = spec.syscall ? VG_HOOK_ARGS : nargs; i < VG_HOOK_ARGS; i++) {
      if (spec.kinds[i] != VG_ARG_NONE) {
        return absl::InvalidArgumentError(absl::StrCat(spec.pos.str(), ": ", target, " has ",
                                                       nargs, " arguments; argument ", i,
                                                       " does not exist"));
      }
    }
  }
  if (kprobe && spec.syscall && !plan_.can_read_kernel) {
    return absl::FailedPreconditionError(absl::StrCat(
        spec.pos.str(), ": ", spec.ref(), ": a kprobe on a system call reads the caller's "
        "registers with bpf_probe_read_kernel, which this kernel refuses (lockdown)"));
  }
  auto tryLoad = [&](bool d_path) -> absl::Status {
    h->mech = mech;
    h->program = absl::StrCat(mechanismSection(mech), "/", target);
    auto pick = [mech](vigil_hook_bpf& k) {
      auto& progs = k.progs;
      return mech == VG_MECH_LSM         ? progs.vg_gen_lsm
             : mech == VG_MECH_FMOD_RET  ? progs.vg_gen_fmod_ret
             : mech == VG_MECH_FEXIT     ? progs.vg_gen_fexit
             : mech == VG_MECH_KPROBE    ? progs.vg_gen_kprobe_prog
             : mech == VG_MECH_KRETPROBE ? progs.vg_gen_kretprobe
             : mech == VG_MECH_TRACEPOINT ? progs.vg_gen_tp
             : mech == VG_MECH_UPROBE    ? progs.vg_gen_uprobe
             : mech == VG_MECH_URETPROBE ? progs.vg_gen_uret
                                         : progs.vg_gen_fentry;
    };
    auto setup = [&](vigil_hook_bpf& k) {
      auto& ro = *k.rodata;
      ro.vg_gen_hook = spec.id;
      for (int i = 0; i < VG_HOOK_ARGS; i++) {
        ro.vg_gen_kind[i] = spec.kinds[i];
        ro.vg_gen_slot[i] = spec.slots[i];
        ro.vg_gen_mount_of[i] = spec.mount_of[i];
        ro.vg_gen_src[i] = spec.src[i];
        ro.vg_gen_size_of[i] = spec.size_of[i];
      }
      ro.vg_gen_ret_copy = spec.ret_copy;
      ro.vg_gen_ret_slot = spec.ret_slot;
      ro.vg_gen_ret_track = spec.track_sock;
      ro.vg_gen_fflags = spec.file_flags;
      if (const auto* info = tp ? tracepointOf(spec) : nullptr; info && info->nested) {
        ro.vg_gen_scratch = 1;
      }
      ro.vg_gen_tp_nr = spec.tp_nr;
      ro.vg_gen_tp_nr_src = spec.tp_nr_src;
      ro.vg_gen_nargs = static_cast<uint8_t>(nargs);
      ro.vg_gen_syscall = spec.syscall;
      ro.vg_gen_mech = mech;
      ro.vg_gen_dpath = d_path;
      ro.vg_gen_ret_kind = spec.ret_kind;
    };
    absl::Status st = loadInstance(*h, pick, setup, target, !kprobe && !uprobe,
                                   mech == VG_MECH_KRETPROBE);
    if (st.ok()) return st;
    std::string why(st.message());
    if (mech == VG_MECH_FMOD_RET && why.find("is not modifiable") != std::string::npos) {
      why += " (this kernel lets BPF change the return value of security_* functions only; "
             "deny through an lsmhook, or use Sigkill)";
    }
    return absl::Status(st.code(), absl::StrCat(spec.pos.str(), ": loading ", h->program, " for ",
                                                spec.ref(), ": ", why));
  };
  // bpf_d_path resolves paths as d_path does, but the kernel allows it on
  // some LSM hooks only (6.1: the sleepable ones); elsewhere the program
  // walks the dentries itself.
  const bool wants_path = std::any_of(spec.kinds.begin(), spec.kinds.end(), [](uint8_t k) {
    return k == VG_ARG_FILE || k == VG_ARG_PATH || k == VG_ARG_BINPRM;
  });
  // fmod_ret programs get bpf_d_path on the functions of the kernel's
  // btf_allowlist_d_path only (the same list in 6.1 and 6.12): on
  // security_file_open it keeps file_open's paths as d_path makes them where
  // BPF LSM is off. security_bprm_check is not on it: exec paths there come
  // from the dentry walk.
  static const std::set<std::string, std::less<>> kDPathAllowed = {
      "security_file_permission", "security_inode_getattr", "security_file_open",
      "security_path_truncate", "vfs_truncate", "vfs_fallocate", "dentry_open", "vfs_getattr",
      "filp_close"};
  const bool try_d_path =
      wants_path && (mech == VG_MECH_LSM ||
                     (mech == VG_MECH_FMOD_RET && kDPathAllowed.count(spec.function)));
  // A trampoline the kernel may refuse (a kprobe is the next choice): its
  // verifier log is no warning.
  g_quiet_load = try_d_path ||
                 (!kprobe && plan_.kprobe.mode == KprobeMode::kAuto && plan_.kprobe.kprobes &&
                  spec.kind == policy::HookKind::kKprobe && !spec.overrides);
  absl::Status st = tryLoad(try_d_path);
  g_quiet_load = false;
  if (!st.ok() && try_d_path) {
    spdlog::debug("{}: bpf_d_path refused ({}); walking dentries instead", spec.ref(),
                  std::string(st.message()));
    st = tryLoad(false);
  }
  if (!st.ok()) return st;
  bpf_program* prog = h->prog;
  // Attach now: with no selectors written for its id yet it returns at once.
  // A kretprobe's entry half goes first, so that the return finds arguments.
  const std::string pin = hookPin(spec.id);
  const std::string entry_pin = pin.empty() ? pin : pin + "_entry";
  auto openPinned = [](const std::string& path) -> bpf_link* {
    if (path.empty()) return nullptr;
    bpf_link* l = bpf_link__open(path.c_str());
    return l && !libbpf_get_error(l) ? l : nullptr;
  };
  bpf_link* old = openPinned(pin);
  bpf_link* old_entry = openPinned(entry_pin);
  auto attachOne = [&](bpf_program* p, bool ret) -> bpf_link* {
    if (uprobe) return attachUprobe(spec, p);
    if (!kprobe) return bpf_program__attach(p);
    LIBBPF_OPTS(bpf_kprobe_opts, ko, .retprobe = ret);
    return bpf_program__attach_kprobe_opts(p, spec.function.c_str(), &ko);
  };
  int err = 0;
  if (mech == VG_MECH_KRETPROBE) {
    h->entry_link = attachOne(h->skel->progs.vg_gen_kret_entry, false);
    if (!h->entry_link) err = errno;
  }
  if (!err) {
    h->link = attachOne(prog, mech == VG_MECH_KRETPROBE);
    if (!h->link) err = errno;
  }
  if (err) {
    for (bpf_link* o : {old, old_entry}) {
      if (o) {
        bpf_link__disconnect(o);  // closing ours must not detach the pinned one
        bpf_link__destroy(o);
      }
    }
    destroyGeneric(*h, false);
    absl::Status st = errnoStatus(absl::StrCat(spec.pos.str(), ": attaching ", h->program), err);
    if (kprobe && err == EPERM) {  // measured: 6.12 with lockdown=confidentiality
      st = absl::PermissionDeniedError(absl::StrCat(
          st.message(), " (lockdown=confidentiality refuses kprobes; see vigilctl probe)"));
    }
    if (uprobe && err == ENOENT) {
      // libbpf looks the symbol up in the file's ELF symbol tables (.symtab,
      // .dynsym); ENOENT: it is in neither.
      return absl::NotFoundError(absl::StrCat(spec.pos.str(), ": ", spec.ref(), ": symbol \"",
                                              spec.name, "\" not found in ", spec.path,
                                              " (its ELF symbol tables)"));
    }
    // A kprobe on a symbol the kernel does not have: not found, as for BTF.
    return kprobe && err == ENOENT ? absl::NotFoundError(st.message()) : st;
  }
  for (bpf_link* o : {old, old_entry}) {  // the previous daemon's instance of the same hook
    if (o) {
      bpf_link__unpin(o);
      bpf_link__destroy(o);
    }
  }
  if (!pin.empty() && (bpf_link__pin(h->link, pin.c_str()) != 0 ||
                       (h->entry_link && bpf_link__pin(h->entry_link, entry_pin.c_str()) != 0))) {
    int e = errno;
    destroyGeneric(*h, true);
    return errnoStatus("pinning " + pin, e);
  }
  return absl::OkStatus();
}

bpf_link* Loader::attachUprobe(const compiler::HookSpec& spec, bpf_program* prog) {
  // One link per (file, symbol or offset), on every process that maps the
  // file (pid -1); libbpf finds the symbol's file offset, in shared
  // libraries too.
  LIBBPF_OPTS(bpf_uprobe_opts, opts);
  opts.retprobe = spec.ret_kind != VG_ARG_NONE;
  opts.ref_ctr_offset = spec.ref_ctr_offset;
  opts.func_name = spec.offset ? nullptr : spec.function.c_str();
  return bpf_program__attach_uprobe_opts(prog, -1, spec.path.c_str(), spec.offset, &opts);
}

void Loader::destroyGeneric(GenericHook& h, bool unpin) {
  for (bpf_link** l : {&h.link, &h.entry_link}) {
    if (!*l) continue;
    if (unpin) bpf_link__unpin(*l);
    bpf_link__destroy(*l);
    *l = nullptr;
  }
  if (h.skel) vigil_hook_bpf__destroy(h.skel);
  h.skel = nullptr;
}

std::map<std::string, uint32_t> Loader::hookIds() const {
  std::map<std::string, uint32_t> out = adopted_hooks_;
  for (const auto& [id, h] : generic_) out[h->spec.key()] = id;
  return out;
}

int Loader::findAdoptedGeneration() const {
  // A running set from an earlier daemon: its hooks name slots of one half.
  for (uint32_t h = 0; h < VG_HOOK_MAX; h++) {
    vg_hook_selectors hs{};
    if (bpf_map__lookup_elem(skel_->maps.vg_hooks, &h, sizeof(h), &hs, sizeof(hs), 0) == 0 &&
        hs.count > 0) {
      return hs.slots[0] >= compiler::kGenSelectors ? 1 : 0;
    }
  }
  return -1;
}

void Loader::retireGeneration(int generation) {
  auto& m = skel_->maps;
  const uint32_t pol_lo = generation * compiler::kGenPolicies;
  const uint32_t sel_lo = generation * compiler::kGenSelectors;
  for (uint32_t id = pol_lo; id < pol_lo + compiler::kGenPolicies; id++) {
    vg_policy_state off{};
    bpf_map__update_elem(m.vg_policies, &id, sizeof(id), &off, sizeof(off), BPF_ANY);
  }
  std::vector<vg_str_key> doomed;
  vg_str_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map__get_next_key(m.vg_str_match, prev, &next, sizeof(next)) == 0) {
    if (next.selector >= sel_lo && next.selector < sel_lo + compiler::kGenSelectors) {
      doomed.push_back(next);
    }
    key = next;
    prev = &key;
  }
  for (const auto& k : doomed) bpf_map__delete_elem(m.vg_str_match, &k, sizeof(k), 0);
  std::vector<vg_cidr_key> doomed_cidrs;
  vg_cidr_key ckey{}, cnext{};
  const void* cprev = nullptr;
  while (bpf_map__get_next_key(m.vg_cidr, cprev, &cnext, sizeof(cnext)) == 0) {
    if (cnext.selector >= sel_lo && cnext.selector < sel_lo + compiler::kGenSelectors) {
      doomed_cidrs.push_back(cnext);
    }
    ckey = cnext;
    cprev = &ckey;
  }
  for (const auto& k : doomed_cidrs) bpf_map__delete_elem(m.vg_cidr, &k, sizeof(k), 0);
  vg_selector empty{};
  for (uint32_t slot = sel_lo; slot < sel_lo + compiler::kGenSelectors; slot++) {
    bpf_map__update_elem(m.vg_selectors, &slot, sizeof(slot), &empty, sizeof(empty), BPF_ANY);
  }
  // Generic hooks no policy names any more: detach them (theirs and those a
  // previous daemon pinned).
  for (auto it = generic_.begin(); it != generic_.end();) {
    if (in_use_.count(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("detaching {} (no policy uses it)", it->second->program);
    destroyGeneric(*it->second, true);
    it = generic_.erase(it);
  }
  for (auto it = adopted_hooks_.begin(); it != adopted_hooks_.end();) {
    if (in_use_.count(it->second)) {
      ++it;
      continue;
    }
    const std::string pin = hookPin(it->second);
    for (const std::string& p : {pin, pin + "_entry"}) {  // _entry: a kretprobe's entry half
      if (bpf_link* old = bpf_link__open(p.c_str()); old && !libbpf_get_error(old)) {
        bpf_link__unpin(old);
        bpf_link__destroy(old);
      }
    }
    vg_hook_meta none{};
    bpf_map__update_elem(m.vg_hook_meta, &it->second, sizeof(uint32_t), &none, sizeof(none),
                         BPF_ANY);
    it = adopted_hooks_.erase(it);
  }
}

std::vector<std::pair<uint32_t, vg_policy_meta>> Loader::policyMeta(int generation) const {
  std::vector<std::pair<uint32_t, vg_policy_meta>> out;
  const uint32_t lo = generation * compiler::kGenPolicies;
  for (uint32_t id = lo; id < lo + compiler::kGenPolicies; id++) {
    vg_policy_meta meta{};
    if (bpf_map__lookup_elem(skel_->maps.vg_policy_meta, &id, sizeof(id), &meta, sizeof(meta), 0) ||
        !meta.name[0])
      continue;
    out.emplace_back(id, meta);
  }
  return out;
}

absl::Status Loader::setPolicyState(uint32_t id, const vg_policy_state& state) {
  return updateElem(skel_->maps.vg_policies, &id, sizeof(id), &state, sizeof(state));
}

void Loader::unpinAll() {
  if (plan_.pin_dir.empty()) return;
  bpf_link** links[] = {&skel_->links.vg_tp_exec, &skel_->links.vg_tp_fork,
                        &skel_->links.vg_tp_exit};
  for (auto* l : links) {
    if (*l) bpf_link__unpin(*l);
  }
  for (auto& [id, h] : generic_) {
    if (h->link) bpf_link__unpin(h->link);
    if (h->entry_link) bpf_link__unpin(h->entry_link);
  }
  bpf_map* map;
  bpf_object__for_each_map(map, skel_->obj) {
    if (!bpf_map__is_internal(map)) bpf_map__unpin(map, nullptr);
  }
  rmdir(plan_.pin_dir.c_str());
}

Loader::~Loader() {
  for (auto& [id, h] : generic_) destroyGeneric(*h, false);
  for (auto& [fn, h] : enforcers_) destroyGeneric(*h, false);
  if (skel_) vigil_bpf__destroy(skel_);
}

absl::Status Loader::apply(const compiler::CompiledSet& set) {
  if (set.config.hash_key[0] != hash_key_[0] || set.config.hash_key[1] != hash_key_[1]) {
    return absl::InternalError("policies compiled with other string hash keys than the kernel's");
  }
  auto& m = skel_->maps;
  uint32_t zero = 0;
  // Task filters that walk kernel memory need bpf_probe_read_kernel.
  if (!plan_.can_read_kernel) {
    for (const auto& [slot, sel] : set.selectors) {
      for (int t = 0; t < sel.ntask; t++) {
        const vg_task_filter& tf = sel.task[t];
        if ((tf.kind == VG_TF_PID && tf.flags) || (tf.kind == VG_TF_NS && tf.which == VG_NS_PID)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "policy ", set.policy_names[sel.policy - set.policy_base], ": matchPIDs followForks/",
              "isNamespacePID and matchNamespaces Pid read kernel memory, which this kernel's "
              "lockdown refuses (bpf_probe_read_kernel)"));
        }
      }
    }
  }
  // Generic hooks first: all of them in the kernel, or none of the new ones.
  std::vector<uint32_t> added;
  std::vector<std::string> skipped;
  std::set<uint32_t> in_use;
  for (const auto& spec : set.generic) {
    auto it = generic_.find(spec.id);
    if (it != generic_.end() && it->second->spec.key() == spec.key()) {
      in_use.insert(spec.id);
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto h = loadGeneric(spec);
    const auto load_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - t0).count();
    if (!h.ok()) {
      if ((spec.skip_if_missing && absl::IsNotFound(h.status())) || spec.generated) {
        skipped.push_back(std::string(h.status().message()));
        spdlog::warn("{}: skipped (ignore.callNotFound): {}", spec.pos.str(),
                     std::string(h.status().message()));
        continue;
      }
      for (uint32_t id : added) {
        destroyGeneric(*generic_[id], true);
        generic_.erase(id);
      }
      return h.status();
    }
    spdlog::info("attached {} for {} (hook id {}, loaded in {} ms)", (*h)->program, spec.ref(),
                 spec.id, load_ms);
    attached_.push_back((*h)->program);
    generic_[spec.id] = std::move(*h);
    added.push_back(spec.id);
    in_use.insert(spec.id);
  }
  for (const auto& spec : set.generic) {
    if (!in_use.count(spec.id)) continue;
    vg_hook_meta meta{};
    const std::string key = spec.key();
    memcpy(meta.key, key.data(), std::min(key.size(), sizeof(meta.key) - 1));
    meta.in_use = 1;
    if (auto s = updateElem(m.vg_hook_meta, &spec.id, sizeof(spec.id), &meta, sizeof(meta)); !s.ok())
      return s;
  }
  in_use_ = std::move(in_use);
  skipped_ = std::move(skipped);
  vg_config config = set.config;
  config.enforcer_caps = applyEnforcers(set);
  if (auto s = updateElem(m.vg_config, &zero, sizeof(zero), &config, sizeof(config)); !s.ok())
    return s;
  for (const auto& [id, st] : set.policies) {
    if (auto s = updateElem(m.vg_policies, &id, sizeof(id), &st, sizeof(st)); !s.ok()) return s;
    vg_policy_meta meta{};
    const std::string& name = set.policy_names[id - set.policy_base];
    memcpy(meta.name, name.data(), std::min(name.size(), sizeof(meta.name) - 1));
    meta.mode = st.mode;
    if (auto s = updateElem(m.vg_policy_meta, &id, sizeof(id), &meta, sizeof(meta)); !s.ok())
      return s;
  }
  for (const auto& [id, ls] : set.len_sets) {
    if (auto s = updateElem(m.vg_len_sets, &id, sizeof(id), &ls, sizeof(ls)); !s.ok()) return s;
  }
  const uint8_t one = 1;
  for (const auto& [key, check] : set.str_keys) {
    if (auto s = updateElem(m.vg_str_match, &key, sizeof(key), &check, sizeof(check)); !s.ok())
      return s;
  }
  for (const auto& key : set.cidrs) {
    if (auto s = updateElem(m.vg_cidr, &key, sizeof(key), &one, sizeof(one)); !s.ok()) return s;
  }
  for (const auto& [slot, sel] : set.selectors) {
    if (auto s = updateElem(m.vg_selectors, &slot, sizeof(slot), &sel, sizeof(sel)); !s.ok())
      return s;
  }
  // Hooks last: a hook only sees selectors whose values are all in place.
  for (uint32_t h = 0; h < VG_HOOK_MAX; h++) {
    // A skipped hook has no program: leave its selectors out.
    const vg_hook_selectors none{};
    const vg_hook_selectors& hs = !in_use_.count(h) ? none : set.hooks[h];
    if (auto s = updateElem(m.vg_hooks, &h, sizeof(h), &hs, sizeof(hs)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void Loader::seedProcesses() {
  if (!plan_.process_table) return;
  size_t n = 0;
  for (const auto& [tgid, proc] : process::scanProcesses("/proc", hash_key_.data())) {
    // NOEXIST: an entry the kernel already wrote (an exec that raced the scan) is newer.
    if (bpf_map__update_elem(skel_->maps.vg_procs, &tgid, sizeof(tgid), &proc, sizeof(proc),
                             BPF_NOEXIST) == 0)
      n++;
  }
  spdlog::info("process table seeded with {} running processes", n);
}

absl::Status Loader::attach() {
  struct Prog {
    bpf_program* prog;
    bpf_link** link;
    bool wanted;
  };
  auto& p = skel_->progs;
  auto& l = skel_->links;
  // Process tracking first, so execs that happen while hooks attach are seen.
  const Prog progs[] = {
      {p.vg_tp_exec, &l.vg_tp_exec, plan_.process_table},
      {p.vg_tp_fork, &l.vg_tp_fork, plan_.process_table},
      {p.vg_tp_exit, &l.vg_tp_exit, plan_.process_table},
  };
  for (const auto& pr : progs) {
    if (!pr.wanted) continue;
    if (pr.prog == p.vg_tp_exit) seedProcesses();
    // A link pinned by an earlier daemon keeps its program enforcing until
    // ours is attached; only then is it released (both run for that moment).
    std::string pin = plan_.pin_dir.empty()
                          ? std::string()
                          : plan_.pin_dir + "/link_" + bpf_program__name(pr.prog);
    bpf_link* old = pin.empty() ? nullptr : bpf_link__open(pin.c_str());
    if (old && libbpf_get_error(old)) old = nullptr;
    bpf_link* link = bpf_program__attach(pr.prog);
    if (!link) {
      int err = errno;
      if (old) {
        bpf_link__disconnect(old);  // closing ours must not detach the pinned one
        bpf_link__destroy(old);
      }
      return errnoStatus(absl::StrCat("attaching ", bpf_program__section_name(pr.prog)), err);
    }
    *pr.link = link;
    if (old) {
      bpf_link__unpin(old);
      bpf_link__destroy(old);
    }
    if (!pin.empty() && bpf_link__pin(link, pin.c_str()) != 0) {
      return errnoStatus("pinning " + pin, errno);
    }
    attached_.push_back(bpf_program__section_name(pr.prog));
  }
  return absl::OkStatus();
}

int Loader::eventsFd() const { return bpf_map__fd(skel_->maps.vg_events); }

namespace {

// The n frames under id in a stack map, then the id freed; empty when gone.
template <typename Frame>
std::vector<Frame> takeFrames(bpf_map* map, int32_t id, size_t n) {
  std::vector<Frame> frames(n);
  const uint32_t key = static_cast<uint32_t>(id);
  if (id < 0 || bpf_map_lookup_elem(bpf_map__fd(map), &key, frames.data()) != 0) return {};
  bpf_map_delete_elem(bpf_map__fd(map), &key);
  return frames;
}

}  // namespace

std::vector<uint64_t> Loader::takeStack(int32_t id) const {
  return takeFrames<uint64_t>(skel_->maps.vg_stacks, id, VG_STACK_DEPTH);
}

std::vector<bpf_stack_build_id> Loader::takeUserStack(int32_t id) const {
  return takeFrames<bpf_stack_build_id>(skel_->maps.vg_ustacks, id, VG_USTACK_DEPTH);
}

vg_counters Loader::counters(uint32_t hook) const {
  vg_counters total{};
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return total;
  std::vector<vg_counters> per(ncpu);
  if (bpf_map__lookup_elem(skel_->maps.vg_counters, &hook, sizeof(hook), per.data(),
                           sizeof(vg_counters) * per.size(), 0) != 0)
    return total;
  for (const auto& c : per) {
    total.events += c.events;
    total.lost += c.lost;
    total.denied += c.denied;
    total.killed += c.killed;
  }
  return total;
}

std::vector<Loader::ProgramStats> Loader::programStats() const {
  std::vector<std::pair<std::string, int>> progs;
  const std::pair<bpf_program*, bpf_link*> fixed[] = {
      {skel_->progs.vg_tp_exec, skel_->links.vg_tp_exec},
      {skel_->progs.vg_tp_fork, skel_->links.vg_tp_fork},
      {skel_->progs.vg_tp_exit, skel_->links.vg_tp_exit}};
  for (const auto& [prog, link] : fixed) {
    if (link) progs.emplace_back(bpf_program__section_name(prog), bpf_program__fd(prog));
  }
  for (const auto& [id, h] : generic_) {
    if (h->link) progs.emplace_back(h->program, bpf_program__fd(h->prog));
  }
  std::vector<ProgramStats> out;
  for (const auto& [name, fd] : progs) {
    bpf_prog_info info{};
    __u32 len = sizeof(info);
    if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    out.push_back({name, info.run_time_ns, info.run_cnt});
  }
  return out;
}

absl::StatusOr<int> enableRunTimeStats() {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) return errnoStatus("BPF_ENABLE_STATS", -fd);
  return fd;
}

}  // namespace vigil::loader
