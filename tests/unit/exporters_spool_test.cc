#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "exporters/spool.h"
#include "tests/lib/temp_dir.h"

namespace vigil::exporters {
namespace {

namespace fs = std::filesystem;

std::string rec(int i) { return "record-" + std::to_string(i) + std::string(i % 7, 'x'); }

TEST(ExportersSpool, RecordRoundTrip) {
  Record r{1795459212123456789LL, 3, "process_lsm", "web-1", "{\"a\":1}"};
  Record back;
  ASSERT_TRUE(decodeRecord(encodeRecord(r), &back));
  EXPECT_EQ(back.time_ns, r.time_ns);
  EXPECT_EQ(back.severity, 3);
  EXPECT_EQ(back.type, "process_lsm");
  EXPECT_EQ(back.host, "web-1");
  EXPECT_EQ(back.payload, "{\"a\":1}");
  EXPECT_FALSE(decodeRecord("short", &back));
}

TEST(ExportersSpool, DiskKeepsOrderAcrossSegmentsAndCommits) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto s = DiskSpool::open(dir, 1 << 20, 4096);  // small segments: many of them
  ASSERT_TRUE(s.ok()) << s.status();
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE((*s)->append(rec(i)));
  EXPECT_EQ((*s)->records(), 2000u);
  int next = 0;
  while (next < 2000) {
    auto batch = (*s)->peek(37, 1 << 20);
    ASSERT_FALSE(batch.empty());
    // Peek again without commit: same records.
    EXPECT_EQ((*s)->peek(37, 1 << 20), batch);
    for (const auto& r : batch) ASSERT_EQ(r, rec(next++));
    ASSERT_TRUE((*s)->commit(batch.size()).ok());
  }
  EXPECT_EQ((*s)->records(), 0u);
  EXPECT_EQ((*s)->bytes(), 0u);
  EXPECT_TRUE((*s)->peek(10, 1 << 20).empty());
  // Consumed segments are deleted: at most the head and the write segment remain.
  int segs = 0;
  for (const auto& e : fs::directory_iterator(dir)) segs += e.path().extension() == ".seg";
  EXPECT_LE(segs, 2);
  fs::remove_all(dir);
}

TEST(ExportersSpool, DiskBoundDropsExactly) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  // Each record: 8 bytes of framing + 100 bytes.
  auto s = DiskSpool::open(dir, 108 * 10 + 50);
  ASSERT_TRUE(s.ok());
  std::string r(100, 'a');
  int accepted = 0, dropped = 0;
  for (int i = 0; i < 25; ++i) ((*s)->append(r) ? accepted : dropped)++;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(dropped, 15);
  // Room again once consumed.
  auto b = (*s)->peek(3, 1 << 20);
  ASSERT_TRUE((*s)->commit(3).ok());
  EXPECT_TRUE((*s)->append(r));
  fs::remove_all(dir);
}

TEST(ExportersSpool, DiskSurvivesRestartAndCutsTornTail) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  {
    auto s = DiskSpool::open(dir, 1 << 20, 2048);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE((*s)->append(rec(i)));
    ASSERT_TRUE((*s)->flush().ok());
    auto b = (*s)->peek(120, 1 << 20);
    ASSERT_EQ(b.size(), 120u);
    ASSERT_TRUE((*s)->commit(100).ok());  // 100 delivered; 20 peeked but not confirmed
  }
  // A crash in the middle of a write leaves half a record at the tail.
  std::string last;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".seg" && e.path().string() > last) last = e.path().string();
  {
    std::ofstream out(last, std::ios::app | std::ios::binary);
    out.write("\x20\x00\x00\x00garbage", 11);
  }
  auto s = DiskSpool::open(dir, 1 << 20, 2048);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->records(), 200u);
  int next = 100;
  for (;;) {
    auto b = (*s)->peek(64, 1 << 20);
    if (b.empty()) break;
    for (const auto& r : b) ASSERT_EQ(r, rec(next++));
    ASSERT_TRUE((*s)->commit(b.size()).ok());
  }
  EXPECT_EQ(next, 300);
  // Appends after recovery continue cleanly.
  ASSERT_TRUE((*s)->append("after"));
  auto b = (*s)->peek(5, 1 << 20);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0], "after");
  fs::remove_all(dir);
}

TEST(ExportersSpool, MemoryBoundAndOrder) {
  MemorySpool s(3 * (8 + 5));
  EXPECT_TRUE(s.append("aaaaa"));
  EXPECT_TRUE(s.append("bbbbb"));
  EXPECT_TRUE(s.append("ccccc"));
  EXPECT_FALSE(s.append("ddddd"));
  auto b = s.peek(2, 100);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], "aaaaa");
  ASSERT_TRUE(s.commit(2).ok());
  EXPECT_EQ(s.peek(5, 100), std::vector<std::string>{"ccccc"});
}

}  // namespace
}  // namespace vigil::exporters
