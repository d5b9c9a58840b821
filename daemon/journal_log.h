// vigild's logs in the systemd journal with structured fields.
//
// Under systemd (stderr connected to journald, JOURNAL_STREAM) or with
// --log-target journal, log lines are sent with sd_journal_sendv: MESSAGE,
// PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE/CODE_LINE/CODE_FUNC where the call
// site is known (SPDLOG_* macros), VIGIL_FILE/VIGIL_LINE/VIGIL_COLUMN when the
// message carries a FILE:LINE:COL: location (policy and rule errors), and the
// fields of any log::Fields alive on the logging thread (VIGIL_POLICY, ...).
// Elsewhere they stay plain lines on stderr.
#pragma once

#include <spdlog/sinks/sink.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

namespace vigil::log {

// stderr is a journald stream: JOURNAL_STREAM (set by systemd for
// StandardError=journal) names the device and inode of our fd 2.
bool stderrIsJournal();

// A sink sending each line to journald, with the fields above.
std::shared_ptr<spdlog::sinks::sink> makeJournalSink(std::string identifier);

// vigild --log-target: auto (the journal when stderr is one), stderr, journal.
enum class Target { kAuto, kStderr, kJournal };
// Installs vigild's default logger ("vigild: LEVEL: message" on stderr, or the
// journal sink) and returns whether lines go to the journal.
bool installLogger(Target target);
// Lines go to the journal (installLogger chose it): text that is otherwise
// printed raw on stderr (policy errors) should then be logged instead, to
// carry its fields.
bool toJournal();

// Journal fields added to every line logged on this thread while alive:
//   log::Fields f{{"VIGIL_POLICY", p.name}}; spdlog::info(...);
// Names are journal field names (upper case, digits, underscores).
class Fields {
 public:
  Fields(std::initializer_list<std::pair<const char*, std::string>> fields);
  ~Fields();
  Fields(const Fields&) = delete;
  Fields& operator=(const Fields&) = delete;

 private:
  size_t count_;
};

// FILE:LINE:COL: at the start of a message (after an optional "word: "
// prefix such as "reload: "), as in "/etc/vigil/policies.d/x.yaml:4:9: ...".
// Returns false when there is none.
struct Location {
  std::string file;
  std::string line;
  std::string column;
};
bool findLocation(std::string_view msg, Location* out);

}  // namespace vigil::log
