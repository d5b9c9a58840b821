// kernelStackTrace / userStackTrace: the policy fields, what the compiler
// asks of the kernel, and how frames are named (kallsyms, /proc/PID/maps).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "daemon/compiler/compiler.h"
#include "daemon/events/stacks.h"
#include "daemon/policy/policy_parser.h"
#include "vigil/abi/abi.h"

namespace vigil {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kHead =
    "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: p\nspec:\n";

policy::ParseResult parse(const std::string& yaml) {
  return policy::parsePolicyString(yaml, "p.yaml");
}

TEST(StackTrace, PostWithStacksCompilesToSelectorBits) {
  auto r = parse(kHead +
                 "  kprobes:\n  - call: sys_getpgid\n    syscall: true\n"
                 "    selectors:\n"
                 "    - matchActions:\n"
                 "      - {action: Post, kernelStackTrace: true, userStackTrace: true}\n"
                 "    - matchActions:\n"
                 "      - {action: Sigkill, kernelStackTrace: true}\n"
                 "    - matchActions: [{action: Post, userStackTrace: false}]\n");
  ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].str();
  auto s = compiler::compile({*r.policy}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->selectors.size(), 3u);
  EXPECT_EQ(s->selectors[0].second.stacks, VG_STACK_KERNEL | VG_STACK_USER);
  EXPECT_EQ(s->selectors[1].second.stacks, VG_STACK_KERNEL);
  EXPECT_EQ(s->selectors[2].second.stacks, 0);
}

TEST(StackTrace, BadUsesAreErrorsWithPosition) {
  auto r = parse(kHead +
                 "  kprobes:\n  - call: f\n    selectors:\n"
                 "    - matchActions:\n      - {action: NoPost, kernelStackTrace: true}\n");
  ASSERT_FALSE(r.errors.empty());
  EXPECT_THAT(r.errors[0].str(), HasSubstr("p.yaml:10:"));
  EXPECT_THAT(r.errors[0].str(), HasSubstr("kernelStackTrace needs an event, and NoPost posts none"));
  r = parse(kHead +
            "  kprobes:\n  - call: f\n    selectors:\n"
            "    - matchActions:\n      - {action: Post, userStackTrace: maybe}\n");
  ASSERT_FALSE(r.errors.empty());
  EXPECT_THAT(r.errors[0].str(), HasSubstr("userStackTrace"));
  // file_open is a generic hook: its events carry stacks like any other's.
  r = parse(kHead +
            "  lsmhooks:\n  - hook: file_open\n    args: [{index: 0, type: file}]\n"
            "    selectors:\n    - matchActions: [{action: Post, kernelStackTrace: true, "
            "userStackTrace: true}]\n");
  ASSERT_THAT(r.errors, IsEmpty());
  auto s = compiler::compile({*r.policy}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->selectors[0].second.stacks, VG_STACK_KERNEL | VG_STACK_USER);
}

TEST(StackTrace, KernelFramesNamedFromKallsyms) {
  const auto syms = events::KernelSymbols::parse(
      "ffffffff81000000 T _stext\n"
      "ffffffff81001000 t do_syscall_64\n"
      "ffffffff81002000 D some_data\n"
      "ffffffff81003000 T __x64_sys_getpgid\n"
      "ffffffffc0a01000 t ext4_fill_super\t[ext4]\n"
      "ffffffffc0b00000 t bpf_prog_0123456789abcdef_vg_gen_fentry\t[bpf]\n"
      "ffffffffc0b10000 t bpf_trampoline_6442457841\t[bpf]\n"
      "garbage line\n");
  EXPECT_EQ(syms.size(), 6u);  // text symbols only
  api::ProcessKprobe k;
  // Vigil's own program and its trampoline first: left out.
  const uint64_t ips[] = {0xffffffffc0b00010, 0xffffffffc0b10010, 0xffffffff81003010,
                          0xffffffff81002010, 0xffffffffc0a01abc, 0xffff000000000000,
                          0,                  0xffffffff81001000};
  events::kernelFrames(syms, ips, k.mutable_kernel_stack_trace());
  ASSERT_EQ(k.kernel_stack_trace_size(), 4);  // stops at the first 0
  EXPECT_EQ(k.kernel_stack_trace(0).symbol(), "__x64_sys_getpgid");
  EXPECT_EQ(k.kernel_stack_trace(0).offset(), 0x10u);
  EXPECT_EQ(k.kernel_stack_trace(1).symbol(), "do_syscall_64");  // data is skipped
  EXPECT_EQ(k.kernel_stack_trace(1).offset(), 0x1010u);
  EXPECT_EQ(k.kernel_stack_trace(2).symbol(), "ext4_fill_super");
  EXPECT_EQ(k.kernel_stack_trace(2).module(), "ext4");
  EXPECT_EQ(k.kernel_stack_trace(3).address(), 0xffff000000000000u);
  EXPECT_EQ(k.kernel_stack_trace(3).symbol(), "");  // below every symbol
  // kptr_restrict: every address 0, nothing known.
  EXPECT_EQ(events::KernelSymbols::parse("0000000000000000 T _stext\n").size(), 0u);
}

TEST(StackTrace, UserFramesNamedByTheirMapping) {
  const auto maps = events::parseMaps(
      "55d0c0000000-55d0c0001000 r--p 00000000 fd:01 11 /usr/bin/my prog\n"
      "55d0c0001000-55d0c0005000 r-xp 00001000 fd:01 11 /usr/bin/my prog\n"
      "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
      "7fff00000000-7fff00021000 rw-p 00000000 00:00 0                          [stack]\n");
  ASSERT_EQ(maps.size(), 4u);
  EXPECT_EQ(maps[1].path, "/usr/bin/my prog");
  EXPECT_EQ(maps[2].path, "");
  // Frames as the kernel takes them: a build id and a file offset, or (no
  // build id readable) the bare address, named by its mapping.
  bpf_stack_build_id frames[4] = {};
  frames[0].status = BPF_STACK_BUILD_ID_VALID;
  const std::string self = "/proc/self/exe";
  const std::string self_id = events::readBuildId(self);
  ASSERT_EQ(self_id.size(), 40u) << "the test binary has a 20-byte GNU build id";
  for (size_t i = 0; i < 20; i++) {
    frames[0].build_id[i] = static_cast<unsigned char>(std::stoi(self_id.substr(2 * i, 2), nullptr, 16));
  }
  frames[0].offset = 0x1234;
  frames[1].status = BPF_STACK_BUILD_ID_IP;
  frames[1].ip = 0x55d0c0001234;
  frames[2].status = BPF_STACK_BUILD_ID_VALID;  // a build id no candidate has
  frames[2].build_id[0] = 0xab;
  frames[2].offset = 7;
  frames[3].status = BPF_STACK_BUILD_ID_EMPTY;
  events::BuildIds ids;
  api::ProcessUprobe u;
  int reads = 0;
  auto read_maps = [&] {
    reads++;
    return maps;
  };
  events::userFrames(frames, self, read_maps, ids, u.mutable_user_stack_trace());
  EXPECT_EQ(reads, 1);  // once, for the frames the binary does not explain
  ASSERT_EQ(u.user_stack_trace_size(), 3);
  EXPECT_EQ(u.user_stack_trace(0).build_id(), self_id);
  EXPECT_EQ(u.user_stack_trace(0).module(), self);
  EXPECT_EQ(u.user_stack_trace(0).offset(), 0x1234u);
  EXPECT_EQ(u.user_stack_trace(1).address(), 0x55d0c0001234u);
  EXPECT_EQ(u.user_stack_trace(1).module(), "/usr/bin/my prog");
  EXPECT_EQ(u.user_stack_trace(1).offset(), 0x1234u);  // file offset: 0x234 into the 0x1000 page
  EXPECT_EQ(u.user_stack_trace(2).build_id(), "ab");    // trailing zero bytes dropped
  EXPECT_EQ(u.user_stack_trace(2).module(), "");
  // A frame in the binary: the mappings are never read.
  api::ProcessUprobe b;
  events::userFrames(std::span(frames, 1), self, read_maps, ids, b.mutable_user_stack_trace());
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(b.user_stack_trace(0).module(), self);
  // A frame in a mapped file other than the binary (a library): found there.
  api::ProcessUprobe l;
  events::userFrames(
      std::span(frames, 1), "/nonexistent",
      [&] { return events::parseMaps("7f0000000000-7f0000021000 r-xp 00000000 fd:01 12 " + self + "\n"); },
      ids, l.mutable_user_stack_trace());
  EXPECT_EQ(l.user_stack_trace(0).module(), self);
  EXPECT_EQ(events::readBuildId("/nonexistent"), "");
  EXPECT_EQ(events::readBuildId("/proc/self/status"), "");  // not ELF
}

TEST(StackTrace, ThisHostsKallsymsParses) {
  // Root (the test suite runs as root) reads real addresses; others read 0s.
  std::ifstream in("/proc/kallsyms");
  if (!in) GTEST_SKIP() << "no /proc/kallsyms";
  const auto syms = events::KernelSymbols::load();
  if (getuid() != 0 || syms.size() == 0) GTEST_SKIP() << "addresses hidden (kptr_restrict)";
  EXPECT_GT(syms.size(), 10000u);
}

}  // namespace
}  // namespace vigil
