#include "api/event_json.h"

#include <google/protobuf/descriptor.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "api/arg_text.h"
#include "api/event_view.h"
#include "api/json.h"

namespace vigil::api {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void appendMessage(std::string* out, const Message& m);

// One value of a field; index < 0 for a singular field.
void appendValue(std::string* out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& v = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                 : r->GetStringReference(m, f, &scratch);
      // bytes are base64 in proto3's JSON mapping (Tetragon's bytes_arg too).
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        appendJsonString(*out, absl::Base64Escape(v));
      } else {
        appendJsonString(*out, v);
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    // 64-bit integers are strings in proto3's JSON mapping (JavaScript precision).
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(out, "\"", rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f), "\"");
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(out, "\"", rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f),
                      "\"");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* v = rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f);
      appendJsonString(*out, v->name());
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      appendMessage(out, rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
      break;
    default:  // no float/double in the schema
      out->append("null");
  }
}

void appendMessage(std::string* out, const Message& m) {
  const Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // set fields only, by field number: defaults omitted
  out->push_back('{');
  bool first = true;
  for (const auto* f : fields) {
    if (!first) out->push_back(',');
    first = false;
    appendJsonString(*out, f->name());
    out->push_back(':');
    if (f->is_map()) {
      out->push_back('{');
      for (int i = 0, n = r->FieldSize(m, f); i < n; i++) {
        const Message& entry = r->GetRepeatedMessage(m, f, i);
        const auto* d = entry.GetDescriptor();
        if (i) out->push_back(',');
        appendJsonString(*out, entry.GetReflection()->GetString(entry, d->field(0)));
        out->push_back(':');
        appendValue(out, entry, d->field(1), -1);
      }
      out->push_back('}');
    } else if (f->is_repeated()) {
      out->push_back('[');
      for (int i = 0, n = r->FieldSize(m, f); i < n; i++) {
        if (i) out->push_back(',');
        appendValue(out, m, f, i);
      }
      out->push_back(']');
    } else {
      appendValue(out, m, f, -1);
    }
  }
  out->push_back('}');
}

}  // namespace

// protobuf's own MessageToJsonString goes through a binary round trip and a
// type resolver: about 20x slower than walking the message directly.
std::string renderJson(const Message& m) {
  std::string out;
  out.reserve(1024);
  appendMessage(&out, m);
  return out;
}

std::string renderCompact(const Event& ev) {
  // Values are kernel bytes: control characters would reach the terminal.
  auto text = [](std::string_view s) {
    std::string out;
    for (char c : toValidUtf8(s)) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) {
        absl::StrAppendFormat(&out, "\\x%02x", u);
      } else {
        out.push_back(c);
      }
    }
    return out;
  };
  auto who = [&](const Process& p) { return absl::StrCat(p.pid(), " ", text(p.binary())); };
  const std::string& time = ev.time();
  if (auto p = policyEvent(ev)) {
    std::vector<std::string> args;
    for (const auto& a : *p->args) {
      std::string v = text(argText(a));
      if (!v.empty()) args.push_back(a.label().empty() ? v : absl::StrCat(text(a.label()), "=", v));
    }
    std::string line = absl::StrCat(time, " ", Outcome_Name(p->outcome), " ", text(p->policy_name),
                                     " ", text(p->target()));
    // process_lsm's path is also its first file argument: say it once.
    if (!p->path.empty() && p->kind == Event::kProcessLsm) {
      absl::StrAppend(&line, " ", text(p->path));
      args.clear();
    }
    if (!args.empty()) absl::StrAppend(&line, " ", absl::StrJoin(args, " "));
    if (p->ret) absl::StrAppend(&line, " = ", text(argText(*p->ret)));
    if (p->mode == POLICY_MODE_MONITOR) absl::StrAppend(&line, " (monitor)");
    return absl::StrCat(line, " by ", who(*p->process));
  }
  switch (ev.event_case()) {
    case Event::kProcessExec: {
      const auto& pr = ev.process_exec().process();
      return absl::StrCat(time, " exec ", who(pr), pr.arguments().empty() ? "" : " ",
                          text(pr.arguments()));
    }
    case Event::kProcessExit: {
      const auto& x = ev.process_exit();
      return absl::StrCat(time, " exit ", who(x.process()), " status ", x.status(),
                          x.signal().empty() ? "" : " ", text(x.signal()));
    }
    case Event::kRuleAlert:
      return absl::StrCat(time, " ALERT ", text(ev.rule_alert().priority()), " ",
                          text(ev.rule_alert().rule()), ": ", text(ev.rule_alert().output()));
    case Event::kStatus:
      return absl::StrCat(time, " STATUS ", Status::Kind_Name(ev.status().kind()), " ",
                          text(ev.status().subject()), " ", text(ev.status().message()));
    default: break;
  }
  return absl::StrCat(time, " (unknown event)");
}

}  // namespace vigil::api
