#include "daemon/process/proc_bootstrap.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace vigil::process {
namespace {

TEST(ProcBootstrap, FindsThisTestWithTheKernelsPathAndHash) {
  std::string self = std::filesystem::read_symlink("/proc/self/exe");
  bool found = false;
  const __u64 key[2] = {0xfeed, 0xbeef};
  for (const auto& [pid, entry] : scanProcesses("/proc", key)) {
    if (pid != static_cast<uint32_t>(getpid())) continue;
    found = true;
    EXPECT_EQ(std::string(entry.bin, entry.bin_len), self);
    EXPECT_EQ(entry.bin_hash, vg_hash_fwd(self.data(), self.size(), key).h);
    EXPECT_EQ(entry.bin_check, vg_hash_fwd(self.data(), self.size(), key).check);
    EXPECT_FALSE(entry.bin_trunc);
  }
  EXPECT_TRUE(found);
}

TEST(ProcBootstrap, LongBinaryPathsAreFlaggedTruncatedButHashedInFull) {
  std::string path = "/" + std::string(400, 'a');
  const __u64 key[2] = {1, 2};
  vg_proc p = procEntryForBinary(path, key);
  EXPECT_TRUE(p.bin_trunc);
  EXPECT_EQ(p.bin_len, 401);
  EXPECT_EQ(p.bin_hash, vg_hash_fwd(path.data(), path.size(), key).h);
  EXPECT_EQ(p.bin[VG_BIN_MAX - 1], '\0');
}

TEST(ProcBootstrap, MissingProcRootGivesNothing) {
  const __u64 key[2] = {};
  EXPECT_TRUE(scanProcesses("/nonexistent-proc", key).empty());
}

}  // namespace
}  // namespace vigil::process
