#include "api/event_view.h"

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "api/json.h"

namespace vigil::api {

std::string_view eventTypeName(const Event& ev) {
  switch (ev.event_case()) {
    case Event::kProcessExec: return "process_exec";
    case Event::kProcessExit: return "process_exit";
    case Event::kProcessLsm: return "process_lsm";
    case Event::kProcessKprobe: return "process_kprobe";
    case Event::kProcessTracepoint: return "process_tracepoint";
    case Event::kProcessUprobe: return "process_uprobe";
    case Event::kStatus: return "status";
    case Event::kRuleAlert: return "rule_alert";
    case Event::EVENT_NOT_SET: break;
  }
  return "unknown";
}

const std::vector<std::string>& eventTypeNames() {
  // From the schema itself, so a new kind cannot be forgotten here.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    const auto* oneof = Event::descriptor()->FindOneofByName("event");
    for (int i = 0; i < oneof->field_count(); i++) out.push_back(oneof->field(i)->name());
    return out;
  }();
  return names;
}

const Process* processOf(const Event& ev) {
  switch (ev.event_case()) {
    case Event::kProcessExec: return &ev.process_exec().process();
    case Event::kProcessExit: return &ev.process_exit().process();
    case Event::kRuleAlert: return &ev.rule_alert().process();
    default: break;
  }
  const Process* p = nullptr;
  visitPolicyMessage(ev, [&](const auto& m) { p = &m.process(); });
  return p;
}

std::string PolicyEvent::target() const {
  switch (kind) {
    // Debian's Abseil has its own string_view: std ones go in as strings.
    case Event::kProcessTracepoint: return std::string(subsys) + "/" + std::string(hook);
    case Event::kProcessUprobe: return std::string(path) + ":" + std::string(hook);
    default: return std::string(hook);
  }
}

std::optional<PolicyEvent> policyEvent(const Event& ev) {
  PolicyEvent p;
  const bool is_policy = visitPolicyMessage(ev, [&](const auto& m) {
    p.process = &m.process();
    p.parent = m.has_parent() ? &m.parent() : nullptr;
    p.policy_name = m.policy_name();
    p.selector = m.selector();
    p.action = m.action();
    p.outcome = m.outcome();
    p.mode = m.mode();
    if constexpr (requires { m.return_errno(); }) p.return_errno = m.return_errno();
    p.signal = m.signal();
    p.mechanism = m.mechanism();
    p.message = m.message();
    p.args = &m.args();
    p.tags = &m.tags();
    if constexpr (requires { m.return_(); }) {
      if (m.has_return_()) p.ret = &m.return_();
    }
  });
  if (!is_policy) return std::nullopt;
  p.kind = ev.event_case();
  switch (p.kind) {
    case Event::kProcessLsm:
      p.hook = ev.process_lsm().hook();
      p.path = ev.process_lsm().path();
      p.path_truncated = ev.process_lsm().path_truncated();
      break;
    case Event::kProcessKprobe:
      p.hook = ev.process_kprobe().function_name();
      for (const auto& a : ev.process_kprobe().args()) {
        if (a.value_case() == Arg::kFileArg && !a.file_arg().empty()) {
          p.path = a.file_arg();
          break;
        }
      }
      break;
    case Event::kProcessTracepoint:
      p.subsys = ev.process_tracepoint().subsys();
      p.hook = ev.process_tracepoint().event();
      break;
    case Event::kProcessUprobe:
      p.hook = ev.process_uprobe().symbol();
      p.path = ev.process_uprobe().path();
      break;
    default: break;
  }
  return p;
}

bool isDenyOutcome(Outcome o) { return o == OUTCOME_DENIED || o == OUTCOME_KILLED; }

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Where a field sits in the event, built into a string only for a field
// that needs fixing (most events have none: no allocation per field).
struct FieldPath {
  const FieldPath* parent;
  const FieldDescriptor* field;
  int index;  // -1: not a repeated element

  std::string str() const {
    std::string out = parent ? parent->str() + "." : std::string();
    out += field->name();
    if (index >= 0) absl::StrAppend(&out, "[", index, "]");
    return out;
  }
};

int sanitizeMessage(Message* m, const FieldPath* at, Event* top) {
  const Reflection* r = m->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(*m, &fields);
  int changed = 0;
  for (const FieldDescriptor* f : fields) {
    if (m == top && f->number() == Event::kRawStringsFieldNumber) continue;
    const int n = f->is_repeated() ? r->FieldSize(*m, f) : 1;
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      for (int i = 0; i < n; i++) {
        std::string scratch;
        const std::string& v = f->is_repeated() ? r->GetRepeatedStringReference(*m, f, i, &scratch)
                                                : r->GetStringReference(*m, f, &scratch);
        if (isValidUtf8(v)) continue;
        const FieldPath here{at, f, f->is_repeated() ? i : -1};
        (*top->mutable_raw_strings())[here.str()] = v;
        std::string fixed = toValidUtf8(v);
        if (f->is_repeated()) {
          r->SetRepeatedString(m, f, i, std::move(fixed));
        } else {
          r->SetString(m, f, std::move(fixed));
        }
        changed++;
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      for (int i = 0; i < n; i++) {
        const FieldPath here{at, f, f->is_repeated() ? i : -1};
        changed += sanitizeMessage(
            f->is_repeated() ? r->MutableRepeatedMessage(m, f, i) : r->MutableMessage(m, f), &here, top);
      }
    }
  }
  return changed;
}

}  // namespace

int sanitizeStrings(Event* ev) { return sanitizeMessage(ev, nullptr, ev); }

std::string formatRfc3339Nanos(int64_t unix_ns) {
  time_t secs = static_cast<time_t>(unix_ns / 1'000'000'000LL);
  int64_t nanos = unix_ns % 1'000'000'000LL;
  if (nanos < 0) {
    nanos += 1'000'000'000LL;
    secs -= 1;
  }
  tm t{};
  gmtime_r(&secs, &t);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", t.tm_year + 1900, t.tm_mon + 1,
                         t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, nanos);
}

int64_t parseRfc3339Nanos(std::string_view s) {
  if (s.empty()) return 0;
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, std::string(s), &t, &err)) return 0;
  return absl::ToUnixNanos(t);
}

}  // namespace vigil::api
