#include "daemon/journal_log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/uio.h>
// the location fields are the logging call site's (spdlog source_loc), not this file's
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace vigil::log {

namespace {

thread_local std::vector<std::pair<std::string, std::string>> t_fields;
bool g_to_journal = false;

int priority(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace:
    case spdlog::level::debug: return 7;     // LOG_DEBUG
    case spdlog::level::info: return 6;      // LOG_INFO
    case spdlog::level::warn: return 4;      // LOG_WARNING
    case spdlog::level::err: return 3;       // LOG_ERR
    case spdlog::level::critical: return 2;  // LOG_CRIT
    default: return 6;
  }
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JournalSink(std::string identifier) : identifier_(std::move(identifier)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::vector<std::string> f;
    f.reserve(12 + t_fields.size());
    f.push_back("MESSAGE=" + std::string(text));
    f.push_back("PRIORITY=" + std::to_string(priority(msg.level)));
    f.push_back("SYSLOG_IDENTIFIER=" + identifier_);
    if (!msg.source.empty()) {
      f.push_back(std::string("CODE_FILE=") + msg.source.filename);
      f.push_back("CODE_LINE=" + std::to_string(msg.source.line));
      if (msg.source.funcname) f.push_back(std::string("CODE_FUNC=") + msg.source.funcname);
    }
    Location loc;
    if (findLocation(text, &loc)) {
      f.push_back("VIGIL_FILE=" + loc.file);
      f.push_back("VIGIL_LINE=" + loc.line);
      f.push_back("VIGIL_COLUMN=" + loc.column);
    }
    for (const auto& [k, v] : t_fields) f.push_back(k + "=" + v);
    std::vector<iovec> iov(f.size());
    for (size_t i = 0; i < f.size(); i++) iov[i] = {f[i].data(), f[i].size()};
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0) {
      // journald is gone (stopping, or never there): the line still goes out
      fprintf(stderr, "%s: %s: %.*s\n", identifier_.c_str(),
              spdlog::level::to_string_view(msg.level).data(), static_cast<int>(text.size()),
              text.data());
    }
  }
  void flush_() override {}

 private:
  std::string identifier_;
};

}  // namespace

bool stderrIsJournal() {
  const char* e = getenv("JOURNAL_STREAM");
  if (!e || !*e) return false;
  unsigned long long dev = 0, ino = 0;
  if (sscanf(e, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == dev &&
         static_cast<unsigned long long>(st.st_ino) == ino;
}

std::shared_ptr<spdlog::sinks::sink> makeJournalSink(std::string identifier) {
  return std::make_shared<JournalSink>(std::move(identifier));
}

bool installLogger(Target target) {
  g_to_journal = target == Target::kJournal || (target == Target::kAuto && stderrIsJournal());
  std::shared_ptr<spdlog::logger> logger;
  if (g_to_journal) {
    logger = std::make_shared<spdlog::logger>("vigild", makeJournalSink("vigild"));
  } else {
    logger = spdlog::stderr_color_mt("vigild");
    logger->set_pattern("vigild: %^%l%$: %v");
  }
  spdlog::set_default_logger(logger);
  return g_to_journal;
}

bool toJournal() { return g_to_journal; }

Fields::Fields(std::initializer_list<std::pair<const char*, std::string>> fields)
    : count_(fields.size()) {
  for (const auto& [k, v] : fields) t_fields.emplace_back(k, v);
}

Fields::~Fields() { t_fields.resize(t_fields.size() - count_); }

bool findLocation(std::string_view msg, Location* out) {
  // the location is the first word, or the second after a "word: " prefix
  for (int attempt = 0; attempt < 2; attempt++) {
    size_t end = msg.find(": ");
    if (end == std::string_view::npos) return false;
    std::string_view head = msg.substr(0, end);  // FILE:LINE:COL, or a prefix
    size_t c2 = head.rfind(':');
    size_t c1 = c2 == std::string_view::npos || c2 == 0 ? std::string_view::npos
                                                        : head.rfind(':', c2 - 1);
    if (c1 != std::string_view::npos && c1 > 0 && allDigits(head.substr(c1 + 1, c2 - c1 - 1)) &&
        allDigits(head.substr(c2 + 1)) && head.find(' ') == std::string_view::npos) {
      out->file = std::string(head.substr(0, c1));
      out->line = std::string(head.substr(c1 + 1, c2 - c1 - 1));
      out->column = std::string(head.substr(c2 + 1));
      return true;
    }
    if (head.find(' ') != std::string_view::npos) return false;
    msg = msg.substr(end + 2);
  }
  return false;
}

}  // namespace vigil::log
