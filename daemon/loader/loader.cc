#include "daemon/loader/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "daemon/process/proc_bootstrap.h"
#include "vigil.skel.h"

namespace vigil::loader {
namespace {

int libbpfPrint(libbpf_print_level level, const char* fmt, va_list args) {
  // One call can carry a whole verifier log: log it line by line.
  char* text = nullptr;
  if (vasprintf(&text, fmt, args) < 0) return 0;
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (level == LIBBPF_WARN) {
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
  l->skel_->rodata->vg_args_max = std::min<uint32_t>(plan.args_max, VG_ARGS_MAX - 1);
  const bool lsm = plan.hooks == HookMechanism::kLsm;
  const bool fmod = plan.hooks == HookMechanism::kFmodRet;
  bpf_program__set_autoload(l->skel_->progs.vg_lsm_file_open, lsm);
  bpf_program__set_autoload(l->skel_->progs.vg_lsm_bprm_check, lsm);
  bpf_program__set_autoload(l->skel_->progs.vg_fmod_file_open, fmod);
  bpf_program__set_autoload(l->skel_->progs.vg_fmod_bprm_check, fmod);
  bpf_program__set_autoload(l->skel_->progs.vg_tp_exec, plan.process_table);
  bpf_program__set_autoload(l->skel_->progs.vg_tp_fork, plan.process_table);
  bpf_program__set_autoload(l->skel_->progs.vg_tp_exit, plan.process_table);
  if (plan.ringbuf_bytes && bpf_map__set_max_entries(l->skel_->maps.vg_events, plan.ringbuf_bytes)) {
    return errnoStatus("sizing the event ring buffer", errno);
  }
  if (int err = vigil_bpf__load(l->skel_); err != 0) {
    return errnoStatus("loading the BPF programs (run with --log-level debug for the verifier log)",
                       -err);
  }
  return l;
}

Loader::~Loader() {
  if (skel_) vigil_bpf__destroy(skel_);
}

absl::Status Loader::apply(const compiler::CompiledSet& set) {
  auto& m = skel_->maps;
  uint32_t zero = 0;
  if (auto s = updateElem(m.vg_config, &zero, sizeof(zero), &set.config, sizeof(set.config)); !s.ok())
    return s;
  for (const auto& [id, st] : set.policies) {
    if (auto s = updateElem(m.vg_policies, &id, sizeof(id), &st, sizeof(st)); !s.ok()) return s;
  }
  for (const auto& [id, ls] : set.len_sets) {
    if (auto s = updateElem(m.vg_len_sets, &id, sizeof(id), &ls, sizeof(ls)); !s.ok()) return s;
  }
  const uint8_t one = 1;
  for (const auto& key : set.str_keys) {
    if (auto s = updateElem(m.vg_str_match, &key, sizeof(key), &one, sizeof(one)); !s.ok()) return s;
  }
  for (const auto& [slot, sel] : set.selectors) {
    if (auto s = updateElem(m.vg_selectors, &slot, sizeof(slot), &sel, sizeof(sel)); !s.ok())
      return s;
  }
  // Hooks last: a hook only sees selectors whose values are all in place.
  for (uint32_t h = 0; h < VG_HOOK_MAX; h++) {
    if (auto s = updateElem(m.vg_hooks, &h, sizeof(h), &set.hooks[h], sizeof(set.hooks[h]));
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

void Loader::retire(const compiler::CompiledSet& old) {
  auto& m = skel_->maps;
  for (const auto& [id, st] : old.policies) {
    vg_policy_state off{};
    bpf_map__update_elem(m.vg_policies, &id, sizeof(id), &off, sizeof(off), BPF_ANY);
  }
  for (const auto& key : old.str_keys) {
    bpf_map__delete_elem(m.vg_str_match, &key, sizeof(key), 0);
  }
  for (const auto& [slot, sel] : old.selectors) {
    vg_selector empty{};
    bpf_map__update_elem(m.vg_selectors, &slot, sizeof(slot), &empty, sizeof(empty), BPF_ANY);
  }
}

void Loader::seedProcesses() {
  if (!plan_.process_table) return;
  size_t n = 0;
  for (const auto& [tgid, proc] : process::scanProcesses("/proc")) {
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
      {p.vg_lsm_bprm_check, &l.vg_lsm_bprm_check, plan_.hooks == HookMechanism::kLsm},
      {p.vg_lsm_file_open, &l.vg_lsm_file_open, plan_.hooks == HookMechanism::kLsm},
      {p.vg_fmod_bprm_check, &l.vg_fmod_bprm_check, plan_.hooks == HookMechanism::kFmodRet},
      {p.vg_fmod_file_open, &l.vg_fmod_file_open, plan_.hooks == HookMechanism::kFmodRet},
  };
  for (const auto& pr : progs) {
    if (!pr.wanted) continue;
    if (pr.prog == p.vg_tp_exit) seedProcesses();
    bpf_link* link = bpf_program__attach(pr.prog);
    if (!link) {
      return errnoStatus(absl::StrCat("attaching ", bpf_program__section_name(pr.prog)), errno);
    }
    *pr.link = link;
    attached_.push_back(bpf_program__section_name(pr.prog));
  }
  return absl::OkStatus();
}

int Loader::eventsFd() const { return bpf_map__fd(skel_->maps.vg_events); }

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

}  // namespace vigil::loader
