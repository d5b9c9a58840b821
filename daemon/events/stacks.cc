#include "daemon/events/stacks.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <charconv>
#include <fstream>
#include <sstream>


namespace vigil::events {
namespace {

// The lines of text (without their newline).
std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    out.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// The fields of line, separated by runs of any of seps.
std::vector<std::string_view> fields(std::string_view line, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = line.find_first_not_of(seps);
  while (i != std::string_view::npos) {
    const size_t end = line.find_first_of(seps, i);
    out.push_back(line.substr(i, end == std::string_view::npos ? end : end - i));
    i = end == std::string_view::npos ? end : line.find_first_not_of(seps, end);
  }
  return out;
}

// The whole of a (proc) file; empty when it cannot be read.
std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool parseHex(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

KernelSymbols KernelSymbols::parse(std::string_view text) {
  KernelSymbols k;
  for (std::string_view line : lines(text)) {
    // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t ext4_fill_super\t[ext4]"
    const std::vector<std::string_view> f = fields(line, " \t");
    if (f.size() < 3) continue;
    Symbol s;
    if (!parseHex(f[0], &s.addr) || s.addr == 0) continue;
    // Text symbols only: a return address never lies in data.
    if (f[1] != "T" && f[1] != "t" && f[1] != "W" && f[1] != "w") continue;
    s.name = std::string(f[2]);
    if (f.size() > 3 && f[3].size() > 2 && f[3].front() == '[' && f[3].back() == ']') {
      s.module = std::string(f[3].substr(1, f[3].size() - 2));
    }
    k.syms_.push_back(std::move(s));
  }
  std::stable_sort(k.syms_.begin(), k.syms_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.addr < b.addr; });
  return k;
}

KernelSymbols KernelSymbols::load(const std::string& path) { return parse(readFile(path)); }

const KernelSymbols::Symbol* KernelSymbols::find(uint64_t addr) const {
  auto it = std::upper_bound(syms_.begin(), syms_.end(), addr,
                             [](uint64_t a, const Symbol& s) { return a < s.addr; });
  if (it == syms_.begin()) return nullptr;
  return &*std::prev(it);
}

std::vector<Mapping> parseMaps(std::string_view text) {
  std::vector<Mapping> out;
  for (std::string_view line : lines(text)) {
    // "7f2c1a000000-7f2c1a022000 r-xp 00002000 fd:01 1234   /usr/lib/x86_64-linux-gnu/libc.so.6"
    const std::vector<std::string_view> f = fields(line, " ");
    if (f.size() < 5) continue;
    const size_t dash = f[0].find('-');
    if (dash == std::string_view::npos) continue;
    Mapping m;
    if (!parseHex(f[0].substr(0, dash), &m.start) || !parseHex(f[0].substr(dash + 1), &m.end) ||
        !parseHex(f[2], &m.file_offset)) {
      continue;
    }
    if (f.size() >= 6) {
      // The path may hold spaces: everything from the sixth field on.
      const size_t at = line.find(f[5], f[4].data() + f[4].size() - line.data());
      m.path = std::string(line.substr(at));
    }
    out.push_back(std::move(m));
  }
  return out;
}

void kernelFrames(const KernelSymbols& syms, std::span<const uint64_t> ips,
                  google::protobuf::RepeatedPtrField<api::StackTraceEntry>* out) {
  bool own = true;  // still in Vigil's own frames (its programs, their trampoline)
  for (uint64_t ip : ips) {
    if (!ip) break;
    const auto* s = syms.find(ip);
    if (own && s && s->module == "bpf" &&
        (s->name.starts_with("bpf_prog_") || s->name.starts_with("bpf_trampoline_"))) {
      continue;
    }
    own = false;
    auto* e = out->Add();
    e->set_address(ip);
    if (s) {
      e->set_symbol(s->name);
      e->set_offset(ip - s->addr);
      if (!s->module.empty()) e->set_module(s->module);
    }
  }
}

std::string hexBuildId(const unsigned char* id, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; i++) {
    out += kHex[id[i] >> 4];
    out += kHex[id[i] & 15];
  }
  return out;
}

std::string readBuildId(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof(eh)) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256) {
    return {};
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  in.seekg(static_cast<std::streamoff>(eh.e_phoff));
  if (!in.read(reinterpret_cast<char*>(ph.data()), static_cast<std::streamsize>(ph.size() * sizeof(Elf64_Phdr)))) {
    return {};
  }
  for (const auto& p : ph) {
    if (p.p_type != PT_NOTE || p.p_filesz > (1 << 16)) continue;
    std::string notes(p.p_filesz, '\0');
    in.seekg(static_cast<std::streamoff>(p.p_offset));
    if (!in.read(notes.data(), static_cast<std::streamsize>(notes.size()))) return {};
    size_t off = 0;
    while (off + sizeof(Elf64_Nhdr) <= notes.size()) {
      Elf64_Nhdr nh;
      memcpy(&nh, notes.data() + off, sizeof(nh));
      const size_t name_at = off + sizeof(nh);
      const size_t desc_at = name_at + ((nh.n_namesz + 3) & ~size_t{3});
      const size_t next = desc_at + ((nh.n_descsz + 3) & ~size_t{3});
      if (next > notes.size()) break;
      if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
          memcmp(notes.data() + name_at, "GNU", 4) == 0) {
        return hexBuildId(reinterpret_cast<const unsigned char*>(notes.data() + desc_at),
                          nh.n_descsz);
      }
      off = next;
    }
  }
  return {};
}

const std::string& BuildIds::of(const std::string& path) {
  auto it = by_path_.find(path);
  if (it != by_path_.end()) return it->second;
  if (by_path_.size() > 4096) by_path_.clear();
  return by_path_[path] = readBuildId(path);
}

namespace {

// The module (file path) among candidates whose build id is id, or "".
std::string fileWithBuildId(const std::vector<std::string>& candidates, const std::string& id,
                            BuildIds& ids) {
  for (const auto& path : candidates) {
    if (!path.empty() && ids.of(path) == id) return path;
  }
  return {};
}

}  // namespace

void userFrames(std::span<const bpf_stack_build_id> frames, const std::string& binary,
                const std::function<std::vector<Mapping>()>& read_maps, BuildIds& ids,
                google::protobuf::RepeatedPtrField<api::StackTraceEntry>* out) {
  // The process's mappings, read at most once and only for a frame its
  // binary does not explain (a library, or a frame without a build id).
  std::optional<std::vector<Mapping>> maps;
  std::vector<std::string> mapped;  // their files, each once
  auto mappings = [&]() -> const std::vector<Mapping>& {
    if (!maps) {
      maps = read_maps();
      for (const auto& m : *maps) {
        if (!m.path.empty() && m.path.front() == '/' &&
            std::find(mapped.begin(), mapped.end(), m.path) == mapped.end()) {
          mapped.push_back(m.path);
        }
      }
    }
    return *maps;
  };
  for (const auto& f : frames) {
    if (f.status == BPF_STACK_BUILD_ID_EMPTY) break;
    auto* e = out->Add();
    if (f.status == BPF_STACK_BUILD_ID_VALID) {
      // Trailing zero bytes: a 16-byte (md5/uuid) id in the 20-byte field.
      size_t n = BPF_BUILD_ID_SIZE;
      while (n > 0 && f.build_id[n - 1] == 0) n--;
      e->set_build_id(hexBuildId(f.build_id, n));
      e->set_offset(f.offset);
      std::string module = fileWithBuildId({binary}, e->build_id(), ids);
      if (module.empty()) {
        mappings();
        module = fileWithBuildId(mapped, e->build_id(), ids);
      }
      if (!module.empty()) e->set_module(module);
      continue;
    }
    // The kernel could not read the build id: the address, and its mapping
    // while the process runs.
    e->set_address(f.ip);
    for (const auto& m : mappings()) {
      if (f.ip >= m.start && f.ip < m.end) {
        if (!m.path.empty()) e->set_module(m.path);
        e->set_offset(f.ip - m.start + m.file_offset);
        break;
      }
    }
  }
}

std::vector<Mapping> readMaps(uint32_t pid) {
  return parseMaps(readFile("/proc/" + std::to_string(pid) + "/maps"));
}

}  // namespace vigil::events
