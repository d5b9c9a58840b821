// The per-sink spool: an ordered, bounded queue of rendered records between the
// sink's intake (render, filter) and its delivery. On disk it is a directory of
// append-only segment files plus a head cursor, so it survives a restart; records
// are consumed only once the transport confirmed them (at-least-once).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace vigil::exporters {

// One rendered event plus what transports need without re-parsing it.
struct Record {
  int64_t time_ns = 0;
  uint8_t severity = 6;  // syslog severity
  std::string type;      // process_exec, ...
  std::string host;      // node name
  std::string payload;   // the rendered event (one line)
};
std::string encodeRecord(const Record& r);
bool decodeRecord(std::string_view data, Record* out);

class Spool {
 public:
  virtual ~Spool() = default;
  // Appends one encoded record; false (nothing written) when that would exceed
  // the bound: the caller counts the drop.
  virtual bool append(std::string_view encoded) = 0;
  // Makes appended records visible to readers (and durable against a crash of
  // this process, for the disk spool).
  virtual absl::Status flush() = 0;
  // The oldest records not yet committed, without consuming them: up to
  // max_records and about max_bytes (at least one record when any is there).
  virtual std::vector<std::string> peek(size_t max_records, size_t max_bytes) = 0;
  // Consumes the first n records (of the last peek).
  virtual absl::Status commit(size_t n) = 0;
  virtual uint64_t bytes() const = 0;  // pending bytes, framing included
  virtual uint64_t records() const = 0;
  virtual uint64_t corrupt() const { return 0; }  // damaged regions skipped (each lost >= 1 record)
  virtual uint64_t corruptBytes() const { return 0; }  // bytes in them
  // Written data waits for an interval fsync: call flush() within the interval.
  virtual bool syncPending() const { return false; }
  virtual uint64_t syncs() const { return 0; }  // fdatasync calls so far (disk spool)
};

// When the disk spool makes what it wrote durable (fdatasync(2)); see
// docs/exporters.md, `spool.fsync`.
enum class FsyncPolicy {
  kNever,     // leave it to the kernel's writeback (a power loss can lose ~30 s)
  kBatch,     // after every batch written (flush())
  kInterval,  // at most once per interval, and within it
};
bool parseFsyncPolicy(std::string_view s, FsyncPolicy* out);
const char* fsyncPolicyName(FsyncPolicy p);

struct SpoolOptions {
  uint64_t segment_bytes = 0;  // 0: max_bytes / 16, clamped to 64 KiB .. 64 MiB
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);
};

class MemorySpool : public Spool {
 public:
  explicit MemorySpool(uint64_t max_bytes) : max_bytes_(max_bytes) {}
  bool append(std::string_view encoded) override;
  absl::Status flush() override { return absl::OkStatus(); }
  std::vector<std::string> peek(size_t max_records, size_t max_bytes) override;
  absl::Status commit(size_t n) override;
  uint64_t bytes() const override;
  uint64_t records() const override;

 private:
  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  std::deque<std::string> q_ ABSL_GUARDED_BY(mu_);
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

class DiskSpool : public Spool {
 public:
  // Opens (creating, mode 0700) `dir` and recovers what a previous run left:
  // pending records are kept, a torn record at the tail is cut off.
  // A damaged frame anywhere is skipped (counted in corrupt()) and the records
  // after it kept; a torn or zero-filled tail is cut off (counted too).
  static absl::StatusOr<std::unique_ptr<DiskSpool>> open(const std::string& dir,
                                                         uint64_t max_bytes,
                                                         uint64_t segment_bytes = 0);
  static absl::StatusOr<std::unique_ptr<DiskSpool>> open(const std::string& dir, uint64_t max_bytes,
                                                         const SpoolOptions& options);
  ~DiskSpool() override;

  bool append(std::string_view encoded) override;
  absl::Status flush() override;
  std::vector<std::string> peek(size_t max_records, size_t max_bytes) override;
  absl::Status commit(size_t n) override;
  uint64_t bytes() const override;
  uint64_t records() const override;
  uint64_t corrupt() const override;
  uint64_t corruptBytes() const override;
  bool syncPending() const override;
  uint64_t syncs() const override;

  // On-disk format, version 2: a segment starts with kSegmentMagic ("VGSPOOL"
  // and the version byte '2'); each frame is u32 kFrameMagic, u32 length,
  // u32 crc32 of (length, payload), then the payload (integers little endian).
  // The magic lets a reader find the next frame after a damaged one; the crc
  // covers the length, so a damaged length is detected, not followed. Version
  // 1 segments (no segment magic; frames u32 length, u32 crc32 of the payload)
  // from earlier releases are still read, and never appended to.
  static constexpr size_t kFrameHeader = 12;
  static constexpr size_t kFrameHeaderV1 = 8;
  static constexpr uint32_t kFrameMagic = 0xF7A3C15Eu;
  static constexpr std::string_view kSegmentMagic{"VGSPOOL2", 8};

 private:
  DiskSpool(std::string dir, uint64_t max_bytes, const SpoolOptions& o)
      : dir_(std::move(dir)), max_bytes_(max_bytes), segment_bytes_(o.segment_bytes), opts_(o) {}
  size_t segHeader(uint64_t id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  size_t frameHeader(uint64_t id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status recoverSegment(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void syncLocked(bool force) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status recover() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status flushLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status openWriteSegment(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status writeHead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string segPath(uint64_t id) const;
  // Reads the next record at the read cursor into `out`; false at the end of data.
  bool readNext(std::string* out) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const uint64_t max_bytes_;
  const uint64_t segment_bytes_;
  const SpoolOptions opts_;
  mutable absl::Mutex mu_;
  std::set<uint64_t> v1_segments_ ABSL_GUARDED_BY(mu_);  // read with the version 1 format
  std::deque<uint64_t> segments_ ABSL_GUARDED_BY(mu_);  // ids, oldest first
  int wfd_ ABSL_GUARDED_BY(mu_) = -1;                   // last segment, for appends
  uint64_t wsize_ ABSL_GUARDED_BY(mu_) = 0;             // its size on disk
  std::string wbuf_ ABSL_GUARDED_BY(mu_);               // appended, not yet written
  // Committed head: segment head_seg_ at head_off_.
  uint64_t head_off_ ABSL_GUARDED_BY(mu_) = 0;
  // Read cursor (ahead of head by the records peeked and not committed).
  uint64_t read_seg_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t read_off_ ABSL_GUARDED_BY(mu_) = 0;
  int rfd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t rfd_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::string rbuf_ ABSL_GUARDED_BY(mu_);  // read-ahead of the segment at rbuf_off_
  uint64_t rbuf_off_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::string> peeked_ ABSL_GUARDED_BY(mu_);  // read, not committed
  struct Pos {
    uint64_t seg;    // segment of the record
    uint64_t end;    // offset just past it
    uint64_t frame;  // its size, framing included
  };
  std::deque<Pos> peeked_pos_ ABSL_GUARDED_BY(mu_);
  uint64_t head_seg_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_ ABSL_GUARDED_BY(mu_) = 0;    // pending, framing included
  uint64_t records_ ABSL_GUARDED_BY(mu_) = 0;  // pending
  uint64_t corrupt_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t corrupt_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;  // written, not yet fdatasync'ed
  absl::Time last_sync_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace vigil::exporters
