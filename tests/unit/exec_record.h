// An exec record as tp_btf/sched_process_exec lays it out, for tests and
// benchmarks: the fixed part, then binary, NUL-separated argv and cwd back
// to back. The caller fills the fixed part; sizes and lengths are set here.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "vigil/abi/abi.h"

namespace vigil::testing {

inline std::vector<char> packExecRecord(vg_exec_event ev, const std::string& bin,
                                        const std::string& args, const std::string& cwd) {
  std::vector<char> buf(sizeof(vg_exec_event) + bin.size() + args.size() + cwd.size());
  ev.hdr.type = VG_EV_EXEC;
  ev.hdr.version = VG_ABI_VERSION;
  ev.hdr.size = static_cast<uint32_t>(buf.size());
  ev.bin_len = bin.size();
  ev.args_len = args.size();
  ev.cwd_len = cwd.size();
  char* p = buf.data();
  memcpy(p, &ev, sizeof(ev));
  memcpy(p += sizeof(ev), bin.data(), bin.size());
  memcpy(p += bin.size(), args.data(), args.size());
  memcpy(p + args.size(), cwd.data(), cwd.size());
  return buf;
}

}  // namespace vigil::testing
