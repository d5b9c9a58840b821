#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <zlib.h>

#include <algorithm>

#include "exporters/spool.h"
#include "tests/lib/temp_dir.h"

namespace vigil::exporters {
namespace {

namespace fs = std::filesystem;

std::string rec(int i) { return "record-" + std::to_string(i) + std::string(i % 7, 'x'); }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void writeFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}
std::vector<std::string> segments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".seg") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Reads everything pending, committing as it goes.
std::vector<std::string> drain(Spool& s) {
  std::vector<std::string> all;
  for (;;) {
    auto b = s.peek(50, 1 << 20);
    if (b.empty()) break;
    all.insert(all.end(), b.begin(), b.end());
    EXPECT_TRUE(s.commit(b.size()).ok());
  }
  return all;
}

std::vector<std::string> recsExcept(int n, int missing) {
  std::vector<std::string> want;
  for (int i = 0; i < n; ++i)
    if (i != missing) want.push_back(rec(i));
  return want;
}

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
}

TEST(ExportersSpool, DiskBoundDropsExactly) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  // Each record: framing + 100 bytes.
  constexpr uint64_t kFrame = DiskSpool::kFrameHeader + 100;
  auto s = DiskSpool::open(dir, kFrame * 10 + 50);
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
  {
    std::ofstream out(segments(dir).back(), std::ios::app | std::ios::binary);
    out.write("\x20\x00\x00\x00garbage", 11);
  }
  auto s = DiskSpool::open(dir, 1 << 20, 2048);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->records(), 200u);
  std::vector<std::string> want;
  for (int i = 100; i < 300; ++i) want.push_back(rec(i));
  EXPECT_EQ(drain(**s), want);
  // Appends after recovery continue cleanly.
  ASSERT_TRUE((*s)->append("after"));
  auto b = (*s)->peek(5, 1 << 20);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0], "after");
}

// Flips one bit at `delta` bytes from where `needle` (a record's payload)
// starts, in whichever segment holds it.
void flipBitNear(const std::string& dir, const std::string& needle, long delta, int bit = 0) {
  for (const auto& seg : segments(dir)) {
    std::string d = readFile(seg);
    size_t at = d.find(needle);
    if (at == std::string::npos) continue;
    d[static_cast<size_t>(static_cast<long>(at) + delta)] ^= static_cast<char>(1 << bit);
    writeFile(seg, d);
    return;
  }
  FAIL() << needle << " not found";
}

TEST(ExportersSpool, OneDamagedFrameLosesOnlyItsRecord) {
  // The payload, the length field, the crc and the frame magic of record 150
  // (in the middle of a segment, with valid records after it in the segment).
  const long kWhere[] = {3, -8, -4, -12};
  for (long where : kWhere) {
    SCOPED_TRACE("byte " + std::to_string(where) + " from the payload");
    vigil::test::TempDir tmp;
    const std::string& dir = tmp.path();
    {
      auto s = DiskSpool::open(dir, 1 << 20, 2048);
      ASSERT_TRUE(s.ok());
      for (int i = 0; i < 300; ++i) ASSERT_TRUE((*s)->append(rec(i)));
      ASSERT_TRUE((*s)->flush().ok());
    }
    flipBitNear(dir, rec(150), where, where == -8 ? 4 : 0);  // -8: the length grows by 16
    auto s = DiskSpool::open(dir, 1 << 20, 2048);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->records(), 299u);
    EXPECT_EQ((*s)->corrupt(), 1u);
    EXPECT_EQ((*s)->corruptBytes(), DiskSpool::kFrameHeader + rec(150).size());
    EXPECT_EQ(drain(**s), recsExcept(300, 150));
    // And once more after a restart: the damage was repaired, nothing else is lost.
    ASSERT_TRUE((*s)->append("after"));
    ASSERT_TRUE((*s)->flush().ok());
    s = DiskSpool::open(dir, 1 << 20, 2048);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->corrupt(), 0u);
    EXPECT_EQ(drain(**s), std::vector<std::string>{"after"});
  }
}

TEST(ExportersSpool, DamagedSegmentMagicKeepsTheSegment) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  {
    auto s = DiskSpool::open(dir, 1 << 20, 2048);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 300; ++i) ASSERT_TRUE((*s)->append(rec(i)));
    ASSERT_TRUE((*s)->flush().ok());
  }
  std::string first = segments(dir).front();
  std::string d = readFile(first);
  d[2] ^= 0x10;
  writeFile(first, d);
  auto s = DiskSpool::open(dir, 1 << 20, 2048);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->records(), 300u);
  EXPECT_EQ((*s)->corruptBytes(), DiskSpool::kSegmentMagic.size());
  EXPECT_EQ(readFile(first).substr(0, 8), std::string(DiskSpool::kSegmentMagic));  // repaired
  EXPECT_EQ(drain(**s), recsExcept(300, -1));
}

TEST(ExportersSpool, DamageFoundWhileRunningIsSkippedToo) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto s = DiskSpool::open(dir, 1 << 20, 2048);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE((*s)->append(rec(i)));
  ASSERT_TRUE((*s)->flush().ok());
  flipBitNear(dir, rec(150), 3);
  EXPECT_EQ(drain(**s), recsExcept(300, 150));
  EXPECT_EQ((*s)->corrupt(), 1u);
  EXPECT_EQ((*s)->corruptBytes(), DiskSpool::kFrameHeader + rec(150).size());
}

TEST(ExportersSpool, ZeroFilledTailIsNotReadAsRecords) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  {
    auto s = DiskSpool::open(dir, 1 << 20);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE((*s)->append(rec(i)));
    ASSERT_TRUE((*s)->flush().ok());
  }
  // A crash after the file size was updated but before its data reached the
  // disk leaves zeros at the tail.
  std::string last = segments(dir).back();
  writeFile(last, readFile(last) + std::string(4096, '\0'));
  auto s = DiskSpool::open(dir, 1 << 20);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->records(), 20u);
  EXPECT_EQ((*s)->corrupt(), 1u);
  EXPECT_EQ((*s)->corruptBytes(), 4096u);
  ASSERT_TRUE((*s)->append("after"));
  auto want = recsExcept(20, -1);
  want.push_back("after");
  EXPECT_EQ(drain(**s), want);
}

// A spool written by an earlier release: frames u32 length, u32 crc32(payload).
TEST(ExportersSpool, ReadsVersion1SegmentsAndAppendsInVersion2) {
  vigil::test::TempDir tmp;
  const std::string& dir = tmp.path();
  auto v1frame = [](const std::string& p) {
    std::string f(8, '\0');
    uint32_t len = static_cast<uint32_t>(p.size());
    uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(p.data()), len));
    for (int i = 0; i < 4; ++i) {
      f[i] = static_cast<char>(len >> (8 * i));
      f[4 + i] = static_cast<char>(crc >> (8 * i));
    }
    return f + p;
  };
  std::string seg1, seg2;
  for (int i = 0; i < 10; ++i) seg1 += v1frame(rec(i));
  for (int i = 10; i < 20; ++i) seg2 += v1frame(rec(i));
  writeFile(dir + "/00000000000000000001.seg", seg1);
  writeFile(dir + "/00000000000000000002.seg", seg2 + std::string(64, '\0'));  // and a zero-filled tail
  writeFile(dir + "/head", "1 " + std::to_string(v1frame(rec(0)).size() + v1frame(rec(1)).size()) + "\n");
  {
    auto s = DiskSpool::open(dir, 1 << 20);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ((*s)->records(), 18u);
    EXPECT_EQ((*s)->corrupt(), 1u);
    ASSERT_TRUE((*s)->append("v2-a"));
    auto b = (*s)->peek(3, 1 << 20);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0], rec(2));
    ASSERT_TRUE((*s)->commit(3).ok());
  }
  // The new record went to a new, version 2 segment.
  auto segs = segments(dir);
  ASSERT_FALSE(segs.empty());
  EXPECT_EQ(readFile(segs.back()).substr(0, 8), std::string(DiskSpool::kSegmentMagic));
  auto s = DiskSpool::open(dir, 1 << 20);
  ASSERT_TRUE(s.ok());
  std::vector<std::string> want;
  for (int i = 5; i < 20; ++i) want.push_back(rec(i));
  want.push_back("v2-a");
  EXPECT_EQ(drain(**s), want);
  EXPECT_EQ((*s)->corrupt(), 0u);
}

TEST(ExportersSpool, FsyncPolicies) {
  struct Case {
    FsyncPolicy policy;
    absl::Duration interval;
    uint64_t min_syncs, max_syncs;  // over 5 flushes of new records
  };
  const Case kCases[] = {
      {FsyncPolicy::kNever, absl::Seconds(1), 0, 0},
      {FsyncPolicy::kBatch, absl::Seconds(1), 5, 6},       // every flush (+ the new segment)
      {FsyncPolicy::kInterval, absl::Hours(1), 1, 1},       // the first, then not within the hour
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(fsyncPolicyName(c.policy));
    vigil::test::TempDir tmp;
    SpoolOptions o;
    o.fsync = c.policy;
    o.fsync_interval = c.interval;
    auto s = DiskSpool::open(tmp.path(), 1 << 20, o);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE((*s)->append(rec(i)));
      ASSERT_TRUE((*s)->flush().ok());
    }
    EXPECT_GE((*s)->syncs(), c.min_syncs);
    EXPECT_LE((*s)->syncs(), c.max_syncs);
    EXPECT_EQ((*s)->syncPending(), c.policy == FsyncPolicy::kInterval);
  }
  FsyncPolicy p;
  EXPECT_TRUE(parseFsyncPolicy("batch", &p));
  EXPECT_EQ(p, FsyncPolicy::kBatch);
  EXPECT_FALSE(parseFsyncPolicy("always", &p));
}

TEST(ExportersSpool, MemoryBoundAndOrder) {
  MemorySpool s(3 * (DiskSpool::kFrameHeader + 5));
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
