// The choice of mechanism per hook (daemon/loader/mechanism.h): which
// programs the loader tries, in which order, and the refusals it reports.
#include "daemon/loader/mechanism.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vigil::loader {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

MechanismInputs kernel(bool trampolines, bool kprobes, KprobeMode mode = KprobeMode::kAuto) {
  MechanismInputs in;
  in.lsm = trampolines ? HookMechanism::kFmodRet : HookMechanism::kNone;
  in.mode = mode;
  in.trampolines = trampolines;
  in.trampolines_detail = trampolines ? "fentry loads" : "fentry/security_file_open program refused: EPERM";
  in.kprobes = kprobes;
  in.kprobes_detail = kprobes ? "kprobe PMU present" : "no kprobe PMU (CONFIG_KPROBES off?)";
  return in;
}

compiler::HookSpec kprobe(bool overrides = false, bool ret = false) {
  compiler::HookSpec s;
  s.kind = policy::HookKind::kKprobe;
  s.name = "sys_getpgid";
  s.function = "__x64_sys_getpgid";
  s.syscall = true;
  s.overrides = overrides;
  s.ret_kind = ret ? VG_ARG_S32 : VG_ARG_NONE;
  s.pos = {"p.yaml", 12, 5};
  return s;
}

std::vector<uint8_t> order(const compiler::HookSpec& s, const MechanismInputs& in) {
  auto r = hookMechanisms(s, in);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<uint8_t>{};
}

std::string refusal(const compiler::HookSpec& s, const MechanismInputs& in) {
  auto r = hookMechanisms(s, in);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(Mechanism, AutoTriesFentryThenKprobe) {
  EXPECT_THAT(order(kprobe(), kernel(true, true)), ElementsAre(VG_MECH_FENTRY, VG_MECH_KPROBE));
  EXPECT_THAT(order(kprobe(false, true), kernel(true, true)),
              ElementsAre(VG_MECH_FEXIT, VG_MECH_KRETPROBE));
}

TEST(Mechanism, AutoWithoutTrampolinesGoesStraightToKprobe) {
  EXPECT_THAT(order(kprobe(), kernel(false, true)), ElementsAre(VG_MECH_KPROBE));
  EXPECT_THAT(order(kprobe(false, true), kernel(false, true)), ElementsAre(VG_MECH_KRETPROBE));
}

TEST(Mechanism, AutoWithoutKprobesHasNoFallback) {
  EXPECT_THAT(order(kprobe(), kernel(true, false)), ElementsAre(VG_MECH_FENTRY));
}

TEST(Mechanism, ForcedModes) {
  EXPECT_THAT(order(kprobe(), kernel(true, true, KprobeMode::kKprobe)), ElementsAre(VG_MECH_KPROBE));
  EXPECT_THAT(order(kprobe(false, true), kernel(true, true, KprobeMode::kKprobe)),
              ElementsAre(VG_MECH_KRETPROBE));
  EXPECT_THAT(order(kprobe(), kernel(true, true, KprobeMode::kFentry)), ElementsAre(VG_MECH_FENTRY));
  EXPECT_THAT(refusal(kprobe(), kernel(true, false, KprobeMode::kKprobe)),
              HasSubstr("--kprobe-mechanism kprobe, and kprobes are unavailable (no kprobe PMU"));
  EXPECT_THAT(refusal(kprobe(), kernel(false, true, KprobeMode::kFentry)),
              HasSubstr("--kprobe-mechanism fentry, and fentry is refused (fentry/security_file_open"));
}

// The development host: trampolines refused and no kprobes; the error says both.
TEST(Mechanism, NeitherMechanismSaysBoth) {
  std::string why = refusal(kprobe(), kernel(false, false));
  EXPECT_THAT(why, HasSubstr("p.yaml:12:5: kprobe/sys_getpgid: this kernel allows neither mechanism"));
  EXPECT_THAT(why, HasSubstr("fentry refused (fentry/security_file_open program refused: EPERM)"));
  EXPECT_THAT(why, HasSubstr("kprobe unavailable (no kprobe PMU (CONFIG_KPROBES off?))"));
  EXPECT_THAT(refusal(kprobe(false, true), kernel(false, false)),
              HasSubstr("fexit refused (fentry/security_file_open program refused: EPERM) and "
                        "kretprobe unavailable"));
}

// Override needs fmod_ret: never a kprobe, never downgraded to observing.
TEST(Mechanism, OverrideIsFmodRetOnly) {
  EXPECT_THAT(order(kprobe(true), kernel(true, true)), ElementsAre(VG_MECH_FMOD_RET));
  std::string why = refusal(kprobe(true), kernel(false, true));
  EXPECT_THAT(why, HasSubstr("kprobe/sys_getpgid: Override needs fmod_ret, which this kernel refuses"));
  EXPECT_THAT(why, HasSubstr("CONFIG_BPF_KPROBE_OVERRIDE"));
  EXPECT_THAT(why, HasSubstr("use Sigkill"));
  EXPECT_THAT(refusal(kprobe(true), kernel(true, true, KprobeMode::kKprobe)),
              HasSubstr("Override needs fmod_ret, and --kprobe-mechanism kprobe forbids trampolines"));
}

TEST(Mechanism, LsmHooksNeverUseKprobes) {
  compiler::HookSpec s;
  s.kind = policy::HookKind::kLsm;
  s.name = "file_permission";
  s.function = "security_file_permission";
  MechanismInputs in = kernel(true, true);
  in.lsm = HookMechanism::kLsm;
  EXPECT_THAT(order(s, in), ElementsAre(VG_MECH_LSM));
  in.lsm = HookMechanism::kFmodRet;
  EXPECT_THAT(order(s, in), ElementsAre(VG_MECH_FMOD_RET));
  EXPECT_THAT(refusal(s, kernel(false, true)), HasSubstr("lsm/file_permission: this kernel refuses"));
}

// The same decision on a policy's hook, before compiling (startup refusal).
TEST(Mechanism, HookRefusalFollowsTheActions) {
  policy::Hook h;
  h.kind = policy::HookKind::kKprobe;
  h.hook = "sys_getpgid";
  policy::Selector sel;
  sel.match_actions.push_back({policy::ActionKind::kSigkill});
  h.selectors.push_back(sel);
  EXPECT_EQ(hookRefusal(h, kernel(false, true), ""), "");  // a kprobe kills
  h.selectors[0].match_actions.push_back({policy::ActionKind::kOverride});
  EXPECT_THAT(hookRefusal(h, kernel(false, true), ""),
              HasSubstr("kprobe/sys_getpgid: Override needs fmod_ret"));
  EXPECT_EQ(hookRefusal(h, kernel(true, true), ""), "");
  h.kind = policy::HookKind::kLsm;
  h.hook = "file_open";
  EXPECT_THAT(hookRefusal(h, kernel(false, true), "BPF LSM not active"),
              HasSubstr("lsm/file_open: this kernel refuses the programs lsmhooks attach with "
                        "(BPF LSM, fmod_ret): BPF LSM not active"));
}

TEST(Mechanism, ParseAndNames) {
  EXPECT_EQ(*parseKprobeMode("auto"), KprobeMode::kAuto);
  EXPECT_EQ(*parseKprobeMode("kprobe"), KprobeMode::kKprobe);
  EXPECT_EQ(*parseKprobeMode("fentry"), KprobeMode::kFentry);
  EXPECT_THAT(std::string(parseKprobeMode("kretprobe").status().message()),
              HasSubstr("wants auto, fentry or kprobe, got 'kretprobe'"));
  EXPECT_STREQ(mechanismName(VG_MECH_KRETPROBE), "kretprobe");
  EXPECT_STREQ(mechanismSection(VG_MECH_LSM), "lsm");
  EXPECT_TRUE(isKprobeMechanism(VG_MECH_KPROBE));
  EXPECT_FALSE(isKprobeMechanism(VG_MECH_FEXIT));
}

}  // namespace
}  // namespace vigil::loader
