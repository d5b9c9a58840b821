#include "daemon/pipeline.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "api/event_json.h"
#include "api/event_view.h"
#include "daemon/events/event_decoder.h"
#include "daemon/metrics.h"

namespace vigil {

void Pipeline::emit(api::Event& ev) {
  emitted++;
  by_type[ev.event_case()]++;
  if (api::sanitizeStrings(&ev) > 0) invalid_utf8_events++;
  if (auto pe = api::policyEvent(ev)) {
    by_policy[{std::string(pe->policy_name), pe->target(), api::Outcome_Name(pe->outcome)}]++;
  }
  if (ev.has_status() && ev.status().kind() == api::Status::KIND_POLICY_FAILED) {
    policy_load_errors++;
  }
  if (control && control->streams()) control->publish(ev);
  if (exporter) {
    exporter->submit(ev);
    return;
  }
  std::string line = api::renderJson(ev);
  line.push_back('\n');
  if (fwrite(line.data(), 1, line.size(), stdout) != line.size()) output_broken = true;
}

void Pipeline::write(api::Event ev) {
  emit(ev);
  if (rules && !ev.has_status() && !ev.has_rule_alert()) {
    rules->evaluate(ev, [this](api::Event&& alert) {
      alerts++;
      emit(alert);
    });
  }
}

void Pipeline::writeAnnouncements() {
  for (auto& ev : cache.takeAnnouncements()) {
    if (process_events) write(std::move(ev));
  }
}

namespace {

// The frames of stack id: from the map, which then frees the id for other
// stacks, or as last read when an earlier event with the same stack freed it.
template <typename Frame>
std::vector<Frame> stackFrames(std::vector<Frame> taken, int32_t id,
                               std::unordered_map<int32_t, std::vector<Frame>>* last) {
  if (taken.empty()) {
    auto it = last->find(id);
    return it == last->end() ? taken : it->second;
  }
  if (last->size() >= VG_STACK_ENTRIES) last->clear();
  (*last)[id] = taken;
  return taken;
}

// kernelStackTrace/userStackTrace into the event's message.
template <typename Msg>
void addStacks(Pipeline* p, const events::HookEvent& ev, Msg* m) {
  if (!p->loader) return;
  if (ev.kernel_stack_id >= 0) {
    if (!p->kernel_symbols) p->kernel_symbols = events::KernelSymbols::load();
    events::kernelFrames(
        *p->kernel_symbols,
        stackFrames(p->loader->takeStack(ev.kernel_stack_id), ev.kernel_stack_id, &p->stack_frames),
        m->mutable_kernel_stack_trace());
  } else if (ev.kernel_stack_id != -1) {
    spdlog::debug("kernel stack of an event lost: {}", strerror(-ev.kernel_stack_id));
  }
  if (ev.user_stack_id >= 0) {
    events::userFrames(stackFrames(p->loader->takeUserStack(ev.user_stack_id), ev.user_stack_id,
                                   &p->user_stack_frames),
                       ev.binary, [&] { return events::readMaps(ev.pid); }, p->build_ids,
                       m->mutable_user_stack_trace());
  } else if (ev.user_stack_id != -1) {
    spdlog::debug("user stack of an event lost: {}", strerror(-ev.user_stack_id));
  }
}

}  // namespace

int onRecord(void* ctx, void* data, size_t size) {
  auto* p = static_cast<Pipeline*>(ctx);
  auto type = events::recordType(data, size);
  if (!p->decoded(type)) return 0;
  switch (*type) {
    case VG_EV_HOOK: {
      auto ev = events::decodeHookEvent(data, size);
      if (!p->decoded(ev)) return 0;
      if (const auto* f = p->renderer.fetchOf(*ev)) {
        // Queued for the fetcher's threads; never waits here.
        for (const auto& u : f->urls) p->fetcher.submit(actions::Fetcher::Kind::kGetUrl, u);
        for (const auto& n : f->fqdns) p->fetcher.submit(actions::Fetcher::Kind::kDnsLookup, n);
        if (f->nopost) return 0;  // NoPost: the event only carried the action
      }
      api::Event out = p->renderer.toProto(*ev);
      api::visitPolicyMessage(out, [&](auto& m) {
        addStacks(p, *ev, &m);
        p->cache.enrich(ev->pid, m.mutable_process(), m.mutable_parent());
        if (!m.parent().pid()) m.clear_parent();
      });
      p->writeAnnouncements();
      p->write(std::move(out));
      break;
    }
    case VG_EV_EXEC: {
      auto ev = events::decodeExecEvent(data, size);
      if (!p->decoded(ev)) return 0;
      api::Event out = p->cache.onExec(*ev);
      p->writeAnnouncements();
      if (p->process_events) p->write(std::move(out));
      break;
    }
    case VG_EV_CLONE: {
      auto ev = events::decodeCloneEvent(data, size);
      if (p->decoded(ev)) p->cache.onClone(*ev);
      break;
    }
    case VG_EV_EXIT: {
      auto ev = events::decodeExitEvent(data, size);
      if (!p->decoded(ev)) return 0;
      auto out = p->cache.onExit(*ev);
      if (out && p->process_events) p->write(std::move(*out));
      break;
    }
    default:
      p->malformed++;
      spdlog::warn("dropping kernel record of unknown type {}", *type);
  }
  return 0;
}

std::vector<std::pair<std::string, vg_counters>> kernelCounters(const loader::Loader& loader,
                                                                const compiler::CompiledSet& set) {
  std::vector<std::pair<std::string, vg_counters>> out;
  for (const auto& [id, ref] : set.hook_refs) {
    out.emplace_back(ref.substr(ref.find('/') + 1), loader.counters(id));
  }
  out.emplace_back("sched_process_exec", loader.counters(VG_CNT_EXEC));
  out.emplace_back("sched_process_exit", loader.counters(VG_CNT_EXIT));
  out.emplace_back("sched_process_fork", loader.counters(VG_CNT_CLONE));
  return out;
}

bool bpfStatsOn(int stats_fd) {
  if (stats_fd >= 0) return true;
  std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
  int on = 0;
  return (in >> on) && on == 1;
}

std::string renderMetrics(const Pipeline& p, const loader::Loader& loader,
                          const compiler::CompiledSet& set,
                          const exporters::Exporter* exporter, const rules::RuleEngine* rules,
                          int stats_fd) {
  MetricsText m;
  m.family("vigil_events_total", "counter", "Events emitted, by type.");
  for (const auto& [type, n] : p.by_type) {
    const auto* field = api::Event::descriptor()->FindFieldByNumber(type);
    m.sample("vigil_events_total", MetricsText::label("type", field ? field->name() : "none"), n);
  }
  m.family("vigil_policy_events_total", "counter", "Policy events, by policy, hook and outcome.");
  for (const auto& [k, n] : p.by_policy) {
    m.sample("vigil_policy_events_total",
             MetricsText::label("policy", std::get<0>(k)) + "," + MetricsText::label("hook", std::get<1>(k)) +
                 "," + MetricsText::label("outcome", std::get<2>(k)),
             n);
  }
  const auto kc = kernelCounters(loader, set);
  struct KernelFamily {
    const char* name;
    const char* help;
    __u64 vg_counters::*field;
  };
  static constexpr KernelFamily kFamilies[] = {
      {"vigil_kernel_events_total", "Records the kernel programs produced, by hook.", &vg_counters::events},
      {"vigil_kernel_lost_total", "Records lost in the kernel (ring buffer full), by hook.", &vg_counters::lost},
      {"vigil_kernel_denied_total", "Operations denied in the kernel, by hook.", &vg_counters::denied},
      {"vigil_kernel_killed_total", "Callers killed in the kernel, by hook.", &vg_counters::killed},
  };
  for (const auto& f : kFamilies) {
    m.family(f.name, "counter", f.help);
    for (const auto& [name, c] : kc) m.sample(f.name, MetricsText::label("hook", name), c.*f.field);
  }
  const bool stats = bpfStatsOn(stats_fd);
  m.family("vigil_bpf_stats_enabled", "gauge",
           "1 if the kernel counts BPF program run time (vigil_bpf_run_* below).");
  m.sample("vigil_bpf_stats_enabled", "", stats ? 1 : 0);
  if (stats) {
    const auto ps = loader.programStats();
    m.family("vigil_bpf_run_time_seconds_total", "counter",
             "Time the kernel spent running each attached program.");
    for (const auto& s : ps) {
      m.sample("vigil_bpf_run_time_seconds_total", MetricsText::label("program", s.program),
               s.run_time_ns / 1e9);
    }
    m.family("vigil_bpf_run_count_total", "counter", "Runs of each attached program.");
    for (const auto& s : ps) {
      m.sample("vigil_bpf_run_count_total", MetricsText::label("program", s.program), s.run_cnt);
    }
  }
  std::string text = m.str();
  MetricsText t;
  t.family("vigil_action_requests_total", "counter",
           "GetUrl / DnsLookup requests by result (done, failed, dropped: queue full or rate).");
  for (auto [kind, name] : {std::pair{actions::Fetcher::Kind::kGetUrl, "GetUrl"},
                            std::pair{actions::Fetcher::Kind::kDnsLookup, "DnsLookup"}}) {
    const auto st = p.fetcher.stats(kind);
    const std::string a = MetricsText::label("action", name) + ",";
    t.sample("vigil_action_requests_total", a + MetricsText::label("result", "done"), st.done);
    t.sample("vigil_action_requests_total", a + MetricsText::label("result", "failed"), st.failed);
    t.sample("vigil_action_requests_total", a + MetricsText::label("result", "dropped"), st.dropped);
  }
  t.family("vigil_malformed_records_total", "counter", "Kernel records dropped as malformed.");
  t.sample("vigil_malformed_records_total", "", p.malformed);
  t.family("vigil_invalid_utf8_events_total", "counter",
           "Events with a string that was not valid UTF-8 (replaced by U+FFFD, original in raw_strings).");
  t.sample("vigil_invalid_utf8_events_total", "", p.invalid_utf8_events);
  t.family("vigil_policy_load_errors_total", "counter", "Policy load errors (start, reloads, policy add and delete), one per error.");
  t.sample("vigil_policy_load_errors_total", "", p.policy_load_errors);
  t.family("vigil_rule_alerts_total", "counter", "Alerts raised by the rules engine.");
  t.sample("vigil_rule_alerts_total", "", p.alerts);
  if (rules) {
    t.family("vigil_rule_runtime_errors_total", "counter", "Rule evaluations that failed.");
    t.sample("vigil_rule_runtime_errors_total", "", rules->stats().runtime_errors);
  }
  t.family("vigil_process_cache_entries", "gauge", "Processes in the userspace cache.");
  t.sample("vigil_process_cache_entries", MetricsText::label("state", "live"), p.cache.liveCount());
  t.sample("vigil_process_cache_entries", MetricsText::label("state", "exited"), p.cache.exitedCount());
  if (exporter) {
    auto st = exporter->stats();
    t.family("vigil_exporter_delivered_total", "counter", "Events delivered, by sink.");
    for (const auto& s : st.sinks) t.sample("vigil_exporter_delivered_total", MetricsText::label("sink", s.name), s.delivered);
    t.family("vigil_exporter_dropped_total", "counter", "Events a sink had to drop, by sink.");
    for (const auto& s : st.sinks) t.sample("vigil_exporter_dropped_total", MetricsText::label("sink", s.name), s.dropped());
    t.family("vigil_exporter_queue_depth", "gauge", "Events waiting in memory, by sink.");
    for (const auto& s : st.sinks) t.sample("vigil_exporter_queue_depth", MetricsText::label("sink", s.name), s.queue_depth);
    t.family("vigil_exporter_spool_bytes", "gauge", "Bytes waiting in the disk spool, by sink.");
    for (const auto& s : st.sinks) t.sample("vigil_exporter_spool_bytes", MetricsText::label("sink", s.name), s.spool_bytes);
  }
  return text + t.str();
}

}  // namespace vigil
