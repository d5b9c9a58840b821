// Sink filters (exporters/filter.cc) on every event type, process_kprobe and
// the Signal action included, through the config parser as a user writes them.
#include <gtest/gtest.h>

#include "exporters/config.h"
#include "exporters/filter.h"
#include "tests/exporters/test_events.h"

namespace vigil::exporters {
namespace {

using namespace vigil::exporters::testing;

SinkConfig sink(const std::string& filters) {
  auto cfg = parseExportersConfigString(
      "exporters:\n  sinks:\n    - name: a\n      type: stdout\n      filters:\n" + filters, "vigil.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status();
  return cfg.ok() ? cfg->sinks.at(0) : SinkConfig{};
}

api::Event signaled() { return kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE); }
api::Event denied() { return kprobeEvent(api::ACTION_OVERRIDE, api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE); }

TEST(ExportersFilter, EventTypeProcessKprobe) {
  SinkConfig c = sink("        allow: {event_types: [process_kprobe]}\n");
  EXPECT_TRUE(passes(c, signaled()));
  EXPECT_FALSE(passes(c, lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
  EXPECT_FALSE(passes(c, execEvent()));
  SinkConfig d = sink("        deny: {event_types: [process_kprobe]}\n");
  EXPECT_FALSE(passes(d, signaled()));
  EXPECT_TRUE(passes(d, lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
}

TEST(ExportersFilter, PolicyBinaryAndActionOnKprobe) {
  SinkConfig p = sink("        allow: {policies: ['no-links|to=etc']}\n");
  EXPECT_TRUE(passes(p, signaled()));
  EXPECT_FALSE(passes(p, lsmEvent(api::OUTCOME_DENIED, api::POLICY_MODE_ENFORCE)));
  SinkConfig b = sink("        allow: {binaries: ['/usr/bin/ba*']}\n");
  EXPECT_TRUE(passes(b, signaled()));
  SinkConfig nb = sink("        allow: {binaries: [/usr/bin/zsh]}\n");
  EXPECT_FALSE(passes(nb, signaled()));
  // Actions match the policy's action or the outcome, Signal's included.
  SinkConfig a = sink("        allow: {actions: [signal]}\n");
  EXPECT_TRUE(passes(a, signaled()));
  EXPECT_FALSE(passes(a, denied()));
  SinkConfig o = sink("        allow: {actions: [signaled, denied]}\n");
  EXPECT_TRUE(passes(o, signaled()));
  EXPECT_TRUE(passes(o, denied()));
  EXPECT_FALSE(passes(o, kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_WOULD_SIGNAL, api::POLICY_MODE_MONITOR)));
  SinkConfig w = sink("        deny: {actions: [would_signal, posted]}\n");
  EXPECT_FALSE(passes(w, kprobeEvent(api::ACTION_SIGNAL, api::OUTCOME_WOULD_SIGNAL, api::POLICY_MODE_MONITOR)));
  EXPECT_FALSE(passes(w, kprobeEvent(api::ACTION_POST, api::OUTCOME_POSTED, api::POLICY_MODE_ENFORCE)));
  EXPECT_TRUE(passes(w, signaled()));
  EXPECT_TRUE(passes(w, execEvent()));  // no action: a deny list on actions does not match
  api::Event lsm = lsmEvent(api::OUTCOME_SIGNALED, api::POLICY_MODE_ENFORCE);
  lsm.mutable_process_lsm()->set_action(api::ACTION_SIGNAL);
  EXPECT_TRUE(passes(a, lsm));
}

TEST(ExportersFilter, UnknownActionNamesTheChoices) {
  auto cfg = parseExportersConfigString(
      "exporters:\n  sinks:\n    - name: a\n      type: stdout\n      filters:\n        allow: {actions: [zap]}\n",
      "vigil.yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(std::string(cfg.status().message()).find("vigil.yaml:6:27: unknown action \"zap\""), std::string::npos)
      << cfg.status();
  EXPECT_NE(std::string(cfg.status().message()).find("signaled"), std::string::npos) << cfg.status();
}

TEST(ExportersFilter, ExcludeFieldsReachesKprobePayload) {
  api::Event ev = signaled();
  excludeFields({"process.cap", "parent", "return"}, &ev);
  EXPECT_FALSE(ev.process_kprobe().process().has_cap());
  EXPECT_FALSE(ev.process_kprobe().has_parent());
  EXPECT_FALSE(ev.process_kprobe().has_return_());
  EXPECT_EQ(ev.process_kprobe().function_name(), "sys_linkat");
}

}  // namespace
}  // namespace vigil::exporters
