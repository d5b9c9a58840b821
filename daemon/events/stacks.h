// kernelStackTrace / userStackTrace: the frames bpf_get_stackid stored in
// vg_stacks, turned into Tetragon's StackTraceEntry (address, offset, symbol,
// module). Kernel frames are named from /proc/kallsyms. User frames come as
// (build id, offset in the file), which the kernel resolved when it took the
// stack; the file is named by matching build ids.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "vigil/events.pb.h"

namespace vigil::events {

class KernelSymbols {
 public:
  struct Symbol {
    uint64_t addr = 0;
    std::string name;
    std::string module;  // "[ext4]" in kallsyms: "ext4"; empty for the kernel image
  };
  // The text of /proc/kallsyms. Without CAP_SYSLOG (or with kptr_restrict=2)
  // every address reads 0: then no symbol is known and frames keep their
  // address only.
  static KernelSymbols parse(std::string_view text);
  static KernelSymbols load(const std::string& path = "/proc/kallsyms");
  // The symbol addr falls in (the nearest one at or below it), or nullptr.
  const Symbol* find(uint64_t addr) const;
  size_t size() const { return syms_.size(); }

 private:
  std::vector<Symbol> syms_;  // by address
};

struct Mapping {
  uint64_t start = 0, end = 0, file_offset = 0;
  std::string path;  // empty for anonymous memory
};
// The lines of /proc/PID/maps.
std::vector<Mapping> parseMaps(std::string_view text);

// The GNU build id of an ELF file (its NT_GNU_BUILD_ID note), as hex; empty
// when the file has none or is not ELF. Cached by path.
class BuildIds {
 public:
  const std::string& of(const std::string& path);

 private:
  std::map<std::string, std::string> by_path_;
};
std::string readBuildId(const std::string& path);
std::string hexBuildId(const unsigned char* id, size_t n);

// ips as bpf_get_stackid stored them: innermost first, 0 after the last frame.
// The leading frames of Vigil's own programs (bpf_prog_*, bpf_trampoline_*
// in kallsyms' [bpf] module) are left out: the stack starts where the
// traced code was.
void kernelFrames(const KernelSymbols& syms, std::span<const uint64_t> ips,
                  google::protobuf::RepeatedPtrField<api::StackTraceEntry>* out);
// User frames as the kernel took them (struct bpf_stack_build_id: build id
// and offset into the file, or the bare address when it could not read the
// build id). module: the process's binary when its build id matches, else
// the mapped file that matches; read_maps (the process's mappings, empty
// once it exited) is called at most once, and only when the binary does
// not explain a frame.
void userFrames(std::span<const bpf_stack_build_id> frames, const std::string& binary,
                const std::function<std::vector<Mapping>()>& read_maps, BuildIds& ids,
                google::protobuf::RepeatedPtrField<api::StackTraceEntry>* out);
// The mappings of process pid (/proc/PID/maps); empty once it exited.
std::vector<Mapping> readMaps(uint32_t pid);

}  // namespace vigil::events
