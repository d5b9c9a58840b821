#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <google/protobuf/util/json_util.h>

#include <cstring>
#include <vector>

#include "api/event_json.h"
#include "api/event_view.h"
#include "daemon/events/event_decoder.h"
#include "daemon/events/hook_event.h"
#include "daemon/events/json_writer.h"
#include "tests/unit/exec_record.h"

namespace vigil::events {
namespace {

constexpr uint32_t kFileOpenId = 5;  // any id: the renderer learns what it stands for

// A file_open event as the hook program sends it: the file in string slot 0,
// its f_flags in the argument's X[0], the record cut after the path.
std::vector<char> record(const std::string& bin, const std::string& path) {
  std::vector<char> buf(sizeof(vg_hook_event) + VG_BIN_MAX + path.size());
  vg_hook_event ev{};
  ev.hdr.type = VG_EV_HOOK;
  ev.hdr.version = VG_ABI_VERSION;
  ev.hdr.size = buf.size();
  ev.hdr.ktime = 1'000'000'123;
  ev.pid = 42;
  ev.tid = 43;
  ev.ppid = 1;
  ev.uid = 1000;
  ev.gid = 100;
  ev.policy = 1;
  ev.selector = 2;
  ev.hook = kFileOpenId;
  ev.action = VG_ACT_OVERRIDE;
  ev.outcome = VG_OUT_DENIED;
  ev.error = 13;
  ev.bin_len = bin.size();
  ev.mechanism = VG_MECH_LSM;
  ev.kstack_id = ev.ustack_id = -1;
  ev.args[0].kind = VG_ARG_FILE;
  ev.args[0].str_len = path.size();
  VG_ARG_X(&ev.args[0])[0] = 0100000;  // O_LARGEFILE
  strcpy(ev.comm, "cat");
  memcpy(buf.data(), &ev, sizeof(ev));
  memcpy(buf.data() + sizeof(ev), bin.data(), bin.size());
  memcpy(buf.data() + sizeof(ev) + VG_BIN_MAX, path.data(), path.size());
  return buf;
}

vg_hook_event* raw(std::vector<char>& buf) { return reinterpret_cast<vg_hook_event*>(buf.data()); }

JsonRenderer renderer(std::vector<PolicyInfo> policies, int64_t boot_to_realtime_ns = 0,
                      bool audit_all = false) {
  JsonRenderer r("node-1", std::move(policies), audit_all, boot_to_realtime_ns);
  r.setHookRefs({{kFileOpenId, "lsm/file_open"}});
  return r;
}

TEST(EventDecoder, DecodesEveryField) {
  auto buf = record("/usr/bin/cat", "/etc/shadow");
  auto ev = decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->pid, 42u);
  EXPECT_EQ(ev->tid, 43u);
  EXPECT_EQ(ev->uid, 1000u);
  EXPECT_EQ(ev->binary, "/usr/bin/cat");
  EXPECT_EQ(ev->comm, "cat");
  EXPECT_EQ(ev->error, 13);
  EXPECT_EQ(ev->ktime_ns, 1'000'000'123u);
  ASSERT_EQ(ev->args.size(), 1u);
  EXPECT_EQ(ev->args[0].kind, VG_ARG_FILE);
  EXPECT_EQ(ev->args[0].str, "/etc/shadow");
  EXPECT_EQ(ev->args[0].file_flags, 0100000u);
}

TEST(EventDecoder, RejectsMalformedRecordsWithoutReadingPastThem) {
  auto buf = record("/bin/x", "/p");
  EXPECT_FALSE(decodeHookEvent(buf.data(), 8).ok());                // no header
  EXPECT_FALSE(decodeHookEvent(buf.data(), buf.size() - 1).ok());   // size mismatch
  auto bad = buf;
  raw(bad)->args[0].str_len = 4000;  // path past the end
  EXPECT_FALSE(decodeHookEvent(bad.data(), bad.size()).ok());
  bad = buf;
  raw(bad)->bin_len = VG_BIN_MAX;
  EXPECT_FALSE(decodeHookEvent(bad.data(), bad.size()).ok());
  bad = buf;
  raw(bad)->hdr.version = 1;  // the built-in hooks' ABI
  auto r = decodeHookEvent(bad.data(), bad.size());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "record ABI version 1, expected 2");
}

std::vector<char> execRecord(const std::string& bin, const std::string& args, const std::string& cwd,
                             uint32_t tty_dev, const char* tty) {
  vg_exec_event ev{};
  ev.hdr.ktime = 77;
  ev.id = {10, 11, 1000, 9, 0, 900};
  ev.flags = VG_EXEC_FLAG_ARGS_TRUNC;
  ev.tty_dev = tty_dev;
  memcpy(ev.tty, tty, std::min(strlen(tty), sizeof(ev.tty)));  // no NUL when full
  strcpy(ev.comm, "sh");
  return testing::packExecRecord(ev, bin, args, cwd);
}

TEST(EventDecoder, ExecRecordPathsArgvAndTerminal) {
  const std::string args("sh\0-c\0echo hi\0", 14);
  auto buf = execRecord("/usr/bin/dash", args, "/home/u", (136u << 20) | 3, "pts3");
  auto ev = decodeExecEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->binary, "/usr/bin/dash");
  EXPECT_EQ(ev->argv, (std::vector<std::string>{"sh", "-c", "echo hi"}));
  EXPECT_EQ(ev->cwd, "/home/u");
  EXPECT_EQ(ev->id.pid, 10u);
  EXPECT_EQ(ev->id.parent_start_ns, 900u);
  EXPECT_TRUE(ev->args_truncated);
  EXPECT_FALSE(ev->no_paths);
  EXPECT_EQ(ev->tty_major, 136u);
  EXPECT_EQ(ev->tty_minor, 3u);
  EXPECT_EQ(ev->tty_name, "pts3");
  // A name filling the field has no NUL: it stops at the field's end.
  buf = execRecord("/b", "", "/", (4u << 20) | 70, "0123456789abcdefXYZ");
  ev = decodeExecEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->tty_name, "0123456789abcdef");
  EXPECT_EQ(ev->tty_minor, 70u);
  // Records longer than 4 KiB of data (a long argv with long paths) decode.
  std::string big_args(4000, 'a'), big_cwd(3000, 'c');
  buf = execRecord(std::string(1000, 'b'), big_args, big_cwd, 0, "");
  ev = decodeExecEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->cwd, big_cwd);
  EXPECT_EQ(ev->tty_major, 0u);
  EXPECT_EQ(ev->tty_name, "");
  // Lengths that do not add up to the record are refused.
  reinterpret_cast<vg_exec_event*>(buf.data())->cwd_len += 1;
  EXPECT_FALSE(decodeExecEvent(buf.data(), buf.size()).ok());
}

TEST(JsonRenderer, TetragonShapedLine) {
  auto buf = record("/usr/bin/cat", "/etc/\"quoted\"");
  auto ev = decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  auto r = renderer({{"p0", policy::Mode::kEnforce, {}}, {"deny-shadow", policy::Mode::kEnforce, {}}},
                    /*boot_to_realtime_ns=*/1'700'000'000'000'000'000LL);
  EXPECT_EQ(r.render(*ev),
            "{\"process_lsm\":{\"process\":{\"pid\":42,\"tid\":43,\"uid\":1000,\"gid\":100,"
            "\"binary\":\"/usr/bin/cat\",\"comm\":\"cat\",\"ppid\":1},"
            "\"policy_name\":\"deny-shadow\",\"hook\":\"file_open\",\"selector\":2,"
            "\"action\":\"ACTION_OVERRIDE\",\"outcome\":\"OUTCOME_DENIED\","
            "\"mode\":\"POLICY_MODE_ENFORCE\",\"return_errno\":13,"
            "\"path\":\"/etc/\\\"quoted\\\"\",\"mechanism\":\"bpf_lsm\","
            "\"args\":[{\"file_arg\":\"/etc/\\\"quoted\\\"\"}],\"file_flags\":32768},"
            "\"node_name\":\"node-1\",\"time\":\"2023-11-14T22:13:21.000000123Z\",\"schema_version\":1}");
}

TEST(JsonRenderer, PolicyMessageTagsAndLabelledArgument) {
  auto buf = record("/usr/bin/cat", "/etc/shadow");
  auto ev = decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok());
  PolicyInfo info{"deny-shadow", policy::Mode::kEnforce, {}};
  info.hooks["lsm/file_open"] = {{{0, "opened"}}, "shadow read", {"t1", "t2"}};
  auto lsm = renderer({{"p0"}, info}).toProto(*ev).process_lsm();
  EXPECT_EQ(lsm.message(), "shadow read");
  ASSERT_EQ(lsm.tags_size(), 2);
  EXPECT_EQ(lsm.tags(1), "t2");
  ASSERT_EQ(lsm.args_size(), 1);
  EXPECT_EQ(lsm.args(0).label(), "opened");
  EXPECT_EQ(lsm.args(0).file_arg(), "/etc/shadow");
  EXPECT_EQ(lsm.path(), "/etc/shadow");
  EXPECT_EQ(lsm.file_flags(), 0100000u);
}

// bprm_check_security: the program's path from its linux_binprm argument; a
// path the kernel could not fit is flagged, not shown.
TEST(JsonRenderer, ExecPathAndTruncation) {
  auto buf = record("/bin/sh", "/tmp/x");
  raw(buf)->args[0].kind = VG_ARG_BINPRM;
  auto ev = decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok());
  JsonRenderer r("n", {{"p0"}, {"deny-tmp"}}, false, 0);
  r.setHookRefs({{kFileOpenId, "lsm/bprm_check_security"}});
  auto lsm = r.toProto(*ev).process_lsm();
  EXPECT_EQ(lsm.hook(), "bprm_check_security");
  EXPECT_EQ(lsm.path(), "/tmp/x");
  EXPECT_EQ(lsm.file_flags(), 0u);  // file_open's only
  buf = record("/bin/sh", "");
  raw(buf)->args[0].flags = VG_ARGF_TRUNC;
  ev = decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok());
  lsm = r.toProto(*ev).process_lsm();
  EXPECT_EQ(lsm.path(), "");
  EXPECT_TRUE(lsm.path_truncated());
}

TEST(JsonRenderer, ModeFollowsPolicyAndAuditSwitch) {
  auto buf = record("/bin/x", "/p");
  auto ev = decodeHookEvent(buf.data(), buf.size());
  ASSERT_TRUE(ev.ok());
  auto monitor = renderer({{"a", policy::Mode::kEnforce, {}}, {"b", policy::Mode::kMonitor, {}}});
  EXPECT_EQ(monitor.toProto(*ev).process_lsm().mode(), api::POLICY_MODE_MONITOR);
  auto audit = renderer({{"a", policy::Mode::kEnforce, {}}, {"b", policy::Mode::kEnforce, {}}}, 0, true);
  EXPECT_EQ(audit.toProto(*ev).process_lsm().mode(), api::POLICY_MODE_MONITOR);
  auto enforce = renderer({{"a", policy::Mode::kEnforce, {}}, {"b", policy::Mode::kEnforce, {}}});
  EXPECT_EQ(enforce.toProto(*ev).process_lsm().mode(), api::POLICY_MODE_ENFORCE);
}

TEST(RenderJson, EscapesControlAndQuoteCharacters) {
  api::Event ev;
  ev.mutable_process_lsm()->set_path("/tmp/a\"b\\c\nd\x01" "e\x7f");
  EXPECT_EQ(api::renderJson(ev), R"({"process_lsm":{"path":"/tmp/a\"b\\c\nd\u0001e\u007f"}})");
}

// The hand-written writer must agree with protobuf's own JSON printer on a
// fully populated event (64-bit integers as strings, enums by name, maps).
TEST(RenderJson, MatchesProtobufJsonPrinter) {
  api::Event ev;
  auto* exec = ev.mutable_process_exec();
  auto* p = exec->mutable_process();
  p->set_exec_id("abc");
  p->set_pid(7);
  p->set_binary("/usr/bin/x");
  p->set_arguments("a 'b c'");
  p->set_cgroup_id(1ULL << 40);
  p->mutable_cap()->add_effective(api::CAP_SYS_ADMIN);
  p->mutable_cap()->add_effective(api::CAP_CHOWN);
  p->mutable_ns()->mutable_net()->set_inum(4026531840u);
  p->mutable_ns()->mutable_net()->set_is_host(true);
  p->mutable_container()->set_id("c1");
  *exec->add_ancestors() = *p;
  *exec->add_ancestors() = *p;
  ev.set_node_name("n");
  ev.set_time("t");
  ev.set_schema_version(1);
  api::Event alert;
  auto* ra = alert.mutable_rule_alert();
  ra->set_rule("r");
  (*ra->mutable_output_fields())["proc.name"] = "x";
  ra->add_tags("t1");
  for (const api::Event* e : {&ev, &alert}) {
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    std::string want;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(*e, &want, opts).ok());
    EXPECT_EQ(api::renderJson(*e), want);
  }
}

TEST(JsonRenderer, Rfc3339Nanos) {
  EXPECT_EQ(api::formatRfc3339Nanos(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(api::formatRfc3339Nanos(1'000'000'001), "1970-01-01T00:00:01.000000001Z");
}

}  // namespace
}  // namespace vigil::events
