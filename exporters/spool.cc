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

}  // namespace

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
  if (segment_bytes == 0)
    segment_bytes = std::clamp<uint64_t>(max_bytes / 16, 64u << 10, 64u << 20);
  // mkdir -p, 0700.
  std::string path;
  for (const auto& part : absl::StrSplit(dir, '/')) {
    path += std::string(part);
    if (!path.empty() && ::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
      return errnoStatus(absl::StrCat("spool: mkdir ", path));
    path += "/";
  }
  std::unique_ptr<DiskSpool> s(new DiskSpool(dir, max_bytes, segment_bytes));
  absl::MutexLock l(&s->mu_);
  if (auto st = s->recover(); !st.ok()) return st;
  return s;
}

DiskSpool::~DiskSpool() {
  absl::MutexLock l(&mu_);
  (void)flushLocked();
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
    // Validate every frame; cut the segment at the first bad one.
    int fd = ::open(segPath(id).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errnoStatus(absl::StrCat("spool: open ", segPath(id)));
    struct stat st{};
    ::fstat(fd, &st);
    std::string data(static_cast<size_t>(st.st_size), '\0');
    ssize_t got = data.empty() ? 0 : ::pread(fd, data.data(), data.size(), 0);
    ::close(fd);
    if (got < 0) return errnoStatus(absl::StrCat("spool: read ", segPath(id)));
    data.resize(static_cast<size_t>(got));
    uint64_t off = id == head_seg_ ? head_off_ : 0;
    if (off > data.size()) off = data.size();
    while (off + kFrameHeader <= data.size()) {
      uint32_t len = getU32(data.data() + off), crc = getU32(data.data() + off + 4);
      if (len > kMaxRecord || off + kFrameHeader + len > data.size() ||
          crcOf(std::string_view(data).substr(off + kFrameHeader, len)) != crc)
        break;
      off += kFrameHeader + len;
      bytes_ += kFrameHeader + len;
      ++records_;
    }
    if (off < data.size()) {
      spdlog::warn("spool {}: segment {} cut at byte {} of {} (torn or corrupt tail)", dir_, id, off,
                   data.size());
      ++corrupt_;
      if (::truncate(segPath(id).c_str(), static_cast<off_t>(off)) != 0)
        return errnoStatus(absl::StrCat("spool: truncate ", segPath(id)));
    }
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
  if (auto st = openWriteSegment(wid); !st.ok()) return st;
  if (records_ > 0) spdlog::info("spool {}: {} records ({} bytes) pending from a previous run", dir_, records_, bytes_);
  return writeHead();
}

absl::Status DiskSpool::openWriteSegment(uint64_t id) {
  if (wfd_ >= 0) ::close(wfd_);
  wfd_ = ::open(segPath(id).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (wfd_ < 0) return errnoStatus(absl::StrCat("spool: open ", segPath(id)));
  struct stat st{};
  ::fstat(wfd_, &st);
  wsize_ = static_cast<uint64_t>(st.st_size);
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
  if (wbuf_.empty()) return absl::OkStatus();
  if (!writeAllFd(wfd_, wbuf_.data(), wbuf_.size())) {
    auto st = errnoStatus(absl::StrCat("spool: write ", dir_));
    // Keep the buffer: retried at the next flush.
    return st;
  }
  wsize_ += wbuf_.size();
  wbuf_.clear();
  return absl::OkStatus();
}

bool DiskSpool::append(std::string_view encoded) {
  absl::MutexLock l(&mu_);
  uint64_t frame = kFrameHeader + encoded.size();
  if (encoded.size() > kMaxRecord || bytes_ + frame > max_bytes_) return false;
  if (wsize_ + wbuf_.size() > 0 && wsize_ + wbuf_.size() + frame > segment_bytes_) {
    if (!flushLocked().ok()) return false;
    if (!openWriteSegment(segments_.back() + 1).ok()) return false;
  }
  putU32(wbuf_, static_cast<uint32_t>(encoded.size()));
  putU32(wbuf_, crcOf(encoded));
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
    if (!have(kFrameHeader)) fill(kFrameHeader);
    if (have(kFrameHeader)) {
      const char* h = rbuf_.data() + (read_off_ - rbuf_off_);
      uint32_t len = getU32(h), crc = getU32(h + 4);
      if (len <= kMaxRecord) {
        if (!have(kFrameHeader + len)) fill(kFrameHeader + len);
        if (have(kFrameHeader + len)) {
          std::string_view payload(rbuf_.data() + (read_off_ - rbuf_off_) + kFrameHeader, len);
          if (crcOf(payload) == crc) {
            out->assign(payload);
            read_off_ += kFrameHeader + len;
            return true;
          }
        }
      }
      if (read_seg_ == segments_.back()) return false;  // incomplete write in progress: never, we write whole frames
      spdlog::error("spool {}: corrupt record in segment {} at {}; skipping the rest of the segment",
                    dir_, read_seg_, read_off_);
      ++corrupt_;
    } else if (read_seg_ == segments_.back()) {
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
    peeked_pos_.push_back(Pos{read_seg_, read_off_, kFrameHeader + rec.size()});
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
    bytes_ -= p.frame;
    --records_;
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

}  // namespace vigil::exporters
