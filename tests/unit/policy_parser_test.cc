// Unit tests of the TracingPolicy parser: every supported construct, and every
// error with its exact FILE:LINE:COL text, so that a position that drifts fails.
#include "daemon/policy/policy_parser.h"
#include "vigil/abi/abi.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace vigil::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kFile[] = "p.yaml";

ParseResult parse(std::string_view yaml) { return parsePolicyString(yaml, kFile); }

std::vector<std::string> strs(const std::vector<Diagnostic>& diags) {
  std::vector<std::string> out;
  for (const auto& d : diags) out.push_back(d.str());
  return out;
}
std::vector<std::string> errors(const ParseResult& r) { return strs(r.errors); }
std::vector<std::string> warnings(const ParseResult& r) { return strs(r.warnings); }

// Lines 1-6 of most policies below; lsmhooks items start on line 7.
const std::string kHead =
    "apiVersion: cilium.io/v1alpha1\n"  // 1
    "kind: TracingPolicy\n"             // 2
    "metadata:\n"                       // 3
    "  name: test-policy\n"             // 4
    "spec:\n"                           // 5
    "  lsmhooks:\n";                    // 6

// A file_open hook whose selectors start on line 12 ("    - ..." at column 5).
const std::string kFileOpen = kHead +
                              "  - hook: file_open\n"  // 7
                              "    args:\n"            // 8
                              "    - index: 0\n"       // 9
                              "      type: file\n"     // 10
                              "    selectors:\n";      // 11

// Expects one error and no policy.
void expectError(const std::string& yaml, const std::string& error) {
  SCOPED_TRACE(yaml);
  ParseResult r = parse(yaml);
  EXPECT_THAT(errors(r), ElementsAre(error));
  EXPECT_FALSE(r.policy.has_value());
}

// ---- positive ------------------------------------------------------------------

TEST(PolicyParserTest, FullFileOpenPolicy) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"                 // 1
      "kind: TracingPolicy\n"                            // 2
      "metadata:\n"                                      // 3
      "  name: block-secrets.v1\n"                       // 4
      "spec:\n"                                          // 5
      "  options:\n"                                     // 6
      "  - name: policy-mode\n"                          // 7
      "    value: monitor\n"                             // 8
      "  lsmhooks:\n"                                    // 9
      "  - hook: \"file_open\"\n"                        // 10
      "    message: \"secret file opened\"\n"            // 11
      "    tags: [\"observability.filesystem\", pci]\n"  // 12
      "    args:\n"                                      // 13
      "    - index: 0\n"                                 // 14
      "      type: \"file\"\n"                           // 15
      "      label: path\n"                              // 16
      "    selectors:\n"                                 // 17
      "    - matchArgs:\n"                               // 18
      "      - index: 0\n"                               // 19
      "        operator: Equal\n"                        // 20
      "        values:\n"                                // 21
      "        - /etc/shadow\n"                          // 22
      "        - \"/etc/gshadow\"\n"                     // 23
      "      - index: 0\n"                               // 24
      "        operator: Prefix\n"                       // 25
      "        values: [/etc/]\n"                        // 26
      "      matchBinaries:\n"                           // 27
      "      - operator: In\n"                           // 28
      "        values: [/usr/bin/cat, /usr/bin/less]\n"  // 29
      "      matchActions:\n"                            // 30
      "      - action: Override\n"                       // 31
      "        argError: -13\n"                          // 32
      "    - matchArgs:\n"                               // 33
      "      - index: 0\n"                               // 34
      "        operator: Postfix\n"                      // 35
      "        values: [id_rsa, .pem]\n"                 // 36
      "      matchActions:\n"                            // 37
      "      - action: Sigkill\n"                        // 38
      "    - matchActions:\n"                            // 39
      "      - action: Post\n");                         // 40
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r), IsEmpty());
  ASSERT_TRUE(r.ok());
  const Policy& p = *r.policy;
  EXPECT_EQ(p.name, "block-secrets.v1");
  EXPECT_EQ(p.file, kFile);
  EXPECT_EQ(p.pos.str(), "p.yaml:1:1");
  ASSERT_TRUE(p.mode.has_value());
  EXPECT_EQ(*p.mode, Mode::kMonitor);
  EXPECT_EQ(p.effectiveMode(), Mode::kMonitor);
  ASSERT_EQ(p.hooks.size(), 1u);
  const LsmHook& h = p.hooks[0];
  EXPECT_EQ(h.hook, "file_open");
  EXPECT_EQ(h.pos.str(), "p.yaml:10:5");
  EXPECT_EQ(h.message, "secret file opened");
  EXPECT_THAT(h.tags, ElementsAre("observability.filesystem", "pci"));
  ASSERT_EQ(h.args.size(), 1u);
  EXPECT_EQ(h.args[0].index, 0);
  EXPECT_EQ(h.args[0].type, "file");
  EXPECT_EQ(h.args[0].label, "path");
  EXPECT_EQ(h.args[0].pos.str(), "p.yaml:14:7");
  ASSERT_EQ(h.selectors.size(), 3u);

  const Selector& s0 = h.selectors[0];
  EXPECT_EQ(s0.pos.str(), "p.yaml:18:7");
  ASSERT_EQ(s0.match_args.size(), 2u);
  EXPECT_EQ(s0.match_args[0].index, 0);
  EXPECT_EQ(s0.match_args[0].op, StrOp::kEqual);
  EXPECT_THAT(s0.match_args[0].values, ElementsAre("/etc/shadow", "/etc/gshadow"));
  EXPECT_EQ(s0.match_args[0].pos.str(), "p.yaml:19:9");
  EXPECT_EQ(s0.match_args[1].op, StrOp::kPrefix);
  EXPECT_THAT(s0.match_args[1].values, ElementsAre("/etc/"));
  EXPECT_EQ(s0.match_args[1].pos.str(), "p.yaml:24:9");
  ASSERT_EQ(s0.match_binaries.size(), 1u);
  EXPECT_EQ(s0.match_binaries[0].op, BinOp::kIn);
  EXPECT_THAT(s0.match_binaries[0].values, ElementsAre("/usr/bin/cat", "/usr/bin/less"));
  EXPECT_EQ(s0.match_binaries[0].pos.str(), "p.yaml:28:9");
  ASSERT_EQ(s0.match_actions.size(), 1u);
  EXPECT_EQ(s0.match_actions[0].kind, ActionKind::kOverride);
  EXPECT_EQ(s0.match_actions[0].arg_error, -13);
  EXPECT_EQ(s0.match_actions[0].pos.str(), "p.yaml:31:9");

  const Selector& s1 = h.selectors[1];
  EXPECT_EQ(s1.pos.str(), "p.yaml:33:7");
  ASSERT_EQ(s1.match_args.size(), 1u);
  EXPECT_EQ(s1.match_args[0].op, StrOp::kPostfix);
  EXPECT_THAT(s1.match_args[0].values, ElementsAre("id_rsa", ".pem"));
  EXPECT_THAT(s1.match_binaries, IsEmpty());
  ASSERT_EQ(s1.match_actions.size(), 1u);
  EXPECT_EQ(s1.match_actions[0].kind, ActionKind::kSigkill);
  EXPECT_EQ(s1.match_actions[0].arg_error, 0);

  const Selector& s2 = h.selectors[2];
  EXPECT_THAT(s2.match_args, IsEmpty());
  ASSERT_EQ(s2.match_actions.size(), 1u);
  EXPECT_EQ(s2.match_actions[0].kind, ActionKind::kPost);
}

TEST(PolicyParserTest, BprmCheckSecurityEnforce) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"
      "kind: TracingPolicy\n"
      "metadata:\n"
      "  name: no-exec\n"
      "spec:\n"
      "  options:\n"
      "  - name: policy-mode\n"
      "    value: enforce\n"
      "  lsmhooks:\n"
      "  - hook: bprm_check_security\n"
      "    args:\n"
      "    - index: 0\n"
      "      type: linux_binprm\n"
      "    selectors:\n"
      "    - matchArgs:\n"
      "      - index: 0\n"
      "        operator: Prefix\n"
      "        values: [/tmp/, /dev/shm/]\n"
      "      matchActions:\n"
      "      - action: Override\n"
      "        argError: -1\n");
  ASSERT_THAT(errors(r), IsEmpty());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.policy->mode, Mode::kEnforce);
  const LsmHook& h = r.policy->hooks.at(0);
  EXPECT_EQ(h.hook, "bprm_check_security");
  EXPECT_EQ(h.args.at(0).type, "linux_binprm");
  EXPECT_EQ(h.selectors.at(0).match_args.at(0).op, StrOp::kPrefix);
  EXPECT_THAT(h.selectors.at(0).match_args.at(0).values, ElementsAre("/tmp/", "/dev/shm/"));
  EXPECT_EQ(h.selectors.at(0).match_actions.at(0).arg_error, -1);
}

TEST(PolicyParserTest, DefaultsModeUnsetMeansEnforce) {
  ParseResult r = parse(kFileOpen + "    - matchActions: [{action: Post}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_FALSE(r.policy->mode.has_value());
  EXPECT_EQ(r.policy->effectiveMode(), Mode::kEnforce);
}

TEST(PolicyParserTest, EmptySelectorMatchesEverything) {
  ParseResult r = parse(kFileOpen + "    - {}\n");
  ASSERT_THAT(errors(r), IsEmpty());
  const Selector& s = r.policy->hooks.at(0).selectors.at(0);
  EXPECT_THAT(s.match_args, IsEmpty());
  EXPECT_THAT(s.match_binaries, IsEmpty());
  EXPECT_THAT(s.match_actions, IsEmpty());  // means Post
  EXPECT_EQ(s.pos.str(), "p.yaml:12:7");
}

TEST(PolicyParserTest, ArgsAreOptionalWhenNoMatchArgs) {
  ParseResult r = parse(kHead +
                        "  - hook: file_open\n"
                        "    selectors:\n"
                        "    - matchBinaries: [{operator: In, values: [/usr/bin/cat]}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(r.policy->hooks.at(0).args, IsEmpty());
}

TEST(PolicyParserTest, SeveralHooksAndSeveralActions) {
  ParseResult r = parse(kFileOpen +
                        "    - matchActions:\n"
                        "      - action: Post\n"
                        "      - action: Override\n"
                        "        argError: -4095\n"
                        "  - hook: bprm_check_security\n"
                        "    selectors: [{}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  ASSERT_EQ(r.policy->hooks.size(), 2u);
  const auto& actions = r.policy->hooks[0].selectors.at(0).match_actions;
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].kind, ActionKind::kPost);
  EXPECT_EQ(actions[1].kind, ActionKind::kOverride);
  EXPECT_EQ(actions[1].arg_error, -4095);
  EXPECT_EQ(r.policy->hooks[1].hook, "bprm_check_security");
  EXPECT_EQ(r.policy->hooks[1].pos.str(), "p.yaml:16:5");
}

TEST(PolicyParserTest, SelectorBehindAFilterlessOneIsUnreachable) {
  // A broad Post selector first: the Override after it never applies.
  ParseResult r = parse(kFileOpen +
                        "    - matchActions: [{action: Post}]\n"                    // 12
                        "    - matchArgs: [{index: 0, operator: Equal, values: [/etc/shadow]}]\n"  // 13
                        "      matchActions: [{action: Override, argError: -1}]\n"  // 14
                        "    - matchActions: [{action: Sigkill}]\n");               // 15
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r),
              ElementsAre("p.yaml:13:7: selector 2 of lsm/file_open is unreachable: selector 1 (line 12) has no "
                          "filters and matches every call first (the first matching selector wins), so its "
                          "Override action never applies; move it before selector 1 or give that one filters",
                          "p.yaml:15:7: selector 3 of lsm/file_open is unreachable: selector 1 (line 12) has no "
                          "filters and matches every call first (the first matching selector wins), so its "
                          "Sigkill action never applies; move it before selector 1 or give that one filters"));
  // The other way round is fine: filtered first, broad last.
  r = parse(kFileOpen +
            "    - matchArgs: [{index: 0, operator: Equal, values: [/etc/shadow]}]\n"
            "      matchActions: [{action: Override, argError: -1}]\n"
            "    - matchActions: [{action: Post}]\n");
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r), IsEmpty());
}

TEST(PolicyParserTest, MetadataLabelsAndAnnotationsAccepted) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"
      "kind: TracingPolicy\n"
      "metadata:\n"
      "  name: test-policy\n"
      "  labels: {team: sec}\n"
      "  annotations:\n"
      "    description: \"blocks things\"\n"
      "spec:\n"
      "  lsmhooks:\n"
      "  - hook: file_open\n"
      "    selectors: [{}]\n");
  EXPECT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r), IsEmpty());
  EXPECT_TRUE(r.ok());
}

TEST(PolicyParserTest, ServerSideMetadataIsIgnoredWithWarning) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"
      "kind: TracingPolicy\n"
      "metadata:\n"
      "  name: test-policy\n"
      "  namespace: default\n"
      "  resourceVersion: \"42\"\n"
      "spec:\n"
      "  lsmhooks:\n"
      "  - hook: file_open\n"
      "    selectors: [{}]\n");
  EXPECT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r), ElementsAre("p.yaml:5:3: metadata.namespace: ignored by Vigil",
                                       "p.yaml:6:3: metadata.resourceVersion: ignored by Vigil"));
  EXPECT_TRUE(r.ok());
}

TEST(PolicyParserTest, UnknownOptionIsAWarning) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"
      "kind: TracingPolicy\n"
      "metadata:\n"
      "  name: test-policy\n"
      "spec:\n"
      "  options:\n"
      "  - name: disable-kprobe-multi\n"
      "    value: \"1\"\n"
      "  lsmhooks:\n"
      "  - hook: file_open\n"
      "    selectors: [{}]\n");
  EXPECT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r),
              ElementsAre("p.yaml:7:11: spec.options[0].name: option \"disable-kprobe-multi\" is "
                          "ignored by Vigil (it only implements policy-mode)"));
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.policy->mode.has_value());
}

TEST(PolicyParserTest, EmptyDocumentsAroundThePolicyAreAccepted) {
  ParseResult r = parse("---\n" + kFileOpen + "    - {}\n---\n");
  EXPECT_THAT(errors(r), IsEmpty());
  EXPECT_TRUE(r.ok());
}

TEST(PolicyParserTest, DuplicateAndNonCanonicalValuesWarn) {
  ParseResult r = parse(kFileOpen +
                        "    - matchArgs:\n"                       // 12
                        "      - index: 0\n"                       // 13
                        "        operator: Equal\n"                // 14
                        "        values:\n"                        // 15
                        "        - /etc/passwd\n"                  // 16
                        "        - /etc/passwd\n"                  // 17
                        "        - /etc//shadow\n"                 // 18
                        "        - /etc/ssh/\n"                    // 19
                        "        - /etc/../etc/hosts\n"            // 20
                        "        - /\n"                            // 21
                        "      - index: 0\n"                       // 22
                        "        operator: Prefix\n"               // 23
                        "        values: [/etc/, /home/., //x]\n"  // 24
                        "      - index: 0\n"                       // 25
                        "        operator: Postfix\n"              // 26
                        "        values: [/.ssh/, //]\n");         // 27
  EXPECT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(
      warnings(r),
      ElementsAre(
          "p.yaml:17:11: spec.lsmhooks[0].selectors[0].matchArgs[0].values[1]: duplicate value "
          "\"/etc/passwd\" (first at line 16, column 11)",
          "p.yaml:18:11: spec.lsmhooks[0].selectors[0].matchArgs[0].values[2]: \"/etc//shadow\" "
          "is not a canonical path; the kernel reports canonical paths, so this value never "
          "matches",
          "p.yaml:19:11: spec.lsmhooks[0].selectors[0].matchArgs[0].values[3]: \"/etc/ssh/\" is "
          "not a canonical path; the kernel reports canonical paths, so this value never matches",
          "p.yaml:20:11: spec.lsmhooks[0].selectors[0].matchArgs[0].values[4]: "
          "\"/etc/../etc/hosts\" is not a canonical path; the kernel reports canonical paths, so "
          "this value never matches",
          "p.yaml:24:34: spec.lsmhooks[0].selectors[0].matchArgs[1].values[2]: \"//x\" is not a "
          "canonical path; the kernel reports canonical paths, so this value never matches",
          "p.yaml:27:26: spec.lsmhooks[0].selectors[0].matchArgs[2].values[1]: \"//\" is not a "
          "canonical path; the kernel reports canonical paths, so this value never matches"));
  ASSERT_TRUE(r.ok());
  // Duplicates are dropped; the rest is kept as written.
  EXPECT_THAT(r.policy->hooks[0].selectors[0].match_args[0].values,
              ElementsAre("/etc/passwd", "/etc//shadow", "/etc/ssh/", "/etc/../etc/hosts", "/"));
}

TEST(PolicyParserTest, ValueOfMaximumLengthIsAccepted) {
  const std::string path = "/" + std::string(4094, 'a');
  ParseResult r =
      parse(kFileOpen + "    - matchArgs: [{index: 0, operator: Equal, values: [" + path + "]}]\n");
  EXPECT_THAT(errors(r), IsEmpty());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.policy->hooks[0].selectors[0].match_args[0].values[0].size(), 4095u);
}

TEST(PolicyParserTest, TenThousandValuesParseFast) {
  std::string yaml = kFileOpen +
                     "    - matchArgs:\n"
                     "      - index: 0\n"
                     "        operator: Prefix\n"
                     "        values:\n";
  for (int i = 0; i < 10000; i++) yaml += "        - /var/lib/app-" + std::to_string(i) + "/\n";
  yaml += "      matchBinaries:\n      - operator: In\n        values:\n";
  for (int i = 0; i < 10000; i++) yaml += "        - /opt/bin/tool-" + std::to_string(i) + "\n";
  const auto start = std::chrono::steady_clock::now();
  ParseResult r = parse(yaml);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r), IsEmpty());
  const Selector& s = r.policy->hooks.at(0).selectors.at(0);
  ASSERT_EQ(s.match_args.at(0).values.size(), 10000u);
  EXPECT_EQ(s.match_args[0].values[9999], "/var/lib/app-9999/");
  ASSERT_EQ(s.match_binaries.at(0).values.size(), 10000u);
  // Generous bound (sanitizers, slow CI): the point is no quadratic behaviour.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 5000);
}

// ---- document-level errors -----------------------------------------------------

TEST(PolicyParserTest, YamlSyntaxErrors) {
  expectError(kHead + "  - hook: [file_open\n",
              "p.yaml:8:1: YAML syntax error: end of sequence flow not found");
  expectError("apiVersion: cilium.io/v1alpha1\n kind: TracingPolicy\n",
              "p.yaml:2:6: YAML syntax error: illegal map value");
  expectError("metadata:\n  name: &a x\n  other: *b\n",
              "p.yaml:3:10: YAML syntax error: the referenced anchor is not defined");
}

TEST(PolicyParserTest, EmptyFile) {
  expectError("",
              "p.yaml:1:1: empty file; expected a TracingPolicy (apiVersion, kind, metadata, "
              "spec)");
  expectError("# just a comment\n\n",
              "p.yaml:1:1: empty file; expected a TracingPolicy (apiVersion, kind, metadata, "
              "spec)");
  expectError("---\n",
              "p.yaml:1:1: empty file; expected a TracingPolicy (apiVersion, kind, metadata, "
              "spec)");
}

TEST(PolicyParserTest, FileIsNotAMap) {
  expectError("- apiVersion: cilium.io/v1alpha1\n- kind: TracingPolicy\n",
              "p.yaml:1:1: expected a TracingPolicy map (apiVersion, kind, metadata, spec), got "
              "a list");
  expectError("hello\n",
              "p.yaml:1:1: expected a TracingPolicy map (apiVersion, kind, metadata, spec), got "
              "the string \"hello\"");
}

TEST(PolicyParserTest, SeveralDocuments) {
  expectError(kFileOpen + "    - {}\n---\n" + kFileOpen + "    - {}\n",
              "p.yaml:14:1: found 2 YAML documents; a policy file holds exactly one "
              "TracingPolicy");
}

TEST(PolicyParserTest, MissingTopLevelFieldsAreAllReported) {
  ParseResult r = parse("apiVersion: cilium.io/v1alpha1\n");
  EXPECT_THAT(errors(r), ElementsAre("p.yaml:1:1: missing required field \"kind\"",
                                     "p.yaml:1:1: missing required field \"metadata\"",
                                     "p.yaml:1:1: missing required field \"spec\""));
  EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyParserTest, ApiVersionAndKind) {
  expectError(
      "apiVersion: cilium.io/v1\nkind: TracingPolicy\nmetadata: {name: a}\n"
      "spec: {lsmhooks: [{hook: file_open, selectors: [{}]}]}\n",
      "p.yaml:1:13: apiVersion: unsupported apiVersion \"cilium.io/v1\"; expected "
      "cilium.io/v1alpha1");
  expectError(
      "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\nmetadata: {name: a}\n"
      "spec: {lsmhooks: [{hook: file_open, selectors: [{}]}]}\n",
      "p.yaml:2:7: kind: TracingPolicyNamespaced: namespaced policies are not supported "
      "yet; use kind TracingPolicy");
  expectError(
      "apiVersion: cilium.io/v1alpha1\nkind: CiliumNetworkPolicy\nmetadata: {name: a}\n"
      "spec: {lsmhooks: [{hook: file_open, selectors: [{}]}]}\n",
      "p.yaml:2:7: kind: unsupported kind \"CiliumNetworkPolicy\"; expected TracingPolicy");
  expectError(
      "apiVersion: [cilium.io/v1alpha1]\nkind: TracingPolicy\nmetadata: {name: a}\n"
      "spec: {lsmhooks: [{hook: file_open, selectors: [{}]}]}\n",
      "p.yaml:1:13: apiVersion: expected a string, got a list");
}

TEST(PolicyParserTest, MetadataName) {
  const std::string tail = "spec: {lsmhooks: [{hook: file_open, selectors: [{}]}]}\n";
  const std::string head = "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\n";
  expectError(head + "metadata: {}\n" + tail,
              "p.yaml:3:11: metadata: missing required field \"name\"");
  expectError(head + "metadata:\n  labels: {a: b}\n" + tail,
              "p.yaml:4:3: metadata: missing required field \"name\"");
  expectError(head + "metadata:\n  name: \"\"\n" + tail,
              "p.yaml:4:9: metadata.name: invalid name \"\"; use lowercase letters, digits, '-' "
              "and '.', starting and ending with a letter or digit (at most 253 characters)");
  expectError(head + "metadata:\n  name: Block_Exec\n" + tail,
              "p.yaml:4:9: metadata.name: invalid name \"Block_Exec\"; use lowercase letters, "
              "digits, '-' and '.', starting and ending with a letter or digit (at most 253 "
              "characters)");
  expectError(head + "metadata:\n  name: -x\n" + tail,
              "p.yaml:4:9: metadata.name: invalid name \"-x\"; use lowercase letters, digits, '-' "
              "and '.', starting and ending with a letter or digit (at most 253 characters)");
  expectError(head + "metadata:\n  name:\n" + tail,
              "p.yaml:4:3: metadata.name: expected a string, got null");
  expectError(head + "metadata:\n" + tail, "p.yaml:3:1: metadata: expected a map, got null");
  expectError(head + "metadata: [a]\n" + tail, "p.yaml:3:11: metadata: expected a map, got a list");
  expectError(head + "metadata:\n  name: a\n  labels: [x]\n" + tail,
              "p.yaml:5:11: metadata.labels: expected a map, got a list");
}

TEST(PolicyParserTest, UnknownAndMisspelledFields) {
  expectError(
      "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: a}\n"
      "status: {}\n"
      "spec: {lsmhooks: [{hook: file_open, selectors: [{}]}]}\n",
      "p.yaml:4:1: status: unknown field; supported top-level fields: apiVersion, kind, "
      "metadata, spec");
  expectError(
      "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: a}\n"
      "spec:\n  lsmHooks: [{hook: file_open, selectors: [{}]}]\n",
      "p.yaml:5:3: spec.lsmHooks: unknown field (did you mean \"lsmhooks\"?); supported "
      "fields of spec: lsmhooks, kprobes, tracepoints, uprobes, options, lists, enforcers");
  expectError(kFileOpen + "    - matchargs: []\n",
              "p.yaml:12:7: spec.lsmhooks[0].selectors[0].matchargs: unknown field (did you mean "
              "\"matchArgs\"?); supported selectors: matchArgs, matchReturnArgs, matchBinaries, matchPIDs, matchNamespaces, matchCapabilities, matchActions, matchParentBinaries, matchCapabilityChanges, matchNamespaceChanges");
  expectError(kFileOpen + "    - matchpids: []\n",
              "p.yaml:12:7: spec.lsmhooks[0].selectors[0].matchpids: unknown field (did you mean "
              "\"matchPIDs\"?); supported selectors: matchArgs, matchReturnArgs, matchBinaries, matchPIDs, matchNamespaces, matchCapabilities, matchActions, matchParentBinaries, matchCapabilityChanges, matchNamespaceChanges");
  expectError(kHead + "  - hook: file_open\n    call: security_file_open\n    selectors: [{}]\n",
              "p.yaml:8:5: spec.lsmhooks[0].call: unknown field; supported fields of an lsmhook: "
              "hook, args, selectors, message, tags");
}

TEST(PolicyParserTest, DuplicateKeys) {
  expectError(kHead + "  - hook: file_open\n    hook: bprm_check_security\n    selectors: [{}]\n",
              "p.yaml:8:5: spec.lsmhooks[0].hook: duplicate key (first at line 7, column 5)");
  expectError(
      kFileOpen + "    - matchArgs: [{index: 0, operator: Equal, values: [/a], values: [/b]}]\n",
      "p.yaml:12:61: spec.lsmhooks[0].selectors[0].matchArgs[0].values: duplicate key "
      "(first at line 12, column 47)");
}

// ---- spec ------------------------------------------------------------------------

TEST(PolicyParserTest, UnsupportedSpecSections) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"  // 1
      "kind: TracingPolicy\n"             // 2
      "metadata:\n"                       // 3
      "  name: test-policy\n"             // 4
      "spec:\n"                           // 5
      "  podSelector:\n"                  // 6
      "    matchLabels: {app: x}\n"       // 7
      "  containerSelector: {}\n"         // 8
      "  # lists, enforcers and\n"         // 9
      "  # tracepoints are supported\n"    // 10
      "  #\n"                             // 11
      "  uprobes: []\n"                   // 12
      "  usdts: []\n"                     // 13
      "  loader: true\n"                  // 14
      "  kprobes:\n"                      // 15
      "  - call: security_file_open\n"    // 16
      "    syscall: false\n"              // 17
      "  - call: fd_install\n"            // 18
      "  lsmhooks:\n"                     // 19
      "  - hook: file_open\n"             // 20
      "    selectors: [{}]\n");           // 21
  const std::string supported =
      "not supported yet; supported fields of spec: lsmhooks, kprobes, tracepoints, uprobes, "
      "options, lists, enforcers";
  EXPECT_THAT(
      errors(r),
      ElementsAre(
          "p.yaml:6:3: spec.podSelector: " + supported,
          "p.yaml:8:3: spec.containerSelector: " + supported,
          "p.yaml:13:3: spec.usdts: " + supported, "p.yaml:14:3: spec.loader: " + supported));
  EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyParserTest, SpecWithoutHooks) {
  const std::string head =
      "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: a}\n";
  expectError(head + "spec: {}\n",
              "p.yaml:4:7: spec: no lsmhooks, kprobes, tracepoints or uprobes: the policy does nothing");
  expectError(head + "spec:\n  lsmhooks: []\n",
              "p.yaml:5:13: spec.lsmhooks: empty: the policy does nothing");
  expectError(head + "spec:\n  lsmhooks:\n    hook: file_open\n",
              "p.yaml:6:5: spec.lsmhooks: expected a list, got a map");
  expectError(head + "spec: lsmhooks\n",
              "p.yaml:4:7: spec: expected a map, got the string "
              "\"lsmhooks\"");
}

TEST(PolicyParserTest, PolicyModeOption) {
  const std::string head =
      "apiVersion: cilium.io/v1alpha1\n"                    // 1
      "kind: TracingPolicy\n"                               // 2
      "metadata: {name: a}\n"                               // 3
      "spec:\n"                                             // 4
      "  lsmhooks: [{hook: file_open, selectors: [{}]}]\n"  // 5
      "  options:\n";                                       // 6
  expectError(head + "  - name: policy-mode\n    value: audit\n",
              "p.yaml:8:12: spec.options[0].value: invalid policy-mode \"audit\"; supported: "
              "enforce, monitor");
  expectError(head + "  - name: policy-mode\n    value: Monitor\n",
              "p.yaml:8:12: spec.options[0].value: invalid policy-mode \"Monitor\"; supported: "
              "enforce, monitor");
  expectError(head + "  - name: policy-mode\n",
              "p.yaml:7:5: spec.options[0]: missing required field \"value\"");
  expectError(head +
                  "  - name: policy-mode\n    value: monitor\n  - name: policy-mode\n"
                  "    value: enforce\n",
              "p.yaml:9:11: spec.options[1].name: policy-mode is set twice (first at line 7, "
              "column 11)");
  expectError(head + "  - policy-mode\n",
              "p.yaml:7:5: spec.options[0]: expected a map, got the string \"policy-mode\"");
  expectError(head + "    policy-mode: monitor\n",
              "p.yaml:7:5: spec.options: expected a list, got a map");
  expectError(head + "  - name: policy-mode\n    value: monitor\n    mode: x\n",
              "p.yaml:9:5: spec.options[0].mode: unknown field; supported fields of an option: "
              "name, value");
}

// ---- lsmhooks ----------------------------------------------------------------------

// Every LSM hook Vigil attaches to, as the parser lists them.
const std::string kSupportedHooks =
    "supported: bprm_check_security, file_open, file_permission, mmap_file, file_mprotect, "
    "path_unlink, path_rmdir, path_mkdir, path_rename, path_link, path_symlink, path_chmod, "
    "path_chown, path_truncate, socket_create, socket_connect, socket_bind, socket_listen, "
    "task_kill, ptrace_access_check, capable, kernel_module_request, kernel_read_file, sb_mount, "
    "bpf (or write it as a kprobe)";

TEST(PolicyParserTest, UnsupportedHook) {
  expectError(kHead + "  - hook: inode_mkdir\n    selectors: [{}]\n",
              "p.yaml:7:11: spec.lsmhooks[0].hook: hook \"inode_mkdir\" is not supported yet; " +
                  kSupportedHooks);
  expectError(kHead + "  - hook: security_file_open\n    selectors: [{}]\n",
              "p.yaml:7:11: spec.lsmhooks[0].hook: hook \"security_file_open\" is not supported "
              "yet (did you mean \"file_open\"?); " + kSupportedHooks);
  expectError(kHead + "  - hook: security_bprm_check\n    selectors: [{}]\n",
              "p.yaml:7:11: spec.lsmhooks[0].hook: hook \"security_bprm_check\" is not supported "
              "yet (did you mean \"bprm_check_security\"?); " + kSupportedHooks);
  expectError(kHead + "  - hook: File_Open\n    selectors: [{}]\n",
              "p.yaml:7:11: spec.lsmhooks[0].hook: hook \"File_Open\" is not supported yet (did "
              "you mean \"file_open\"?); " + kSupportedHooks);
}

TEST(PolicyParserTest, HookFieldErrors) {
  expectError(kHead + "  - selectors: [{}]\n",
              "p.yaml:7:5: spec.lsmhooks[0]: missing required field \"hook\"");
  expectError(kHead + "  - hook: [file_open]\n    selectors: [{}]\n",
              "p.yaml:7:11: spec.lsmhooks[0].hook: expected a string, got a list");
  expectError(kHead + "  - file_open\n",
              "p.yaml:7:5: spec.lsmhooks[0]: expected a map, got the "
              "string \"file_open\"");
  expectError(kHead + "  - hook: file_open\n    message: {a: b}\n    selectors: [{}]\n",
              "p.yaml:8:14: spec.lsmhooks[0].message: expected a string, got a map");
  expectError(kHead + "  - hook: file_open\n    tags: security\n    selectors: [{}]\n",
              "p.yaml:8:11: spec.lsmhooks[0].tags: expected a list, got the string \"security\"");
  expectError(kHead + "  - hook: file_open\n    tags: [a, \"\"]\n    selectors: [{}]\n",
              "p.yaml:8:15: spec.lsmhooks[0].tags[1]: expected a non-empty string, got the "
              "string \"\"");
}

TEST(PolicyParserTest, HookWithoutSelectorsPostsEveryCall) {
  for (const std::string& tail : {std::string("  - hook: file_open\n"),
                                  std::string("  - hook: file_open\n    selectors: []\n")}) {
    ParseResult r = parse(kHead + tail);
    EXPECT_THAT(errors(r), IsEmpty());
    ASSERT_TRUE(r.policy.has_value());
    ASSERT_EQ(r.policy->hooks.at(0).selectors.size(), 1u);
    const Selector& s = r.policy->hooks[0].selectors[0];
    EXPECT_THAT(s.match_args, IsEmpty());
    EXPECT_THAT(s.match_actions, IsEmpty());  // Post
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_THAT(r.warnings[0].message, HasSubstr("no selectors: every call is posted"));
  }
  expectError(kHead + "  - hook: file_open\n    selectors:\n      matchArgs: []\n",
              "p.yaml:9:7: spec.lsmhooks[0].selectors: expected a list, got a map");
}

TEST(PolicyParserTest, HookArgs) {
  const std::string hook = kHead + "  - hook: file_open\n    args:\n";  // args items on line 9
  const std::string sel = "    selectors: [{}]\n";
  expectError(hook + "    - index: 0\n      type: path\n" + sel,
              "p.yaml:10:13: spec.lsmhooks[0].args[0].type: argument 0 of hook file_open has "
              "type \"file\" (the file being opened), not \"path\"");
  expectError(
      kHead + "  - hook: bprm_check_security\n    args:\n    - index: 0\n      type: file\n" + sel,
      "p.yaml:10:13: spec.lsmhooks[0].args[0].type: argument 0 of hook "
      "bprm_check_security has type \"linux_binprm\" (the program being executed), not "
      "\"file\"");
  expectError(hook + "    - index: 1\n      type: file\n" + sel,
              "p.yaml:9:14: spec.lsmhooks[0].args[0].index: hook file_open has no argument 1; its "
              "arguments are 0: file (the file being opened)");
  expectError(hook + "    - index: \"0\"\n      type: file\n" + sel,
              "p.yaml:9:14: spec.lsmhooks[0].args[0].index: expected an integer, got the string "
              "\"0\"");
  expectError(hook + "    - index: zero\n      type: file\n" + sel,
              "p.yaml:9:14: spec.lsmhooks[0].args[0].index: expected an integer, got the string "
              "\"zero\"");
  expectError(hook + "    - index: -1\n      type: file\n" + sel,
              "p.yaml:9:14: spec.lsmhooks[0].args[0].index: integer -1 is out of range [0, "
              "4294967295]");
  expectError(hook + "    - type: file\n" + sel,
              "p.yaml:9:7: spec.lsmhooks[0].args[0]: missing required field \"index\"");
  expectError(hook + "    - index: 0\n" + sel,
              "p.yaml:9:7: spec.lsmhooks[0].args[0]: missing required field \"type\"");
  expectError(hook + "    - index: 0\n      type: file\n    - index: 0\n      type: file\n" + sel,
              "p.yaml:11:14: spec.lsmhooks[0].args[1].index: argument 0 is declared twice (first "
              "at line 9, column 14)");
  expectError(hook + "    - index: 0\n      type: file\n      resolve: f_path\n" + sel,
              "p.yaml:11:7: spec.lsmhooks[0].args[0].resolve: not supported yet; supported "
              "fields of an argument: index, type, label, sizeArgIndex, returnCopy, maxData");
  expectError(hook + "    - index: 0\n      type: file\n      label: [x]\n" + sel,
              "p.yaml:11:14: spec.lsmhooks[0].args[0].label: expected a string, got a list");
  expectError(kHead + "  - hook: file_open\n    args: {index: 0, type: file}\n" + sel,
              "p.yaml:8:11: spec.lsmhooks[0].args: expected a list, got a map");
}

// ---- selectors ---------------------------------------------------------------------

TEST(PolicyParserTest, UnsupportedSelectors) {
  ParseResult r = parse(kFileOpen +
                        "    - matchPIDs:\n"                  // 12
                        "      - operator: NotIn\n"           // 13
                        "        values: [1]\n"               // 14
                        "      matchNamespaces: []\n"         // 15
                        "      matchReturnArgs: []\n"         // 16
                        "      matchCapabilities: []\n"       // 17
                        "      matchNamespaceChanges: []\n"   // 18
                        "      matchCapabilityChanges: []\n"  // 19
                        "      matchReturnActions: []\n");    // 20
  const std::string supported =
      "not supported yet; supported selectors: matchArgs, matchReturnArgs, matchBinaries, "
      "matchPIDs, matchNamespaces, matchCapabilities, matchActions, matchParentBinaries, "
      "matchCapabilityChanges, matchNamespaceChanges";
  const std::string sel = "spec.lsmhooks[0].selectors[0].";
  EXPECT_THAT(errors(r),
              ElementsAre("p.yaml:16:7: " + sel + "matchReturnArgs: only for return probes (return: true)",
                          "p.yaml:20:7: " + sel + "matchReturnActions: " + supported));
  EXPECT_FALSE(r.policy.has_value());
}

TEST(PolicyParserTest, TaskSelectors) {
  ParseResult r = parse(kFileOpen +
                        "    - matchPIDs:\n"
                        "      - {operator: NotIn, followForks: true, isNamespacePID: true, values: [1, \"2\"]}\n"
                        "      matchNamespaces:\n"
                        "      - {namespace: Mnt, operator: In, values: [host_ns, \"4026531840\"]}\n"
                        "      matchCapabilities:\n"
                        "      - {type: Permitted, operator: In, values: [CAP_SYS_ADMIN, NET_RAW]}\n");
  EXPECT_THAT(errors(r), IsEmpty());
  ASSERT_TRUE(r.policy.has_value());
  const auto& t = r.policy->hooks[0].selectors[0].match_task;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].kind, TaskFilter::Kind::kPids);
  EXPECT_TRUE(t[0].not_in && t[0].follow_forks && t[0].namespace_pid);
  EXPECT_THAT(t[0].values, ElementsAre(1u, 2u));
  EXPECT_EQ(t[1].kind, TaskFilter::Kind::kNamespaces);
  EXPECT_EQ(t[1].which, VG_NS_MNT);
  EXPECT_TRUE(t[1].host_ns);
  EXPECT_THAT(t[1].values, ElementsAre(4026531840u));
  EXPECT_EQ(t[2].kind, TaskFilter::Kind::kCapabilities);
  EXPECT_EQ(t[2].which, 1);
  EXPECT_THAT(t[2].values, ElementsAre(21u, 13u));
  expectError(kFileOpen + "    - matchNamespaces:\n      - {namespace: Mount, operator: In, values: [1]}\n",
              "p.yaml:13:21: spec.lsmhooks[0].selectors[0].matchNamespaces[0].namespace: unknown "
              "namespace \"Mount\"; supported: Uts, Ipc, Mnt, Pid, PidForChildren, Net, Time, "
              "TimeForChildren, Cgroup, User");
  expectError(kFileOpen + "    - matchCapabilities:\n      - {operator: In, values: [CAP_FLY]}\n",
              "p.yaml:13:33: spec.lsmhooks[0].selectors[0].matchCapabilities[0].values[0]: "
              "\"CAP_FLY\" is not a capability (CAP_SYS_ADMIN, CAP_NET_RAW, ...)");
  expectError(kFileOpen + "    - matchPIDs:\n      - {operator: Equal, values: [1]}\n",
              "p.yaml:13:20: spec.lsmhooks[0].selectors[0].matchPIDs[0].operator: unknown operator "
              "\"Equal\"; supported: In, NotIn");
  expectError(kFileOpen + "    - matchPIDs:\n      - {operator: In, values: [-4]}\n",
              "p.yaml:13:33: spec.lsmhooks[0].selectors[0].matchPIDs[0].values[0]: \"-4\" is not a pid");
}

TEST(PolicyParserTest, SelectorTypeErrors) {
  expectError(kFileOpen + "    - matchArgs\n",
              "p.yaml:12:7: spec.lsmhooks[0].selectors[0]: expected a map, got the string "
              "\"matchArgs\"");
  expectError(kFileOpen + "    - matchArgs: {index: 0, operator: Equal, values: [/a]}\n",
              "p.yaml:12:18: spec.lsmhooks[0].selectors[0].matchArgs: expected a list, got a "
              "map");
  expectError(kFileOpen + "    - matchBinaries: /usr/bin/cat\n",
              "p.yaml:12:22: spec.lsmhooks[0].selectors[0].matchBinaries: expected a list, got "
              "the string \"/usr/bin/cat\"");
  expectError(kFileOpen + "    - matchActions: [Post]\n",
              "p.yaml:12:22: spec.lsmhooks[0].selectors[0].matchActions[0]: expected a map, got "
              "the string \"Post\"");
}

TEST(PolicyParserTest, MatchArgsOperators) {
  const std::string pre = kFileOpen + "    - matchArgs:\n      - index: 0\n        operator: ";
  const std::string post = "\n        values: [/etc/passwd]\n";
  const std::string path = "p.yaml:14:19: spec.lsmhooks[0].selectors[0].matchArgs[0].operator: ";
  const std::string for_files =
      "supported for file arguments: Equal, NotEqual, Prefix, NotPrefix, Postfix, NotPostfix";
  expectError(pre + "GT" + post,
              path + "operator GT does not apply to argument 0 (type file); " + for_files);
  expectError(pre + "DPort" + post,
              path + "operator DPort does not apply to argument 0 (type file); " + for_files);
  expectError(pre + "InMap" + post,
              path + "operator InMap does not apply to argument 0 (type file); " + for_files);
  expectError(pre + "FileType" + post, path + "unsupported operator \"FileType\"; " + for_files);
  expectError(pre + "Equals" + post, path + "unknown operator \"Equals\"; " + for_files);
  expectError(pre + "prefix" + post,
              path + "unknown operator \"prefix\" (did you mean \"Prefix\"?); " + for_files);
  expectError(pre + "[Equal]" + post, path + "expected a string, got a list");
}

TEST(PolicyParserTest, MatchArgsFields) {
  const std::string sel = kFileOpen + "    - matchArgs:\n";  // items on line 13
  const std::string at = "spec.lsmhooks[0].selectors[0].matchArgs[0]";
  expectError(sel + "      - operator: Equal\n        values: [/a]\n",
              "p.yaml:13:9: " + at + ": missing required field \"index\"");
  expectError(sel + "      - index: 0\n        values: [/a]\n",
              "p.yaml:13:9: " + at + ": missing required field \"operator\"");
  expectError(sel + "      - index: 0\n        operator: Equal\n",
              "p.yaml:13:9: " + at + ": missing required field \"values\"");
  expectError(sel + "      - index: 0\n        operator: Equal\n        values: []\n",
              "p.yaml:15:17: " + at + ".values: must be a non-empty list");
  expectError(sel + "      - index: 0\n        operator: Equal\n        values:\n",
              "p.yaml:15:9: " + at + ".values: must be a non-empty list");
  expectError(sel + "      - index: 0\n        operator: Equal\n        values: /etc/passwd\n",
              "p.yaml:15:17: " + at + ".values: expected a list, got the string \"/etc/passwd\"");
  expectError(sel + "      - index: 0\n        operator: Equal\n        values: [/a, {b: c}]\n",
              "p.yaml:15:22: " + at + ".values[1]: expected a string, got a map");
  expectError(sel + "      - index: 0\n        operator: Equal\n        values: [/a, ~]\n",
              "p.yaml:15:9: " + at + ".values[1]: expected a string, got null");
  expectError(sel + "      - index: 0\n        operator: Postfix\n        values: [\"\"]\n",
              "p.yaml:15:18: " + at + ".values[0]: must not be empty");
  expectError(sel + "      - index: 0\n        operator: Equal\n        values: [\"/a\\0b\"]\n",
              "p.yaml:15:18: " + at + ".values[0]: must not contain a NUL byte");
  expectError(sel +
                  "      - index: 0\n        operator: Equal\n        values: [/a]\n"
                  "        args: [1]\n",
              "p.yaml:16:9: " + at +
                  ".args: not supported yet; supported fields of matchArgs: "
                  "index, operator, values");
}

TEST(PolicyParserTest, MatchArgsIndexMustBeDeclared) {
  expectError(kFileOpen + "    - matchArgs: [{index: 1, operator: Equal, values: [/a]}]\n",
              "p.yaml:12:27: spec.lsmhooks[0].selectors[0].matchArgs[0].index: argument 1 is "
              "not declared in args (declared: 0)");
  expectError(kHead +
                  "  - hook: file_open\n"
                  "    selectors:\n"
                  "    - matchArgs: [{index: 0, operator: Equal, values: [/a]}]\n",
              "p.yaml:9:27: spec.lsmhooks[0].selectors[0].matchArgs[0].index: argument 0 is not "
              "declared in args (no arguments declared)");
}

TEST(PolicyParserTest, PathValuesMustBeAbsoluteForEqualAndPrefix) {
  const std::string sel = kFileOpen + "    - matchArgs:\n      - index: 0\n        operator: ";
  expectError(sel + "Equal\n        values: [/etc/passwd, etc/shadow]\n",
              "p.yaml:15:31: spec.lsmhooks[0].selectors[0].matchArgs[0].values[1]: "
              "\"etc/shadow\" is not an absolute path; Equal values are compared with absolute "
              "kernel paths, so it must start with '/'");
  expectError(sel + "Prefix\n        values: [tmp/]\n",
              "p.yaml:15:18: spec.lsmhooks[0].selectors[0].matchArgs[0].values[0]: \"tmp/\" is "
              "not an absolute path; Prefix values are compared with absolute kernel paths, so "
              "it must start with '/'");
  // Postfix: any suffix is fine.
  ParseResult r = parse(sel + "Postfix\n        values: [shadow, .so]\n");
  EXPECT_THAT(errors(r), IsEmpty());
  EXPECT_TRUE(r.ok());
}

TEST(PolicyParserTest, ValueLengthLimit) {
  const std::string path = "/" + std::string(4095, 'a');  // 4096 bytes
  expectError(kFileOpen +
                  "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
                  "        values:\n        - " +
                  path + "\n",
              "p.yaml:16:11: spec.lsmhooks[0].selectors[0].matchArgs[0].values[0]: value is 4096 "
              "bytes long; at most 4095 bytes (kernel paths are shorter than PATH_MAX)");
}

TEST(PolicyParserTest, TooManyMatchArgsAndSelectors) {
  std::string yaml = kFileOpen + "    - matchArgs:\n";  // items on lines 13..17
  for (int i = 0; i < 7; i++) yaml += "      - {index: 0, operator: Prefix, values: [/x]}\n";
  expectError(yaml,
              "p.yaml:19:9: spec.lsmhooks[0].selectors[0].matchArgs[6]: too many matchArgs "
              "filters; a selector holds at most 6");

  std::string many = kFileOpen;  // selectors on lines 12..76
  for (int i = 0; i < 65; i++) many += "    - {}\n";
  expectError(many,
              "p.yaml:76:7: spec.lsmhooks[0].selectors[64]: too many selectors; a hook "
              "evaluates at most 64");
}

TEST(PolicyParserTest, MatchBinaries) {
  const std::string sel = kFileOpen + "    - matchBinaries:\n";  // items on line 13
  const std::string at = "spec.lsmhooks[0].selectors[0].matchBinaries";
  expectError(sel + "      - operator: in\n        values: [/usr/bin/cat]\n",
              "p.yaml:13:19: " + at +
                  "[0].operator: unknown operator \"in\" (did you mean "
                  "\"In\"?); supported: In, NotIn, Prefix, NotPrefix, Postfix, NotPostfix");
  expectError(sel + "      - operator: NotPrefix\n        values: [usr/bin]\n",
              "p.yaml:14:18: " + at +
                  "[0].values[0]: \"usr/bin\" is not an absolute path; matchBinaries values are "
                  "absolute paths of executables, so it must start with '/'");
  expectError(sel + "      - operator: In\n        values: [cat]\n",
              "p.yaml:14:18: " + at +
                  "[0].values[0]: \"cat\" is not an absolute path; "
                  "matchBinaries values are absolute paths of executables, "
                  "so it must start with '/'");
  expectError(sel + "      - operator: In\n        values: []\n",
              "p.yaml:14:17: " + at + "[0].values: must be a non-empty list");
  expectError(sel + "      - values: [/bin/sh]\n",
              "p.yaml:13:9: " + at + "[0]: missing required field \"operator\"");
  expectError(sel +
                  "      - operator: In\n        values: [/bin/sh]\n"
                  "      - operator: In\n        values: [/bin/bash]\n",
              "p.yaml:15:9: " + at +
                  "[1]: only one matchBinaries filter per selector is "
                  "supported; list all binaries in the values of the first "
                  "one");
  expectError(
      sel + "      - operator: Prefix\n        values: [/bin/]\n        followChildren: true\n",
      "p.yaml:15:25: " + at +
          "[0].followChildren: followChildren is supported with In and NotIn, not Prefix");
}

TEST(PolicyParserTest, MatchActionsUnsupportedAndUnknown) {
  const std::string sel = kFileOpen + "    - matchActions:\n      - action: ";  // line 13
  const std::string at = "p.yaml:13:17: spec.lsmhooks[0].selectors[0].matchActions[0].action: ";
  const std::string supported =
      "supported: Post, NoPost, Override, Sigkill, Signal, NotifyEnforcer, GetUrl, DnsLookup, "
      "UntrackSock";
  for (const char* a : {"FollowFD", "TrackSock"}) {
    expectError(sel + a + "\n", at + "action \"" + a + "\" is not supported yet; " + supported);
  }
  expectError(sel + "Deny\n", at + "unknown action \"Deny\"; " + supported);
  expectError(sel + "sigkill\n",
              at + "unknown action \"sigkill\" (did you mean \"Sigkill\"?); " + supported);
  expectError(sel + "Signal\n",
              "p.yaml:13:9: spec.lsmhooks[0].selectors[0].matchActions[0]: Signal requires argSig, "
              "the signal number (e.g. 10 for SIGUSR1)");
  expectError(sel + "Signal\n        argSig: 65\n",
              "p.yaml:14:17: spec.lsmhooks[0].selectors[0].matchActions[0].argSig: integer 65 is "
              "out of range [1, 64]");
  expectError(kFileOpen + "    - matchActions:\n      - argError: -1\n",
              "p.yaml:13:9: spec.lsmhooks[0].selectors[0].matchActions[0]: missing required "
              "field \"action\"");
  expectError(sel + "Sigkill\n        argSig: 9\n",
              "p.yaml:14:9: spec.lsmhooks[0].selectors[0].matchActions[0].argSig: only valid with "
              "actions Signal and NotifyEnforcer, not Sigkill");
  expectError(sel + "Post\n        imaHash: true\n",
              "p.yaml:14:9: spec.lsmhooks[0].selectors[0].matchActions[0].imaHash: not "
              "supported yet; supported fields of matchActions: action, argError, argSig, "
              "rateLimit, rateLimitScope, argUrl, argFqdn, argSock, kernelStackTrace, userStackTrace");
  expectError(sel + "Post\n        rateLimit: soon\n",
              "p.yaml:14:20: spec.lsmhooks[0].selectors[0].matchActions[0].rateLimit: invalid rate "
              "\"soon\"; a duration such as \"30s\", \"1m\", \"2h\" or \"500ms\"");
  expectError(sel + "Post\n        rateLimit: 1m\n        rateLimitScope: cluster\n",
              "p.yaml:15:25: spec.lsmhooks[0].selectors[0].matchActions[0].rateLimitScope: unknown "
              "scope \"cluster\"; supported: thread, process, global");
  {
    ParseResult r = parse(sel + "Post\n        rateLimit: \"2m\"\n        rateLimitScope: process\n");
    EXPECT_THAT(errors(r), IsEmpty());
    ASSERT_TRUE(r.policy.has_value());
    const Action& a = r.policy->hooks[0].selectors[0].match_actions[0];
    EXPECT_EQ(a.rate_limit_ns, 120'000'000'000u);
    EXPECT_EQ(a.rate_scope, VG_RATE_PROCESS);
  }
  expectError(sel + "Post\n      - action: Post\n",
              "p.yaml:14:9: spec.lsmhooks[0].selectors[0].matchActions[1]: action Post appears "
              "twice in this selector (first at line 13, column 9)");
}

TEST(PolicyParserTest, OverrideArgError) {
  const std::string sel = kFileOpen + "    - matchActions:\n      - action: ";  // line 13
  const std::string at = "spec.lsmhooks[0].selectors[0].matchActions[0]";
  expectError(sel + "Override\n", "p.yaml:13:9: " + at +
                                      ": Override requires argError, the negative errno the hook "
                                      "returns (e.g. -1 for EPERM)");
  const std::string range =
      ".argError: must be a negative errno in [-4095, -1] (e.g. -1 for EPERM, -13 for "
      "EACCES), or a positive value (denied as EPERM), got ";
  expectError(sel + "Override\n        argError: 0\n", "p.yaml:14:19: " + at + range + "0");
  expectError(sel + "Override\n        argError: 4096\n", "p.yaml:14:19: " + at + range + "4096");
  expectError(sel + "Override\n        argError: -4096\n", "p.yaml:14:19: " + at + range + "-4096");
  expectError(sel + "Override\n        argError: \"-1\"\n",
              "p.yaml:14:19: " + at + ".argError: expected an integer, got the string \"-1\"");
  expectError(sel + "Override\n        argError: EPERM\n",
              "p.yaml:14:19: " + at + ".argError: expected an integer, got the string \"EPERM\"");
  expectError(sel + "Override\n        argError: -1.5\n",
              "p.yaml:14:19: " + at + ".argError: expected an integer, got the string \"-1.5\"");
  expectError(sel + "Override\n        argError: 99999999999\n",
              "p.yaml:14:19: " + at +
                  ".argError: integer 99999999999 is out of range "
                  "[-2147483648, 2147483647]");
  expectError(sel + "Override\n        argError:\n",
              "p.yaml:14:9: " + at + ".argError: expected an integer, got null");
  // Tetragon ignores argError outside Override: a warning, and the policy loads.
  for (const char* action : {"Post", "Sigkill"}) {
    ParseResult r = parse(sel + action + "\n        argError: -1\n");
    EXPECT_THAT(errors(r), IsEmpty());
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_EQ(r.warnings[0].str(), "p.yaml:14:9: " + at +
                                       ".argError: ignored: argError only applies to Override, not " +
                                       action);
  }
}

// ---- several errors at once --------------------------------------------------------

TEST(PolicyParserTest, AllErrorsAreReportedInFileOrder) {
  ParseResult r = parse(
      "apiVersion: cilium.io/v1alpha1\n"  // 1
      "kind: TracingPolicy\n"             // 2
      "metadata:\n"                       // 3
      "  name: Bad_Name\n"                // 4
      "spec:\n"                           // 5
      "  lsmhooks:\n"                     // 6
      "  - hook: inode_unlink\n"          // 7
      "    selectors:\n"                  // 8
      "    - matchArgs:\n"                // 9
      "      - index: 0\n"                // 10
      "        operator: GT\n"            // 11
      "        values: [\"1\"]\n"         // 12
      "      matchActions:\n"             // 13
      "      - action: Override\n"        // 14
      "        argError: 0\n"             // 15
      "  - hook: file_open\n"             // 16
      "    args:\n"                       // 17
      "    - index: 0\n"                  // 18
      "      type: string\n"              // 19
      "    selectors:\n"                  // 20
      "    - matchBinaries:\n"            // 21
      "      - operator: In\n"            // 22
      "        values: [bash]\n"          // 23
      "      matchPIDs: []\n"             // 24
      "      matchActions:\n"             // 25
      "      - action: Signal\n"          // 26
      "  kprobes: []\n");                 // 27
  EXPECT_THAT(
      errors(r),
      ElementsAre(
          "p.yaml:4:9: metadata.name: invalid name \"Bad_Name\"; use lowercase letters, digits, "
          "'-' and '.', starting and ending with a letter or digit (at most 253 characters)",
          "p.yaml:7:11: spec.lsmhooks[0].hook: hook \"inode_unlink\" is not supported yet; " +
              kSupportedHooks,
          "p.yaml:10:16: spec.lsmhooks[0].selectors[0].matchArgs[0].index: argument 0 is not "
          "declared in args (no arguments declared)",
          "p.yaml:15:19: spec.lsmhooks[0].selectors[0].matchActions[0].argError: must be a "
          "negative errno in [-4095, -1] (e.g. -1 for EPERM, -13 for EACCES), or a positive "
          "value (denied as EPERM), got 0",
          "p.yaml:19:13: spec.lsmhooks[1].args[0].type: argument 0 of hook file_open has type "
          "\"file\" (the file being opened), not \"string\"",
          "p.yaml:23:18: spec.lsmhooks[1].selectors[0].matchBinaries[0].values[0]: \"bash\" is "
          "not an absolute path; matchBinaries values are absolute paths of executables, so it "
          "must start with '/'",
          "p.yaml:26:9: spec.lsmhooks[1].selectors[0].matchActions[0]: Signal requires argSig, "
          "the signal number (e.g. 10 for SIGUSR1)"));
  EXPECT_FALSE(r.policy.has_value());
}

// Every truncation of a valid policy is either a policy or errors; never a
// crash, an exception, or a policy with errors.
TEST(PolicyParserTest, TruncatedInputNeverThrows) {
  const std::string yaml = kFileOpen +
                           "    - matchArgs: [{index: 0, operator: Equal, values: [\"/a\"]}]\n"
                           "      matchBinaries:\n"
                           "      - operator: In\n"
                           "        values: [/bin/sh]\n"
                           "      matchActions: [{action: Override, argError: -1}]\n";
  for (size_t n = 0; n <= yaml.size(); n++) {
    ParseResult r;
    ASSERT_NO_THROW(r = parse(yaml.substr(0, n))) << n;
    EXPECT_EQ(r.policy.has_value(), r.errors.empty()) << n;
    for (const auto& e : r.errors) {
      EXPECT_EQ(e.pos.file, kFile);
      EXPECT_FALSE(e.message.empty());
    }
  }
  EXPECT_TRUE(parse(yaml).ok());
}

// ---- diagnostics and files ---------------------------------------------------------

TEST(PolicyParserTest, DiagnosticFormat) {
  EXPECT_EQ((Diagnostic{SourcePos{"a.yaml", 3, 7}, "boom"}).str(), "a.yaml:3:7: boom");
  EXPECT_EQ((Diagnostic{SourcePos{"a.yaml", 0, 0}, "unreadable"}).str(), "a.yaml: unreadable");
  EXPECT_EQ((SourcePos{"a.yaml", 3, 0}).str(), "a.yaml:3");
}

TEST(PolicyParserTest, IrNames) {
  EXPECT_EQ(modeName(Mode::kMonitor), "monitor");
  EXPECT_EQ(modeName(Mode::kEnforce), "enforce");
  EXPECT_EQ(strOpName(StrOp::kPostfix), "Postfix");
  EXPECT_EQ(binOpName(BinOp::kIn), "In");
  EXPECT_EQ(actionName(ActionKind::kOverride), "Override");
}

TEST(PolicyParserTest, UnreadableFile) {
  ParseResult r = parsePolicyFile("/nonexistent/vigil/policy.yaml");
  EXPECT_THAT(errors(r), ElementsAre("/nonexistent/vigil/policy.yaml: cannot read policy file: "
                                     "No such file or directory"));
  EXPECT_FALSE(r.policy.has_value());

  r = parsePolicyFile(VIGIL_CORPUS_DIR);
  EXPECT_THAT(errors(r), ElementsAre(std::string(VIGIL_CORPUS_DIR) +
                                     ": cannot read policy file: not a regular file"));
}

// ---- Tetragon's own example policies -------------------------------------------

TEST(PolicyParserCorpusTest, LsmFileOpenParses) {
  const std::string path = std::string(VIGIL_CORPUS_DIR) + "/tetragon-policies/lsm_file_open.yaml";
  ParseResult r = parsePolicyFile(path);
  ASSERT_THAT(errors(r), IsEmpty());
  EXPECT_THAT(warnings(r), IsEmpty());
  ASSERT_TRUE(r.ok());
  const Policy& p = *r.policy;
  EXPECT_EQ(p.name, "lsm-file-open");
  EXPECT_EQ(p.file, path);
  EXPECT_FALSE(p.mode.has_value());
  ASSERT_EQ(p.hooks.size(), 1u);
  const LsmHook& h = p.hooks[0];
  EXPECT_EQ(h.hook, "file_open");
  EXPECT_EQ(h.pos.str(), path + ":7:5");
  ASSERT_EQ(h.args.size(), 1u);
  EXPECT_EQ(h.args[0].index, 0);
  EXPECT_EQ(h.args[0].type, "file");
  ASSERT_EQ(h.selectors.size(), 1u);
  const Selector& s = h.selectors[0];
  ASSERT_EQ(s.match_binaries.size(), 1u);
  EXPECT_EQ(s.match_binaries[0].op, BinOp::kIn);
  EXPECT_THAT(s.match_binaries[0].values, ElementsAre("/usr/bin/cat"));
  ASSERT_EQ(s.match_args.size(), 1u);
  EXPECT_EQ(s.match_args[0].index, 0);
  EXPECT_EQ(s.match_args[0].op, StrOp::kEqual);
  EXPECT_THAT(s.match_args[0].values, ElementsAre("/etc/passwd", "/etc/shadow"));
  EXPECT_EQ(s.match_args[0].pos.str(), path + ":17:9");
  EXPECT_THAT(s.match_actions, IsEmpty());
}

TEST(PolicyParserCorpusTest, SecurityBprmCheckIsAKprobePolicy) {
  // Written as a kprobe on security_bprm_check, not as an LSM hook; its
  // returnArg is ignored without return: true (as Tetragon does).
  const std::string path =
      std::string(VIGIL_CORPUS_DIR) + "/tetragon-policies/security_bprm_check.yaml";
  ParseResult r = parsePolicyFile(path);
  EXPECT_THAT(errors(r), IsEmpty());
  ASSERT_TRUE(r.policy.has_value());
  ASSERT_EQ(r.policy->hooks.size(), 1u);
  const Hook& h = r.policy->hooks[0];
  EXPECT_EQ(h.kind, HookKind::kKprobe);
  EXPECT_EQ(h.hook, "security_bprm_check");
  EXPECT_FALSE(h.syscall);
  ASSERT_EQ(h.args.size(), 1u);
  EXPECT_EQ(h.args[0].kind, VG_ARG_BINPRM);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].str(), path + ":12:5: spec.kprobes[0].returnArg: ignored: the kprobe "
                                        "does not set return: true");
}

}  // namespace
}  // namespace vigil::policy
