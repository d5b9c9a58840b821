#include "daemon/process/proc_bootstrap.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace vigil::process {

vg_proc procEntryForBinary(const std::string& path, const __u64 hash_key[2]) {
  vg_proc p{};
  const vg_hash2 h = vg_hash_fwd(path.data(), path.size(), hash_key);
  p.bin_hash = h.h;
  p.bin_check = h.check;
  p.bin_len = static_cast<uint16_t>(path.size());
  p.bin_trunc = path.size() >= VG_BIN_MAX;
  size_t n = std::min(path.size(), sizeof(p.bin) - 1);
  memcpy(p.bin, path.data(), n);
  return p;
}

void seedExecState(const std::string& dir, vg_proc& p) {
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    int which = line.starts_with("CapEff:")   ? 0
                : line.starts_with("CapPrm:") ? 1
                : line.starts_with("CapInh:") ? 2
                                              : -1;
    if (which >= 0) p.exec_caps[which] = strtoull(line.c_str() + 7, nullptr, 16);
  }
  // In the order of enum vg_ns.
  static constexpr const char* kNs[VG_NS_COUNT] = {"uts", "ipc", "mnt", "pid", "pid_for_children",
                                                   "net", "time", "cgroup", "user"};
  for (int i = 0; i < VG_NS_COUNT; i++) {
    char target[128] = {};
    ssize_t n = readlink((dir + "/ns/" + kNs[i]).c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    if (const char* open = strchr(target, '[')) p.exec_ns[i] = static_cast<uint32_t>(strtoul(open + 1, nullptr, 10));
  }
}

std::vector<std::pair<uint32_t, vg_proc>> scanProcesses(const std::string& proc_root,
                                                        const __u64 hash_key[2]) {
  std::vector<std::pair<uint32_t, vg_proc>> out;
  DIR* d = opendir(proc_root.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    uint32_t pid = 0;
    const char* end = e->d_name + strlen(e->d_name);
    auto [ptr, ec] = std::from_chars(e->d_name, end, pid);
    if (ec != std::errc() || ptr != end) continue;
    std::string link = proc_root + "/" + e->d_name + "/exe";
    char buf[VG_PATH_MAX];
    ssize_t n = readlink(link.c_str(), buf, sizeof(buf) - 1);
    if (n <= 0) continue;
    vg_proc p = procEntryForBinary(std::string(buf, n), hash_key);
    seedExecState(proc_root + "/" + e->d_name, p);
    out.emplace_back(pid, p);
  }
  closedir(d);
  return out;
}

}  // namespace vigil::process
