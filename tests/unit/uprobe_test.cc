// spec.uprobes without a kernel: parsing and its errors (FILE:LINE:COL), the
// generic hooks a uprobe compiles to (one per path and symbol), the
// process_uprobe event a VG_EV_HOOK record renders to, and its JSON, ECS,
// OCSF and CEF renderings, sink filters and rules' evt.type, field by field.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "daemon/compiler/compiler.h"
#include "daemon/compiler/describe.h"
#include "daemon/events/hook_event.h"
#include "daemon/events/json_writer.h"
#include "daemon/policy/policy_parser.h"
#include "exporters/config.h"
#include "exporters/filter.h"
#include "exporters/formats.h"
#include "rules/fields.h"
#include "vigil/abi/abi.h"

namespace vigil {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kHead =
    "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: up\nspec:\n";

policy::ParseResult parse(const std::string& spec) {
  return policy::parsePolicyString(kHead + spec, "u.yaml");
}

std::vector<std::string> errors(const policy::ParseResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

const std::string kUprobe =
    "  uprobes:\n"
    "  - path: /usr/bin/app\n"              // line 7
    "    symbols: [vg_probe_op, other]\n"   // line 8
    "    message: called\n"
    "    tags: [t1]\n"
    "    args:\n"
    "    - {index: 0, type: int, label: n}\n"
    "    - {index: 1, type: string, label: name}\n"
    "    selectors:\n"
    "    - matchArgs:\n"
    "      - {index: 1, operator: Prefix, values: [usr1-]}\n"
    "      - {index: 0, operator: GT, values: ['100']}\n"
    "      matchBinaries: [{operator: In, values: [/usr/bin/app]}]\n"
    "      matchPIDs: [{operator: In, followForks: true, values: [42]}]\n"
    "      matchActions: [{action: Signal, argSig: 10}]\n";

TEST(UprobeParser, OneHookPerSymbolWithUserArguments) {
  auto r = parse(kUprobe);
  ASSERT_THAT(errors(r), IsEmpty());
  const auto& hooks = r.policy->hooks;
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0].kind, policy::HookKind::kUprobe);
  EXPECT_EQ(hooks[0].path, "/usr/bin/app");
  EXPECT_EQ(hooks[0].hook, "vg_probe_op");
  EXPECT_EQ(hooks[1].hook, "other");
  EXPECT_EQ(hooks[0].ref(), "uprobe//usr/bin/app:vg_probe_op");
  EXPECT_EQ(hooks[0].pos.line, 8);
  ASSERT_EQ(hooks[0].args.size(), 2u);
  EXPECT_EQ(hooks[0].args[0].kind, VG_ARG_S32);
  EXPECT_EQ(hooks[0].args[1].kind, VG_ARG_USTR);  // a char * in the process's memory
  EXPECT_EQ(hooks[1].selectors.size(), 1u);
  EXPECT_EQ(hooks[1].message, "called");
}

TEST(UprobeParser, ErrorsNameTheirPosition) {
  // Override cannot change a user function's return value.
  auto r = parse(
      "  uprobes:\n  - path: /bin/x\n    symbols: [f]\n    selectors:\n"
      "    - matchActions: [{action: Override, argError: -1}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:10:31: spec.uprobes[0].selectors[0]."
                                               "matchActions[0].action: Override on a uprobe")));
  // Kernel objects are not in user registers.
  r = parse("  uprobes:\n  - path: /bin/x\n    symbols: [f]\n    args: [{index: 0, type: file}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:9:29: spec.uprobes[0].args[0].type: a uprobe "
                                               "reads user-space registers: \"file\" is a kernel object")));
  r = parse("  uprobes:\n  - path: bin/x\n    symbols: [f]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:7:11: spec.uprobes[0].path: must be an absolute path")));
  r = parse("  uprobes:\n  - path: /bin/x\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:7:5: spec.uprobes[0]: missing required field \"symbols\"")));
  r = parse("  uprobes:\n  - path: /bin/x\n    symbols: []\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("spec.uprobes[0].symbols: empty")));
  // A return probe sees the return value only.
  r = parse(
      "  uprobes:\n  - path: /bin/x\n    symbols: [f]\n    return: true\n"
      "    args: [{index: 0, type: int}]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:10:12: spec.uprobes[0].args: a uprobe with "
                                               "return: true sees the return value only")));
  r = parse(
      "  uprobes:\n  - path: /bin/x\n    offsets: [0x10, 32]\n    refCtrOffsets: [0x400]\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:9:20: spec.uprobes[0].refCtrOffsets: has 1 "
                                               "entries for 2 offsets")));
  r = parse("  uprobes:\n  - path: /bin/x\n    symbols: [f]\n    data: []\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:9:5: spec.uprobes[0].data: not supported yet")));
  r = parse("  usdts:\n  - path: /bin/x\n");
  EXPECT_THAT(errors(r), ElementsAre(HasSubstr("u.yaml:6:3: spec.usdts: not supported yet")));
}

TEST(UprobeParser, OffsetsAndReturnProbes) {
  auto r = parse(
      "  uprobes:\n  - path: /bin/x\n    offsets: [0x10, 32]\n    refCtrOffsets: [0x400, 0]\n"
      "    return: true\n    returnArg: {index: 0, type: uint64, label: ret}\n"
      "    selectors:\n    - matchReturnArgs: [{index: 0, operator: Equal, values: ['84']}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  ASSERT_EQ(r.policy->hooks.size(), 2u);
  EXPECT_EQ(r.policy->hooks[0].hook, "+0x10");
  EXPECT_EQ(r.policy->hooks[0].offset, 0x10u);
  EXPECT_EQ(r.policy->hooks[0].ref_ctr_offset, 0x400u);
  EXPECT_EQ(r.policy->hooks[1].offset, 32u);
  EXPECT_TRUE(r.policy->hooks[1].return_probe);
  EXPECT_EQ(r.policy->hooks[1].return_arg.kind, VG_ARG_U64);
  EXPECT_EQ(r.policy->hooks[1].ref(), "uprobe//bin/x:+0x20#return");
}

TEST(UprobeCompiler, GenericHooksPerPathAndSymbol) {
  auto r = parse(kUprobe);
  ASSERT_TRUE(r.ok());
  auto c = compiler::compile({*r.policy}, {});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->generic.size(), 2u);
  const auto& h = c->generic[0];
  EXPECT_EQ(h.kind, policy::HookKind::kUprobe);
  EXPECT_EQ(h.path, "/usr/bin/app");
  EXPECT_EQ(h.function, "vg_probe_op");
  EXPECT_EQ(h.kinds[0], VG_ARG_S32);
  EXPECT_EQ(h.kinds[1], VG_ARG_USTR);
  EXPECT_EQ(h.key(), "uprobe:/usr/bin/app:vg_probe_op(s32,user_string,nop,nop,nop,nop)");
  EXPECT_EQ(c->hook_refs.at(h.id), "uprobe//usr/bin/app:vg_probe_op");
  EXPECT_NE(c->generic[1].id, h.id);
  // The same selector tables as every generic hook: one selector per hook.
  EXPECT_EQ(c->hooks[h.id].count, 1u);
  const vg_selector& sel = c->selectors[0].second;
  EXPECT_EQ(sel.action, VG_ACT_SIGNAL);
  EXPECT_EQ(sel.signal, 10);
  EXPECT_EQ(sel.nfilters, 2);
  EXPECT_EQ(sel.filters[0].op, VG_OP_PREFIX);
  EXPECT_EQ(sel.filters[1].op, VG_OP_GT);
  EXPECT_EQ(sel.binaries, VG_OP_BIN_IN);
  EXPECT_EQ(sel.ntask, 1);
  EXPECT_EQ(sel.task[0].kind, VG_TF_PID);
  std::string plan = compiler::describeJson({*r.policy}, *c);
  EXPECT_THAT(plan, HasSubstr("\"attach\":{\"uprobe\":\"/usr/bin/app:vg_probe_op\"}"));
}

// A VG_EV_HOOK record as the uprobe program writes it: int and user string
// arguments, the caller's binary.
std::vector<char> hookRecord(uint16_t hook, uint8_t mech, uint8_t action, uint8_t outcome) {
  std::vector<char> buf(sizeof(vg_hook_event) + VG_BIN_MAX + 16);
  auto* ev = reinterpret_cast<vg_hook_event*>(buf.data());
  ev->hdr = {VG_EV_HOOK, VG_ABI_VERSION, static_cast<uint32_t>(buf.size()), 5};
  ev->pid = 812;
  ev->tid = 812;
  ev->ppid = 790;
  ev->uid = 1000;
  ev->policy = 1;
  ev->selector = 0;
  ev->hook = hook;
  ev->action = action;
  ev->outcome = outcome;
  ev->mechanism = mech;
  ev->signal = action == VG_ACT_SIGNAL ? 10 : 0;
  memcpy(ev->comm, "app", 4);
  ev->bin_len = 12;
  memcpy(buf.data() + sizeof(*ev), "/usr/bin/app", 12);
  ev->args[0].kind = VG_ARG_S32;
  ev->args[0].num = static_cast<uint64_t>(-7);
  ev->args[1].kind = VG_ARG_USTR;
  ev->args[1].str_len = 6;
  memcpy(buf.data() + sizeof(*ev) + VG_BIN_MAX, "usr1-x", 6);
  if (mech == VG_MECH_URETPROBE) {
    ev->args[0].kind = ev->args[1].kind = VG_ARG_NONE;
    ev->has_ret = 1;
    ev->retval = 84;
  }
  return buf;
}

events::JsonRenderer renderer() {
  events::PolicyInfo info{"up", policy::Mode::kEnforce, {}};
  info.hooks["uprobe//usr/bin/app:vg_probe_op"] = {{{0, "n"}, {1, "name"}}, "called", {"t1"}};
  events::JsonRenderer r("web-1", {{"p0"}, info}, false, 0);
  r.setHookRefs({{5, "uprobe//usr/bin/app:vg_probe_op"}, {6, "uprobe//usr/bin/app:vg_probe_op#return"}});
  return r;
}

TEST(UprobeEvents, HookRecordRendersAsProcessUprobe) {
  auto buf = hookRecord(5, VG_MECH_UPROBE, VG_ACT_SIGNAL, VG_OUT_SIGNALED);
  auto ev = events::decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  api::Event out = renderer().toProto(*ev);
  ASSERT_TRUE(out.has_process_uprobe());
  EXPECT_EQ(events::renderJson(out),
            "{\"process_uprobe\":{\"process\":{\"pid\":812,\"tid\":812,\"uid\":1000,"
            "\"binary\":\"/usr/bin/app\",\"comm\":\"app\",\"ppid\":790},"
            "\"path\":\"/usr/bin/app\",\"symbol\":\"vg_probe_op\",\"policy_name\":\"up\","
            "\"message\":\"called\",\"args\":[{\"label\":\"n\",\"int_arg\":\"-7\"},"
            "{\"label\":\"name\",\"string_arg\":\"usr1-x\"}],\"tags\":[\"t1\"],"
            "\"action\":\"ACTION_SIGNAL\",\"outcome\":\"OUTCOME_SIGNALED\","
            "\"mode\":\"POLICY_MODE_ENFORCE\",\"mechanism\":\"uprobe\",\"signal\":10},"
            "\"node_name\":\"web-1\",\"time\":\"1970-01-01T00:00:00.000000005Z\",\"schema_version\":1}");
  buf = hookRecord(6, VG_MECH_URETPROBE, VG_ACT_POST, VG_OUT_POSTED);
  ev = events::decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok());
  auto u = renderer().toProto(*ev).process_uprobe();
  EXPECT_EQ(u.symbol(), "vg_probe_op");
  EXPECT_EQ(u.path(), "/usr/bin/app");
  EXPECT_EQ(u.mechanism(), "uretprobe");
  EXPECT_EQ(u.return_().int_arg(), 84);
  EXPECT_EQ(u.args_size(), 0);
}

api::Event uprobeEvent(api::Action action, api::Outcome outcome, api::PolicyMode mode) {
  auto buf = hookRecord(5, VG_MECH_UPROBE, VG_ACT_POST, VG_OUT_POSTED);
  api::Event ev = renderer().toProto(*events::decodeHookEvent(buf.data(), buf.size()));
  auto* u = ev.mutable_process_uprobe();
  u->set_action(action);
  u->set_outcome(outcome);
  u->set_mode(mode);
  u->set_signal(action == api::ACTION_SIGNAL ? 10 : 0);
  u->mutable_process()->set_exec_id("ZXhlYw");
  ev.set_time("2026-11-23T18:40:12.123456789Z");
  return ev;
}

using google::protobuf::Struct;
Struct json(const std::string& s) {
  Struct out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(s, &out).ok()) << s;
  return out;
}
std::string str(const Struct& s, const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '.');
  const Struct* cur = &s;
  for (size_t i = 0; i < parts.size(); i++) {
    auto it = cur->fields().find(parts[i]);
    if (it == cur->fields().end()) return "<missing " + path + ">";
    if (i + 1 == parts.size()) {
      const auto& v = it->second;
      if (v.has_string_value()) return v.string_value();
      if (v.has_number_value()) return std::to_string(static_cast<int64_t>(v.number_value()));
      if (v.has_list_value() && v.list_value().values_size() && v.list_value().values(0).has_string_value())
        return v.list_value().values(0).string_value();
      return "<other " + path + ">";
    }
    cur = &it->second.struct_value();
  }
  return "";
}

TEST(UprobeFormats, Ecs) {
  Struct d = json(exporters::renderEcs(uprobeEvent(api::ACTION_SIGKILL, api::OUTCOME_KILLED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(str(d, "event.dataset"), "vigil.process_uprobe");
  EXPECT_EQ(str(d, "event.kind"), "alert");
  EXPECT_EQ(str(d, "event.category"), "process");
  EXPECT_EQ(str(d, "event.type"), "info");
  EXPECT_EQ(str(d, "event.action"), "killed");
  EXPECT_EQ(str(d, "event.outcome"), "failure");
  EXPECT_EQ(str(d, "event.severity"), "2");
  EXPECT_EQ(str(d, "rule.name"), "up");
  EXPECT_EQ(str(d, "message"), "called");
  EXPECT_EQ(str(d, "file.path"), "/usr/bin/app");
  EXPECT_EQ(str(d, "process.executable"), "/usr/bin/app");
  EXPECT_EQ(str(d, "vigil.uprobe.symbol"), "vg_probe_op");
  EXPECT_EQ(str(d, "vigil.uprobe.path"), "/usr/bin/app");
  EXPECT_EQ(str(d, "vigil.uprobe.action"), "sigkill");
  EXPECT_EQ(str(d, "vigil.uprobe.mechanism"), "uprobe");
  EXPECT_EQ(str(d, "vigil.uprobe.return_errno"), "<missing vigil.uprobe.return_errno>");
  EXPECT_EQ(str(d, "tags"), "t1");
}

TEST(UprobeFormats, Ocsf) {
  Struct d = json(exporters::renderOcsf(uprobeEvent(api::ACTION_SIGKILL, api::OUTCOME_WOULD_KILL, api::POLICY_MODE_MONITOR)));
  EXPECT_EQ(str(d, "class_uid"), "2004");
  EXPECT_EQ(str(d, "disposition"), "Detected");
  EXPECT_EQ(str(d, "message"), "called");
  EXPECT_EQ(str(d, "finding_info.desc"), "policy up selector 0 on vg_probe_op (monitor mode): would_kill");
  EXPECT_EQ(str(d, "unmapped.symbol"), "vg_probe_op");
  EXPECT_EQ(str(d, "unmapped.path"), "/usr/bin/app");
  EXPECT_EQ(str(d, "unmapped.policy_action"), "sigkill");
  EXPECT_EQ(str(d, "unmapped.mode"), "monitor");
}

TEST(UprobeFormats, CefAndEventType) {
  api::Event ev = uprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE);
  EXPECT_EQ(exporters::eventTypeName(ev), "process_uprobe");
  EXPECT_EQ(exporters::renderCef(ev),
            "CEF:0|Vigil|vigild|" VIGIL_VERSION "|policy:up|called|7|rt=1795459212123 dvchost=web-1 "
            "cat=process_uprobe spid=812 sproc=/usr/bin/app suid=1000 act=signaled outcome=success "
            "filePath=/usr/bin/app fname=app cs1Label=execId cs1=ZXhlYw cs4Label=policy cs4=up "
            "cs5Label=symbol cs5=vg_probe_op cs6Label=mode cs6=enforce cn2Label=selector cn2=0 "
            "cn3Label=signal cn3=10 msg=called");
}

TEST(UprobeFilters, EventTypeAndRulesEvtType) {
  auto cfg = exporters::parseExportersConfigString(
      "exporters:\n  sinks:\n    - name: a\n      type: stdout\n      filters:\n"
      "        allow: {event_types: [process_uprobe], actions: [signaled]}\n",
      "vigil.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status();
  api::Event ev = uprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE);
  EXPECT_TRUE(exporters::passes(cfg->sinks[0], ev));
  EXPECT_FALSE(exporters::passes(cfg->sinks[0], uprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE)));
  EXPECT_EQ(rules::eventTypeOf(ev), "vg_probe_op");
  rules::EventView v;
  v.reset(ev, 1);
  EXPECT_EQ(v.kind, rules::EventView::Kind::kUprobe);
  EXPECT_EQ(v.hook, "vg_probe_op");
  EXPECT_EQ(v.path, "/usr/bin/app");
  EXPECT_TRUE(v.policy);
}

}  // namespace
}  // namespace vigil
