// The event model beside the schema (api/): the one JSON escaper, the view over
// the four policy-event kinds, UTF-8 sanitizing of kernel strings, and the
// compact rendering. Every event kind goes through each.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "api/event_json.h"
#include "api/event_view.h"
#include "api/json.h"

namespace vigil::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Parses JSON with protobuf's own parser (strict RFC 8259, UTF-8 checked).
bool parsesAsJson(const std::string& json, google::protobuf::Value* out) {
  return google::protobuf::util::JsonStringToMessage(json, out).ok();
}

TEST(JsonString, EscapesAsRfc8259) {
  EXPECT_EQ(jsonString("plain /usr/bin/x"), "\"plain /usr/bin/x\"");
  EXPECT_EQ(jsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(jsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(jsonString(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\\u007f\"");
  EXPECT_EQ(jsonString(std::string("a\0b", 3)), "\"a\\u0000b\"");
  EXPECT_EQ(jsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"");
}

TEST(JsonString, InvalidUtf8BecomesReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(jsonString("/tmp/\xff/x"), "\"/tmp/" + fffd + "/x\"");
  EXPECT_EQ(jsonString("\xc0\xaf"), "\"" + fffd + fffd + "\"");          // overlong '/'
  EXPECT_EQ(jsonString("\xed\xa0\x80"), "\"" + fffd + fffd + fffd + "\"");  // surrogate
  EXPECT_EQ(jsonString("\xf4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  EXPECT_EQ(jsonString("ab\xe2\x82"), "\"ab" + fffd + fffd + "\"");     // truncated at the end
  EXPECT_EQ(jsonString("\x80"), "\"" + fffd + "\"");                    // stray continuation
}

// Any bytes at all: the literal is valid UTF-8, parses as JSON, and reads back
// as the input with each invalid byte replaced, nothing else changed.
TEST(JsonString, AnyBytesGiveValidJsonThatReadsBack) {
  std::mt19937 rng(20261207);
  for (int round = 0; round < 20000; round++) {
    std::string in(rng() % 24, '\0');
    for (char& c : in) {
      // Mostly the interesting bytes: controls, quotes, UTF-8 lead and continuation bytes.
      static const unsigned char kPick[] = {0x00, 0x01, 0x1f, '"', '\\', '/', 'a', 0x7f, 0x80,
                                            0xbf, 0xc2, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff};
      c = static_cast<char>(rng() % 3 ? kPick[rng() % sizeof kPick] : rng() % 256);
    }
    const std::string lit = jsonString(in);
    ASSERT_TRUE(isValidUtf8(lit)) << testing::PrintToString(in);
    google::protobuf::Value v;
    ASSERT_TRUE(parsesAsJson(lit, &v)) << lit;
    ASSERT_EQ(v.string_value(), toValidUtf8(in)) << testing::PrintToString(in);
  }
}

Event policyEventOf(Event::EventCase kind) {
  Event ev;
  ev.set_time("2026-12-07T10:00:00.000000001Z");
  auto fill = [](auto* m) {
    m->mutable_process()->set_pid(42);
    m->mutable_process()->set_binary("/usr/bin/cat");
    m->set_policy_name("p");
    m->set_outcome(OUTCOME_WOULD_DENY);
    m->set_mode(POLICY_MODE_MONITOR);
    auto* a = m->add_args();
    a->set_label("target");
    a->set_file_arg("/etc/shadow");
  };
  switch (kind) {
    case Event::kProcessLsm:
      fill(ev.mutable_process_lsm());
      ev.mutable_process_lsm()->set_hook("file_open");
      ev.mutable_process_lsm()->set_path("/etc/shadow");
      break;
    case Event::kProcessKprobe:
      fill(ev.mutable_process_kprobe());
      ev.mutable_process_kprobe()->set_function_name("security_file_open");
      break;
    case Event::kProcessTracepoint:
      fill(ev.mutable_process_tracepoint());
      ev.mutable_process_tracepoint()->set_subsys("raw_syscalls");
      ev.mutable_process_tracepoint()->set_event("sys_enter");
      break;
    case Event::kProcessUprobe:
      fill(ev.mutable_process_uprobe());
      ev.mutable_process_uprobe()->set_path("/usr/lib/libc.so.6");
      ev.mutable_process_uprobe()->set_symbol("strtol");
      ev.mutable_process_uprobe()->mutable_return_()->set_int_arg(7);
      break;
    default: break;
  }
  return ev;
}

TEST(PolicyEventView, SameFieldsForAllFourKinds) {
  struct Want {
    Event::EventCase kind;
    std::string type, hook, target, path;
  };
  for (const Want& w : std::vector<Want>{
           {Event::kProcessLsm, "process_lsm", "file_open", "file_open", "/etc/shadow"},
           {Event::kProcessKprobe, "process_kprobe", "security_file_open", "security_file_open",
            "/etc/shadow"},
           {Event::kProcessTracepoint, "process_tracepoint", "sys_enter", "raw_syscalls/sys_enter", ""},
           {Event::kProcessUprobe, "process_uprobe", "strtol", "/usr/lib/libc.so.6:strtol",
            "/usr/lib/libc.so.6"}}) {
    SCOPED_TRACE(w.type);
    const Event ev = policyEventOf(w.kind);
    EXPECT_EQ(eventTypeName(ev), w.type);
    auto p = policyEvent(ev);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->kind, w.kind);
    EXPECT_EQ(p->policy_name, "p");
    EXPECT_EQ(p->hook, w.hook);
    EXPECT_EQ(p->target(), w.target);
    EXPECT_EQ(p->path, w.path);
    EXPECT_EQ(p->outcome, OUTCOME_WOULD_DENY);
    EXPECT_EQ(p->mode, POLICY_MODE_MONITOR);
    ASSERT_NE(p->process, nullptr);
    EXPECT_EQ(p->process->pid(), 42u);
    EXPECT_EQ(processOf(ev), p->process);
    EXPECT_EQ(p->parent, nullptr);
    ASSERT_NE(p->args, nullptr);
    EXPECT_EQ(p->args->size(), 1);
    EXPECT_EQ(p->ret != nullptr, w.kind == Event::kProcessUprobe);
  }
  Event exec;
  exec.mutable_process_exec()->mutable_process()->set_pid(7);
  EXPECT_FALSE(policyEvent(exec).has_value());
  EXPECT_EQ(processOf(exec)->pid(), 7u);
  Event status;
  status.mutable_status()->set_kind(Status::KIND_DEGRADED);
  EXPECT_EQ(processOf(status), nullptr);
}

TEST(PolicyEventView, TypeNamesComeFromTheSchema) {
  const auto& names = eventTypeNames();
  EXPECT_THAT(names, ::testing::Contains("process_uprobe"));
  EXPECT_THAT(names, ::testing::Contains("rule_alert"));
  const auto* oneof = Event::descriptor()->FindOneofByName("event");
  EXPECT_EQ(names.size(), static_cast<size_t>(oneof->field_count()));
  // eventTypeName knows every kind the schema has.
  for (int i = 0; i < oneof->field_count(); i++) {
    Event ev;
    ev.GetReflection()->MutableMessage(&ev, oneof->field(i));
    EXPECT_EQ(eventTypeName(ev), oneof->field(i)->name());
  }
}

TEST(SanitizeStrings, InvalidBytesReplacedOriginalsKept) {
  Event ev = policyEventOf(Event::kProcessLsm);
  auto* lsm = ev.mutable_process_lsm();
  lsm->mutable_process()->set_binary("/tmp/\xff/x");
  lsm->mutable_process()->set_arguments("ok");
  lsm->mutable_args(0)->set_file_arg("/tmp/\xc0\xaf");
  lsm->add_tags("t\xfe");
  EXPECT_EQ(sanitizeStrings(&ev), 3);
  EXPECT_EQ(lsm->process().binary(), "/tmp/\xEF\xBF\xBD/x");
  EXPECT_EQ(lsm->process().arguments(), "ok");
  EXPECT_EQ(ev.raw_strings().at("process_lsm.process.binary"), "/tmp/\xff/x");
  EXPECT_EQ(ev.raw_strings().at("process_lsm.args[0].file_arg"), "/tmp/\xc0\xaf");
  EXPECT_EQ(ev.raw_strings().at("process_lsm.tags[0]"), "t\xfe");
  EXPECT_EQ(ev.raw_strings().size(), 3u);
  // protobuf (the control socket's encoding) reads it back; before, the parse
  // failed and ended every `vigilctl events` stream.
  std::string wire;
  ASSERT_TRUE(ev.SerializeToString(&wire));
  Event back;
  ASSERT_TRUE(back.ParseFromString(wire));
  EXPECT_EQ(back.raw_strings().at("process_lsm.process.binary"), "/tmp/\xff/x");
  // JSON: valid, with the original bytes as base64.
  const std::string json = renderJson(ev);
  EXPECT_TRUE(isValidUtf8(json));
  google::protobuf::Value v;
  ASSERT_TRUE(parsesAsJson(json, &v)) << json;
  EXPECT_THAT(json, HasSubstr("\"raw_strings\":{"));
  EXPECT_THAT(json, HasSubstr("\"process_lsm.process.binary\":\"L3RtcC//L3g=\""));
  // A clean event is left alone.
  Event clean = policyEventOf(Event::kProcessKprobe);
  EXPECT_EQ(sanitizeStrings(&clean), 0);
  EXPECT_EQ(clean.raw_strings_size(), 0);
}

TEST(Compact, EveryEventKindHasItsLine) {
  const auto* oneof = Event::descriptor()->FindOneofByName("event");
  for (int i = 0; i < oneof->field_count(); i++) {
    Event ev = policyEventOf(static_cast<Event::EventCase>(oneof->field(i)->number()));
    if (ev.event_case() == Event::EVENT_NOT_SET) {
      ev.GetReflection()->MutableMessage(&ev, oneof->field(i));
    }
    SCOPED_TRACE(oneof->field(i)->name());
    EXPECT_THAT(renderCompact(ev), Not(HasSubstr("unknown event")));
  }
  EXPECT_EQ(renderCompact(policyEventOf(Event::kProcessLsm)),
            "2026-12-07T10:00:00.000000001Z OUTCOME_WOULD_DENY p file_open /etc/shadow (monitor) "
            "by 42 /usr/bin/cat");
  EXPECT_EQ(renderCompact(policyEventOf(Event::kProcessKprobe)),
            "2026-12-07T10:00:00.000000001Z OUTCOME_WOULD_DENY p security_file_open "
            "target=/etc/shadow (monitor) by 42 /usr/bin/cat");
  EXPECT_EQ(renderCompact(policyEventOf(Event::kProcessUprobe)),
            "2026-12-07T10:00:00.000000001Z OUTCOME_WOULD_DENY p /usr/lib/libc.so.6:strtol "
            "target=/etc/shadow = 7 (monitor) by 42 /usr/bin/cat");
  // Kernel bytes never reach the terminal as control characters.
  Event exec;
  exec.mutable_process_exec()->mutable_process()->set_pid(1);
  exec.mutable_process_exec()->mutable_process()->set_binary("/tmp/a\x1b[2Jb");
  EXPECT_EQ(renderCompact(exec), " exec 1 /tmp/a\\x1b[2Jb");
}

TEST(Time, Rfc3339RoundTrip) {
  EXPECT_EQ(formatRfc3339Nanos(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(formatRfc3339Nanos(1'000'000'001), "1970-01-01T00:00:01.000000001Z");
  EXPECT_EQ(parseRfc3339Nanos(formatRfc3339Nanos(1795459212123456789LL)), 1795459212123456789LL);
  EXPECT_EQ(parseRfc3339Nanos("not a time"), 0);
  EXPECT_EQ(parseRfc3339Nanos(""), 0);
}

}  // namespace
}  // namespace vigil::api
