// Tetragon's remaining kprobe argument types, selectors and actions without a
// kernel: parsed, compiled into the generic hook's layout, and the kernel's
// records of them decoded and rendered in Tetragon's shapes. The GetUrl /
// DnsLookup fetcher runs against a real local HTTP server and resolver.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "api/event_json.h"
#include "api/event_view.h"
#include "daemon/actions/fetcher.h"
#include "daemon/compiler/compiler.h"
#include "daemon/events/hook_event.h"
#include "daemon/events/json_writer.h"
#include "daemon/events/kernel_args.h"
#include "daemon/policy/policy_parser.h"
#include "vigil/abi/abi.h"

namespace vigil {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string head(const std::string& name = "p") {
  return "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: " + name +
         "\nspec:\n";
}

policy::ParseResult parse(const std::string& yaml) {
  return policy::parsePolicyString(yaml, "p.yaml");
}

policy::Policy ok(const std::string& yaml) {
  auto r = parse(yaml);
  EXPECT_THAT(r.errors, IsEmpty()) << (r.errors.empty() ? "" : r.errors[0].str());
  return r.policy ? *r.policy : policy::Policy{};
}

std::string firstError(const std::string& yaml) {
  auto r = parse(yaml);
  return r.errors.empty() ? "" : r.errors[0].str();
}

TEST(KernelArgs, CharBufReadsSizeArgumentOrReturnValue) {
  auto p = ok(head() +
              "  kprobes:\n  - call: sys_write\n    syscall: true\n    args:\n"
              "    - {index: 0, type: int}\n    - {index: 1, type: char_buf, sizeArgIndex: 3}\n"
              "    - {index: 2, type: size_t}\n"
              "  - call: sys_read\n    syscall: true\n    args:\n"
              "    - {index: 1, type: char_buf, returnCopy: true}\n");
  ASSERT_EQ(p.hooks.size(), 2u);
  EXPECT_EQ(p.hooks[0].args[1].kind, VG_ARG_UCHAR_BUF);
  EXPECT_EQ(p.hooks[0].args[1].size_arg, 2);
  EXPECT_FALSE(p.hooks[0].return_probe);
  // returnCopy: read when the call returns, at most what it returned.
  EXPECT_TRUE(p.hooks[1].return_probe);
  auto s = compiler::compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->generic.size(), 2u);
  EXPECT_EQ(s->generic[0].size_of[1], 2);
  EXPECT_EQ(s->generic[0].slots[1], 0);
  EXPECT_EQ(s->generic[0].key(),
            "kprobe:__x64_sys_write:syscall(s32,user_char_buf/size=2,u64,nop,nop,nop)");
  EXPECT_EQ(s->generic[1].ret_copy, 1u << 1);
  EXPECT_EQ(s->generic[1].ref(), "kprobe/sys_read#return");

  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    args:\n    - {index: 0, type: char_buf}\n"),
              HasSubstr("char_buf needs sizeArgIndex"));
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    args:\n"
                                  "    - {index: 0, type: int, sizeArgIndex: 2}\n"),
              HasSubstr("sizeArgIndex: only for char_buf arguments"));
}

TEST(KernelArgs, SkbTakesSocketOperatorsAndNamedKindsRead) {
  auto p = ok(head() +
              "  kprobes:\n  - call: ip_output\n    args:\n    - {index: 1, type: sock}\n"
              "    - {index: 2, type: skb}\n    selectors:\n    - matchArgs:\n"
              "      - {index: 2, operator: Protocol, values: [IPPROTO_UDP]}\n"
              "      - {index: 2, operator: DAddr, values: [127.0.0.1/32, \"::1/128\"]}\n"
              "      - {index: 2, operator: DPort, values: [\"53\"]}\n"
              "  - call: do_init_module\n    args:\n    - {index: 0, type: module}\n"
              "    selectors:\n    - matchArgs:\n      - {index: 0, operator: Prefix, values: [nf_]}\n"
              "  - call: bpf_check\n    args:\n    - {index: 1, type: bpf_attr}\n"
              "  - call: tty_write\n    args:\n    - {index: 0, type: kiocb}\n"
              "    - {index: 1, type: iov_iter, maxData: true}\n"
              "  - call: cap_capset\n    args:\n    - {index: 2, type: cap_effective}\n"
              "    selectors:\n    - matchArgs:\n      - {index: 2, operator: Mask, values: [\"0x200000\"]}\n");
  auto s = compiler::compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->generic.size(), 5u);
  EXPECT_EQ(s->generic[0].kinds[2], VG_ARG_SKB);
  EXPECT_EQ(s->generic[1].kinds[0], VG_ARG_MODULE);
  EXPECT_EQ(s->generic[2].kinds[1], VG_ARG_BPF_ATTR);
  EXPECT_EQ(s->generic[3].kinds[0], VG_ARG_KIOCB);
  EXPECT_EQ(s->generic[3].slots[1], 1);  // two string slots: the path and the data
  EXPECT_EQ(s->generic[4].kinds[2], VG_ARG_KERNEL_CAP);
  const vg_selector& skb = s->selectors[0].second;
  ASSERT_EQ(skb.nfilters, 3);
  EXPECT_EQ(skb.filters[0].field, VG_FIELD_PROTOCOL);
  EXPECT_EQ(skb.filters[1].op, VG_OP_CIDR);
  EXPECT_EQ(skb.filters[1].field, VG_FIELD_DADDR);
  EXPECT_EQ(skb.filters[2].field, VG_FIELD_DPORT);
  EXPECT_EQ(s->cidrs.size(), 2u);
  EXPECT_EQ(s->selectors[1].second.filters[0].op, VG_OP_PREFIX);
  EXPECT_EQ(s->selectors[4].second.filters[0].op, VG_OP_MASK);
  // A string operator on a packet is refused with the ones that apply.
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: dev_queue_xmit\n    args:\n"
                                  "    - {index: 0, type: skb}\n    selectors:\n    - matchArgs:\n"
                                  "      - {index: 0, operator: Prefix, values: [x]}\n"),
              HasSubstr("does not apply to argument 0 (type skb)"));
  // The catalog reads LSM hooks' bpf_attr and user_namespace arguments now.
  ok(head() + "  lsmhooks:\n  - hook: bpf\n    args:\n    - {index: 1, type: bpf_attr}\n"
              "  - hook: capable\n    args:\n    - {index: 1, type: user_namespace}\n");
}

TEST(KernelArgs, ReturnArgSockIsCarriedInAFreeEntryAndTracked) {
  auto p = ok(head() +
              "  kprobes:\n  - call: sk_alloc\n    return: true\n    args:\n"
              "    - {index: 1, type: int}\n    returnArg: {index: 0, type: sock}\n"
              "    returnArgAction: TrackSock\n    selectors:\n    - matchReturnArgs:\n"
              "      - {index: 0, operator: Family, values: [AF_INET]}\n"
              "  - call: __sk_free\n    args:\n    - {index: 0, type: sock}\n"
              "    selectors:\n    - matchActions:\n      - {action: UntrackSock, argSock: 0}\n");
  auto s = compiler::compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const compiler::HookSpec& h = s->generic[0];
  EXPECT_EQ(h.ret_kind, VG_ARG_SOCK);
  EXPECT_TRUE(h.track_sock);
  EXPECT_EQ(h.ret_slot, VG_HOOK_ARGS - 1);
  EXPECT_EQ(h.key(), "kprobe:sk_alloc:return=sock:tracksock(nop,s32,nop,nop,nop,nop)");
  EXPECT_EQ(s->selectors[0].second.filters[0].arg, VG_ARG_RETURN);
  EXPECT_EQ(s->selectors[0].second.filters[0].field, VG_FIELD_FAMILY);
  EXPECT_EQ(s->selectors[1].second.untrack_sock, 1);
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    return: true\n"
                                  "    returnArg: {index: 0, type: int}\n    returnArgAction: TrackSock\n"),
              HasSubstr("TrackSock needs return: true and a returnArg of type sock"));
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    args:\n    - {index: 0, type: int}\n"
                                  "    selectors:\n    - matchActions:\n      - {action: UntrackSock}\n"),
              HasSubstr("must be declared with type sock or socket"));
}

TEST(KernelArgs, ParentBinariesFollowChildrenAndChangeFilters) {
  auto p = ok(head() +
              "  kprobes:\n  - call: fd_install\n    args:\n    - {index: 0, type: int}\n"
              "    selectors:\n    - matchParentBinaries:\n"
              "      - {operator: In, values: [/usr/sbin/sshd]}\n"
              "      matchBinaries:\n      - {operator: In, values: [/bin/sh], followChildren: true}\n"
              "      matchCapabilityChanges:\n"
              "      - {type: Effective, operator: In, isNamespaceCapability: true, "
              "values: [CAP_SYS_ADMIN, CAP_NET_RAW]}\n"
              "      matchNamespaceChanges:\n      - {operator: In, values: [Mnt, Net]}\n");
  auto s = compiler::compile({p}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  const uint32_t slot = s->selectors[0].first;
  const vg_selector& sel = s->selectors[0].second;
  EXPECT_EQ(sel.bin_follow, 1);
  EXPECT_EQ(sel.binaries, VG_OP_BIN_IN);
  ASSERT_EQ(sel.ntask, 3);
  EXPECT_EQ(sel.task[0].kind, VG_TF_PARENT_BIN);
  EXPECT_EQ(sel.task[0].which, VG_OP_BIN_IN);
  EXPECT_EQ(sel.task[1].kind, VG_TF_CAP_CHANGE);
  EXPECT_EQ(sel.task[1].mask, (uint64_t{1} << 21) | (uint64_t{1} << 13));
  EXPECT_EQ(sel.task[1].ns_cap, 1);
  EXPECT_EQ(sel.task[2].kind, VG_TF_NS_CHANGE);
  EXPECT_EQ(sel.task[2].mask, (1u << VG_NS_MNT) | (1u << VG_NS_NET));
  // The parent's binary is a key of the task filter.
  bool found = false;
  for (const auto& [k, check] : s->str_keys) {
    if (k.selector == slot && k.filter == VG_FILTER_TASK && k.op == VG_OP_BIN_IN && k.len == 14)
      found = true;
  }
  EXPECT_TRUE(found);
  // Prefix/Postfix (and their negations) compile to a length set and keys of
  // the task filter, as matchBinaries' do.
  auto pp = ok(head() + "  kprobes:\n  - call: f\n    selectors:\n    - matchParentBinaries:\n"
                        "      - {operator: NotPostfix, values: [/sshd, /bash]}\n");
  auto ps = compiler::compile({pp}, {});
  ASSERT_TRUE(ps.ok()) << ps.status();
  const vg_selector& psel = ps->selectors[0].second;
  ASSERT_EQ(psel.ntask, 1);
  EXPECT_EQ(psel.task[0].kind, VG_TF_PARENT_BIN);
  EXPECT_EQ(psel.task[0].which, VG_OP_BIN_POSTFIX);
  EXPECT_EQ(psel.task[0].negate, 1);
  EXPECT_EQ(psel.parent_affix, 1);
  ASSERT_EQ(ps->len_sets.size(), 1u);
  int postfix_keys = 0;
  for (const auto& [k, check] : ps->str_keys) {
    if (k.filter == VG_FILTER_TASK && k.op == VG_OP_POSTFIX) postfix_keys++;
  }
  EXPECT_EQ(postfix_keys, 2);
  // One Prefix/Postfix filter per selector: the kernel walks one parent path.
  auto two = ok(head() + "  kprobes:\n  - call: f\n    selectors:\n    - matchParentBinaries:\n"
                         "      - {operator: Prefix, values: [/usr/]}\n"
                         "      - {operator: Postfix, values: [/sh]}\n");
  auto twos = compiler::compile({two}, {});
  ASSERT_FALSE(twos.ok());
  EXPECT_THAT(std::string(twos.status().message()),
              HasSubstr("at most one matchParentBinaries Prefix, NotPrefix, Postfix or NotPostfix"));
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    selectors:\n    - matchBinaries:\n"
                                  "      - {operator: Prefix, values: [/bin/], followChildren: true}\n"),
              HasSubstr("followChildren is supported with In and NotIn, not Prefix"));
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    selectors:\n"
                                  "    - matchNamespaceChanges:\n      - {operator: In, values: [Foo]}\n"),
              HasSubstr("unknown namespace \"Foo\""));
}

TEST(KernelArgs, GetUrlDnsLookupAndPositiveArgError) {
  auto r = parse(head() +
                 "  kprobes:\n  - call: security_socket_connect\n    args:\n"
                 "    - {index: 0, type: socket}\n    selectors:\n    - matchActions:\n"
                 "      - {action: GetUrl, argUrl: \"http://canary.example/x\"}\n"
                 "      - {action: DnsLookup, argFqdn: canary.example}\n"
                 "      - {action: NoPost}\n"
                 "    - matchActions:\n      - {action: Override, argError: 1}\n");
  ASSERT_THAT(r.errors, IsEmpty()) << r.errors[0].str();
  // The second selector is also shadowed by the filterless first one.
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_THAT(r.warnings[0].str(), HasSubstr("selector 2 of kprobe/security_socket_connect is unreachable"));
  EXPECT_THAT(r.warnings[1].str(), HasSubstr("positive argError (1)"));
  const auto& sels = r.policy->hooks[0].selectors;
  EXPECT_EQ(sels[0].match_actions[0].url, "http://canary.example/x");
  EXPECT_EQ(sels[0].match_actions[1].fqdn, "canary.example");
  EXPECT_EQ(sels[1].match_actions[0].arg_error, -1);
  auto s = compiler::compile({*r.policy}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  // The kernel posts the event even under NoPost: vigild needs it.
  EXPECT_EQ(s->selectors[0].second.nopost, 0);
  EXPECT_EQ(s->selectors[0].second.action, VG_ACT_POST);
  auto info = events::PolicyInfo::from(*r.policy);
  const auto& f = info.hooks.at("kprobe/security_socket_connect").fetches.at(0);
  EXPECT_TRUE(f.nopost);
  EXPECT_EQ(f.urls, std::vector<std::string>{"http://canary.example/x"});
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    selectors:\n    - matchActions:\n"
                                  "      - {action: GetUrl, argUrl: \"ftp://x\"}\n"),
              HasSubstr("is not an http:// or https:// URL"));
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: f\n    selectors:\n    - matchActions:\n"
                                  "      - {action: DnsLookup}\n"),
              HasSubstr("missing required field \"argFqdn\""));
  EXPECT_THAT(firstError(head() + "  kprobes:\n  - call: security_file_open\n    selectors:\n"
                                  "    - matchActions:\n      - {action: Override, argError: 0}\n"),
              HasSubstr("must be a negative errno"));
}

// A hook event record as the kernel writes it.
struct Record {
  std::vector<uint8_t> buf;
  vg_hook_event* ev() { return reinterpret_cast<vg_hook_event*>(buf.data()); }
  char* slot(int k) { return reinterpret_cast<char*>(buf.data()) + sizeof(vg_hook_event) + VG_BIN_MAX + k * VG_PATH_MAX; }
};

Record record(uint16_t hook) {
  Record r;
  r.buf.resize(sizeof(vg_hook_event) + VG_BIN_MAX + VG_HOOK_STR_SLOTS * VG_PATH_MAX);
  vg_hook_event* e = r.ev();
  e->hdr.type = VG_EV_HOOK;
  e->hdr.version = VG_ABI_VERSION;
  e->hdr.size = static_cast<uint32_t>(r.buf.size());
  e->pid = 7;
  e->tid = 7;
  e->hook = hook;
  e->mechanism = VG_MECH_FENTRY;
  return r;
}

TEST(KernelArgs, RecordsRenderInTetragonsShapes) {
  auto p = ok(head("k") +
              "  kprobes:\n  - call: k\n    args:\n    - {index: 0, type: skb}\n"
              "    - {index: 1, type: module}\n    - {index: 2, type: bpf_attr}\n"
              "    - {index: 3, type: char_buf, sizeArgIndex: 5}\n    - {index: 4, type: cap_effective}\n");
  Record r = record(VG_HOOK_FIRST);
  vg_arg_val* a = r.ev()->args;
  a[0].kind = VG_ARG_SKB;
  a[0].family = AF_INET;
  a[0].protocol = IPPROTO_UDP;
  a[0].sport = 40000;
  a[0].dport = 53;
  a[0].num = 64 | (uint64_t{7} << 32);
  inet_pton(AF_INET, "10.0.0.1", a[0].saddr);
  inet_pton(AF_INET, "127.0.0.1", a[0].daddr);
  a[1].kind = VG_ARG_MODULE;
  a[1].str_len = 3;
  a[1].str_off = 0;
  memcpy(r.slot(0), "xfs", 3);
  a[1].num = 0;
  VG_ARG_X(&a[1])[0] = 1;
  a[2].kind = VG_ARG_BPF_ATTR;
  a[2].num = 2;  // BPF_PROG_TYPE_KPROBE
  VG_ARG_X(&a[2])[0] = 12;
  a[3].kind = VG_ARG_CHAR_BUF;
  a[3].str_off = VG_PATH_MAX;
  a[3].str_len = 5;
  memcpy(r.slot(1), "hi\n\0!", 5);
  a[4].kind = VG_ARG_KERNEL_CAP;
  a[4].num = (uint64_t{1} << 21) | 1;
  auto ev = events::decodeHookEvent(r.buf.data(), r.buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  events::JsonRenderer jr("n", {events::PolicyInfo::from(p)}, false, 0);
  jr.setHookRefs({{VG_HOOK_FIRST, "kprobe/k"}});
  const std::string line = api::renderJson(jr.toProto(*ev));
  EXPECT_THAT(line, HasSubstr("{\"skb_arg\":{\"len\":64,\"mark\":7,\"saddr\":\"10.0.0.1\","
                              "\"daddr\":\"127.0.0.1\",\"sport\":40000,\"dport\":53,\"proto\":17,"
                              "\"protocol\":\"IPPROTO_UDP\",\"family\":\"AF_INET\"}}"));
  EXPECT_THAT(line, HasSubstr("{\"module_arg\":{\"name\":\"xfs\",\"signature_ok\":true}}"));
  EXPECT_THAT(line, HasSubstr("{\"bpf_attr_arg\":{\"ProgType\":\"BPF_PROG_TYPE_KPROBE\",\"InsnCnt\":12}}"));
  EXPECT_THAT(line, HasSubstr("{\"bytes_arg\":\"aGkKACE=\"}"));  // base64 of "hi\n\0!"
  EXPECT_THAT(line, HasSubstr("{\"cap_effective_arg\":\"CAP_CHOWN CAP_SYS_ADMIN\"}"));
}

TEST(KernelArgs, ReturnedSockRendersAsTheReturnValue) {
  auto p = ok(head("k") + "  kprobes:\n  - call: sk_alloc\n    return: true\n    args:\n"
                          "    - {index: 1, type: int}\n    returnArg: {index: 0, type: sock}\n");
  Record r = record(VG_HOOK_FIRST);
  r.ev()->has_ret = 1;
  vg_arg_val* a = r.ev()->args;
  a[1].kind = VG_ARG_S32;
  a[1].num = 2;
  a[5].kind = VG_ARG_SOCK;
  a[5].flags = VG_ARGF_RET;
  a[5].family = AF_INET;
  a[5].protocol = IPPROTO_TCP;
  a[5].sport = 8080;
  a[5].num = 0xffff888012345678ull;  // the kernel's key, never rendered
  inet_pton(AF_INET, "127.0.0.1", a[5].saddr);
  inet_pton(AF_INET, "0.0.0.0", a[5].daddr);
  auto ev = events::decodeHookEvent(r.buf.data(), r.buf.size());
  ASSERT_TRUE(ev.ok()) << ev.status();
  events::JsonRenderer jr("n", {events::PolicyInfo::from(p)}, false, 0);
  jr.setHookRefs({{VG_HOOK_FIRST, "kprobe/sk_alloc#return"}});
  auto k = jr.toProto(*ev).process_kprobe();
  ASSERT_EQ(k.args_size(), 1);
  EXPECT_EQ(k.args(0).int_arg(), 2);
  EXPECT_EQ(k.return_().sock_arg(), "tcp 127.0.0.1:8080 -> 0.0.0.0:0");
}

TEST(KernelArgs, NamesOfNumbers) {
  EXPECT_EQ(events::bpfMapTypeName(27), "BPF_MAP_TYPE_RINGBUF");
  EXPECT_EQ(events::bpfProgTypeName(29), "BPF_PROG_TYPE_LSM");
  EXPECT_EQ(events::bpfProgTypeName(999), "999");
  EXPECT_EQ(events::perfTypeName(2), "PERF_TYPE_TRACEPOINT");
  EXPECT_EQ(events::capabilitySetNames(0), "");
  EXPECT_EQ(events::capabilitySetNames(uint64_t{1} << 40), "CAP_CHECKPOINT_RESTORE");
}

// A one-shot HTTP server on 127.0.0.1: answers each connection with status.
class HttpServer {
 public:
  explicit HttpServer(int status) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 8);
    t_ = std::thread([this, status] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        char buf[1024];
        (void)!read(c, buf, sizeof(buf));
        hits_++;
        std::string resp = "HTTP/1.1 " + std::to_string(status) +
                           " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        (void)!write(c, resp.data(), resp.size());
        close(c);
      }
    });
  }
  ~HttpServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    t_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/canary"; }
  int hits() const { return hits_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> hits_{0};
  std::thread t_;
};

TEST(Fetcher, GetsUrlsResolvesNamesAndCountsFailuresAndDrops) {
  HttpServer good(200), bad(500);
  actions::Fetcher::Options o;
  o.workers = 2;
  // Slow refill: at 1000/s a loaded machine refilled a token between the
  // submits below and the fourth was accepted (flaky).
  o.rate_per_sec = 1;
  o.burst = 3;
  o.timeout_ms = 2000;
  actions::Fetcher f(o);
  using K = actions::Fetcher::Kind;
  EXPECT_TRUE(f.submit(K::kGetUrl, good.url()));
  EXPECT_TRUE(f.submit(K::kGetUrl, bad.url()));
  EXPECT_TRUE(f.submit(K::kDnsLookup, "localhost"));
  // The burst is spent: this one is dropped, not queued.
  EXPECT_FALSE(f.submit(K::kDnsLookup, "localhost"));
  f.drain();
  EXPECT_EQ(good.hits(), 1);
  EXPECT_EQ(bad.hits(), 1);
  auto u = f.stats(K::kGetUrl);
  EXPECT_EQ(u.done, 1u);
  EXPECT_EQ(u.failed, 1u);  // HTTP 500
  auto d = f.stats(K::kDnsLookup);
  EXPECT_EQ(d.done, 1u);
  EXPECT_EQ(d.dropped, 1u);
  // A port nothing listens on fails fast (a fresh fetcher: a full bucket).
  actions::Fetcher f2(o);
  EXPECT_TRUE(f2.submit(K::kGetUrl, "http://127.0.0.1:1/"));
  f2.drain();
  EXPECT_EQ(f2.stats(K::kGetUrl).failed, 1u);
}

}  // namespace
}  // namespace vigil
