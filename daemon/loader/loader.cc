#include "daemon/loader/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
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
  l->skel_->rodata->vg_btf_reads = plan.btf_reads;
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
  if (!plan.pin_dir.empty()) l->adopted_generation_ = l->findAdoptedGeneration();
  return l;
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
  vg_selector empty{};
  for (uint32_t slot = sel_lo; slot < sel_lo + compiler::kGenSelectors; slot++) {
    bpf_map__update_elem(m.vg_selectors, &slot, sizeof(slot), &empty, sizeof(empty), BPF_ANY);
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
  bpf_link** links[] = {&skel_->links.vg_tp_exec,        &skel_->links.vg_tp_fork,
                        &skel_->links.vg_tp_exit,        &skel_->links.vg_lsm_bprm_check,
                        &skel_->links.vg_lsm_file_open,  &skel_->links.vg_fmod_bprm_check,
                        &skel_->links.vg_fmod_file_open};
  for (auto* l : links) {
    if (*l) bpf_link__unpin(*l);
  }
  bpf_map* map;
  bpf_object__for_each_map(map, skel_->obj) {
    if (!bpf_map__is_internal(map)) bpf_map__unpin(map, nullptr);
  }
  rmdir(plan_.pin_dir.c_str());
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
