#include "daemon/process/process_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "api/event_json.h"
#include "api/event_view.h"
#include "daemon/events/json_writer.h"

namespace vigil::process {
namespace {

constexpr const char* kNsNames[VG_NS_COUNT] = {"uts", "ipc",  "mnt",    "pid", "pid_for_children",
                                               "net", "time", "cgroup", "user"};


std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string readLink(const std::string& path) {
  char buf[VG_PATH_MAX];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, n) : std::string();
}

uint64_t toU64(std::string_view s, int base = 10) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, base);
  return v;
}

// Value of "Key:" in /proc/PID/status, first field.
std::string statusField(const std::string& status, const std::string& key) {
  size_t p = status.find("\n" + key + ":");
  if (p == std::string::npos) return {};
  p += key.size() + 2;
  while (p < status.size() && (status[p] == ' ' || status[p] == '\t')) p++;
  size_t e = status.find_first_of(" \t\n", p);
  return status.substr(p, e - p);
}

// Nth whitespace-separated value of "Key:" (Uid: real effective saved fs).
uint32_t statusId(const std::string& status, const std::string& key, int n) {
  size_t p = status.find("\n" + key + ":");
  if (p == std::string::npos) return 0;
  std::istringstream in(status.substr(p + key.size() + 2, 80));
  uint32_t v = 0;
  for (int i = 0; i <= n; i++) in >> v;
  return v;
}

// Binary, cwd and arguments of /proc/PID (dir), as the process shows them now.
void fillPathsFromProc(const std::string& dir, api::Process* p) {
  p->set_binary(readLink(dir + "/exe"));
  p->set_cwd(readLink(dir + "/cwd"));
  std::string cmdline = readFile(dir + "/cmdline");
  std::vector<std::string> argv;
  for (size_t s = 0; s < cmdline.size();) {
    size_t nul = cmdline.find('\0', s);
    if (nul == std::string::npos) nul = cmdline.size();
    argv.push_back(cmdline.substr(s, nul - s));
    s = nul + 1;
  }
  p->set_arguments(ProcessCache::joinArgs(argv));
}

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool isHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

// Lineage entries (parent, ancestors) carry identity, not the full context:
// capabilities and namespaces are on the event's own process.
api::Process lineageView(const api::Process& p) {
  api::Process out = p;
  out.clear_cap();
  out.clear_ns();
  return out;
}

ProcessCache::ProcessCache(CacheOptions options) : opts_(std::move(options)) {
  // cgroup ids are cgroup v2 inode numbers: find the v2 hierarchy (hybrid
  // hosts mount it under unified/); without one, paths come from /proc.
  struct statfs fs{};
  if (statfs(opts_.cgroup_root.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
    std::string unified = opts_.cgroup_root + "/unified";
    if (statfs(unified.c_str(), &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
      opts_.cgroup_root = unified;
    } else {
      opts_.cgroup_root.clear();
    }
  }
  for (int i = 0; i < VG_NS_COUNT; i++) {
    struct stat st{};
    if (stat((opts_.proc_root + "/1/ns/" + kNsNames[i]).c_str(), &st) == 0) host_ns_[i] = st.st_ino;
  }
}

std::string ProcessCache::execId(uint64_t start_ns, uint32_t pid) const {
  return absl::Base64Escape(absl::StrCat(opts_.node_name, ":", opts_.boot_id.substr(0, 8), ":",
                                         start_ns, ":", pid));
}

std::vector<std::string> ProcessCache::capNames(uint64_t caps) {
  std::vector<std::string> out;
  for (int i = 0; i <= api::Capability_MAX; i++) {
    if (caps & (1ULL << i)) out.emplace_back(api::Capability_Name(i));
  }
  return out;
}

void ProcessCache::addCaps(uint64_t caps, google::protobuf::RepeatedField<int>* out) {
  for (int i = 0; i <= api::Capability_MAX; i++) {
    if (caps & (1ULL << i)) out->Add(i);
  }
}

std::string ProcessCache::joinArgs(const std::vector<std::string>& argv) {
  std::string out;
  for (size_t i = 1; i < argv.size(); i++) {
    if (i > 1) out += ' ';
    const std::string& a = argv[i];
    bool quote = a.empty() || a.find_first_of(" \t\n'\"\\") != std::string::npos;
    if (!quote) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

std::string ProcessCache::ttyName(uint32_t major, uint32_t minor, std::string_view kernel_name) {
  if (major == 0 && minor == 0) return {};
  if (major >= 136 && major <= 143) return absl::StrCat("pts/", (major - 136) * 256 + minor);
  if (!kernel_name.empty()) return std::string(kernel_name);
  // Without the kernel's name (/proc gives numbers only): the fixed ones.
  if (major == 4 && minor < 64) return absl::StrCat("tty", minor);
  if (major == 4) return absl::StrCat("ttyS", minor - 64);
  if (major == 5 && minor == 1) return "console";
  return {};
}

void ProcessCache::parseCgroupPath(const std::string& path, api::Process* p) {
  p->set_cgroup_path(path);
  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string c; std::getline(ss, c, '/');) {
    if (!c.empty()) parts.push_back(c);
  }
  // Container: the innermost component naming one, in each runtime's style.
  struct Style {
    const char* prefix;
    const char* runtime;
  };
  static constexpr Style kStyles[] = {{"docker-", "docker"},       {"cri-containerd-", "containerd"},
                                      {"crio-", "cri-o"},          {"libpod-", "podman"}};
  for (auto it = parts.rbegin(); it != parts.rend() && !p->has_container(); ++it) {
    std::string c = *it;
    if (endsWith(c, ".scope")) c.resize(c.size() - 6);
    for (const auto& s : kStyles) {
      if (c.rfind(s.prefix, 0) == 0 && isHex64(std::string_view(c).substr(strlen(s.prefix)))) {
        p->mutable_container()->set_id(c.substr(strlen(s.prefix)));
        p->mutable_container()->set_runtime(s.runtime);
        break;
      }
    }
    // cgroupfs driver: /docker/<id>, /kubepods/.../<id>
    if (!p->has_container() && isHex64(c) && it + 1 != parts.rend()) {
      const std::string& parent = *(it + 1);
      p->mutable_container()->set_id(c);
      p->mutable_container()->set_runtime(parent == "docker" ? "docker" : "containerd");
    }
  }
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (endsWith(*it, ".service")) {
      p->set_systemd_unit(*it);
      break;
    }
  }
}

std::string ProcessCache::timeOf(uint64_t boot_ns) const {
  return api::formatRfc3339Nanos(static_cast<int64_t>(boot_ns) + opts_.boot_to_realtime_ns);
}

api::Event ProcessCache::wrap(uint64_t ktime_ns) const {
  api::Event ev;
  ev.set_node_name(opts_.node_name);
  ev.set_time(timeOf(ktime_ns));
  ev.set_schema_version(api::SCHEMA_VERSION_1);
  return ev;
}

void ProcessCache::fillNamespaces(const uint32_t ns[VG_NS_COUNT], api::Process* p) const {
  auto* out = p->mutable_ns();
  api::Namespace* slots[VG_NS_COUNT] = {out->mutable_uts(),    out->mutable_ipc(),
                                        out->mutable_mnt(),    out->mutable_pid(),
                                        out->mutable_pid_for_children(), out->mutable_net(),
                                        out->mutable_time(),   out->mutable_cgroup(),
                                        out->mutable_user()};
  for (int i = 0; i < VG_NS_COUNT; i++) {
    slots[i]->set_inum(ns[i]);
    slots[i]->set_is_host(ns[i] != 0 && ns[i] == host_ns_[i]);
  }
}

std::optional<std::string> ProcessCache::cgroupPathOfId(const std::string& root, uint64_t id) {
  int mount_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (mount_fd < 0) return std::nullopt;
  // A kernfs handle: 8 bytes, the cgroup id (FILEID_KERNFS, as systemd and
  // bpftool resolve cgroup ids).
  struct {
    file_handle fh;
    uint64_t id;
  } h{};
  h.fh.handle_bytes = sizeof(uint64_t);
  h.fh.handle_type = 0xfe;  // FILEID_KERNFS
  memcpy(h.fh.f_handle, &id, sizeof id);
  int fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(mount_fd);
  if (fd < 0) return std::nullopt;
  char buf[PATH_MAX];
  ssize_t n = readlink(absl::StrCat("/proc/self/fd/", fd).c_str(), buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  std::string path(buf, static_cast<size_t>(n));
  if (path == root) return std::string("/");
  if (path.size() <= root.size() || path.compare(0, root.size(), root) != 0 || path[root.size()] != '/') {
    return std::nullopt;  // outside our view of the hierarchy
  }
  return path.substr(root.size());
}

void ProcessCache::fillCgroup(uint64_t cgroup_id, api::Process* p) {
  p->set_cgroup_id(cgroup_id);
  if (opts_.cgroup_root.empty()) return;
  auto it = cgroup_paths_.find(cgroup_id);
  if (it == cgroup_paths_.end()) {
    if (cgroup_paths_.size() >= 100000) cgroup_paths_.clear();  // bounded; ids are cheap to redo
    if (auto path = cgroupPathOfId(opts_.cgroup_root, cgroup_id)) {
      it = cgroup_paths_.emplace(cgroup_id, *path).first;
    } else if (const auto now = std::chrono::steady_clock::now();
               cgroup_rescans_ == 0 || now - last_rescan_ >= std::chrono::seconds(10)) {
      // The kernel would not say: walk the tree (ids are the directories'
      // inode numbers), at most every 10 s, so that users creating cgroups
      // cannot make every exec pay for a walk.
      cgroup_rescans_++;
      last_rescan_ = now;
      std::vector<std::string> stack = {""};
      size_t seen = 0;
      while (!stack.empty() && seen++ < 100000) {
        std::string rel = stack.back();
        stack.pop_back();
        struct stat st{};
        if (stat((opts_.cgroup_root + rel).c_str(), &st) != 0) continue;
        cgroup_paths_[st.st_ino] = rel.empty() ? "/" : rel;
        DIR* d = opendir((opts_.cgroup_root + rel).c_str());
        if (!d) continue;
        while (dirent* e = readdir(d)) {
          if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            stack.push_back(rel + "/" + e->d_name);
          }
        }
        closedir(d);
      }
      it = cgroup_paths_.find(cgroup_id);
    }
    if (it == cgroup_paths_.end()) {
      cgroup_paths_[cgroup_id] = "";  // unknown: not asked again
      return;
    }
  }
  if (!it->second.empty()) {
    parseCgroupPath(it->second, p);
    fillContainer(p);
  }
}

namespace {
const google::protobuf::Value* member(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string stringMember(const google::protobuf::Struct& s, const std::string& key) {
  const auto* v = member(s, key);
  return v && v->has_string_value() ? v->string_value() : std::string();
}

// A JSON object file as a Struct; empty when missing or not JSON.
google::protobuf::Struct readJsonObject(const std::string& path) {
  google::protobuf::Struct out;
  std::string text = readFile(path);
  if (text.empty() || !google::protobuf::util::JsonStringToMessage(text, &out).ok()) out.Clear();
  return out;
}
}  // namespace

void ProcessCache::fillContainer(api::Process* p) {
  if (!p->has_container() || !isHex64(p->container().id())) return;
  const std::string& id = p->container().id();
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    api::Container c;
    if (p->container().runtime() == "docker") {
      // {"Name": "/web", "Config": {"Image": "nginx:1.25", ...}, ...}
      auto cfg = readJsonObject(opts_.docker_root + "/containers/" + id + "/config.v2.json");
      std::string name = stringMember(cfg, "Name");
      c.set_name(name.size() > 1 && name[0] == '/' ? name.substr(1) : name);
      if (const auto* config = member(cfg, "Config"); config && config->has_struct_value()) {
        c.set_image(stringMember(config->struct_value(), "Image"));
      }
    } else if (p->container().runtime() == "containerd") {
      // The OCI runtime spec of the shim's bundle; CRI annotates it.
      auto spec = readJsonObject(opts_.containerd_state + "/io.containerd.runtime.v2.task/k8s.io/" +
                                 id + "/config.json");
      if (const auto* ann = member(spec, "annotations"); ann && ann->has_struct_value()) {
        c.set_name(stringMember(ann->struct_value(), "io.kubernetes.cri.container-name"));
        c.set_image(stringMember(ann->struct_value(), "io.kubernetes.cri.image-name"));
      }
    }
    if (containers_.size() >= 4096) containers_.clear();  // churned away: read again when seen
    it = containers_.emplace(id, std::move(c)).first;
  }
  if (!it->second.name().empty()) p->mutable_container()->set_name(it->second.name());
  if (!it->second.image().empty()) p->mutable_container()->set_image(it->second.image());
}

namespace {
// name:x:id:... files (/etc/passwd, /etc/group), read once: NSS lookups can
// block on the network.
void loadIdNames(const char* file, std::unordered_map<uint32_t, std::string>* out) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::stringstream ss(line);
    std::string name, pw, id;
    if (std::getline(ss, name, ':') && std::getline(ss, pw, ':') && std::getline(ss, id, ':')) {
      out->emplace(static_cast<uint32_t>(toU64(id)), name);
    }
  }
}
}  // namespace

std::string ProcessCache::userName(uint32_t uid) {
  if (!users_loaded_) {
    users_loaded_ = true;
    loadIdNames("/etc/passwd", &users_);
  }
  auto it = users_.find(uid);
  return it == users_.end() ? std::string() : it->second;
}

std::string ProcessCache::groupName(uint32_t gid) {
  if (!groups_loaded_) {
    groups_loaded_ = true;
    loadIdNames("/etc/group", &groups_);
  }
  auto it = groups_.find(gid);
  return it == groups_.end() ? std::string() : it->second;
}

void ProcessCache::fillNames(api::Process* p) {
  p->set_user_name(userName(p->uid()));
  if (p->auid() != UINT32_MAX) p->set_login_name(userName(p->auid()));
  p->set_group_name(groupName(p->gid()));
}

ProcessCache::EntryPtr ProcessCache::findLive(uint32_t pid, uint64_t start_ns) const {
  auto it = live_.find(pid);
  if (it == live_.end()) return nullptr;
  // /proc gives start times in clock ticks: allow their resolution.
  uint64_t a = it->second->start_ns, b = start_ns;
  if (a && b && (a > b ? a - b : b - a) > 20'000'000) return nullptr;
  return it->second;
}

ProcessCache::EntryPtr ProcessCache::findByExecId(const std::string& id) const {
  auto it = by_exec_id_.find(id);
  return it == by_exec_id_.end() ? nullptr : it->second;
}

void ProcessCache::insertLive(const EntryPtr& e) {
  uint32_t pid = e->proc.pid();
  auto it = live_.find(pid);
  if (it != live_.end() && it->second != e) {
    // The pid's previous image (exec replaces it): keep it for lineage.
    exited_.push_back(it->second);
  }
  live_[pid] = e;
  by_exec_id_[e->proc.exec_id()] = e;
  pruneExited();
}

void ProcessCache::pruneExited() {
  while (exited_.size() > opts_.max_exited) {
    const auto& old = exited_.front();
    auto bi = by_exec_id_.find(old->proc.exec_id());
    if (bi != by_exec_id_.end() && bi->second == old) by_exec_id_.erase(bi);
    exited_.pop_front();
  }
}

ProcessCache::EntryPtr ProcessCache::fromProc(uint32_t pid) {
  std::string dir = opts_.proc_root + "/" + std::to_string(pid);
  std::string stat = readFile(dir + "/stat");
  size_t rp = stat.rfind(')');
  if (stat.empty() || rp == std::string::npos) return nullptr;
  auto e = std::make_shared<Entry>();
  api::Process& p = e->proc;
  std::istringstream rest(stat.substr(rp + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  // After "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime priority nice num_threads
  // itrealvalue starttime ...
  if (f.size() < 20) return nullptr;
  static const long ticks = sysconf(_SC_CLK_TCK);
  e->start_ns = toU64(f[19]) * (1'000'000'000ULL / ticks);
  p.set_pid(pid);
  p.set_tid(pid);
  p.set_ppid(static_cast<uint32_t>(toU64(f[1])));
  // tty_nr, new_encode_dev(): minor bits 0-7 and 20-31, major bits 8-19
  uint64_t tty = toU64(f[4]);
  p.set_tty(ttyName((tty >> 8) & 0xfff, (tty & 0xff) | ((tty >> 12) & 0xfff00)));
  p.set_comm(stat.substr(stat.find('(') + 1, rp - stat.find('(') - 1));
  p.set_exec_id(execId(e->start_ns, pid));
  p.set_start_time(timeOf(e->start_ns));
  p.set_flags("procFS");
  std::string status = readFile(dir + "/status");
  p.set_uid(statusId(status, "Uid", 0));
  p.set_euid(statusId(status, "Uid", 1));
  p.set_gid(statusId(status, "Gid", 0));
  p.set_egid(statusId(status, "Gid", 1));
  auto* cap = p.mutable_cap();
  addCaps(toU64(statusField(status, "CapPrm"), 16), cap->mutable_permitted());
  addCaps(toU64(statusField(status, "CapEff"), 16), cap->mutable_effective());
  addCaps(toU64(statusField(status, "CapInh"), 16), cap->mutable_inheritable());
  std::string auid = readFile(dir + "/loginuid");
  p.set_auid(auid.empty() ? UINT32_MAX : static_cast<uint32_t>(toU64(auid)));
  p.set_session_id(static_cast<uint32_t>(toU64(readFile(dir + "/sessionid"))));
  fillNames(&p);
  fillPathsFromProc(dir, &p);
  uint32_t ns[VG_NS_COUNT] = {};
  for (int i = 0; i < VG_NS_COUNT; i++) {
    struct stat st{};
    if (::stat((dir + "/ns/" + kNsNames[i]).c_str(), &st) == 0) ns[i] = st.st_ino;
  }
  fillNamespaces(ns, &p);
  std::string cg = readFile(dir + "/cgroup");
  if (size_t z = cg.find("0::"); z != std::string::npos) {
    std::string path = cg.substr(z + 3, cg.find('\n', z) - z - 3);
    struct stat st{};
    if (!opts_.cgroup_root.empty() && ::stat((opts_.cgroup_root + path).c_str(), &st) == 0) {
      p.set_cgroup_id(st.st_ino);
    }
    parseCgroupPath(path, &p);
    fillContainer(&p);
  }
  return e;
}

void ProcessCache::fillLineage(const EntryPtr& e, api::Process* parent,
                               google::protobuf::RepeatedPtrField<api::Process>* ancestors) {
  EntryPtr cur = findByExecId(e->proc.parent_exec_id());
  if (!cur) return;
  if (parent) *parent = lineageView(cur->proc);
  if (!ancestors) return;
  std::vector<const api::Process*> chain;
  for (int depth = 0; depth < opts_.ancestor_depth; depth++) {
    cur = findByExecId(cur->proc.parent_exec_id());
    if (!cur) break;
    chain.push_back(&cur->proc);
  }
  // Nearest first: grandparent, then its parent, and so on.
  for (auto* p : chain) *ancestors->Add() = lineageView(*p);
}

api::Event ProcessCache::execEvent(const EntryPtr& e, uint64_t ktime_ns) {
  api::Event ev = wrap(ktime_ns);
  auto* exec = ev.mutable_process_exec();
  *exec->mutable_process() = e->proc;
  fillLineage(e, exec->mutable_parent(), exec->mutable_ancestors());
  if (!exec->parent().pid()) exec->clear_parent();
  return ev;
}

void ProcessCache::announce(const EntryPtr& e, int depth) {
  if (!e || e->announced || depth > 64) return;
  e->announced = true;
  announce(findByExecId(e->proc.parent_exec_id()), depth + 1);  // parents first
  announcements_.push_back(execEvent(e, e->start_ns));
}

std::vector<api::Event> ProcessCache::bootstrap() {
  std::vector<uint32_t> pids;
  if (DIR* d = opendir(opts_.proc_root.c_str())) {
    while (dirent* de = readdir(d)) {
      uint32_t pid = 0;
      const char* end = de->d_name + strlen(de->d_name);
      auto [ptr, ec] = std::from_chars(de->d_name, end, pid);
      if (ec == std::errc() && ptr == end) pids.push_back(pid);
    }
    closedir(d);
  }
  std::sort(pids.begin(), pids.end());
  std::vector<EntryPtr> entries;
  for (uint32_t pid : pids) {
    if (auto e = fromProc(pid)) {
      insertLive(e);
      entries.push_back(e);
    }
  }
  // Parents after all are known: /proc does not list them in order.
  std::vector<api::Event> out;
  for (const auto& e : entries) {
    if (auto parent = live_.find(e->proc.ppid()); parent != live_.end()) {
      e->proc.set_parent_exec_id(parent->second->proc.exec_id());
    }
  }
  for (const auto& e : entries) {
    e->announced = true;
    out.push_back(execEvent(e, e->start_ns));
  }
  return out;
}

api::Event ProcessCache::onExec(const events::ExecEvent& ev) {
  EntryPtr parent = findLive(ev.id.ppid, ev.id.parent_start_ns);
  if (!parent) {
    parent = fromProc(ev.id.ppid);
    if (parent) insertLive(parent);
  }
  announce(parent);
  auto e = std::make_shared<Entry>();
  e->start_ns = ev.id.start_ns;
  api::Process& p = e->proc;
  p.set_exec_id(execId(ev.id.start_ns, ev.id.pid));
  p.set_pid(ev.id.pid);
  p.set_tid(ev.id.tid);
  p.set_ppid(ev.id.ppid);
  if (parent) p.set_parent_exec_id(parent->proc.exec_id());
  p.set_uid(ev.uid);
  p.set_euid(ev.euid);
  p.set_gid(ev.gid);
  p.set_egid(ev.egid);
  p.set_auid(ev.auid);
  p.set_session_id(ev.sessionid);
  fillNames(&p);
  p.set_comm(ev.comm);
  p.set_tty(ttyName(ev.tty_major, ev.tty_minor, ev.tty_name));
  p.set_start_time(timeOf(ev.id.start_ns));
  std::string flags = "execve";
  if (ev.no_paths) {
    // The kernel could not read paths (lockdown): /proc, while it lasts.
    std::string dir = opts_.proc_root + "/" + std::to_string(ev.id.pid);
    fillPathsFromProc(dir, &p);
    flags += " procFS";
  } else {
    p.set_binary(ev.binary);
    p.set_cwd(ev.cwd);
    p.set_arguments(joinArgs(ev.argv));
  }
  p.set_binary_truncated(ev.binary_truncated);
  p.set_arguments_truncated(ev.args_truncated);
  if (ev.args_truncated) flags += " truncArgs";
  if (ev.cwd_truncated) flags += " truncCwd";
  p.set_flags(flags);
  auto* cap = p.mutable_cap();
  addCaps(ev.cap_permitted, cap->mutable_permitted());
  addCaps(ev.cap_effective, cap->mutable_effective());
  addCaps(ev.cap_inheritable, cap->mutable_inheritable());
  uint32_t ns[VG_NS_COUNT];
  memcpy(ns, ev.ns, sizeof(ns));
  fillNamespaces(ns, &p);
  fillCgroup(ev.cgroup_id, &p);
  e->announced = true;
  insertLive(e);

  return execEvent(e, ev.ktime_ns);
}

void ProcessCache::onClone(const events::CloneEvent& ev) {
  EntryPtr parent = findLive(ev.id.ppid, ev.id.parent_start_ns);
  if (!parent) {
    parent = fromProc(ev.id.ppid);
    if (!parent) return;
    insertLive(parent);
  }
  auto e = std::make_shared<Entry>();
  e->start_ns = ev.id.start_ns;
  e->proc = parent->proc;
  api::Process& p = e->proc;
  p.set_exec_id(execId(ev.id.start_ns, ev.id.pid));
  p.set_pid(ev.id.pid);
  p.set_tid(ev.id.tid);
  p.set_ppid(ev.id.ppid);
  p.set_parent_exec_id(parent->proc.exec_id());
  p.set_start_time(timeOf(ev.id.start_ns));
  p.set_flags("clone");
  insertLive(e);
}

std::optional<api::Event> ProcessCache::onExit(const events::ExitEvent& ev) {
  EntryPtr e = findLive(ev.id.pid, ev.id.start_ns);
  if (!e || !e->announced) {
    if (e) {
      live_.erase(ev.id.pid);
      exited_.push_back(e);
      pruneExited();
    }
    return std::nullopt;
  }
  api::Event out = wrap(ev.ktime_ns);
  auto* exit = out.mutable_process_exit();
  *exit->mutable_process() = e->proc;
  fillLineage(e, exit->mutable_parent(), nullptr);
  if (!exit->parent().pid()) exit->clear_parent();
  int sig = ev.exit_code & 0x7f;
  if (sig) {
    const char* abbrev = sigabbrev_np(sig);
    exit->set_signal(abbrev ? absl::StrCat("SIG", abbrev) : absl::StrCat("SIG", sig));
  }
  exit->set_status((ev.exit_code >> 8) & 0xff);
  exit->set_time(out.time());
  if (auto it = live_.find(ev.id.pid); it != live_.end() && it->second == e) {
    live_.erase(it);
    exited_.push_back(e);
    pruneExited();
  }
  return out;
}

void ProcessCache::enrich(uint32_t pid, api::Process* process, api::Process* parent) {
  auto it = live_.find(pid);
  EntryPtr e = it == live_.end() ? nullptr : it->second;
  if (!e) {
    e = fromProc(pid);
    if (!e) return;
    insertLive(e);
  }
  announce(e);
  // The kernel's view of this event (pid, tid, uid) stays; the rest comes from the cache.
  uint32_t tid = process->tid(), uid = process->uid(), gid = process->gid();
  std::string binary = process->binary();
  *process = e->proc;
  if (tid) process->set_tid(tid);
  process->set_uid(uid);
  process->set_gid(gid);
  if (process->binary().empty()) process->set_binary(binary);
  fillLineage(e, parent, nullptr);
}

}  // namespace vigil::process
