#include "daemon/journal_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vigil::log {
namespace {

// At the start of the message, or after one "word: " prefix.
TEST(JournalLog, FindsFileLineColumn) {
  struct Case {
    const char* msg;
    Location want;
  };
  for (const Case& c : {
           Case{"/etc/vigil/policies.d/x.yaml:4:9: unexpected end of map",
                {"/etc/vigil/policies.d/x.yaml", "4", "9"}},
           Case{"reload: rules/a.yaml:12:3: unknown field", {"rules/a.yaml", "12", "3"}},
       }) {
    Location l;
    ASSERT_TRUE(findLocation(c.msg, &l)) << c.msg;
    EXPECT_EQ(l.file, c.want.file) << c.msg;
    EXPECT_EQ(l.line, c.want.line) << c.msg;
    EXPECT_EQ(l.column, c.want.column) << c.msg;
  }
}

TEST(JournalLog, NoLocationInOrdinaryLines) {
  Location l;
  EXPECT_FALSE(findLocation("kernel 6.12.118+deb13-cloud-amd64: BPF LSM usable", &l));
  EXPECT_FALSE(findLocation("ready: 3 policies [a(enforce)]; attached: lsm/file_open", &l));
  EXPECT_FALSE(findLocation("sink local-archive (file): 173 delivered", &l));
  EXPECT_FALSE(findLocation("a:1: no column here", &l));
  EXPECT_FALSE(findLocation("x.yaml:1:2 no colon after the column", &l));
  EXPECT_FALSE(findLocation("one: two: x.yaml:1:2: too deep", &l));
  EXPECT_FALSE(findLocation(":1:2: no file", &l));
  EXPECT_FALSE(findLocation("", &l));
}

// JOURNAL_STREAM must name fd 2's device and inode, not merely be set (a
// child of a journald-connected service may have stderr redirected).
TEST(JournalLog, StderrIsJournalOnlyWhenJournalStreamNamesFd2) {
  char path[] = "/tmp/journal_log_test.XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  int saved = dup(2);
  ASSERT_GE(saved, 0);
  ASSERT_EQ(dup2(fd, 2), 2);
  struct stat st {};
  ASSERT_EQ(fstat(2, &st), 0);
  std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);

  unsetenv("JOURNAL_STREAM");
  bool unset = stderrIsJournal();
  setenv("JOURNAL_STREAM", mine.c_str(), 1);
  bool match = stderrIsJournal();
  setenv("JOURNAL_STREAM", other.c_str(), 1);
  bool mismatch = stderrIsJournal();
  setenv("JOURNAL_STREAM", "garbage", 1);
  bool garbage = stderrIsJournal();
  unsetenv("JOURNAL_STREAM");

  dup2(saved, 2);
  close(saved);
  close(fd);
  EXPECT_FALSE(unset);
  EXPECT_TRUE(match);
  EXPECT_FALSE(mismatch);
  EXPECT_FALSE(garbage);
}

}  // namespace
}  // namespace vigil::log
