// Userspace cost per event: decode the kernel record, enrich it from the
// process cache, render the JSON line. One core, no kernel: records are built
// the way the BPF programs lay them out. Method and figures: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "api/event_json.h"
#include "api/event_view.h"
#include "daemon/events/event_decoder.h"
#include "daemon/events/hook_event.h"
#include "daemon/events/json_writer.h"
#include "daemon/process/process_cache.h"
#include "tests/unit/exec_record.h"

namespace vigil {
namespace {

constexpr uint32_t kNoPid = 0x3ffffff0;  // never read from /proc

std::vector<char> execRecord(uint32_t pid, uint64_t start, uint32_t ppid, uint64_t pstart) {
  vg_exec_event ev{};
  ev.hdr.ktime = start + 100;
  ev.id = {pid, pid, start, ppid, 0, pstart};
  ev.uid = ev.euid = 1000;
  ev.cap_effective = 0;
  for (int i = 0; i < VG_NS_COUNT; i++) ev.ns[i] = 4026531830 + i;
  strcpy(ev.comm, "curl");
  ev.tty_dev = (136u << 20) | 3;  // pts/3
  strcpy(ev.tty, "pts3");
  return testing::packExecRecord(ev, "/usr/bin/curl",
                                 std::string("curl\0-sS\0-o\0/tmp/out\0https://example.com/x", 42),
                                 "/home/user/project");
}

constexpr uint32_t kFileOpenId = 1;

// A file_open denial as the hook program sends it: the path in string slot 0.
std::vector<char> lsmRecord(uint32_t pid) {
  const std::string bin = "/usr/bin/curl", path = "/etc/ssl/private/server.key";
  std::vector<char> buf(sizeof(vg_hook_event) + VG_BIN_MAX + path.size());
  vg_hook_event ev{};
  ev.hdr = {VG_EV_HOOK, VG_ABI_VERSION, static_cast<uint32_t>(buf.size()), 5'000};
  ev.pid = ev.tid = pid;
  ev.hook = kFileOpenId;
  ev.action = VG_ACT_OVERRIDE;
  ev.outcome = VG_OUT_DENIED;
  ev.error = 1;
  ev.bin_len = bin.size();
  ev.mechanism = VG_MECH_LSM;
  ev.kstack_id = ev.ustack_id = -1;
  ev.args[0].kind = VG_ARG_FILE;
  ev.args[0].str_len = path.size();
  VG_ARG_X(&ev.args[0])[0] = 0100000;  // f_flags: O_LARGEFILE
  memcpy(buf.data(), &ev, sizeof(ev));
  memcpy(buf.data() + sizeof(ev), bin.data(), bin.size());
  memcpy(buf.data() + sizeof(ev) + VG_BIN_MAX, path.data(), path.size());
  return buf;
}

process::CacheOptions options() {
  process::CacheOptions o;
  o.node_name = "bench-node";
  o.boot_id = "0123456789abcdef";
  o.cgroup_root = "/nonexistent";  // no cgroupfs scans in the loop
  return o;
}

// process_exec: decode + cache insert with lineage + JSON.
void BM_ExecDecodeEnrichRender(benchmark::State& state) {
  process::ProcessCache cache(options());
  cache.onExec(*events::decodeExecEvent(execRecord(100, 1'000, kNoPid, 0).data(),
                                        execRecord(100, 1'000, kNoPid, 0).size()));
  uint32_t pid = 1000;
  size_t bytes = 0;
  for (auto _ : state) {
    auto rec = execRecord(pid, pid * 10ULL, 100, 1'000);
    auto ev = events::decodeExecEvent(rec.data(), rec.size());
    api::Event out = cache.onExec(*ev);
    std::string line = api::renderJson(out);
    bytes += line.size();
    benchmark::DoNotOptimize(line);
    cache.onExit({pid * 10ULL + 5, {pid, pid, 100, pid * 10ULL, 1'000}, 0});
    if (++pid > 60000) pid = 1000;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_event"] = static_cast<double>(bytes) / state.iterations();
}
BENCHMARK(BM_ExecDecodeEnrichRender);
// Fixed iteration count, for instruction counts under callgrind (docs/benchmarks.md).
BENCHMARK(BM_ExecDecodeEnrichRender)->Name("exec_fixed_1000")->Iterations(1000);

// process_lsm: decode + enrichment from the cache + JSON.
void BM_LsmDecodeEnrichRender(benchmark::State& state) {
  process::ProcessCache cache(options());
  auto exec = execRecord(4242, 1'000, kNoPid, 0);
  cache.onExec(*events::decodeExecEvent(exec.data(), exec.size()));
  events::JsonRenderer renderer("bench-node", {{"deny-keys", policy::Mode::kEnforce, {}}}, false, 0);
  renderer.setHookRefs({{kFileOpenId, "lsm/file_open"}});
  auto rec = lsmRecord(4242);
  for (auto _ : state) {
    auto ev = events::decodeHookEvent(rec.data(), rec.size());
    api::Event out = renderer.toProto(*ev);
    auto* lsm = out.mutable_process_lsm();
    cache.enrich(ev->pid, lsm->mutable_process(), lsm->mutable_parent());
    std::string line = api::renderJson(out);
    benchmark::DoNotOptimize(line);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LsmDecodeEnrichRender);
BENCHMARK(BM_LsmDecodeEnrichRender)->Name("lsm_fixed_1000")->Iterations(1000);

}  // namespace
}  // namespace vigil

BENCHMARK_MAIN();
