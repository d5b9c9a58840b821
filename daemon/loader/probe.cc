#include "daemon/loader/probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil::loader {
namespace {

std::string readFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  return line;
}

// Reads a securityfs file. Where securityfs is not mounted (this is common on
// hosts and in containers), mounts it in a private mount namespace of a child
// process, so the host's mounts are never changed.
std::string readSecurityfs(const std::string& name) {
  std::string direct = readFirstLine(("/sys/kernel/security/" + name).c_str());
  if (!direct.empty()) return direct;
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return {};
  }
  if (pid == 0) {
    close(fds[0]);
    char dir[] = "/tmp/vigil-securityfs-XXXXXX";
    std::string line;
    if (unshare(CLONE_NEWNS) == 0 && mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
        mkdtemp(dir) != nullptr) {
      if (mount("securityfs", dir, "securityfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) == 0) {
        line = readFirstLine((std::string(dir) + "/" + name).c_str());
        umount(dir);
      }
      rmdir(dir);
    }
    ssize_t unused = write(fds[1], line.data(), line.size());
    (void)unused;
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) > 0;) out.append(buf, n);
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

std::string errnoText(int err) { return std::string(strerrordesc_np(err)) + " (" + strerrorname_np(err) + ")"; }

constexpr bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

// r0 = 0; exit
const std::vector<bpf_insn> kReturnZero = {
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
};

// bpf_probe_read_kernel(fp - 8, 8, NULL); r0 = 0; exit
const std::vector<bpf_insn> kReadKernel = {
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0),
    insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -8),
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 8),
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, 0),
    insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_probe_read_kernel),
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
};

// r1 = 0; r2 = btf id of struct rb_node; call bpf_rdonly_cast; r0 = 0; exit.
// Empty when the kernel's BTF lacks the kfunc (before 6.2).
std::vector<bpf_insn> rdonlyCastProgram(const btf* vmlinux) {
  int fn = vmlinux ? btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) : -1;
  int type = vmlinux ? btf__find_by_name_kind(vmlinux, "rb_node", BTF_KIND_STRUCT) : -1;
  if (fn < 0 || type < 0) return {};
  return {
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, type),
      insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, fn),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
}

// Loads the program as the given attach type on a vmlinux BTF function.
// Returns 0 or -errno. The program is closed at once, never attached.
int tryLoad(const btf* vmlinux, bpf_prog_type type, bpf_attach_type attach,
            const char* btf_name, int btf_kind, const std::vector<bpf_insn>& insns = kReturnZero) {
  if (!vmlinux) return -ENOENT;
  int id = btf__find_by_name_kind(vmlinux, btf_name, btf_kind);
  if (id < 0) return -ESRCH;
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach,
              .attach_btf_id = static_cast<__u32>(id));
  int fd = bpf_prog_load(type, "vigil_probe", "GPL", insns.data(), insns.size(), &opts);
  if (fd < 0) return -errno;
  close(fd);
  return 0;
}

Feature loadFeature(const char* name, int rc, const char* what) {
  Feature f{name, rc == 0, {}};
  if (rc == 0) {
    f.detail = std::string(what) + " loads";
  } else if (rc == -ESRCH) {
    f.detail = std::string(what) + ": target function not in the kernel's BTF";
  } else if (rc == -ENOENT) {
    f.detail = "no kernel BTF";
  } else {
    f.detail = std::string(what) + " refused: " + errnoText(-rc);
  }
  return f;
}

}  // namespace

std::string KernelFeatures::lsmUnusableReason() const {
  if (lsmUsable() || fmodRetUsable()) return {};
  std::string why;
  if (!bpf_lsm_active.ok) why = bpf_lsm_active.detail;
  if (!lsm_programs.ok) {
    if (!why.empty()) why += "; ";
    why += lsm_programs.detail;
  }
  why += "; fallback " + trampolines.detail;
  if (lockdown == "confidentiality" || lockdown == "integrity") {
    why += "; kernel lockdown is " + lockdown;
  }
  return why;
}

std::vector<const Feature*> KernelFeatures::all() const {
  return {&btf, &bpf_lsm_active, &lsm_programs, &trampolines, &tp_btf,
          &kprobes, &ringbuf, &send_signal, &d_path, &read_kernel, &btf_reads};
}

KernelFeatures probeKernel() {
  KernelFeatures k;
  utsname u{};
  if (uname(&u) == 0) k.kernel_release = u.release;

  // Quiet libbpf while probing: failures here are expected answers.
  auto old_print = libbpf_set_print(nullptr);

  bool have_btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
  k.btf = {"btf", have_btf, have_btf ? "/sys/kernel/btf/vmlinux" : "no /sys/kernel/btf/vmlinux"};
  btf* vmlinux = have_btf ? btf__load_vmlinux_btf() : nullptr;
  if (vmlinux && libbpf_get_error(vmlinux)) vmlinux = nullptr;

  std::string lsms = readSecurityfs("lsm");
  if (lsms.empty()) {
    k.bpf_lsm_active = {"bpf_lsm", false,
                        "cannot read the active LSMs from securityfs"};
  } else {
    bool has_bpf = false;
    std::stringstream ss(lsms);
    for (std::string item; std::getline(ss, item, ',');) has_bpf |= item == "bpf";
    k.bpf_lsm_active = {"bpf_lsm", has_bpf,
                        has_bpf ? "active LSMs: " + lsms
                                : "BPF LSM not active (active LSMs: " + lsms +
                                      "); boot with bpf in lsm="};
  }

  k.lsm_programs = loadFeature("lsm_programs",
                               tryLoad(vmlinux, BPF_PROG_TYPE_LSM, BPF_LSM_MAC,
                                       "bpf_lsm_file_open", BTF_KIND_FUNC),
                               "lsm/file_open program");
  k.trampolines = loadFeature("trampolines",
                              tryLoad(vmlinux, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
                                      "security_file_open", BTF_KIND_FUNC),
                              "fentry/security_file_open program");
  k.tp_btf = loadFeature("tp_btf",
                         tryLoad(vmlinux, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
                                 "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF),
                         "tp_btf/sched_process_exec program");

  k.read_kernel = loadFeature("read_kernel",
                              tryLoad(vmlinux, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
                                      "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF,
                                      kReadKernel),
                              "bpf_probe_read_kernel in tp_btf");
  auto cast = rdonlyCastProgram(vmlinux);
  k.btf_reads = cast.empty()
                    ? Feature{"btf_reads", false, "no bpf_rdonly_cast kfunc in the kernel's BTF"}
                    : loadFeature("btf_reads",
                                  tryLoad(vmlinux, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
                                          "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF, cast),
                                  "bpf_rdonly_cast in tp_btf");

  bool kprobes = access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
  k.kprobes = {"kprobes", kprobes,
               kprobes ? "kprobe PMU present" : "no kprobe PMU (CONFIG_KPROBES off?)"};

  bool rb = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1;
  k.ringbuf = {"ringbuf", rb, rb ? "BPF_MAP_TYPE_RINGBUF supported" : "no ring buffer maps"};

  bool sig = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_send_signal, nullptr) == 1;
  k.send_signal = {"send_signal", sig, sig ? "bpf_send_signal available" : "bpf_send_signal missing"};

  bool dpath = vmlinux && btf__find_by_name_kind(vmlinux, "bpf_d_path", BTF_KIND_FUNC) >= 0;
  k.d_path = {"d_path", dpath, dpath ? "bpf_d_path present" : "bpf_d_path not found in BTF"};

  std::string lockdown = readSecurityfs("lockdown");
  k.lockdown = "unknown";
  if (auto l = lockdown.find('['), r = lockdown.find(']');
      l != std::string::npos && r != std::string::npos && r > l) {
    k.lockdown = lockdown.substr(l + 1, r - l - 1);
  }

  if (vmlinux) btf__free(vmlinux);
  libbpf_set_print(old_print);
  return k;
}

}  // namespace vigil::loader
