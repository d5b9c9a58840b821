/* Hook programs: one object the daemon loads once per hook it needs (any LSM
 * hook, file_open and bprm_check_security included, or any kernel function a
 * kprobe names, tracepoint, uprobe), with the hook's id
 * and the kinds of its arguments set in .rodata before the load. The verifier
 * sees those as constants and drops every branch that does not apply, so each
 * instance is checked against its own target's argument types (BTF).
 *
 * Maps are shared with the main object (the loader reuses its descriptors):
 * the selectors, values and policies are the same tables for every hook. */
#include "vigil_bpf.h"

#include "lib/selector.h"
#include "lib/task.h"

const volatile __u32 vg_gen_hook = 0;
const volatile __u8 vg_gen_kind[VG_HOOK_ARGS] = {};  /* enum vg_arg_kind per argument */
const volatile __u8 vg_gen_slot[VG_HOOK_ARGS] = {};  /* string slot of string-like args */
/* dentry arguments: index of the path argument holding their mount, -1: none */
const volatile __s8 vg_gen_mount_of[VG_HOOK_ARGS] = {-1, -1, -1, -1, -1, -1};
const volatile __u8 vg_gen_nargs = 0;   /* the target's argument count (ctx[nargs] is ret) */
const volatile __u8 vg_gen_syscall = 0; /* a syscall wrapper: arguments are in its pt_regs */
const volatile __u8 vg_gen_mech = 0;    /* enum vg_mechanism */
const volatile __u8 vg_gen_dpath = 0;   /* paths through bpf_d_path (else the dentry walk) */
const volatile __u8 vg_gen_ret_kind = 0; /* return probes: how the return value reads */
const volatile __u8 vg_gen_src[VG_HOOK_ARGS] = {}; /* tracepoints: enum vg_tp_src per argument */
const volatile __u32 vg_gen_scratch = 0; /* vg_hook_scratch entry (1: runs nested, signal_generate) */
/* char_buf arguments: index of the argument holding their size, -1: none */
const volatile __s8 vg_gen_size_of[VG_HOOK_ARGS] = {-1, -1, -1, -1, -1, -1};
/* char_buf with returnCopy (bit per argument): read at return, at most
 * the return value's bytes (fexit programs only) */
const volatile __u8 vg_gen_ret_copy = 0;
/* returnArg of a struct kind (sock, socket): the args[] entry of the event
 * that carries it (flagged VG_ARGF_RET); VG_HOOK_ARGS: none */
const volatile __u8 vg_gen_ret_slot = VG_HOOK_ARGS;
/* returnArgAction TrackSock: a matching call's returned socket is tracked */
const volatile __u8 vg_gen_ret_track = 0;
/* file arguments (bit per argument) whose f_flags the event carries in
 * X[0] (file_open: the open's flags, for process_lsm.file_flags); a
 * constant, so other hooks' instances do not verify the read */
const volatile __u8 vg_gen_fflags = 0;

#define VG_AF_INET 2
#define VG_AF_INET6 10

struct vg_gen_ctx {
	struct vg_hook_scratch *sc;
	const struct vg_hook_selectors *hs;
	const struct vg_proc *proc;
	struct vg_loop_state *st; /* matched policy and verdict so far */
	void *prog_ctx;           /* the program's own context, for bpf_get_stackid */
	__u8 audit_all;
	__u64 args_hash; /* rateLimit: what makes two calls the same event */
};

/* A load from ctx at a constant offset, in one instruction: clang would turn a
 * switch over the offset into ctx + n * 8, which the verifier refuses (ctx
 * pointers must not be modified). */
#define VG_CTX_AT(ctx, i)                                                              \
	({                                                                             \
		__u64 __v;                                                             \
		asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(__v) : "r"(ctx), "i"((i) * 8)); \
		__v;                                                                   \
	})

/* kprobe and kretprobe instances: the entry program copies the registers
 * into an array on its stack (arguments 0..5, then the return value) and runs
 * the same evaluator on that array instead of a trampoline's context. */
static __always_inline bool vg_gen_kprobe(void)
{
	return vg_gen_mech == VG_MECH_KPROBE || vg_gen_mech == VG_MECH_KRETPROBE;
}

/* uprobes: ctx is the user task's struct pt_regs; arguments follow the x86_64
 * SysV calling convention (rdi, rsi, rdx, rcx, r8, r9), the return value is
 * in rax. Loaded through VG_CTX_AT at pt_regs' word offsets. */
#define VG_REG(ctx, r) VG_CTX_AT(ctx, __builtin_offsetof(struct pt_regs, r) / 8)

static __always_inline bool vg_gen_is_uprobe(void)
{
	return vg_gen_mech == VG_MECH_UPROBE || vg_gen_mech == VG_MECH_URETPROBE;
}

static __always_inline __u64 vg_ctx_arg(__u64 *ctx, int i)
{
	if (vg_gen_is_uprobe()) {
		switch (i) {
		case 0: return VG_REG(ctx, di);
		case 1: return VG_REG(ctx, si);
		case 2: return VG_REG(ctx, dx);
		case 3: return VG_REG(ctx, cx);
		case 4: return VG_REG(ctx, r8);
		case 5: return VG_REG(ctx, r9);
		}
		return 0;
	}
	if (vg_gen_syscall && !vg_gen_kprobe()) {
		struct pt_regs *regs = (struct pt_regs *)ctx[0];
		switch (i) {
		case 0: return regs->di;
		case 1: return regs->si;
		case 2: return regs->dx;
		case 3: return regs->r10;
		case 4: return regs->r8;
		case 5: return regs->r9;
		}
		return 0;
	}
	switch (i) {
	case 0: return VG_CTX_AT(ctx, 0);
	case 1: return VG_CTX_AT(ctx, 1);
	case 2: return VG_CTX_AT(ctx, 2);
	case 3: return VG_CTX_AT(ctx, 3);
	case 4: return VG_CTX_AT(ctx, 4);
	case 5: return VG_CTX_AT(ctx, 5);
	}
	return 0;
}

#define VG_SI_USER 0
#define VG_SI_KERNEL 0x80

/* signal_generate's errno (code: false) or code from its kernel_siginfo
 * argument, as TP_STORE_SIGINFO records them: the pointer may be one of
 * the markers SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1), so the verifier
 * types it as a number ("may encode error") and the siginfo is read with
 * bpf_probe_read_kernel, which lockdown withholds (vg_tp_siginfo_err). */
static __always_inline __u64 vg_tp_siginfo(__u64 *ctx, bool code)
{
	__u64 p = VG_CTX_AT(ctx, 1);
	if (p == 0 || p == 1)
		return code ? (__u64)(__s64)(p ? VG_SI_KERNEL : VG_SI_USER) : 0;
	struct kernel_siginfo *info = (struct kernel_siginfo *)p;
	int v = 0;
	if (vg_can_read_kernel)
		bpf_probe_read_kernel(&v, sizeof(v), code ? &info->si_code : &info->si_errno);
	return (__u64)(__s64)v;
}

/* Whether source src could not be read here (a siginfo under lockdown). */
static __always_inline bool vg_tp_siginfo_err(__u64 *ctx, __u8 src)
{
	return (src == VG_SRC_SIGINFO_ERRNO || src == VG_SRC_SIGINFO_CODE) && !vg_can_read_kernel &&
	       VG_CTX_AT(ctx, 1) > 1;
}

/* A tracepoint field (tp_btf): from the tracepoint's arguments (TP_PROTO),
 * the calling thread, or the system call's pt_regs, as the record's
 * TP_fast_assign takes it (daemon/policy/tracepoints.cc). */
static __always_inline __u64 vg_tp_raw(__u64 *ctx, __u8 src)
{
	switch (src) {
	case VG_SRC_CTX0 + 0: return VG_CTX_AT(ctx, 0);
	case VG_SRC_CTX0 + 1: return VG_CTX_AT(ctx, 1);
	case VG_SRC_CTX0 + 2: return VG_CTX_AT(ctx, 2);
	case VG_SRC_CTX0 + 3: return VG_CTX_AT(ctx, 3);
	case VG_SRC_CTX0 + 4: return VG_CTX_AT(ctx, 4);
	case VG_SRC_CTX0 + 5: return VG_CTX_AT(ctx, 5);
	case VG_SRC_TID: return (__u32)bpf_get_current_pid_tgid();
	case VG_SRC_REGS_NR: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->orig_ax;
	case VG_SRC_REGS_ARG0 + 0: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->di;
	case VG_SRC_REGS_ARG0 + 1: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->si;
	case VG_SRC_REGS_ARG0 + 2: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->dx;
	case VG_SRC_REGS_ARG0 + 3: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->r10;
	case VG_SRC_REGS_ARG0 + 4: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->r8;
	case VG_SRC_REGS_ARG0 + 5: return ((struct pt_regs *)VG_CTX_AT(ctx, 0))->r9;
	case VG_SRC_TASK_PID0 + 0: return ((struct task_struct *)VG_CTX_AT(ctx, 0))->pid;
	case VG_SRC_TASK_PID0 + 1: return ((struct task_struct *)VG_CTX_AT(ctx, 1))->pid;
	case VG_SRC_TASK_PID0 + 2: return ((struct task_struct *)VG_CTX_AT(ctx, 2))->pid;
	case VG_SRC_TASK_PRIO: return ((struct task_struct *)VG_CTX_AT(ctx, 0))->prio;
	case VG_SRC_TASK_OOM: return ((struct task_struct *)VG_CTX_AT(ctx, 0))->signal->oom_score_adj;
	case VG_SRC_BPRM_FILENAME: return (__u64)((struct linux_binprm *)VG_CTX_AT(ctx, 2))->filename;
	case VG_SRC_MOD_TAINTS: return (__u32)((struct module *)VG_CTX_AT(ctx, 0))->taints;
	case VG_SRC_SIGINFO_ERRNO:
	case VG_SRC_SIGINFO_CODE: return vg_tp_siginfo(ctx, src == VG_SRC_SIGINFO_CODE);
	}
	return 0;
}

/* Tracepoint char arrays (task comm, module name): with
 * bpf_probe_read_kernel_str where it is allowed, else (lockdown) with
 * BTF-checked loads. Returns false for a source that is not such an array.
 * (Debian's 6.1 reads zeros through the BTF loads of this loop, 6.12 and
 * 6.18 the bytes: measured in tests/vm/cases/tracepoints.sh.) */
static __always_inline bool vg_tp_arr(__u64 *ctx, __u8 src, char *buf, struct vg_arg_val *out)
{
	const char *p;
	int max;
	switch (src) {
	case VG_SRC_TASK_COMM0 + 0: p = ((struct task_struct *)VG_CTX_AT(ctx, 0))->comm; max = 16; break;
	case VG_SRC_TASK_COMM0 + 1: p = ((struct task_struct *)VG_CTX_AT(ctx, 1))->comm; max = 16; break;
	case VG_SRC_TASK_COMM0 + 2: p = ((struct task_struct *)VG_CTX_AT(ctx, 2))->comm; max = 16; break;
	case VG_SRC_MOD_NAME: p = ((struct module *)VG_CTX_AT(ctx, 0))->name; max = 56; break;
	default: return false;
	}
	if (vg_can_read_kernel) {
		long r = bpf_probe_read_kernel_str(buf, max == 16 ? 16 : 56, p);
		out->str_len = r > 0 ? (__u16)(r - 1) : 0;
		if (r <= 0)
			out->flags |= VG_ARGF_ERR;
		return true;
	}
	int n = 0;
#pragma unroll
	for (int j = 0; j < 56; j++) {
		if (j >= max)
			break;
		char c = p[j];
		if (!c)
			break;
		buf[j] = c;
		n++;
	}
	buf[n & (VG_PATH_MAX - 1)] = 0;
	out->str_len = (__u16)n;
	return true;
}

#define VG_TS_COMPAT 0x0002 /* thread_info.status: in a 32-bit (ia32) system call */

/* LSM, fmod_ret and fexit programs see the return value (so far) after the
 * arguments: 64 bits, as the function returns it. */
static __always_inline __s64 vg_ctx_ret(__u64 *ctx)
{
	if (vg_gen_kprobe())
		return VG_CTX_AT(ctx, VG_HOOK_ARGS);
	if (vg_gen_is_uprobe())
		return VG_REG(ctx, ax);
	switch (vg_gen_nargs) {
	case 0: return VG_CTX_AT(ctx, 0);
	case 1: return VG_CTX_AT(ctx, 1);
	case 2: return VG_CTX_AT(ctx, 2);
	case 3: return VG_CTX_AT(ctx, 3);
	case 4: return VG_CTX_AT(ctx, 4);
	case 5: return VG_CTX_AT(ctx, 5);
	case 6: return VG_CTX_AT(ctx, 6);
	}
	return 0;
}

/* A path into string slot buf: bpf_d_path where the hook allows it (BPF LSM),
 * else the dentry walk d_path does, then a copy into place. */
static __always_inline void vg_gen_path(struct vg_hook_scratch *sc, const struct path *p, char *buf,
					struct vg_arg_val *out, bool d_path_ok)
{
	if (d_path_ok) {
		long n = bpf_d_path((struct path *)p, buf, VG_PATH_MAX);
		if (n > 1) {
			out->str_len = (__u16)((n - 1) & (VG_PATH_MAX - 1));
		} else {
			out->flags |= n == -36 ? VG_ARGF_TRUNC : VG_ARGF_ERR;
		}
		return;
	}
	if (!vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	__u8 trunc = 0;
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 pos = vg_walk_path(task, p, sc->walk, &trunc);
	__u32 len = VG_PATH_MAX - pos;
	if (pos >= VG_PATH_MAX || len >= VG_PATH_MAX || trunc) {
		out->flags |= trunc ? VG_ARGF_TRUNC : VG_ARGF_ERR;
		return;
	}
	bpf_probe_read_kernel(buf, VG_BOUND(len, VG_PATH_MAX - 1), sc->walk + VG_BOUND(pos, VG_PATH_MAX - 1));
	out->str_len = (__u16)len;
}

static __always_inline void vg_gen_sock(struct sock *sk, struct vg_arg_val *out)
{
	if (!sk || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->num = (__u64)sk; /* TrackSock / UntrackSock key, never rendered */
	out->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	out->protocol = (__u8)BPF_CORE_READ(sk, sk_protocol);
	out->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	out->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	out->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (out->family == VG_AF_INET) {
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(out->saddr, &s, 4);
		__builtin_memcpy(out->daddr, &d, 4);
	} else if (out->family == VG_AF_INET6) {
		BPF_CORE_READ_INTO(&out->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&out->daddr, sk, __sk_common.skc_v6_daddr);
	}
}

/* A sockaddr is one address: both the source and destination fields hold it,
 * so SAddr/DAddr and SPort/DPort all match it (as in Tetragon). */
static __always_inline void vg_gen_sockaddr(struct sockaddr *sa, struct vg_arg_val *out)
{
	if (!sa || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->family = BPF_CORE_READ(sa, sa_family);
	if (out->family == VG_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		out->sport = out->dport = bpf_ntohs(BPF_CORE_READ(in, sin_port));
		__u32 a = BPF_CORE_READ(in, sin_addr.s_addr);
		__builtin_memcpy(out->saddr, &a, 4);
		__builtin_memcpy(out->daddr, &a, 4);
	} else if (out->family == VG_AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		out->sport = out->dport = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
		BPF_CORE_READ_INTO(&out->saddr, in6, sin6_addr);
		BPF_CORE_READ_INTO(&out->daddr, in6, sin6_addr);
	}
}

/* A dentry's path: in the mount of the hook's directory argument when it has
 * one (path_unlink's dentry is in the mount of its dir), which gives the full
 * path; else within its own file system, as Tetragon reports dentries. */
static __always_inline void vg_gen_dentry(__u64 *ctx, struct vg_hook_scratch *sc,
					  struct dentry *d, int mount_of, char *buf,
					  struct vg_arg_val *out)
{
	struct path p = { .mnt = 0, .dentry = d };
	if (mount_of >= 0 && vg_can_read_kernel)
		p.mnt = BPF_CORE_READ((struct path *)vg_ctx_arg(ctx, mount_of), mnt);
	vg_gen_path(sc, &p, buf, out, false);
}

/* ---- kernel argument types (kinds 20..31) ------------------------------
 * Reads go through bpf_probe_read_kernel (BPF_CORE_READ), as for sockets:
 * the same code serves fentry and kprobe programs, and under lockdown
 * (vg_can_read_kernel false) the argument is flagged unreadable rather than
 * the program refused. */

#define VG_ETH_P_IP 0x0800
#define VG_ETH_P_IPV6 0x86DD

/* A buffer of size bytes at p (char_buf): user memory first (system call
 * buffers, and most kernel functions' __user buffers), else kernel memory. */
static __always_inline void vg_gen_buf(void *p, __s64 size, bool user_only, char *buf,
				       struct vg_arg_val *out)
{
	if (size <= 0) {
		if (size < 0)
			out->flags |= VG_ARGF_ERR;
		return;
	}
	__u32 n = size > VG_PATH_MAX - 1 ? VG_PATH_MAX - 1 : (__u32)size;
	if (size > VG_PATH_MAX - 1)
		out->flags |= VG_ARGF_TRUNC;
	n = VG_BOUND(n, VG_PATH_MAX - 1);
	if (!n)
		return;
	long err = bpf_probe_read_user(buf, n, p);
	if (err && !user_only && vg_can_read_kernel)
		err = bpf_probe_read_kernel(buf, n, p);
	if (err) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->str_len = (__u16)n;
}

/* A NUL-terminated kernel string of at most max bytes into the slot. */
static __always_inline void vg_gen_kstr(const void *p, __u32 max, char *buf, struct vg_arg_val *out)
{
	long n = bpf_probe_read_kernel_str(buf, max < VG_PATH_MAX ? max : VG_PATH_MAX, p);
	if (n > 0)
		out->str_len = (__u16)((n - 1) & (VG_PATH_MAX - 1));
	else
		out->flags |= VG_ARGF_ERR;
}

/* The IP and transport headers of a packet, as Tetragon reads them: the
 * version from the first byte of the network header, addresses, protocol,
 * and the ports of TCP and UDP. */
static __always_inline void vg_gen_skb(struct sk_buff *skb, struct vg_arg_val *out)
{
	if (!skb || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->num = BPF_CORE_READ(skb, len) | (__u64)BPF_CORE_READ(skb, mark) << 32;
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__u8 first = 0;
	__u32 l4 = 0;
	bpf_probe_read_kernel(&first, 1, head + nh);
	if ((first >> 4) == 4) {
		struct iphdr ip = {};
		bpf_probe_read_kernel(&ip, sizeof(ip), head + nh);
		out->family = VG_AF_INET;
		out->protocol = ip.protocol;
		__builtin_memcpy(out->saddr, &ip.saddr, 4);
		__builtin_memcpy(out->daddr, &ip.daddr, 4);
		l4 = nh + (ip.ihl & 15) * 4;
	} else if ((first >> 4) == 6) {
		struct ipv6hdr ip6 = {};
		bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh);
		out->family = VG_AF_INET6;
		out->protocol = ip6.nexthdr;
		__builtin_memcpy(out->saddr, &ip6.saddr, 16);
		__builtin_memcpy(out->daddr, &ip6.daddr, 16);
		l4 = nh + sizeof(ip6);
	}
	if (out->family && (out->protocol == 6 || out->protocol == 17)) {
		if (th != (__u16)~0 && th > nh)
			l4 = th;
		__u16 ports[2] = {};
		bpf_probe_read_kernel(ports, sizeof(ports), head + l4);
		out->sport = bpf_ntohs(ports[0]);
		out->dport = bpf_ntohs(ports[1]);
	}
}

/* sig_ok exists with CONFIG_MODULE_SIG only (not in the vendored vmlinux.h). */
struct module___sig {
	bool sig_ok;
} __attribute__((preserve_access_index));

static __always_inline void vg_gen_module(struct module *mod, char *buf, struct vg_arg_val *out)
{
	if (!mod || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	vg_gen_kstr(mod->name, sizeof(mod->name), buf, out);
	out->num = BPF_CORE_READ(mod, taints);
	struct module___sig *ms = (void *)mod;
	if (bpf_core_field_exists(ms->sig_ok))
		VG_ARG_X(out)[0] = BPF_CORE_READ(ms, sig_ok);
}

static __always_inline void vg_gen_bpf_attr(union bpf_attr *attr, char *buf, struct vg_arg_val *out)
{
	if (!attr || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->num = BPF_CORE_READ(attr, prog_type);
	VG_ARG_X(out)[0] = BPF_CORE_READ(attr, insn_cnt);
	vg_gen_kstr(attr->prog_name, sizeof(attr->prog_name), buf, out);
	out->flags &= ~VG_ARGF_ERR; /* an empty name is fine */
}

static __always_inline void vg_gen_bpf_map(struct bpf_map *map, char *buf, struct vg_arg_val *out)
{
	if (!map || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->num = BPF_CORE_READ(map, map_type);
	VG_ARG_X(out)[0] = BPF_CORE_READ(map, key_size);
	VG_ARG_X(out)[1] = BPF_CORE_READ(map, value_size);
	VG_ARG_X(out)[2] = BPF_CORE_READ(map, max_entries);
	vg_gen_kstr(map->name, sizeof(map->name), buf, out);
	out->flags &= ~VG_ARGF_ERR;
}

/* perf_event: its attr (a kernel copy); kprobe_func (config1) still points
 * to the caller's memory while perf_event_open runs. */
static __always_inline void vg_gen_perf_event(struct perf_event *ev, char *buf, struct vg_arg_val *out)
{
	if (!ev || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->num = BPF_CORE_READ(ev, attr.config);
	VG_ARG_X(out)[0] = BPF_CORE_READ(ev, attr.type);
	__u64 off = BPF_CORE_READ(ev, attr.probe_offset);
	__builtin_memcpy(&VG_ARG_X(out)[2], &off, 8);
	__u64 func = BPF_CORE_READ(ev, attr.kprobe_func);
	if (func && VG_ARG_X(out)[0] > 5) { /* a dynamic PMU (kprobe, uprobe) */
		long n = bpf_probe_read_user_str(buf, 256, (void *)func);
		if (n > 1)
			out->str_len = (__u16)((n - 1) & 255);
	}
}

static __always_inline void vg_gen_user_ns(struct user_namespace *ns, struct vg_arg_val *out)
{
	if (!ns || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	out->num = BPF_CORE_READ(ns, ns.inum);
	VG_ARG_X(out)[0] = BPF_CORE_READ(ns, level);
	VG_ARG_X(out)[1] = BPF_CORE_READ(ns, owner.val);
	VG_ARG_X(out)[2] = BPF_CORE_READ(ns, group.val);
}

static __always_inline void vg_gen_kernel_cap(kernel_cap_t *cap, struct vg_arg_val *out)
{
	if (!cap || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	kernel_cap_t c = {};
	bpf_probe_read_kernel(&c, sizeof(c), cap);
	out->num = vg_cap(&c);
}

/* iov_iter's iovec pointer is __iov since 6.4, iov before. */
struct iov_iter___v61 {
	const struct iovec *iov;
} __attribute__((preserve_access_index));

/* The data of an iov_iter (tty_write, ...): a user buffer (ITER_UBUF) or the
 * first iovec's, from iov_offset, up to count bytes. */
static __always_inline void vg_gen_iov_iter(struct iov_iter *it, char *buf, struct vg_arg_val *out)
{
	if (!it || !vg_can_read_kernel) {
		out->flags |= VG_ARGF_ERR;
		return;
	}
	__u8 type = BPF_CORE_READ(it, iter_type);
	__u64 count = BPF_CORE_READ(it, count);
	__u64 off = BPF_CORE_READ(it, iov_offset);
	void *base = 0;
	__u64 len = count;
	out->num = count;
	if (type == bpf_core_enum_value(enum iter_type, ITER_UBUF)) {
		base = BPF_CORE_READ(it, ubuf);
	} else if (type == bpf_core_enum_value(enum iter_type, ITER_IOVEC)) {
		const struct iovec *iov;
		if (bpf_core_field_exists(it->__iov))
			iov = BPF_CORE_READ(it, __iov);
		else
			iov = BPF_CORE_READ((struct iov_iter___v61 *)it, iov);
		base = BPF_CORE_READ(iov, iov_base);
		__u64 l = BPF_CORE_READ(iov, iov_len);
		len = l > off ? l - off : 0;
		if (len > count)
			len = count;
	} else {
		return; /* kernel-side iterators (kvec, bvec, ...): count only */
	}
	if (base)
		vg_gen_buf(base + off, (__s64)len, true, buf, out);
}

/* An integer register value at its argument's width: sign-extended for the
 * signed kinds, zero-extended for the others (the compiler's atWidth()
 * encodes policy values the same way). */
static __always_inline __u64 vg_at_width(__u8 kind, __u64 raw)
{
	switch (kind) {
	case VG_ARG_S8: return (__s64)(__s8)raw;
	case VG_ARG_U8: return (__u8)raw;
	case VG_ARG_S16: return (__s64)(__s16)raw;
	case VG_ARG_U16: return (__u16)raw;
	case VG_ARG_S32: return (__s64)(__s32)raw;
	case VG_ARG_U32: return (__u32)raw;
	}
	return raw;
}

/* Reads argument i (a constant after unrolling) into the event. */
static __always_inline void vg_gen_read_arg(__u64 *ctx, struct vg_hook_scratch *sc, int i)
{
	__u8 kind = vg_gen_kind[i];
	struct vg_arg_val *out = &sc->ev.args[i];
	if (kind == VG_ARG_NONE) {
		out->kind = VG_ARG_NONE; /* the scratch is shared: clear what another hook left */
		return;
	}
	__builtin_memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->str_off = vg_gen_slot[i] ? VG_PATH_MAX : 0;
	char *buf = sc->str[vg_gen_slot[i] & 1];
	__u64 raw = vg_gen_src[i] ? vg_tp_raw(ctx, vg_gen_src[i]) : vg_ctx_arg(ctx, i);
	long n;
	switch (kind) {
	case VG_ARG_S8:
	case VG_ARG_U8:
	case VG_ARG_S16:
	case VG_ARG_U16:
	case VG_ARG_S32:
	case VG_ARG_U32:
	case VG_ARG_S64:
	case VG_ARG_U64:
		out->num = vg_at_width(kind, raw);
		if (vg_gen_src[i] && vg_tp_siginfo_err(ctx, vg_gen_src[i]))
			out->flags |= VG_ARGF_ERR;
		break;
	case VG_ARG_SYSCALL64:
		out->num = (__u32)raw;
		if (bpf_get_current_task_btf()->thread_info.status & VG_TS_COMPAT)
			out->num |= VG_SYSCALL_IA32;
		break;
	case VG_ARG_STR:
	case VG_ARG_USTR:
		if (kind == VG_ARG_STR && vg_gen_src[i] && vg_tp_arr(ctx, vg_gen_src[i], buf, out))
			break;
		if (kind == VG_ARG_STR && !vg_can_read_kernel) {
			out->flags |= VG_ARGF_ERR;
			break;
		}
		n = kind == VG_ARG_USTR ? bpf_probe_read_user_str(buf, VG_PATH_MAX, (void *)raw)
					: bpf_probe_read_kernel_str(buf, VG_PATH_MAX, (void *)raw);
		if (n > 0) {
			out->str_len = (__u16)((n - 1) & (VG_PATH_MAX - 1));
			if (n == VG_PATH_MAX)
				out->flags |= VG_ARGF_TRUNC;
		} else {
			out->flags |= VG_ARGF_ERR;
		}
		break;
	case VG_ARG_FILE:
		vg_gen_path(sc, &((struct file *)raw)->f_path, buf, out, vg_gen_dpath);
		if (vg_gen_fflags & (1u << i)) /* a trampoline's file is BTF-typed */
			VG_ARG_X(out)[0] = !vg_gen_kprobe() ? ((struct file *)raw)->f_flags
				: vg_can_read_kernel ? BPF_CORE_READ((struct file *)raw, f_flags) : 0;
		break;
	case VG_ARG_PATH:
		vg_gen_path(sc, (struct path *)raw, buf, out, vg_gen_dpath);
		break;
	case VG_ARG_BINPRM:
		if (vg_gen_kprobe()) { /* a plain number: read the file pointer */
			struct file *f = vg_can_read_kernel ? BPF_CORE_READ((struct linux_binprm *)raw, file) : 0;
			vg_gen_path(sc, &f->f_path, buf, out, false);
			break;
		}
		vg_gen_path(sc, &((struct linux_binprm *)raw)->file->f_path, buf, out, vg_gen_dpath);
		break;
	case VG_ARG_DENTRY:
		vg_gen_dentry(ctx, sc, (struct dentry *)raw, vg_gen_mount_of[i], buf, out);
		break;
	case VG_ARG_SOCK:
		vg_gen_sock((struct sock *)raw, out);
		break;
	case VG_ARG_SOCKET:
		vg_gen_sock(vg_can_read_kernel ? BPF_CORE_READ((struct socket *)raw, sk) : 0, out);
		break;
	case VG_ARG_SOCKADDR:
		vg_gen_sockaddr((struct sockaddr *)raw, out);
		break;
	case VG_ARG_CRED:
		if (vg_can_read_kernel)
			out->num = BPF_CORE_READ((struct cred *)raw, euid.val);
		else
			out->flags |= VG_ARGF_ERR;
		break;
	case VG_ARG_TASK:
		if (vg_can_read_kernel)
			out->num = BPF_CORE_READ((struct task_struct *)raw, tgid);
		else
			out->flags |= VG_ARGF_ERR;
		break;
	case VG_ARG_CHAR_BUF:
	case VG_ARG_UCHAR_BUF: {
		__s64 size = vg_gen_size_of[i] >= 0 ? (__s64)vg_ctx_arg(ctx, vg_gen_size_of[i]) : 0;
		if (vg_gen_ret_copy & (1u << i)) { /* filled by the call: what it returned */
			__s64 r = vg_ctx_ret(ctx);
			size = vg_gen_size_of[i] >= 0 && size < r ? size : r;
		}
		vg_gen_buf((void *)raw, size, kind == VG_ARG_UCHAR_BUF, buf, out);
		break;
	}
	case VG_ARG_SKB:
		vg_gen_skb((struct sk_buff *)raw, out);
		break;
	case VG_ARG_MODULE:
		vg_gen_module((struct module *)raw, buf, out);
		break;
	case VG_ARG_BPF_ATTR:
		vg_gen_bpf_attr((union bpf_attr *)raw, buf, out);
		break;
	case VG_ARG_BPF_MAP:
		vg_gen_bpf_map((struct bpf_map *)raw, buf, out);
		break;
	case VG_ARG_PERF_EVENT:
		vg_gen_perf_event((struct perf_event *)raw, buf, out);
		break;
	case VG_ARG_KIOCB:
		vg_gen_path(sc, &((struct kiocb *)raw)->ki_filp->f_path, buf, out, vg_gen_dpath);
		break;
	case VG_ARG_FILENAME:
		if (vg_can_read_kernel)
			vg_gen_kstr(BPF_CORE_READ((struct filename *)raw, name), VG_PATH_MAX, buf, out);
		else
			out->flags |= VG_ARGF_ERR;
		break;
	case VG_ARG_USER_NS:
		vg_gen_user_ns((struct user_namespace *)raw, out);
		break;
	case VG_ARG_KERNEL_CAP:
		vg_gen_kernel_cap((kernel_cap_t *)raw, out);
		break;
	case VG_ARG_IOV_ITER:
		vg_gen_iov_iter((struct iov_iter *)raw, buf, out);
		break;
	}
}

/* Kinds whose value (or name) lands in a string slot. */
static __always_inline bool vg_kind_is_string(__u8 kind)
{
	return (kind >= VG_ARG_STR && kind <= VG_ARG_BINPRM) || kind == VG_ARG_DENTRY ||
	       kind == VG_ARG_CHAR_BUF || kind == VG_ARG_UCHAR_BUF || kind == VG_ARG_MODULE ||
	       kind == VG_ARG_BPF_ATTR || kind == VG_ARG_KIOCB || kind == VG_ARG_FILENAME ||
	       kind == VG_ARG_PERF_EVENT || kind == VG_ARG_BPF_MAP || kind == VG_ARG_IOV_ITER;
}

static __always_inline bool vg_kind_is_signed(__u8 kind)
{
	return kind == VG_ARG_S8 || kind == VG_ARG_S16 || kind == VG_ARG_S32 || kind == VG_ARG_S64;
}

static __always_inline __u64 vg_field_num(const struct vg_arg_val *a, __u8 field)
{
	switch (field) {
	case VG_FIELD_FAMILY: return a->family;
	case VG_FIELD_PROTOCOL: return a->protocol;
	case VG_FIELD_SPORT: return a->sport;
	case VG_FIELD_DPORT: return a->dport;
	case VG_FIELD_STATE: return a->state;
	}
	return a->num;
}

/* One matchArgs filter against the call's arguments. A global function: the
 * verifier checks it once per program, not once per filter slot of every
 * selector path, which is what made a hook instance slow to load. */
__noinline int vg_gen_filter_hit(struct vg_hook_scratch *sc, const struct vg_arg_filter *af,
				 __u32 slot, __u32 f)
{
	if (!sc || !af)
		return 0;
	__u32 ai = af->arg;
	const struct vg_arg_val *a;
	if (ai == VG_ARG_RETURN)
		a = &sc->retval;
	else if (ai < VG_HOOK_ARGS)
		a = &sc->ev.args[ai];
	else
		return 0;
	if (a->kind == VG_ARG_NONE || (a->flags & VG_ARGF_ERR))
		return 0;
	bool hit = false;
	if (vg_kind_is_string(a->kind) && af->field == VG_FIELD_VALUE) {
		__u32 s = a->str_off ? 1 : 0;
		__u32 len = a->str_len & (VG_PATH_MAX - 1);
		switch (af->op) {
		case VG_OP_EQUAL:
			hit = vg_match_exact(slot, f, VG_OP_EQUAL, len, sc->str_hash[s].h,
					     sc->str_hash[s].check);
			break;
		case VG_OP_PREFIX:
		case VG_OP_POSTFIX:
			hit = len && vg_match_affix(slot, f, af->op, af->len_set, sc->str[s], len);
			break;
		}
	} else if (af->field == VG_FIELD_SADDR || af->field == VG_FIELD_DADDR) {
		if (af->op == VG_OP_CIDR && (a->family == VG_AF_INET || a->family == VG_AF_INET6)) {
			struct vg_cidr_key key = {
				.prefixlen = 64 + (a->family == VG_AF_INET ? 32 : 128),
				.selector = slot,
				.filter = f,
				.family = (__u8)a->family,
			};
			__builtin_memcpy(key.addr, af->field == VG_FIELD_SADDR ? a->saddr : a->daddr, 16);
			hit = bpf_map_lookup_elem(&vg_cidr, &key) != NULL;
		}
	} else {
		__u64 v = vg_field_num(a, af->field);
		bool sig = af->field == VG_FIELD_VALUE && vg_kind_is_signed(a->kind);
		switch (af->op) {
		case VG_OP_INT_IN:
			hit = vg_match_exact(slot, f, VG_OP_INT_IN, 0, v, 0);
			break;
		case VG_OP_GT:
			hit = sig ? (__s64)v > (__s64)af->a : v > af->a;
			break;
		case VG_OP_LT:
			hit = sig ? (__s64)v < (__s64)af->a : v < af->a;
			break;
		case VG_OP_MASK:
			hit = (v & af->a) != 0;
			break;
		case VG_OP_RANGE:
			hit = sig ? ((__s64)v >= (__s64)af->a && (__s64)v <= (__s64)af->b)
				  : (v >= af->a && v <= af->b);
			break;
		case VG_OP_PRIV:
			hit = v < 1024;
			break;
		}
	}
	return hit != (af->negate != 0);
}

/* TrackSock: the returned socket now belongs to the caller. */
static __always_inline void vg_gen_track_sock(struct vg_gen_ctx *c)
{
	const struct vg_arg_val *rv = &c->sc->retval;
	if (!rv->num || (rv->flags & VG_ARGF_ERR))
		return;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct vg_sock_owner o = {
		.tgid = pid_tgid >> 32,
		.tid = (__u32)pid_tgid,
		.ppid = task->real_parent->tgid,
		.uid = (__u32)uid_gid,
		.gid = uid_gid >> 32,
	};
	bpf_get_current_comm(o.comm, sizeof(o.comm));
	__u64 key = rv->num;
	bpf_map_update_elem(&vg_socks, &key, &o, BPF_ANY);
}

/* UntrackSock: forget the socket of argument untrack - 1. */
static __always_inline void vg_gen_untrack_sock(struct vg_gen_ctx *c, __u8 untrack)
{
	__u32 ai = untrack - 1;
	if (ai >= VG_HOOK_ARGS)
		return;
	const struct vg_arg_val *a = &c->sc->ev.args[ai];
	if (a->kind != VG_ARG_SOCK && a->kind != VG_ARG_SOCKET)
		return;
	__u64 key = a->num;
	bpf_map_delete_elem(&vg_socks, &key);
}

/* Events name a tracked socket's owner rather than whoever runs when the
 * kernel handles it (softirq, another task). */
static __always_inline void vg_gen_sock_owner(struct vg_gen_ctx *c, struct vg_hook_event *ev)
{
#pragma unroll
	for (int i = 0; i < VG_HOOK_ARGS; i++) {
		__u8 k = vg_gen_kind[i];
		if (k != VG_ARG_SOCK && k != VG_ARG_SOCKET)
			continue;
		__u64 key = ev->args[i].num;
		if (!key)
			continue;
		const struct vg_sock_owner *o = bpf_map_lookup_elem(&vg_socks, &key);
		if (!o)
			continue;
		if (o->tgid != ev->pid) {
			__u32 tgid = o->tgid;
			const struct vg_proc *p = bpf_map_lookup_elem(&vg_procs, &tgid);
			if (p) {
				__builtin_memcpy(c->sc->bin, p->bin, VG_BIN_MAX);
				ev->bin_trunc = p->bin_trunc;
				ev->bin_len = p->bin_trunc ? VG_BIN_MAX - 1 : p->bin_len;
			} else {
				ev->bin_len = 0;
				ev->bin_trunc = 0;
			}
		}
		ev->pid = o->tgid;
		ev->tid = o->tid;
		ev->ppid = o->ppid;
		ev->uid = o->uid;
		ev->gid = o->gid;
		__builtin_memcpy(ev->comm, o->comm, VG_COMM_LEN);
		return;
	}
}

static __always_inline void vg_gen_emit(struct vg_gen_ctx *c, const struct vg_selector *sel,
					__u8 outcome, int err)
{
	struct vg_hook_event *ev = &c->sc->ev;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	ev->hdr.type = VG_EV_HOOK;
	ev->hdr.version = VG_ABI_VERSION;
	ev->hdr.ktime = bpf_ktime_get_boot_ns();
	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->ppid = task->real_parent->tgid;
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	ev->policy = sel->policy;
	ev->selector = sel->index;
	ev->hook = vg_gen_hook;
	ev->action = sel->action;
	ev->outcome = outcome;
	ev->error = err;
	ev->mechanism = vg_gen_mech;
	ev->signal = sel->signal;
	ev->has_ret = vg_gen_ret_kind != VG_ARG_NONE;
	ev->retval = (__s64)c->sc->retval.num;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	/* kernelStackTrace/userStackTrace: vigild reads the frames by id. */
	ev->kstack_id = -1;
	ev->ustack_id = -1;
	if (sel->stacks & VG_STACK_KERNEL)
		ev->kstack_id = bpf_get_stackid(c->prog_ctx, &vg_stacks, 0);
	if (sel->stacks & VG_STACK_USER)
		ev->ustack_id = bpf_get_stackid(c->prog_ctx, &vg_ustacks, BPF_F_USER_STACK);
	if (c->proc) {
		__builtin_memcpy(c->sc->bin, c->proc->bin, VG_BIN_MAX);
		ev->bin_trunc = c->proc->bin_trunc;
		ev->bin_len = c->proc->bin_trunc ? VG_BIN_MAX - 1 : c->proc->bin_len;
	} else {
		ev->bin_len = 0;
		ev->bin_trunc = 0;
	}
	vg_gen_sock_owner(c, ev);
	/* Send up to the end of the last string slot in use. */
	__u32 tail = 0;
#pragma unroll
	for (int i = 0; i < VG_HOOK_ARGS; i++) {
		if (!vg_kind_is_string(vg_gen_kind[i]))
			continue;
		__u32 end = (vg_gen_slot[i] ? VG_PATH_MAX : 0) + (ev->args[i].str_len & (VG_PATH_MAX - 1));
		if (end > tail)
			tail = end;
	}
	__u32 size = sizeof(*ev) + VG_BIN_MAX + VG_BOUND(tail, 2 * VG_PATH_MAX - 1);
	ev->hdr.size = size;
	vg_count(vg_gen_hook, 0);
	if (bpf_ringbuf_output(&vg_events, ev, size, 0))
		vg_count(vg_gen_hook, 1);
}

/* What makes two calls the same event for rateLimit: their argument values
 * (strings by hash) and the return value. */
static __always_inline __u64 vg_gen_args_hash(const struct vg_hook_scratch *sc)
{
	__u64 h = sc->str_hash[0].h * 31 + sc->str_hash[1].h;
#pragma unroll
	for (int i = 0; i < VG_HOOK_ARGS; i++) {
		/* Only this hook's arguments: the rest of the shared scratch holds
		 * what other hooks left there. */
		if (vg_gen_kind[i] == VG_ARG_NONE)
			continue;
		const struct vg_arg_val *a = &sc->ev.args[i];
		if (vg_gen_kind[i] == VG_ARG_NONE)
			continue; /* the shared scratch holds another hook's values there */
		h = h * VG_FNV_PRIME ^ a->num;
		h = h * VG_FNV_PRIME ^ ((__u64)a->family << 32 | (__u64)a->sport << 16 | a->dport);
		h = h * VG_FNV_PRIME ^ *(const __u64 *)a->saddr ^ (*(const __u64 *)(a->saddr + 8) << 1);
		h = h * VG_FNV_PRIME ^ *(const __u64 *)a->daddr ^ (*(const __u64 *)(a->daddr + 8) << 1);
	}
	return h * VG_FNV_PRIME ^ sc->retval.num;
}

/* returnArg sock/socket: the returned object, read as an argument would be,
 * for matchReturnArgs (sc->retval) and for the event (args[vg_gen_ret_slot]). */
static __always_inline void vg_gen_ret_struct(__u64 *ctx, struct vg_hook_scratch *sc)
{
	struct vg_arg_val *rv = &sc->retval;
	__u64 p = (__u64)vg_ctx_ret(ctx);
	__builtin_memset(rv, 0, sizeof(*rv));
	rv->kind = vg_gen_ret_kind;
	if (!p)
		rv->flags |= VG_ARGF_ERR; /* NULL: the call failed */
	else if (vg_gen_ret_kind == VG_ARG_SOCK)
		vg_gen_sock((struct sock *)p, rv);
	else
		vg_gen_sock(vg_can_read_kernel ? BPF_CORE_READ((struct socket *)p, sk) : 0, rv);
	__u32 slot = vg_gen_ret_slot; /* a constant to the verifier (no division: it loses track) */
	if (slot < VG_HOOK_ARGS) {
		struct vg_arg_val *out = &sc->ev.args[slot];
		__builtin_memcpy(out, rv, sizeof(*out));
		out->flags |= VG_ARGF_RET;
	}
}

/* The hashes of string slot s (len bytes): a global function, so the string
 * walk's state lives in its own stack frame, not in the program's. */
__noinline int vg_gen_hash_slot(struct vg_hook_scratch *sc, __u32 s, __u32 len)
{
	if (!sc || s >= VG_HOOK_STR_SLOTS)
		return 0;
	sc->str_hash[s] = vg_hash_str(sc->str[s], len & (VG_PATH_MAX - 1));
	return 0;
}

static long vg_gen_eval_selector(__u32 i, struct vg_gen_ctx *c)
{
	__u32 slot = 0;
	const struct vg_policy_state *ps = NULL;
	if (i >= c->hs->count)
		return 1;
	const struct vg_selector *sel =
		vg_selector_at(c->hs, i, c->st->matched_policy, c->proc, c->sc->bin, &slot, &ps);
	if (!sel || !ps)
		return 0;
#pragma unroll
	for (int f = 0; f < VG_MAX_ARG_FILTERS; f++) {
		if (f >= sel->nfilters)
			break;
		if (!vg_gen_filter_hit(c->sc, &sel->filters[f], slot, f))
			return 0;
	}
	c->st->matched_policy = sel->policy + 1;
	/* Only LSM and fmod_ret programs decide a return value. */
	bool can_deny = vg_gen_mech == VG_MECH_LSM || vg_gen_mech == VG_MECH_FMOD_RET;
	int err;
	__u8 outcome = vg_decide(sel, c->audit_all || ps->mode == VG_MODE_MONITOR, can_deny,
				 vg_gen_hook, &err);
	if (err && !c->st->verdict)
		c->st->verdict = err;
	/* NotifyEnforcer: the errno the enforcer makes the system call return. */
	int shown = err;
	if (sel->action == VG_ACT_NOTIFY_ENFORCER && outcome == VG_OUT_DENIED)
		shown = sel->error;
	if (vg_gen_ret_track)
		vg_gen_track_sock(c);
	if (sel->untrack_sock)
		vg_gen_untrack_sock(c, sel->untrack_sock);
	if (!sel->nopost && !vg_rate_limited(sel, slot, c->args_hash))
		vg_gen_emit(c, sel, outcome, -shown);
	return 0;
}

/* ctx: where the arguments are (the context, or for kprobes a copy of the
 * registers); prog_ctx: the program's context itself. */
static __always_inline long vg_gen_run(__u64 *ctx, void *prog_ctx)
{
	__u32 hook = vg_gen_hook, zero = 0;
	const struct vg_hook_selectors *hs = bpf_map_lookup_elem(&vg_hooks, &hook);
	if (!hs || !hs->count)
		return 0;
	__u32 scratch = vg_gen_scratch;
	struct vg_hook_scratch *sc = bpf_map_lookup_elem(&vg_hook_scratch, &scratch);
	if (!sc)
		return 0;
	struct vg_loop_state *st = bpf_map_lookup_elem(&vg_loop_state, &hook);
	if (!st)
		return 0;
	const struct vg_config *cfg = bpf_map_lookup_elem(&vg_config, &zero);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vg_gen_ctx c = {
		.sc = sc,
		.hs = hs,
		.st = st,
		.prog_ctx = prog_ctx,
		.proc = bpf_map_lookup_elem(&vg_procs, &tgid),
		.audit_all = cfg ? cfg->audit_all : 0,
	};
#pragma unroll
	for (int i = 0; i < VG_HOOK_ARGS; i++)
		vg_gen_read_arg(ctx, sc, i);
	__builtin_memset(sc->str_hash, 0, sizeof(sc->str_hash));
#pragma unroll
	for (int i = 0; i < VG_HOOK_ARGS; i++) {
		if (!vg_kind_is_string(vg_gen_kind[i]))
			continue;
		__u32 s = vg_gen_slot[i] & 1;
		__u32 len = sc->ev.args[i].str_len & (VG_PATH_MAX - 1);
		if (len)
			vg_gen_hash_slot(sc, s, len);
	}
	struct vg_arg_val *rv = &sc->retval;
	rv->kind = vg_gen_ret_kind;
	rv->num = 0;
	if (vg_gen_ret_kind == VG_ARG_SOCK || vg_gen_ret_kind == VG_ARG_SOCKET)
		vg_gen_ret_struct(ctx, sc);
	else if (vg_gen_ret_kind != VG_ARG_NONE)
		rv->num = vg_at_width(vg_gen_ret_kind, (__u64)vg_ctx_ret(ctx));
	c.args_hash = vg_gen_args_hash(sc);
	st->matched_policy = 0;
	st->verdict = 0;
	bpf_loop(VG_MAX_HOOK_SELECTORS, vg_gen_eval_selector, &c, 0);
	long ret = st->verdict;
	if (ret < -4095 || ret > 0)
		ret = -VG_EPERM;
	return ret;
}

SEC("lsm")
int vg_gen_lsm(__u64 *ctx)
{
	int ret = (int)vg_ctx_ret(ctx);
	if (ret)
		return ret; /* an earlier denial stands */
	return vg_gen_run(ctx, ctx);
}

SEC("fmod_ret")
int vg_gen_fmod_ret(__u64 *ctx)
{
	int ret = (int)vg_ctx_ret(ctx);
	if (ret)
		return ret;
	return vg_gen_run(ctx, ctx);
}

SEC("fentry")
int vg_gen_fentry(__u64 *ctx)
{
	vg_gen_run(ctx, ctx);
	return 0;
}

/* Return probes (kprobes with return: true): the arguments as they were
 * passed, and the return value for matchReturnArgs. Observe, signal, kill. */
SEC("fexit")
int vg_gen_fexit(__u64 *ctx)
{
	vg_gen_run(ctx, ctx);
	return 0;
}

/* syscalls/sys_enter_NAME and sys_exit_NAME run on raw_syscalls' sys_enter
 * and sys_exit: the instance's system call number (-1: any) and where it
 * reads the number (vg_tp_raw). */
const volatile __s32 vg_gen_tp_nr = -1;
const volatile __u8 vg_gen_tp_nr_src = 0;

/* Whether this call is the instance's system call: one compare for every
 * other call. 64-bit calls only, as the kernel's own syscalls events
 * (arch_trace_is_compat_syscall: x86_64 does not trace ia32 calls there). */
static __always_inline bool vg_tp_nr_match(__u64 *ctx)
{
	if (vg_gen_tp_nr < 0)
		return true;
	if ((__s64)vg_tp_raw(ctx, vg_gen_tp_nr_src) != vg_gen_tp_nr)
		return false;
	return !(bpf_get_current_task_btf()->thread_info.status & VG_TS_COMPAT);
}

/* Tracepoints (spec.tracepoints) as BTF-typed raw tracepoints: they load
 * under lockdown, where classic tracepoints (tracefs ids) are out of reach.
 * Fields come from the tracepoint's arguments (vg_gen_src). Observe, signal,
 * kill, NotifyEnforcer. */
SEC("tp_btf")
int vg_gen_tp(__u64 *ctx)
{
	if (!vg_tp_nr_match(ctx))
		return 0;
	vg_gen_run(ctx, ctx);
	return 0;
}

/* Enforcers (spec.enforcers): on a listed system call, carry out what a
 * NotifyEnforcer selector noted for this thread (vg_enforce), once. */
static __always_inline int vg_enforce_apply(bool can_deny)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vg_enforce_note *n = bpf_map_lookup_elem(&vg_enforce, &id);
	if (!n)
		return 0;
	int err = n->error;
	__u32 sig = n->signal;
	bpf_map_delete_elem(&vg_enforce, &id);
	if (sig)
		bpf_send_signal(sig);
	if (sig == VG_SIGKILL)
		vg_count(vg_gen_hook, 3);
	if (!can_deny || !err)
		return 0;
	vg_count(vg_gen_hook, 2);
	return err < -4095 || err > 0 ? -VG_EPERM : err;
}

SEC("fmod_ret")
int vg_enf_fmod(__u64 *ctx)
{
	int ret = (int)vg_ctx_ret(ctx);
	if (ret)
		return ret;
	return vg_enforce_apply(true);
}

/* Where the kernel refuses fmod_ret on system calls: the signal only. */
SEC("fentry")
int vg_enf_fentry(__u64 *ctx)
{
	vg_enforce_apply(false);
	return 0;
}

/* ---- kprobe fallbacks ----------------------------------------------------
 * Where the kernel refuses a trampoline on a function (no BTF for it,
 * trampolines off or refused), the loader attaches these instead. The
 * arguments are registers: plain numbers to the verifier, so every pointer
 * argument is read with CO-RE probe reads (vg_gen_read_arg does for every
 * kind but bpf_d_path, which kprobes do not have: vg_gen_dpath is 0). They
 * never decide a return value: Override is refused at load, Sigkill and
 * Signal work through bpf_send_signal. */

/* Entry arguments for the return probe, by thread: a kretprobe sees only the
 * return value. Sized by the loader (1 entry where unused). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64[VG_HOOK_ARGS]);
} vg_kret_args SEC(".maps");

/* The arguments of a kprobe'd call into a[0..5]: its registers, or for a
 * system call wrapper the user registers its pt_regs argument holds. */
static __always_inline void vg_kprobe_args(struct pt_regs *regs, __u64 *a)
{
	if (vg_gen_syscall) {
		struct pt_regs *u = (struct pt_regs *)PT_REGS_PARM1(regs);
		if (!vg_can_read_kernel)
			return; /* arguments read as 0 (the loader says so) */
		a[0] = BPF_CORE_READ(u, di);
		a[1] = BPF_CORE_READ(u, si);
		a[2] = BPF_CORE_READ(u, dx);
		a[3] = BPF_CORE_READ(u, r10);
		a[4] = BPF_CORE_READ(u, r8);
		a[5] = BPF_CORE_READ(u, r9);
		return;
	}
	a[0] = PT_REGS_PARM1(regs);
	a[1] = PT_REGS_PARM2(regs);
	a[2] = PT_REGS_PARM3(regs);
	a[3] = PT_REGS_PARM4(regs);
	a[4] = PT_REGS_PARM5(regs);
	a[5] = regs->r9; /* x86-64: the sixth argument (no PT_REGS_PARM6 in older libbpf) */
}

/* The arguments of a kprobe'd call, off the program's stack: 6.1 allows a
 * call chain 512 bytes of stack in all (program -> selector callback ->
 * matchBinaries -> string walk). Kprobe programs never nest on a CPU
 * (bpf_prog_active), so one entry per CPU serves them all. */
static __always_inline __u64 *vg_kprobe_regs_get(void)
{
	__u32 zero = 0;
	__u64 *a = bpf_map_lookup_elem(&vg_kprobe_regs, &zero);
	if (a)
		__builtin_memset(a, 0, sizeof(__u64) * (VG_HOOK_ARGS + 1));
	return a;
}

SEC("kprobe")
int vg_gen_kprobe_prog(struct pt_regs *regs)
{
	__u64 *a = vg_kprobe_regs_get();
	if (!a)
		return 0;
	vg_kprobe_args(regs, a);
	vg_gen_run(a, regs);
	return 0;
}

/* The entry half of a return probe: keeps the arguments for the return. */
SEC("kprobe")
int vg_gen_kret_entry(struct pt_regs *regs)
{
	__u64 a[VG_HOOK_ARGS] = {};
	__u64 id = bpf_get_current_pid_tgid();
	vg_kprobe_args(regs, a);
	bpf_map_update_elem(&vg_kret_args, &id, a, BPF_ANY);
	return 0;
}

/* The return half: the arguments as they were passed (pointers read now, as
 * fexit does), and the return value for matchReturnArgs. */
SEC("kretprobe")
int vg_gen_kretprobe(struct pt_regs *regs)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *saved = bpf_map_lookup_elem(&vg_kret_args, &id);
	if (!saved)
		return 0; /* entered before the probe was attached */
	__u64 *a = vg_kprobe_regs_get();
	if (!a)
		return 0;
	__builtin_memcpy(a, saved, sizeof(__u64) * VG_HOOK_ARGS);
	bpf_map_delete_elem(&vg_kret_args, &id);
	a[VG_HOOK_ARGS] = PT_REGS_RC(regs);
	vg_gen_run(a, regs);
	return 0;
}

/* uprobes (spec.uprobes) on a user-space function of an executable or shared
 * library: arguments from the caller's registers, strings from its memory
 * (bpf_probe_read_user_str). Observe, signal, kill; nothing to deny. */
SEC("uprobe")
int vg_gen_uprobe(struct pt_regs *ctx)
{
	vg_gen_run((__u64 *)ctx, ctx);
	return 0;
}

/* uretprobes (return: true): the return value only, for returnArg and
 * matchReturnArgs; the argument registers are gone by then. */
SEC("uretprobe")
int vg_gen_uret(struct pt_regs *ctx)
{
	vg_gen_run((__u64 *)ctx, ctx);
	return 0;
}
