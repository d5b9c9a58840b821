// The userspace process cache: turns the kernel's exec / clone / exit records
// into schema Processes with lineage, and enriches policy events with them.
//
// Bounded: live processes are keyed by pid (the kernel removes them at exit);
// exited ones stay in a FIFO of bounded size so that lineage of their children
// and late references still resolve. Ordering: the kernel emits every record
// through one ring buffer, so a process's exec record always precedes its
// policy events; processes that predate Vigil are announced by bootstrap()
// (flag "procFS") before any kernel record is read.
#pragma once

#include <cstdint>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "daemon/events/event_decoder.h"
#include "vigil/events.pb.h"

namespace vigil::process {

struct CacheOptions {
  std::string node_name;
  std::string boot_id;           // /proc/sys/kernel/random/boot_id
  size_t max_exited = 8192;      // exited processes kept for lineage
  int ancestor_depth = 4;        // ancestors listed in exec events beyond the parent
  int64_t boot_to_realtime_ns = 0;
  std::string proc_root = "/proc";
  std::string cgroup_root = "/sys/fs/cgroup";
  // Where container names and images are read on first sight of a container
  // id (no runtime daemon is asked): Docker's config.v2.json, and the OCI
  // bundle annotations containerd's CRI plugin writes for Kubernetes pods.
  std::string docker_root = "/var/lib/docker";
  std::string containerd_state = "/run/containerd";
};

class ProcessCache {
 public:
  explicit ProcessCache(CacheOptions options);

  // Processes running now, as process_exec events flagged "procFS".
  std::vector<api::Event> bootstrap();

  api::Event onExec(const events::ExecEvent& ev);
  void onClone(const events::CloneEvent& ev);
  // Nothing for a forked process that never exec'd and was never named by an
  // event: it was never announced, so its end is not news either.
  std::optional<api::Event> onExit(const events::ExitEvent& ev);
  // Fills process and parent of a policy event for the given thread group.
  void enrich(uint32_t pid, api::Process* process, api::Process* parent);

  // process_exec events (flag "clone") for forked processes that are about to
  // be named by an event for the first time, oldest first. The pipeline
  // writes them before the event it is handling, so every exec_id an event
  // names was announced before.
  std::vector<api::Event> takeAnnouncements() { return std::move(announcements_); }

  size_t liveCount() const { return live_.size(); }
  size_t exitedCount() const { return exited_.size(); }

  // Exposed for tests.
  std::string execId(uint64_t start_ns, uint32_t pid) const;
  static std::vector<std::string> capNames(uint64_t caps);
  static void addCaps(uint64_t caps, google::protobuf::RepeatedField<int>* out);
  static void parseCgroupPath(const std::string& path, api::Process* p);
  // The path below root ("/system.slice/x.service") of the cgroup v2 with
  // this id, asked of the kernel (the id is the cgroup's kernfs file handle):
  // one lookup whatever the number of cgroups. Empty when the kernel cannot
  // say (no CAP_DAC_READ_SEARCH, gone, not cgroup v2).
  static std::optional<std::string> cgroupPathOfId(const std::string& root, uint64_t id);
  // Full walks of the cgroup tree (the fallback of cgroupPathOfId).
  size_t cgroupRescans() const { return cgroup_rescans_; }
  static std::string joinArgs(const std::vector<std::string>& argv);
  // The terminal's name as ps shows it ("pts/3", "tty1", "ttyS0"): from the
  // device numbers, else the kernel's name for it; "" for 0:0 (no terminal).
  static std::string ttyName(uint32_t major, uint32_t minor, std::string_view kernel_name = {});

 private:
  struct Entry {
    api::Process proc;
    uint64_t start_ns = 0;
    bool announced = false;  // a process_exec event named it
  };
  using EntryPtr = std::shared_ptr<Entry>;

  EntryPtr findLive(uint32_t pid, uint64_t start_ns) const;
  EntryPtr findByExecId(const std::string& id) const;
  EntryPtr fromProc(uint32_t pid);
  void insertLive(const EntryPtr& e);
  void pruneExited();
  void announce(const EntryPtr& e, int depth = 0);
  api::Event execEvent(const EntryPtr& e, uint64_t ktime_ns);
  void fillNamespaces(const uint32_t ns[VG_NS_COUNT], api::Process* p) const;
  void fillCgroup(uint64_t cgroup_id, api::Process* p);
  // Name and image of p's container, read once per container id.
  void fillContainer(api::Process* p);
  std::string userName(uint32_t uid);
  std::string groupName(uint32_t gid);
  void fillNames(api::Process* p);
  std::string timeOf(uint64_t boot_ns) const;
  void fillLineage(const EntryPtr& e, api::Process* parent,
                   google::protobuf::RepeatedPtrField<api::Process>* ancestors);
  api::Event wrap(uint64_t ktime_ns) const;

  CacheOptions opts_;
  uint32_t host_ns_[VG_NS_COUNT] = {};
  std::unordered_map<uint32_t, EntryPtr> live_;
  std::unordered_map<std::string, EntryPtr> by_exec_id_;
  std::deque<EntryPtr> exited_;
  std::unordered_map<uint64_t, std::string> cgroup_paths_;
  size_t cgroup_rescans_ = 0;
  std::chrono::steady_clock::time_point last_rescan_{};
  std::unordered_map<std::string, api::Container> containers_;  // by id; bounded
  std::unordered_map<uint32_t, std::string> users_, groups_;
  bool users_loaded_ = false, groups_loaded_ = false;
  std::vector<api::Event> announcements_;
};

}  // namespace vigil::process
