#include "exporters/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "exporters/fd_io.h"
#include "spdlog/spdlog.h"

namespace vigil::exporters {

namespace {

void putU32(std::string& out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out.append(b, 4);
}
uint32_t getU32(const char* p) {
  auto u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}
void putU64(std::string& out, uint64_t v) {
  putU32(out, static_cast<uint32_t>(v));
  putU32(out, static_cast<uint32_t>(v >> 32));
}
uint64_t getU64(const char* p) { return getU32(p) | (static_cast<uint64_t>(getU32(p + 4)) << 32); }

uint32_t crcOf(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

absl::Status errnoStatus(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

constexpr uint32_t kMaxRecord = 64u << 20;

// The crc of a version 2 frame: over its length field and its payload.
uint32_t frameCrc(uint32_t len, std::string_view payload) {
  std::string l;
  putU32(l, len);
  uLong c = crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(l.data()), 4);
  return static_cast<uint32_t>(
      crc32(c, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
}

enum class FrameCheck { kOk, kBad, kShort };  // short: runs past the end of the data

// Checks the frame at d[off]: version 2 (magic, length, crc of both) or 1.
FrameCheck checkFrame(std::string_view d, size_t off, bool v1, uint32_t* len_out) {
  size_t hdr = v1 ? DiskSpool::kFrameHeaderV1 : DiskSpool::kFrameHeader;
  if (off + hdr > d.size()) return FrameCheck::kShort;
  const char* h = d.data() + off;
  uint32_t len, crc;
  if (v1) {
    len = getU32(h);
    crc = getU32(h + 4);
    // An empty record is never written; zeros (a zero-filled tail) would
    // otherwise read as one: crc32 of nothing is 0.
    if (len == 0 || len > kMaxRecord) return FrameCheck::kBad;
  } else {
    if (getU32(h) != DiskSpool::kFrameMagic) return FrameCheck::kBad;
    len = getU32(h + 4);
    crc = getU32(h + 8);
    if (len > kMaxRecord) return FrameCheck::kBad;
  }
  if (off + hdr + len > d.size()) return FrameCheck::kShort;
  std::string_view payload = d.substr(off + hdr, len);
  if ((v1 ? crcOf(payload) : frameCrc(len, payload)) != crc) return FrameCheck::kBad;
  *len_out = len;
  return FrameCheck::kOk;
}

// The offset of the first whole, valid version 2 frame at or after `from`, or npos.
size_t nextFrame(std::string_view d, size_t from) {
  std::string magic;
  putU32(magic, DiskSpool::kFrameMagic);
  for (size_t p = d.find(magic, from); p != std::string_view::npos; p = d.find(magic, p + 1)) {
    uint32_t len;
    if (checkFrame(d, p, false, &len) == FrameCheck::kOk) return p;
  }
  return std::string_view::npos;
}

absl::StatusOr<std::string> readWhole(const std::string& path, uint64_t from = 0) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus(absl::StrCat("spool: open ", path));
  struct stat st{};
  ::fstat(fd, &st);
  std::string data;
  if (static_cast<uint64_t>(st.st_size) > from) data.resize(static_cast<size_t>(st.st_size - from));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::pread(fd, data.data() + got, data.size() - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto e = errnoStatus(absl::StrCat("spool: read ", path));
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

void syncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

bool parseFsyncPolicy(std::string_view s, FsyncPolicy* out) {
  if (s == "never") *out = FsyncPolicy::kNever;
  else if (s == "batch") *out = FsyncPolicy::kBatch;
  else if (s == "interval") *out = FsyncPolicy::kInterval;
  else return false;
  return true;
}

const char* fsyncPolicyName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kNever: return "never";
    case FsyncPolicy::kBatch: return "batch";
    case FsyncPolicy::kInterval: return "interval";
  }
  return "interval";
}

// Record: i64 time_ns, u8 severity, u16 type len, type, u16 host len, host, payload.
std::string encodeRecord(const Record& r) {
  std::string out;
  out.reserve(8 + 1 + 4 + r.type.size() + r.host.size() + r.payload.size());
  putU64(out, static_cast<uint64_t>(r.time_ns));
  out.push_back(static_cast<char>(r.severity));
  auto short_str = [&](const std::string& s) {
    size_t n = std::min<size_t>(s.size(), 0xFFFF);
    out.push_back(static_cast<char>(n & 0xFF));
    out.push_back(static_cast<char>(n >> 8));
    out.append(s.data(), n);
  };
  short_str(r.type);
  short_str(r.host);
  out.append(r.payload);
  return out;
}

bool decodeRecord(std::string_view d, Record* r) {
  if (d.size() < 9 + 2) return false;
  r->time_ns = static_cast<int64_t>(getU64(d.data()));
  r->severity = static_cast<uint8_t>(d[8]);
  size_t pos = 9;
  auto short_str = [&](std::string* s) {
    if (pos + 2 > d.size()) return false;
    size_t n = static_cast<unsigned char>(d[pos]) | (static_cast<unsigned char>(d[pos + 1]) << 8);
    pos += 2;
    if (pos + n > d.size()) return false;
    s->assign(d.substr(pos, n));
    pos += n;
    return true;
  };
  if (!short_str(&r->type) || !short_str(&r->host)) return false;
  r->payload.assign(d.substr(pos));
  return true;
}

// ---- memory -----------------------------------------------------------------

bool MemorySpool::append(std::string_view encoded) {
  absl::MutexLock l(&mu_);
  if (bytes_ + encoded.size() + DiskSpool::kFrameHeader > max_bytes_) return false;
  q_.emplace_back(encoded);
  bytes_ += encoded.size() + DiskSpool::kFrameHeader;
  return true;
}

std::vector<std::string> MemorySpool::peek(size_t max_records, size_t max_bytes) {
  absl::MutexLock l(&mu_);
  std::vector<std::string> out;
  size_t bytes = 0;
  for (const auto& r : q_) {
    if (out.size() >= max_records || (!out.empty() && bytes + r.size() > max_bytes)) break;
    bytes += r.size();
    out.push_back(r);
  }
  return out;
}

absl::Status MemorySpool::commit(size_t n) {
  absl::MutexLock l(&mu_);
  for (size_t i = 0; i < n && !q_.empty(); ++i) {
    bytes_ -= q_.front().size() + DiskSpool::kFrameHeader;
    q_.pop_front();
  }
  return absl::OkStatus();
}

uint64_t MemorySpool::bytes() const {
  absl::MutexLock l(&mu_);
  return bytes_;
}

uint64_t MemorySpool::records() const {
  absl::MutexLock l(&mu_);
  return q_.size();
}

// ---- disk -------------------------------------------------------------------

std::string DiskSpool::segPath(uint64_t id) const {
  return absl::StrFormat("%s/%020d.seg", dir_, id);
}

absl::StatusOr<std::unique_ptr<DiskSpool>> DiskSpool::open(const std::string& dir, uint64_t max_bytes,
                                                           uint64_t segment_bytes) {
  SpoolOptions o;
  o.segment_bytes = segment_bytes;
  return open(dir, max_bytes, o);
}

absl::StatusOr<std::unique_ptr<DiskSpool>> DiskSpool::open(const std::string& dir, uint64_t max_bytes,
                                                           const SpoolOptions& options) {
  SpoolOptions o = options;
  if (o.segment_bytes == 0) o.segment_bytes = std::clamp<uint64_t>(max_bytes / 16, 64u << 10, 64u << 20);
  // mkdir -p, 0700.
  std::string path;
  for (const auto& part : absl::StrSplit(dir, '/')) {
    path += std::string(part);
    if (!path.empty() && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return errnoStatus(absl::StrCat("spool: mkdir ", path));
    path += "/";
  }
  std::unique_ptr<DiskSpool> s(new DiskSpool(dir, max_bytes, o));
  absl::MutexLock l(&s->mu_);
  if (auto st = s->recover(); !st.ok()) return st;
  return s;
}

DiskSpool::~DiskSpool() {
  absl::MutexLock l(&mu_);
  (void)flushLocked();
  syncLocked(true);
  if (wfd_ >= 0) ::close(wfd_);
  if (rfd_ >= 0) ::close(rfd_);
}

absl::Status DiskSpool::recover() {
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return errnoStatus(absl::StrCat("spool: opendir ", dir_));
  std::vector<uint64_t> ids;
  while (dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    uint64_t id;
    if (name.size() == 24 && name.substr(20) == ".seg" && absl::SimpleAtoi(std::string(name.substr(0, 20)), &id))
      ids.push_back(id);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());

  head_seg_ = ids.empty() ? 1 : ids.front();
  head_off_ = 0;
  if (FILE* f = std::fopen((dir_ + "/head").c_str(), "r")) {
    unsigned long long seg = 0, off = 0;
    if (std::fscanf(f, "%llu %llu", &seg, &off) == 2 && seg >= head_seg_) {
      head_seg_ = seg;
      head_off_ = off;
    }
    std::fclose(f);
  }
  for (uint64_t id : ids) {
    if (id < head_seg_) {
      ::unlink(segPath(id).c_str());
      continue;
    }
    if (auto st = recoverSegment(id); !st.ok()) return st;
    segments_.push_back(id);
  }
  if (segments_.empty() || segments_.front() != head_seg_) {
    // The head segment is gone (fully consumed): start at the first one left.
    head_seg_ = segments_.empty() ? head_seg_ : segments_.front();
    head_off_ = 0;
  }
  read_seg_ = head_seg_;
  read_off_ = head_off_;
  uint64_t wid = segments_.empty() ? head_seg_ : segments_.back();
  // Version 1 segments are read, never appended to: new records go to a new one.
  if (v1_segments_.count(wid)) wid++;
  if (auto st = openWriteSegment(wid); !st.ok()) return st;
  if (records_ > 0) spdlog::info("spool {}: {} records ({} bytes) pending from a previous run", dir_, records_, bytes_);
  return writeHead();
}

size_t DiskSpool::segHeader(uint64_t id) const { return v1_segments_.count(id) ? 0 : kSegmentMagic.size(); }
size_t DiskSpool::frameHeader(uint64_t id) const { return v1_segments_.count(id) ? kFrameHeaderV1 : kFrameHeader; }

// Validates a segment left by a previous run from the head on. A damaged frame
// in the middle is skipped and the segment rewritten with the valid frames only
// (so readers never meet it again); a damaged tail (torn write, zero fill) is
// cut off. Both are counted in corrupt() and corruptBytes().
absl::Status DiskSpool::recoverSegment(uint64_t id) {
  const std::string path = segPath(id);
  auto r = readWhole(path);
  if (!r.ok()) return r.status();
  std::string_view data = *r;
  bool v1 = !data.empty() && data.substr(0, kSegmentMagic.size()) != kSegmentMagic;
  uint32_t first_len = 0;
  bool damaged_magic = v1 && checkFrame(data, kSegmentMagic.size(), false, &first_len) == FrameCheck::kOk;
  if (damaged_magic) v1 = false;  // version 2 frames after a damaged segment magic: resynchronised below
  size_t hdr = v1 ? 0 : kSegmentMagic.size();
  size_t fh = v1 ? kFrameHeaderV1 : kFrameHeader;
  size_t off = damaged_magic ? 0 : hdr;
  if (id == head_seg_ && head_off_ > off) off = std::min<uint64_t>(head_off_, data.size());
  const size_t start = off;
  std::vector<std::pair<size_t, size_t>> keep;  // offset, frame size
  bool skipped = false;
  size_t good_end = off, tail = 0;
  while (off < data.size()) {
    uint32_t len = 0;
    if (checkFrame(data, off, v1, &len) == FrameCheck::kOk) {
      keep.emplace_back(off, fh + len);
      off += fh + len;
      good_end = off;
      continue;
    }
    size_t next = v1 ? std::string_view::npos : nextFrame(data, off + 1);
    if (next == std::string_view::npos) {
      tail = data.size() - off;
      break;
    }
    spdlog::error("spool {}: segment {}: {} damaged bytes at {} skipped; reading on at {}", dir_, id,
                  next - off, off, next);
    ++corrupt_;
    corrupt_bytes_ += next - off;
    skipped = true;
    off = next;
  }
  skipped |= damaged_magic;  // rewritten with an intact segment magic
  if (tail > 0) {
    spdlog::warn("spool {}: segment {} cut at byte {} of {} (torn or zero-filled tail)", dir_, id, good_end,
                 data.size());
    ++corrupt_;
    corrupt_bytes_ += tail;
  }
  for (const auto& [o, n] : keep) {
    bytes_ += n;
    ++records_;
  }
  if (skipped) {
    // Rewrite: segment magic and the valid frames from the head on.
    std::string out(kSegmentMagic);
    for (const auto& [o, n] : keep) out.append(data.substr(o, n));
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return errnoStatus(absl::StrCat("spool: rewrite ", path));
    bool ok = writeAllFd(fd, out.data(), out.size()) && ::fdatasync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) return errnoStatus(absl::StrCat("spool: rewrite ", path));
    syncDir(dir_);
    if (id == head_seg_) head_off_ = kSegmentMagic.size();
    return absl::OkStatus();
  }
  if (tail > 0) {
    // A segment cut to nothing but a torn magic starts afresh as version 2.
    size_t cut = good_end <= hdr && start <= hdr ? 0 : good_end;
    if (::truncate(path.c_str(), static_cast<off_t>(cut)) != 0)
      return errnoStatus(absl::StrCat("spool: truncate ", path));
    if (cut == 0) {
      v1 = false;
      if (id == head_seg_) head_off_ = 0;
    }
  }
  if (v1) v1_segments_.insert(id);
  return absl::OkStatus();
}

void DiskSpool::syncLocked(bool force) {
  if (!dirty_ || wfd_ < 0 || opts_.fsync == FsyncPolicy::kNever) return;
  absl::Time now = absl::Now();
  if (!force && opts_.fsync == FsyncPolicy::kInterval && now - last_sync_ < opts_.fsync_interval) return;
  if (::fdatasync(wfd_) != 0) {
    spdlog::error("spool {}: fdatasync: {}", dir_, std::strerror(errno));
    return;
  }
  ++syncs_;
  dirty_ = false;
  last_sync_ = now;
}

absl::Status DiskSpool::openWriteSegment(uint64_t id) {
  if (wfd_ >= 0) {
    syncLocked(true);  // the old segment is complete: make it durable before moving on
    ::close(wfd_);
  }
  wfd_ = ::open(segPath(id).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (wfd_ < 0) return errnoStatus(absl::StrCat("spool: open ", segPath(id)));
  struct stat st{};
  ::fstat(wfd_, &st);
  wsize_ = static_cast<uint64_t>(st.st_size);
  if (wsize_ == 0) {
    if (!writeAllFd(wfd_, kSegmentMagic.data(), kSegmentMagic.size()))
      return errnoStatus(absl::StrCat("spool: write ", segPath(id)));
    wsize_ = kSegmentMagic.size();
    v1_segments_.erase(id);
    if (opts_.fsync != FsyncPolicy::kNever) {
      dirty_ = true;
      syncDir(dir_);  // the new file's name, so a crash cannot lose a whole segment
    }
  }
  if (segments_.empty() || segments_.back() != id) segments_.push_back(id);
  return absl::OkStatus();
}

absl::Status DiskSpool::writeHead() {
  std::string tmp = dir_ + "/head.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return errnoStatus("spool: write head");
  std::string line = absl::StrCat(head_seg_, " ", head_off_, "\n");
  bool ok = writeAllFd(fd, line.data(), line.size());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), (dir_ + "/head").c_str()) != 0) return errnoStatus("spool: write head");
  return absl::OkStatus();
}

absl::Status DiskSpool::flushLocked() {
  if (wbuf_.empty()) {
    syncLocked(false);  // an interval sync that came due
    return absl::OkStatus();
  }
  if (!writeAllFd(wfd_, wbuf_.data(), wbuf_.size())) {
    auto st = errnoStatus(absl::StrCat("spool: write ", dir_));
    // Keep the buffer: retried at the next flush.
    return st;
  }
  wsize_ += wbuf_.size();
  wbuf_.clear();
  dirty_ = true;
  syncLocked(opts_.fsync == FsyncPolicy::kBatch);
  return absl::OkStatus();
}

bool DiskSpool::append(std::string_view encoded) {
  absl::MutexLock l(&mu_);
  uint64_t frame = kFrameHeader + encoded.size();
  if (encoded.size() > kMaxRecord || bytes_ + frame > max_bytes_) return false;
  if (wsize_ + wbuf_.size() > kSegmentMagic.size() && wsize_ + wbuf_.size() + frame > segment_bytes_) {
    if (!flushLocked().ok()) return false;
    if (!openWriteSegment(segments_.back() + 1).ok()) return false;
  }
  putU32(wbuf_, kFrameMagic);
  putU32(wbuf_, static_cast<uint32_t>(encoded.size()));
  putU32(wbuf_, frameCrc(static_cast<uint32_t>(encoded.size()), encoded));
  wbuf_.append(encoded);
  bytes_ += frame;
  ++records_;
  if (wbuf_.size() >= (1u << 20)) (void)flushLocked();
  return true;
}

absl::Status DiskSpool::flush() {
  absl::MutexLock l(&mu_);
  return flushLocked();
}

bool DiskSpool::readNext(std::string* out) {
  constexpr size_t kChunk = 256u << 10;
  for (;;) {
    const bool v1 = v1_segments_.count(read_seg_) > 0;
    const size_t fh = v1 ? kFrameHeaderV1 : kFrameHeader;
    if (read_off_ < segHeader(read_seg_)) read_off_ = segHeader(read_seg_);
    if (rfd_ < 0 || rfd_id_ != read_seg_) {
      if (rfd_ >= 0) ::close(rfd_);
      rfd_ = ::open(segPath(read_seg_).c_str(), O_RDONLY | O_CLOEXEC);
      rfd_id_ = read_seg_;
      rbuf_.clear();
      rbuf_off_ = read_off_;
      if (rfd_ < 0) return false;
    }
    auto have = [&](uint64_t n) {
      return read_off_ >= rbuf_off_ && read_off_ + n <= rbuf_off_ + rbuf_.size();
    };
    auto fill = [&](uint64_t n) {
      rbuf_.resize(std::max<uint64_t>(kChunk, n));
      ssize_t got = ::pread(rfd_, rbuf_.data(), rbuf_.size(), static_cast<off_t>(read_off_));
      rbuf_.resize(got > 0 ? static_cast<size_t>(got) : 0);
      rbuf_off_ = read_off_;
    };
    if (!have(fh)) fill(fh);
    const bool last = read_seg_ == segments_.back();
    if (have(fh)) {
      std::string_view buf(rbuf_);
      size_t at = read_off_ - rbuf_off_;
      uint32_t len = getU32(buf.data() + at + (v1 ? 0 : 4));
      if (len <= kMaxRecord && !have(fh + len)) {
        fill(fh + len);
        buf = rbuf_;
        at = 0;
      }
      uint32_t ok_len = 0;
      FrameCheck c = have(fh) ? checkFrame(buf, at, v1, &ok_len) : FrameCheck::kShort;
      if (c == FrameCheck::kOk) {
        out->assign(buf.substr(at + fh, ok_len));
        read_off_ += fh + ok_len;
        return true;
      }
      if (!v1) {
        // Damaged since recovery (or a write that failed half way): find the
        // next valid frame in the rest of the segment and go on from there.
        auto rest = readWhole(segPath(read_seg_), read_off_);
        size_t next = rest.ok() ? nextFrame(*rest, 1) : std::string_view::npos;
        if (next != std::string_view::npos) {
          spdlog::error("spool {}: segment {}: {} damaged bytes at {} skipped", dir_, read_seg_, next, read_off_);
          ++corrupt_;
          corrupt_bytes_ += next;
          // At least one record is gone: keep records() able to reach 0.
          bytes_ -= std::min<uint64_t>(bytes_, next);
          if (records_ > peeked_.size()) --records_;
          read_off_ += next;
          rbuf_.clear();
          rbuf_off_ = read_off_;
          continue;
        }
        if (last) return false;  // nothing valid after it yet
        if (rest.ok()) corrupt_bytes_ += rest->size();
      } else if (last) {
        return false;
      }
      spdlog::error("spool {}: corrupt record in segment {} at {}; skipping the rest of the segment",
                    dir_, read_seg_, read_off_);
      ++corrupt_;
    } else if (last) {
      return false;  // end of data
    }
    // Next segment.
    auto it = std::upper_bound(segments_.begin(), segments_.end(), read_seg_);
    if (it == segments_.end()) return false;
    read_seg_ = *it;
    read_off_ = 0;
  }
}

std::vector<std::string> DiskSpool::peek(size_t max_records, size_t max_bytes) {
  absl::MutexLock l(&mu_);
  (void)flushLocked();
  size_t bytes = 0;
  for (const auto& r : peeked_) bytes += r.size();
  while (peeked_.size() < max_records && (peeked_.empty() || bytes < max_bytes)) {
    std::string rec;
    uint64_t seg_before = read_seg_;
    (void)seg_before;
    if (!readNext(&rec)) break;
    bytes += rec.size();
    peeked_pos_.push_back(Pos{read_seg_, read_off_, frameHeader(read_seg_) + rec.size()});
    peeked_.push_back(std::move(rec));
  }
  std::vector<std::string> out;
  size_t n = 0;
  bytes = 0;
  for (const auto& r : peeked_) {
    if (n >= max_records || (n > 0 && bytes + r.size() > max_bytes)) break;
    bytes += r.size();
    out.push_back(r);
    ++n;
  }
  return out;
}

absl::Status DiskSpool::commit(size_t n) {
  absl::MutexLock l(&mu_);
  if (n == 0) return absl::OkStatus();
  for (size_t i = 0; i < n && !peeked_.empty(); ++i) {
    const Pos& p = peeked_pos_.front();
    head_seg_ = p.seg;
    head_off_ = p.end;
    bytes_ -= std::min(bytes_, p.frame);
    if (records_ > 0) --records_;
    peeked_.pop_front();
    peeked_pos_.pop_front();
  }
  // Drop the segments the head has left, and the head one when fully read and
  // no longer written.
  while (segments_.size() > 1 && segments_.front() < head_seg_) {
    ::unlink(segPath(segments_.front()).c_str());
    segments_.pop_front();
  }
  if (segments_.size() > 1 && segments_.front() == head_seg_) {
    struct stat st{};
    if (::stat(segPath(head_seg_).c_str(), &st) == 0 && head_off_ >= static_cast<uint64_t>(st.st_size)) {
      ::unlink(segPath(head_seg_).c_str());
      segments_.pop_front();
      head_seg_ = segments_.front();
      head_off_ = 0;
    }
  }
  return writeHead();
}

uint64_t DiskSpool::bytes() const {
  absl::MutexLock l(&mu_);
  return bytes_;
}

uint64_t DiskSpool::records() const {
  absl::MutexLock l(&mu_);
  return records_;
}

uint64_t DiskSpool::corrupt() const {
  absl::MutexLock l(&mu_);
  return corrupt_;
}

uint64_t DiskSpool::corruptBytes() const {
  absl::MutexLock l(&mu_);
  return corrupt_bytes_;
}

bool DiskSpool::syncPending() const {
  absl::MutexLock l(&mu_);
  return opts_.fsync == FsyncPolicy::kInterval && (dirty_ || !wbuf_.empty());
}

uint64_t DiskSpool::syncs() const {
  absl::MutexLock l(&mu_);
  return syncs_;
}

}  // namespace vigil::exporters
