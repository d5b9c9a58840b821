// vigilctl: offline policy checks and the kernel feature probe.
#include <cstdio>
#include <string>
#include <vector>

#include "daemon/compiler/compiler.h"
#include "daemon/loader/probe.h"
#include "daemon/policy/policy_parser.h"
#include "rules/cli.h"

namespace {

constexpr const char* kUsage = R"(Usage: vigilctl COMMAND [ARG]...

Commands:
  policy check FILE...   validate TracingPolicy files offline; prints every
                         error as FILE:LINE:COL: message; exit 1 on any error
  rules check FILE...    validate Falco-style rule files offline (FILE:LINE:COL)
  rules test --rules FILE --events FILE.jsonl
                         replay recorded events through rules, print alerts
  probe [--json]         report what this kernel lets Vigil load: BTF, BPF LSM,
                         trampolines, tp_btf, kprobes, ring buffer,
                         bpf_send_signal, bpf_d_path, lockdown mode
  help                   this text
)";

int policyCheck(const std::vector<std::string>& files) {
  if (files.empty()) {
    fputs("vigilctl policy check: no files given\n", stderr);
    return 2;
  }
  int bad = 0;
  std::vector<vigil::policy::Policy> ok;
  for (const auto& f : files) {
    auto r = vigil::policy::parsePolicyFile(f);
    for (const auto& w : r.warnings) printf("%s (warning)\n", w.str().c_str());
    for (const auto& e : r.errors) printf("%s\n", e.str().c_str());
    if (r.errors.empty() && r.policy) {
      // Compile alone too: a policy must also fit the kernel's tables.
      auto c = vigil::compiler::compile({*r.policy}, {});
      if (!c.ok()) {
        printf("%s\n", std::string(c.status().message()).c_str());
        bad++;
      } else {
        printf("%s: ok (policy %s)\n", f.c_str(), r.policy->name.c_str());
      }
    } else {
      bad++;
    }
  }
  return bad ? 1 : 0;
}

std::string jsonEscape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", c);
      o += buf;
    } else {
      o += c;
    }
  }
  return o;
}

int probe(bool json) {
  auto k = vigil::loader::probeKernel();
  if (json) {
    printf("{\"kernel\":\"%s\",\"lockdown\":\"%s\",\"lsm_enforcement\":%s", jsonEscape(k.kernel_release).c_str(),
           jsonEscape(k.lockdown).c_str(), k.lsmUsable() ? "true" : "false");
    for (const auto* f : k.all()) {
      printf(",\"%s\":{\"ok\":%s,\"detail\":\"%s\"}", f->name.c_str(), f->ok ? "true" : "false",
             jsonEscape(f->detail).c_str());
    }
    puts("}");
    return 0;
  }
  printf("kernel          %s\n", k.kernel_release.c_str());
  printf("lockdown        %s\n", k.lockdown.c_str());
  for (const auto* f : k.all()) {
    printf("%-15s %-4s %s\n", f->name.c_str(), f->ok ? "yes" : "no", f->detail.c_str());
  }
  if (k.lsmUsable()) {
    puts("=> lsmhooks policies can be enforced (BPF LSM)");
  } else if (k.fmodRetUsable()) {
    puts("=> lsmhooks policies can be enforced (fmod_ret on security_* functions; BPF LSM off)");
  } else {
    printf("=> lsmhooks policies cannot be enforced: %s\n", k.lsmUnusableReason().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "policy" && args.size() >= 2 && args[1] == "check") {
    return policyCheck({args.begin() + 2, args.end()});
  }
  if (args[0] == "rules") {
    return vigil::rules::rulesCommand({args.begin() + 1, args.end()});
  }
  if (args[0] == "probe") {
    bool json = args.size() == 2 && args[1] == "--json";
    if (args.size() > 2 || (args.size() == 2 && !json)) {
      fputs("vigilctl probe: unknown argument (only --json)\n", stderr);
      return 2;
    }
    return probe(json);
  }
  fprintf(stderr, "vigilctl: unknown command '%s' (see vigilctl help)\n", args[0].c_str());
  return 2;
}
