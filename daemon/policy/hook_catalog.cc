#include "daemon/policy/hook_catalog.h"

#include <algorithm>
#include <string>

#include "vigil/abi/abi.h"

namespace vigil::policy {
namespace {

// Kernel signatures from include/linux/lsm_hook_defs.h (6.1 and 6.12 agree on
// these). Arguments Vigil cannot read yet keep their type name so a policy
// that declares them gets a precise "not supported yet".
constexpr CatalogArg kBprm[] = {{"linux_binprm", VG_ARG_BINPRM, "the program being executed"}};
constexpr CatalogArg kFileOpen[] = {{"file", VG_ARG_FILE, "the file being opened", -1, true}};
constexpr CatalogArg kFilePermission[] = {{"file", VG_ARG_FILE, "the file accessed"},
                                          {"int", VG_ARG_S32, "the access mask (MAY_READ=4, MAY_WRITE=2, MAY_EXEC=1)"}};
constexpr CatalogArg kMmapFile[] = {{"file", VG_ARG_FILE, "the file mapped (may be none)"},
                                    {"uint64", VG_ARG_U64, "the requested protection"},
                                    {"uint64", VG_ARG_U64, "the protection applied"},
                                    {"uint64", VG_ARG_U64, "the mmap flags"}};
constexpr CatalogArg kFileMprotect[] = {{"vm_area_struct", VG_ARG_NONE, "the memory area"},
                                        {"uint64", VG_ARG_U64, "the requested protection"},
                                        {"uint64", VG_ARG_U64, "the protection applied"}};
constexpr CatalogArg kDirDentry[] = {{"path", VG_ARG_PATH, "the parent directory"},
                                     {"dentry", VG_ARG_DENTRY, "the entry", 0}};
constexpr CatalogArg kPathMkdir[] = {{"path", VG_ARG_PATH, "the parent directory"},
                                     {"dentry", VG_ARG_DENTRY, "the new directory", 0},
                                     {"uint16", VG_ARG_U16, "the mode"}};
constexpr CatalogArg kPathRename[] = {{"path", VG_ARG_PATH, "the old parent directory"},
                                      {"dentry", VG_ARG_DENTRY, "the old entry", 0},
                                      {"path", VG_ARG_PATH, "the new parent directory"},
                                      {"dentry", VG_ARG_DENTRY, "the new entry", 2},
                                      {"uint32", VG_ARG_U32, "the rename flags"}};
constexpr CatalogArg kPathLink[] = {{"dentry", VG_ARG_DENTRY, "the existing entry", 1},
                                    {"path", VG_ARG_PATH, "the new parent directory"},
                                    {"dentry", VG_ARG_DENTRY, "the new entry", 1}};
constexpr CatalogArg kPathSymlink[] = {{"path", VG_ARG_PATH, "the parent directory"},
                                       {"dentry", VG_ARG_DENTRY, "the new link", 0},
                                       {"string", VG_ARG_STR, "the link's target"}};
constexpr CatalogArg kPathChmod[] = {{"path", VG_ARG_PATH, "the file"},
                                     {"uint16", VG_ARG_U16, "the new mode"}};
constexpr CatalogArg kPathChown[] = {{"path", VG_ARG_PATH, "the file"},
                                     {"kuid_t", VG_ARG_NONE, "the new owner"},
                                     {"kgid_t", VG_ARG_NONE, "the new group"}};
constexpr CatalogArg kPathTruncate[] = {{"path", VG_ARG_PATH, "the file"}};
constexpr CatalogArg kSocketCreate[] = {{"int", VG_ARG_S32, "the address family"},
                                        {"int", VG_ARG_S32, "the socket type"},
                                        {"int", VG_ARG_S32, "the protocol"},
                                        {"int", VG_ARG_S32, "1 for a kernel socket"}};
constexpr CatalogArg kSocketAddr[] = {{"socket", VG_ARG_SOCKET, "the socket"},
                                      {"sockaddr", VG_ARG_SOCKADDR, "the address"},
                                      {"int", VG_ARG_S32, "the address length"}};
constexpr CatalogArg kSocketListen[] = {{"socket", VG_ARG_SOCKET, "the socket"},
                                        {"int", VG_ARG_S32, "the backlog"}};
constexpr CatalogArg kTaskKill[] = {{"task", VG_ARG_TASK, "the target process"},
                                    {"kernel_siginfo", VG_ARG_NONE, "the signal information"},
                                    {"int", VG_ARG_S32, "the signal"},
                                    {"cred", VG_ARG_CRED, "the sender's credentials"}};
constexpr CatalogArg kPtrace[] = {{"task", VG_ARG_TASK, "the traced process"},
                                  {"uint32", VG_ARG_U32, "the access mode"}};
constexpr CatalogArg kCapable[] = {{"cred", VG_ARG_CRED, "the credentials"},
                                   {"user_namespace", VG_ARG_USER_NS, "the user namespace"},
                                   {"capability", VG_ARG_S32, "the capability"},
                                   {"uint32", VG_ARG_U32, "the options"}};
constexpr CatalogArg kModuleRequest[] = {{"string", VG_ARG_STR, "the module name"}};
constexpr CatalogArg kKernelReadFile[] = {{"file", VG_ARG_FILE, "the file"},
                                          {"int", VG_ARG_S32, "what it is read for (enum kernel_read_file_id)"},
                                          {"int8", VG_ARG_U8, "whether its contents are passed"}};
constexpr CatalogArg kSbMount[] = {{"string", VG_ARG_STR, "the device"},
                                   {"path", VG_ARG_PATH, "the mount point"},
                                   {"string", VG_ARG_STR, "the file system type"},
                                   {"uint64", VG_ARG_U64, "the mount flags"},
                                   {"nop", VG_ARG_NONE, "the mount data"}};
constexpr CatalogArg kBpf[] = {{"int", VG_ARG_S32, "the bpf command"},
                               {"bpf_attr", VG_ARG_BPF_ATTR, "the attributes"},
                               {"uint32", VG_ARG_U32, "the attributes' size"}};

constexpr LsmHookInfo kLsmHooks[] = {
    {"bprm_check_security", "security_bprm_check", kBprm},
    {"file_open", "security_file_open", kFileOpen},
    {"file_permission", "security_file_permission", kFilePermission},
    {"mmap_file", "security_mmap_file", kMmapFile},
    {"file_mprotect", "security_file_mprotect", kFileMprotect},
    {"path_unlink", "security_path_unlink", kDirDentry},
    {"path_rmdir", "security_path_rmdir", kDirDentry},
    {"path_mkdir", "security_path_mkdir", kPathMkdir},
    {"path_rename", "security_path_rename", kPathRename},
    {"path_link", "security_path_link", kPathLink},
    {"path_symlink", "security_path_symlink", kPathSymlink},
    {"path_chmod", "security_path_chmod", kPathChmod},
    {"path_chown", "security_path_chown", kPathChown},
    {"path_truncate", "security_path_truncate", kPathTruncate},
    {"socket_create", "security_socket_create", kSocketCreate},
    {"socket_connect", "security_socket_connect", kSocketAddr},
    {"socket_bind", "security_socket_bind", kSocketAddr},
    {"socket_listen", "security_socket_listen", kSocketListen},
    {"task_kill", "security_task_kill", kTaskKill},
    {"ptrace_access_check", "security_ptrace_access_check", kPtrace},
    {"capable", "security_capable", kCapable},
    {"kernel_module_request", "security_kernel_module_request", kModuleRequest},
    {"kernel_read_file", "security_kernel_read_file", kKernelReadFile},
    {"sb_mount", "security_sb_mount", kSbMount},
    {"bpf", "security_bpf", kBpf},
};

struct TypeKind {
  std::string_view type;
  uint8_t kind;
};
constexpr TypeKind kTypes[] = {
    {"int", VG_ARG_S32},        {"int32", VG_ARG_S32},     {"s32", VG_ARG_S32},
    {"uint32", VG_ARG_U32},     {"u32", VG_ARG_U32},       {"int8", VG_ARG_S8},
    {"uint8", VG_ARG_U8},       {"int16", VG_ARG_S16},     {"uint16", VG_ARG_U16},
    {"int64", VG_ARG_S64},      {"s64", VG_ARG_S64},       {"long", VG_ARG_S64},
    {"uint64", VG_ARG_U64},     {"u64", VG_ARG_U64},       {"size_t", VG_ARG_U64},
    {"fd", VG_ARG_S32},         {"capability", VG_ARG_S32}, {"file", VG_ARG_FILE},
    {"path", VG_ARG_PATH},      {"dentry", VG_ARG_DENTRY}, {"linux_binprm", VG_ARG_BINPRM},
    {"sock", VG_ARG_SOCK},      {"socket", VG_ARG_SOCKET}, {"sockaddr", VG_ARG_SOCKADDR},
    {"cred", VG_ARG_CRED},      {"task", VG_ARG_TASK},     {"nop", VG_ARG_NONE},
    {"skb", VG_ARG_SKB},        {"module", VG_ARG_MODULE}, {"bpf_attr", VG_ARG_BPF_ATTR},
    {"kiocb", VG_ARG_KIOCB},    {"filename", VG_ARG_FILENAME},
    {"user_namespace", VG_ARG_USER_NS},                    {"kernel_cap_t", VG_ARG_KERNEL_CAP},
    {"cap_inheritable", VG_ARG_KERNEL_CAP},                {"cap_permitted", VG_ARG_KERNEL_CAP},
    {"cap_effective", VG_ARG_KERNEL_CAP},                  {"perf_event", VG_ARG_PERF_EVENT},
    {"bpf_map", VG_ARG_BPF_MAP}, {"iov_iter", VG_ARG_IOV_ITER},
};

// Tetragon's other argument types: recognised, not read yet.
constexpr std::string_view kTetragonOnlyTypes[] = {
    "char_iovec", "load_info", "syscall64", "linux_binprm_file", "net_device", "bpf_prog",
    "data_loc", "const_buf", "string_array"};

}  // namespace

const LsmHookInfo* findLsmHook(std::string_view name) {
  for (const auto& h : kLsmHooks) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

std::span<const LsmHookInfo> lsmHooks() { return kLsmHooks; }

std::optional<uint8_t> argKindOf(std::string_view type, bool syscall) {
  if (type == "string") return syscall ? VG_ARG_USTR : VG_ARG_STR;
  if (type == "char_buf") return syscall ? VG_ARG_UCHAR_BUF : VG_ARG_CHAR_BUF;
  for (const auto& t : kTypes) {
    if (t.type == type) return t.kind;
  }
  return std::nullopt;
}

bool isTetragonArgType(std::string_view type) {
  return argKindOf(type, false).has_value() ||
         std::find(std::begin(kTetragonOnlyTypes), std::end(kTetragonOnlyTypes), type) !=
             std::end(kTetragonOnlyTypes);
}

bool isIntegerKind(uint8_t k) { return k >= VG_ARG_S8 && k <= VG_ARG_U64; }
bool isSignedKind(uint8_t k) {
  return k == VG_ARG_S8 || k == VG_ARG_S16 || k == VG_ARG_S32 || k == VG_ARG_S64;
}
bool isStringKind(uint8_t k) {
  switch (k) {
    case VG_ARG_DENTRY:
    case VG_ARG_CHAR_BUF:
    case VG_ARG_UCHAR_BUF:
    case VG_ARG_MODULE:
    case VG_ARG_BPF_ATTR:
    case VG_ARG_KIOCB:
    case VG_ARG_FILENAME:
    case VG_ARG_PERF_EVENT:
    case VG_ARG_BPF_MAP:
    case VG_ARG_IOV_ITER: return true;
  }
  return k >= VG_ARG_STR && k <= VG_ARG_BINPRM;
}
bool isSocketKind(uint8_t k) {
  return k == VG_ARG_SOCK || k == VG_ARG_SOCKET || k == VG_ARG_SOCKADDR || k == VG_ARG_SKB;
}
bool isNumberKind(uint8_t k) {
  return isIntegerKind(k) || k == VG_ARG_CRED || k == VG_ARG_TASK || k == VG_ARG_USER_NS ||
         k == VG_ARG_KERNEL_CAP;
}

std::string_view kindName(uint8_t k) {
  switch (k) {
    case VG_ARG_NONE: return "nop";
    case VG_ARG_S8: return "s8";
    case VG_ARG_U8: return "u8";
    case VG_ARG_S16: return "s16";
    case VG_ARG_U16: return "u16";
    case VG_ARG_S32: return "s32";
    case VG_ARG_U32: return "u32";
    case VG_ARG_S64: return "s64";
    case VG_ARG_U64: return "u64";
    case VG_ARG_STR: return "string";
    case VG_ARG_USTR: return "user_string";
    case VG_ARG_FILE: return "file";
    case VG_ARG_PATH: return "path";
    case VG_ARG_BINPRM: return "linux_binprm";
    case VG_ARG_SOCK: return "sock";
    case VG_ARG_SOCKET: return "socket";
    case VG_ARG_SOCKADDR: return "sockaddr";
    case VG_ARG_CRED: return "cred";
    case VG_ARG_TASK: return "task";
    case VG_ARG_DENTRY: return "dentry";
    case VG_ARG_SYSCALL64: return "syscall64";
    case VG_ARG_CHAR_BUF: return "char_buf";
    case VG_ARG_UCHAR_BUF: return "user_char_buf";
    case VG_ARG_SKB: return "skb";
    case VG_ARG_MODULE: return "module";
    case VG_ARG_BPF_ATTR: return "bpf_attr";
    case VG_ARG_KIOCB: return "kiocb";
    case VG_ARG_FILENAME: return "filename";
    case VG_ARG_USER_NS: return "user_namespace";
    case VG_ARG_KERNEL_CAP: return "kernel_cap_t";
    case VG_ARG_PERF_EVENT: return "perf_event";
    case VG_ARG_BPF_MAP: return "bpf_map";
    case VG_ARG_IOV_ITER: return "iov_iter";
  }
  return "unknown";
}

namespace {
// include/uapi/linux/capability.h, in number order.
constexpr std::string_view kCapabilities[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",     "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",             "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE",  "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",          "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",        "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",        "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",         "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",      "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",        "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",       "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE"};

struct NsName {
  std::string_view name;
  uint8_t ns;
};
constexpr NsName kNamespaces[] = {
    {"Uts", VG_NS_UTS},   {"Ipc", VG_NS_IPC},   {"Mnt", VG_NS_MNT},
    {"Pid", VG_NS_PID},   {"PidForChildren", VG_NS_PID_FOR_CHILDREN},
    {"Net", VG_NS_NET},   {"Time", VG_NS_TIME}, {"TimeForChildren", VG_NS_TIME_FOR_CHILDREN},
    {"Cgroup", VG_NS_CGROUP}, {"User", VG_NS_USER}};
}  // namespace

std::optional<uint8_t> capabilityNumber(std::string_view name) {
  for (size_t i = 0; i < std::size(kCapabilities); i++) {
    if (kCapabilities[i] == name || kCapabilities[i].substr(4) == name) return static_cast<uint8_t>(i);
  }
  return std::nullopt;
}

std::optional<uint8_t> namespaceOf(std::string_view name) {
  for (const auto& n : kNamespaces) {
    if (n.name == name) return n.ns;
  }
  return std::nullopt;
}

std::string_view namespaceName(uint8_t ns) {
  for (const auto& n : kNamespaces) {
    if (n.ns == ns) return n.name;
  }
  return "unknown";
}

std::string syscallSymbol(std::string_view call) {
  std::string_view bare = call;
  for (std::string_view prefix : {"__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_", "sys_"}) {
    if (bare.starts_with(prefix)) {
      bare.remove_prefix(prefix.size());
      break;
    }
  }
  return "__x64_sys_" + std::string(bare);
}

}  // namespace vigil::policy
