#include "daemon/process/process_cache.h"

#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "api/event_json.h"
#include "daemon/events/json_writer.h"

namespace vigil::process {
namespace {

// A parent pid that no process has, so nothing is read from /proc.
constexpr uint32_t kNoPid = 0x3ffffff0;

CacheOptions testOptions() {
  CacheOptions o;
  o.node_name = "node-a";
  o.boot_id = "0123456789abcdef";
  o.max_exited = 2;
  o.ancestor_depth = 2;
  return o;
}

events::ExecEvent execOf(uint32_t pid, uint64_t start, uint32_t ppid, uint64_t pstart,
                         const std::string& bin, std::vector<std::string> argv) {
  events::ExecEvent ev;
  ev.ktime_ns = start + 10;
  ev.id = {pid, pid, ppid, start, pstart};
  ev.uid = 1000;
  ev.euid = 1000;
  ev.binary = bin;
  ev.argv = std::move(argv);
  ev.cwd = "/home/u";
  ev.comm = "x";
  ev.cap_effective = (1ULL << 21) | 1;  // CAP_SYS_ADMIN, CAP_CHOWN
  return ev;
}

TEST(ProcessCache, ExecIdsAreStableAndNodeScoped) {
  ProcessCache a(testOptions()), b(testOptions());
  EXPECT_EQ(a.execId(5, 7), b.execId(5, 7));
  EXPECT_NE(a.execId(5, 7), a.execId(5, 8));
  EXPECT_NE(a.execId(5, 7), a.execId(6, 7));
  auto other = testOptions();
  other.node_name = "node-b";
  EXPECT_NE(ProcessCache(other).execId(5, 7), a.execId(5, 7));
}

TEST(ProcessCache, ExecCarriesBinaryArgsCwdCapsAndLineage) {
  ProcessCache c(testOptions());
  // A shell (pid 100) runs a script interpreter (pid 200) that runs curl (pid 300).
  auto shell = c.onExec(execOf(100, 1'000, kNoPid, 0, "/usr/bin/bash", {"bash"}));
  auto py = c.onExec(execOf(200, 2'000, 100, 1'000, "/usr/bin/python3", {"python3", "x.py"}));
  c.onClone({3'000, {300, 300, 200, 3'000, 2'000}});
  auto curl = c.onExec(execOf(300, 3'000, 200, 2'000, "/usr/bin/curl",
                              {"curl", "-H", "a b", "it's"}));
  const auto& p = curl.process_exec().process();
  EXPECT_EQ(p.binary(), "/usr/bin/curl");
  EXPECT_EQ(p.arguments(), "-H 'a b' 'it'\\''s'");
  EXPECT_EQ(p.cwd(), "/home/u");
  EXPECT_EQ(p.flags(), "execve");
  EXPECT_EQ(p.exec_id(), c.execId(3'000, 300));
  EXPECT_EQ(p.parent_exec_id(), py.process_exec().process().exec_id());
  EXPECT_EQ(std::vector<int>(p.cap().effective().begin(), p.cap().effective().end()),
            (std::vector<int>{api::CAP_CHOWN, api::CAP_SYS_ADMIN}));
  EXPECT_NE(api::renderJson(curl).find(R"("effective":["CAP_CHOWN","CAP_SYS_ADMIN"])"),
            std::string::npos);
  EXPECT_EQ(curl.process_exec().parent().binary(), "/usr/bin/python3");
  ASSERT_EQ(curl.process_exec().ancestors_size(), 1);
  EXPECT_EQ(curl.process_exec().ancestors(0).exec_id(), shell.process_exec().process().exec_id());
  // Lineage entries are light: no capabilities or namespaces repeated.
  EXPECT_FALSE(curl.process_exec().parent().has_cap());
  EXPECT_EQ(curl.node_name(), "node-a");
  EXPECT_EQ(curl.schema_version(), 1u);
}

TEST(ProcessCache, CloneInheritsTheParentImageUntilExec) {
  ProcessCache c(testOptions());
  auto bash = c.onExec(execOf(100, 1'000, kNoPid, 0, "/usr/bin/bash", {"bash", "-c", "x"}));
  c.onClone({2'000, {101, 101, 100, 2'000, 1'000}});
  api::Process proc, parent;
  proc.set_tid(102);
  c.enrich(101, &proc, &parent);
  EXPECT_EQ(proc.binary(), "/usr/bin/bash");
  EXPECT_EQ(proc.flags(), "clone");
  EXPECT_EQ(proc.tid(), 102u);
  EXPECT_EQ(proc.exec_id(), c.execId(2'000, 101));
  EXPECT_EQ(parent.exec_id(), bash.process_exec().process().exec_id());
}

TEST(ProcessCache, ExitReportsStatusOrSignalAndFreesTheEntry) {
  ProcessCache c(testOptions());
  auto e = c.onExec(execOf(100, 1'000, kNoPid, 0, "/bin/true", {"true"}));
  auto x = *c.onExit({5'000, {100, 100, kNoPid, 1'000, 0}, 3 << 8});
  EXPECT_EQ(x.process_exit().process().exec_id(), e.process_exec().process().exec_id());
  EXPECT_EQ(x.process_exit().status(), 3u);
  EXPECT_EQ(x.process_exit().signal(), "");
  EXPECT_EQ(c.liveCount(), 0u);

  c.onExec(execOf(200, 6'000, kNoPid, 0, "/bin/sleep", {"sleep"}));
  auto k = *c.onExit({7'000, {200, 200, kNoPid, 6'000, 0}, 9});
  EXPECT_EQ(k.process_exit().signal(), "SIGKILL");
  // Bounded: only max_exited (2) exited entries are kept.
  c.onExec(execOf(300, 8'000, kNoPid, 0, "/bin/a", {"a"}));
  c.onExit({9'000, {300, 300, kNoPid, 8'000, 0}, 0});
  EXPECT_EQ(c.exitedCount(), 2u);
}

TEST(ProcessCache, ForksThatNeverExecNorAreNamedStaySilent) {
  ProcessCache c(testOptions());
  c.onExec(execOf(100, 1'000, kNoPid, 0, "/usr/bin/bash", {"bash"}));
  c.onClone({2'000, {101, 101, 100, 2'000, 1'000}});
  EXPECT_FALSE(c.onExit({3'000, {101, 101, 100, 2'000, 1'000}, 0}).has_value());
  // A fork that execs: its parent (a fork of bash) is announced first.
  c.onClone({4'000, {102, 102, 100, 4'000, 1'000}});
  c.onClone({5'000, {103, 103, 102, 5'000, 4'000}});
  auto cat = c.onExec(execOf(103, 5'000, 102, 4'000, "/usr/bin/cat", {"cat"}));
  auto ann = c.takeAnnouncements();
  ASSERT_EQ(ann.size(), 1u);
  EXPECT_EQ(ann[0].process_exec().process().exec_id(), cat.process_exec().process().parent_exec_id());
}

TEST(ProcessCache, ParentsUnknownToTheKernelComeFromProc) {
  ProcessCache c(testOptions());
  // This test process is the parent: it predates the cache.
  auto e = c.onExec(execOf(999'999, 1'000, getpid(), 0, "/bin/x", {"x"}));
  EXPECT_EQ(e.process_exec().parent().pid(), static_cast<uint32_t>(getpid()));
  EXPECT_EQ(e.process_exec().parent().flags(), "procFS");
  EXPECT_FALSE(e.process_exec().parent().binary().empty());
}

TEST(ProcessCache, BootstrapAnnouncesRunningProcessesWithParents) {
  ProcessCache c(testOptions());
  auto events = c.bootstrap();
  bool self = false;
  for (const auto& ev : events) {
    const auto& p = ev.process_exec().process();
    EXPECT_EQ(p.flags(), "procFS");
    if (p.pid() == static_cast<uint32_t>(getpid())) {
      self = true;
      EXPECT_EQ(p.ppid(), static_cast<uint32_t>(getppid()));
      EXPECT_EQ(ev.process_exec().parent().pid(), static_cast<uint32_t>(getppid()));
    }
  }
  EXPECT_TRUE(self);
}

TEST(ProcessCache, ContainerAndUnitFromCgroupPaths) {
  const std::string id(64, 'a');
  struct Case {
    std::string path, runtime, unit;
  } cases[] = {
      {"/system.slice/docker-" + id + ".scope", "docker", ""},
      {"/kubepods.slice/kubepods-besteffort.slice/cri-containerd-" + id + ".scope", "containerd", ""},
      {"/machine.slice/libpod-" + id + ".scope/container", "podman", ""},
      {"/kubepods.slice/crio-" + id + ".scope", "cri-o", ""},
      {"/docker/" + id, "docker", ""},
      {"/system.slice/nginx.service", "", "nginx.service"},
  };
  for (const auto& c : cases) {
    api::Process p;
    ProcessCache::parseCgroupPath(c.path, &p);
    EXPECT_EQ(p.cgroup_path(), c.path);
    EXPECT_EQ(p.container().runtime(), c.runtime) << c.path;
    EXPECT_EQ(p.container().id(), c.runtime.empty() ? "" : id) << c.path;
    EXPECT_EQ(p.systemd_unit(), c.unit) << c.path;
  }
}

TEST(ProcessCache, TerminalNamesAsPsShowsThem) {
  EXPECT_EQ(ProcessCache::ttyName(0, 0, ""), "");
  EXPECT_EQ(ProcessCache::ttyName(136, 3, "pts3"), "pts/3");
  EXPECT_EQ(ProcessCache::ttyName(136, 4242), "pts/4242");  // 20-bit minors
  EXPECT_EQ(ProcessCache::ttyName(137, 1), "pts/257");      // old 8-bit minor majors
  EXPECT_EQ(ProcessCache::ttyName(4, 1, "tty1"), "tty1");
  EXPECT_EQ(ProcessCache::ttyName(4, 2), "tty2");
  EXPECT_EQ(ProcessCache::ttyName(4, 65), "ttyS1");
  EXPECT_EQ(ProcessCache::ttyName(5, 1), "console");
  EXPECT_EQ(ProcessCache::ttyName(188, 0, "ttyUSB0"), "ttyUSB0");
  EXPECT_EQ(ProcessCache::ttyName(188, 0), "");  // unknown without the kernel's name
}

TEST(ProcessCache, ExecAndForksCarryTheTerminal) {
  ProcessCache c(testOptions());
  auto ev = execOf(100, 1'000, kNoPid, 0, "/usr/bin/bash", {"bash"});
  ev.tty_major = 136;
  ev.tty_minor = 3;
  ev.tty_name = "pts3";
  auto bash = c.onExec(ev);
  EXPECT_EQ(bash.process_exec().process().tty(), "pts/3");
  EXPECT_NE(api::renderJson(bash).find(R"("tty":"pts/3")"), std::string::npos);
  c.onClone({2'000, {101, 101, 100, 2'000, 1'000}});
  api::Process proc, parent;
  c.enrich(101, &proc, &parent);
  EXPECT_EQ(proc.tty(), "pts/3");
  // No terminal: no tty key at all.
  auto daemon = c.onExec(execOf(200, 3'000, kNoPid, 0, "/usr/sbin/cron", {"cron"}));
  EXPECT_EQ(api::renderJson(daemon).find("\"tty\""), std::string::npos);
}

// A temporary directory tree, removed with the test.
class TempTree {
 public:
  TempTree() {
    char dir[] = "/tmp/vigil-cache-test-XXXXXX";
    root_ = mkdtemp(dir) ? dir : "";
  }
  ~TempTree() {
    if (!root_.empty()) {
      EXPECT_EQ(system(("rm -rf " + root_).c_str()), 0);
    }
  }
  const std::string& root() const { return root_; }
  // Writes root/rel, creating its directories.
  void write(const std::string& rel, const std::string& text) const {
    std::string path = root_ + "/" + rel;
    ASSERT_EQ(system(("mkdir -p " + path.substr(0, path.rfind('/'))).c_str()), 0);
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(text.c_str(), f);
    fclose(f);
  }
  // A /proc/PID as the cache reads it: stat (with tty_nr) and cgroup.
  void writeProc(int pid, uint64_t tty_nr, const std::string& cgroup = "/") const {
    write("proc/" + std::to_string(pid) + "/stat",
          absl::StrCat(pid, " (a b) S 1 ", pid, " ", pid, " ", tty_nr,
                       " -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0\n"));
    write("proc/" + std::to_string(pid) + "/cgroup", "0::" + cgroup + "\n");
  }

 private:
  std::string root_;
};

TEST(ProcessCache, ProcBootstrapDecodesTtyNr) {
  TempTree t;
  ASSERT_FALSE(t.root().empty());
  // tty_nr is new_encode_dev(): pts/3 is 136:3 = 34819; pts/300 has minor
  // bits above 8 at 20 and up; 0 is no terminal.
  t.writeProc(4242, 34819);
  t.writeProc(4243, (300 & 0xff) | (136 << 8) | ((300 & ~0xff) << 12));
  t.writeProc(4244, 0);
  t.writeProc(4245, 1089);  // 4:65, ttyS1
  auto opts = testOptions();
  opts.proc_root = t.root() + "/proc";
  ProcessCache c(opts);
  std::map<uint32_t, std::string> ttys;
  for (const auto& ev : c.bootstrap()) ttys[ev.process_exec().process().pid()] = ev.process_exec().process().tty();
  EXPECT_EQ(ttys, (std::map<uint32_t, std::string>{{4242, "pts/3"}, {4243, "pts/300"}, {4244, ""}, {4245, "ttyS1"}}));
}

TEST(ProcessCache, ContainerNameAndImageFromRuntimeFiles) {
  TempTree t;
  ASSERT_FALSE(t.root().empty());
  const std::string docker_id(64, 'd'), k8s_id(64, 'e'), gone_id(64, 'f');
  // Docker's own record of the container (trimmed).
  t.write("docker/containers/" + docker_id + "/config.v2.json",
          R"({"ID":")" + docker_id + R"(","Name":"/web","Image":"sha256:0123",)"
          R"("Config":{"Image":"nginx:1.25","Env":["A=1"],"Labels":{}},"State":{"Pid":4242}})");
  // containerd's shim bundle for a Kubernetes container: an OCI spec with CRI annotations.
  t.write("containerd/io.containerd.runtime.v2.task/k8s.io/" + k8s_id + "/config.json",
          R"({"ociVersion":"1.1.0","process":{"args":["/app"]},"annotations":{)"
          R"("io.kubernetes.cri.container-type":"container",)"
          R"("io.kubernetes.cri.container-name":"api","io.kubernetes.cri.image-name":"ghcr.io/x/api:2"}})");
  t.writeProc(4242, 0, "/system.slice/docker-" + docker_id + ".scope");
  t.writeProc(4243, 0, "/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + k8s_id + ".scope");
  t.writeProc(4244, 0, "/system.slice/docker-" + gone_id + ".scope");  // no file: id only
  auto opts = testOptions();
  opts.proc_root = t.root() + "/proc";
  opts.docker_root = t.root() + "/docker";
  opts.containerd_state = t.root() + "/containerd";
  ProcessCache c(opts);
  std::map<uint32_t, api::Container> got;
  for (const auto& ev : c.bootstrap()) got[ev.process_exec().process().pid()] = ev.process_exec().process().container();
  EXPECT_EQ(got[4242].id(), docker_id);
  EXPECT_EQ(got[4242].runtime(), "docker");
  EXPECT_EQ(got[4242].name(), "web");
  EXPECT_EQ(got[4242].image(), "nginx:1.25");
  EXPECT_EQ(got[4243].runtime(), "containerd");
  EXPECT_EQ(got[4243].name(), "api");
  EXPECT_EQ(got[4243].image(), "ghcr.io/x/api:2");
  EXPECT_EQ(got[4244].id(), gone_id);
  EXPECT_EQ(got[4244].name(), "");
  EXPECT_EQ(got[4244].image(), "");
  // Read once per container: a later process of the same container gets the
  // name even after the file is gone.
  ASSERT_EQ(system(("rm -rf " + t.root() + "/docker").c_str()), 0);
  t.writeProc(4250, 0, "/system.slice/docker-" + docker_id + ".scope");
  api::Process proc, parent;
  c.enrich(4250, &proc, &parent);
  EXPECT_EQ(proc.container().name(), "web");
  EXPECT_EQ(proc.container().image(), "nginx:1.25");
}

TEST(ProcessCache, CapabilityNames) {
  EXPECT_EQ(ProcessCache::capNames(0), std::vector<std::string>{});
  EXPECT_EQ(ProcessCache::capNames((1ULL << 39) | (1ULL << 7)),
            (std::vector<std::string>{"CAP_SETUID", "CAP_BPF"}));
}

}  // namespace
}  // namespace vigil::process

namespace vigil::process {
namespace {

// A cgroup id is resolved by the kernel (open_by_handle_at), not by walking
// the tree: with thousands of cgroups a walk per exec in a new cgroup cost
// ~17 ms, and any user who can create cgroups could make every exec pay it.
TEST(CgroupPaths, ResolvedByHandleWithoutAWalk) {
  // The v2 hierarchy, as the cache finds it (hybrid hosts mount it at unified/).
  std::string root = "/sys/fs/cgroup";
  struct statfs fs {};
  if (statfs(root.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) root += "/unified";
  if (geteuid() != 0 || statfs(root.c_str(), &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
    GTEST_SKIP() << "needs root and cgroup v2 at /sys/fs/cgroup or /sys/fs/cgroup/unified";
  }
  const std::string name = "vigil-test-" + std::to_string(getpid());
  const std::string dir = root + "/" + name;
  if (mkdir(dir.c_str(), 0755) != 0) GTEST_SKIP() << "cannot create a cgroup: " << strerror(errno);
  struct stat st {};
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(ProcessCache::cgroupPathOfId(root, st.st_ino), "/" + name);
  struct stat rst {};
  ASSERT_EQ(stat(root.c_str(), &rst), 0);
  EXPECT_EQ(ProcessCache::cgroupPathOfId(root, rst.st_ino), "/");
  rmdir(dir.c_str());
  EXPECT_EQ(ProcessCache::cgroupPathOfId(root, st.st_ino), std::nullopt);  // gone
  EXPECT_EQ(ProcessCache::cgroupPathOfId("/nonexistent", st.st_ino), std::nullopt);
}

}  // namespace
}  // namespace vigil::process
