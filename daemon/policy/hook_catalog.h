// What Vigil knows of the hooks and argument types a policy may name: the LSM
// hooks with their kernel signatures, and Tetragon's argument type names with
// how the kernel side reads each (enum vg_arg_kind). Pure data; the parser
// checks policies against it and the compiler lays arguments out from it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace vigil::policy {

struct CatalogArg {
  std::string_view type;  // Tetragon type name ("file", "int", "sockaddr")
  uint8_t kind;           // enum vg_arg_kind; VG_ARG_NONE: not readable yet
  std::string_view what;  // for messages: "the file being opened"
  // dentry arguments: the index of the path argument whose mount they are
  // in, so the kernel reports their full path; -1: the path within the mount.
  int8_t mount_of = -1;
  // file arguments: the event carries the file's f_flags (file_open: the
  // open's flags, process_lsm.file_flags and the rules' evt.is_open_*).
  bool file_flags = false;
};

struct LsmHookInfo {
  std::string_view name;                // "file_permission"
  std::string_view function;            // the security_* function fmod_ret attaches to
  std::span<const CatalogArg> args;     // in kernel order
};

// The LSM hooks Vigil can attach to; nullptr if name is not one.
const LsmHookInfo* findLsmHook(std::string_view name);
std::span<const LsmHookInfo> lsmHooks();

// How an argument of this Tetragon type is read. syscall: the argument comes
// from user space (strings are user pointers). nullopt: a type Vigil does not
// read yet; "nop" is VG_ARG_NONE (declared, never read).
std::optional<uint8_t> argKindOf(std::string_view type, bool syscall);
// Tetragon defines it (so an unknown name is a typo, a known one a missing feature).
bool isTetragonArgType(std::string_view type);

bool isIntegerKind(uint8_t kind);
bool isSignedKind(uint8_t kind);
bool isStringKind(uint8_t kind);  // strings and paths: Equal/Prefix/Postfix
bool isSocketKind(uint8_t kind);  // sock/socket/sockaddr/skb: ports, addresses, family
bool isNumberKind(uint8_t kind);  // integers and kinds read as one number (cred, task, caps)
std::string_view kindName(uint8_t kind);  // "s32", "file", ...

// Linux capability number of "CAP_SYS_ADMIN" (also without the CAP_ prefix).
std::optional<uint8_t> capabilityNumber(std::string_view name);
// matchNamespaces' namespace names ("Mnt", "Pid", ...) -> enum vg_ns (or
// VG_NS_TIME_FOR_CHILDREN).
std::optional<uint8_t> namespaceOf(std::string_view name);
std::string_view namespaceName(uint8_t ns);

// The architecture's symbol for a system call named in a kprobe ("sys_linkat",
// "linkat" or "__x64_sys_linkat" -> "__x64_sys_linkat").
std::string syscallSymbol(std::string_view call);

}  // namespace vigil::policy
