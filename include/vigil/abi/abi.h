/* Vigil's kernel/user ABI: the one header shared by BPF C and C++.
 *
 * Everything that crosses the boundary is declared here once: event records read
 * from the ring buffer, and the keys and values of the maps userspace fills.
 * Only fixed-width types, explicit padding, and size checks at the end, so that
 * the BPF object and the daemon always agree on the layout.
 */
#ifndef VIGIL_ABI_ABI_H
#define VIGIL_ABI_ABI_H

#ifdef __VIGIL_BPF__
/* BPF side: vmlinux.h already provides __u8..__u64. */
#else
#include <linux/types.h>
#endif

/* 2: one event record for every hook (vg_lsm_event and the built-in
 * file_open/bprm_check programs are gone; they are generic hooks). */
#define VG_ABI_VERSION 2

/* ---- limits ------------------------------------------------------------- */
#define VG_PATH_MAX 4096          /* full kernel paths, not 256-byte prefixes */
#define VG_BIN_MAX 256            /* binary path kept in the kernel process table */
#define VG_COMM_LEN 16
#define VG_MAX_POLICIES 1024
#define VG_MAX_SELECTORS 4096     /* selector slots across all policies */
#define VG_MAX_HOOK_SELECTORS 64  /* selectors evaluated per hook, in order */
#define VG_MAX_ARG_FILTERS 6      /* matchArgs entries per selector */
#define VG_MAX_TASK_FILTERS 4     /* matchPIDs/matchNamespaces/matchCapabilities entries per selector */
#define VG_HOOK_ARGS 6            /* arguments a generic hook can capture (index 0..5) */
#define VG_HOOK_STR_SLOTS 2       /* string-like arguments (paths, strings) per generic hook */
#define VG_CIDR_ENTRIES 65536     /* SAddr/DAddr prefixes across all policies */
#define VG_LEN_BITMAP_BYTES (VG_PATH_MAX / 8)
#define VG_STR_MATCH_ENTRIES 262144
#define VG_MAX_LEN_SETS 4096       /* Prefix/Postfix filters across all policies */

/* ---- hooks -------------------------------------------------------------- */
/* Hook ids the daemon hands out, one per hook a policy names (bpf/hook.bpf.c:
 * any LSM hook, kernel function, tracepoint or uprobe, one program instance
 * each; file_open and bprm_check_security included). */
enum vg_hook {
	VG_HOOK_NONE = 0,
	VG_HOOK_FIRST = 1,
	VG_HOOK_MAX = 64,
	/* Counter slots for the process tracepoints (vg_counters only). */
	VG_CNT_EXEC = VG_HOOK_MAX,
	VG_CNT_EXIT,
	VG_CNT_CLONE,
	VG_CNT_MAX,
};

/* ---- selector filters --------------------------------------------------- */
enum vg_str_op {
	VG_OP_NONE = 0,
	VG_OP_EQUAL = 1,   /* string: whole-string hash in vg_str_match */
	VG_OP_PREFIX = 2,
	VG_OP_POSTFIX = 3,
	VG_OP_BIN_IN = 4,  /* matchBinaries */
	VG_OP_INT_IN = 5,  /* number: vg_str_match key with len 0, hash = value */
	VG_OP_GT = 6,      /* number > a */
	VG_OP_LT = 7,      /* number < a */
	VG_OP_MASK = 8,    /* number & a != 0 */
	VG_OP_RANGE = 9,   /* a <= number <= b (signed when the argument is) */
	VG_OP_CIDR = 10,   /* address in one of the selector's prefixes (vg_cidr) */
	VG_OP_PRIV = 11,   /* port < 1024 */
	VG_OP_BIN_PREFIX = 12,
	VG_OP_BIN_POSTFIX = 13,
};

/* Which value of an argument a filter looks at. */
enum vg_field {
	VG_FIELD_VALUE = 0,    /* the number, or the string / path */
	VG_FIELD_FAMILY = 1,   /* sockets: address family */
	VG_FIELD_PROTOCOL = 2, /* sockets: IPPROTO_* */
	VG_FIELD_SPORT = 3,
	VG_FIELD_DPORT = 4,
	VG_FIELD_SADDR = 5,
	VG_FIELD_DADDR = 6,
	VG_FIELD_STATE = 7,    /* sockets: TCP state */
};

/* How a generic hook reads an argument (bpf/hook.bpf.c). Integers are
 * extended from their width; strings and paths land in one of the event's
 * string slots. */
enum vg_arg_kind {
	VG_ARG_NONE = 0,
	VG_ARG_S8, VG_ARG_U8, VG_ARG_S16, VG_ARG_U16,
	VG_ARG_S32, VG_ARG_U32, VG_ARG_S64, VG_ARG_U64,
	VG_ARG_STR = 9,      /* char * in kernel memory */
	VG_ARG_USTR = 10,    /* char __user * (syscall arguments) */
	VG_ARG_FILE = 11,    /* struct file *: its path; X[0] = f_flags where the hook's
			      * catalog entry asks for them (file_open) */
	VG_ARG_PATH = 12,    /* struct path * */
	VG_ARG_BINPRM = 13,  /* struct linux_binprm *: the file being executed */
	VG_ARG_SOCK = 14,    /* struct sock *; num = its address (TrackSock's key) */
	VG_ARG_SOCKET = 15,  /* struct socket *; num = its struct sock's address */
	VG_ARG_SOCKADDR = 16, /* struct sockaddr * (kernel copy) */
	VG_ARG_CRED = 17,    /* struct cred *: num = euid, sport/dport unused */
	VG_ARG_TASK = 18,    /* struct task_struct *: num = tgid */
	VG_ARG_DENTRY = 19,  /* struct dentry *: its name within the mount */
	/* 20..31: kernel argument types. Kinds with a name or buffer keep it in
	 * a string slot; extra numbers go to vg_arg_val.saddr as __u32[4]
	 * (VG_ARG_X), which only socket kinds use as an address. */
	VG_ARG_CHAR_BUF = 20,  /* char *: sizeArgIndex bytes (kernel, or user then kernel) */
	VG_ARG_UCHAR_BUF = 21, /* char __user * of a system call: sizeArgIndex bytes */
	VG_ARG_SKB = 22,       /* struct sk_buff *: IP header fields as for sockets (saddr,
				* daddr, ports, protocol, family); num = len | mark << 32 */
	VG_ARG_MODULE = 23,    /* struct module *: name (slot), num = taints, X[0] = sig_ok */
	VG_ARG_BPF_ATTR = 24,  /* union bpf_attr *: prog_name (slot), num = prog_type, X[0] = insn_cnt */
	VG_ARG_KIOCB = 25,     /* struct kiocb *: the path of ki_filp */
	VG_ARG_FILENAME = 26,  /* struct filename *: its name */
	VG_ARG_USER_NS = 27,   /* struct user_namespace *: num = ns inum, X[0] = level,
				* X[1] = owner uid, X[2] = group gid */
	VG_ARG_KERNEL_CAP = 28, /* kernel_cap_t * (kernel_cap_t, cap_*): num = the set */
	VG_ARG_PERF_EVENT = 29, /* struct perf_event *: kprobe_func (slot), num = attr.config,
				 * X[0] = attr.type, X[2..3] = probe_offset */
	VG_ARG_BPF_MAP = 30,   /* struct bpf_map *: name (slot), num = map_type, X[0] = key_size,
				* X[1] = value_size, X[2] = max_entries */
	VG_ARG_IOV_ITER = 31,  /* struct iov_iter *: the bytes of its first segment (user
				* buffer or iovec), up to count; num = count */
	/* Tracepoint fields: a system call number as Tetragon's "syscall64"
	 * reads it (VG_SYSCALL_IA32 set for a compat 32-bit call). */
	VG_ARG_SYSCALL64 = 32,
	/* 40..47: reserved for uprobe arguments. */
	VG_ARG_KIND_MAX = 48,
};

enum vg_action {
	VG_ACT_POST = 0,
	VG_ACT_OVERRIDE = 1, /* deny: the hook returns the selector's error */
	VG_ACT_SIGKILL = 2,  /* SIGKILL the caller (and deny, so the op never completes) */
	VG_ACT_SIGNAL = 3,   /* send selector.signal to the caller; the op goes on */
	VG_ACT_NOTIFY_ENFORCER = 4, /* tell the policy's enforcer to deny/kill at the syscall */
	VG_ACT_GETURL = 5,   /* user space fetches the selector's URL (a notification) */
	VG_ACT_DNSLOOKUP = 6, /* user space resolves the selector's name (a notification) */
};

enum vg_mode {
	VG_MODE_ENFORCE = 0,
	VG_MODE_MONITOR = 1,
};

/* What the kernel did, reported in each policy event. */
enum vg_outcome {
	VG_OUT_POSTED = 0,      /* Post: observed only */
	VG_OUT_DENIED = 1,      /* Override enforced: the hook returned an error */
	VG_OUT_KILLED = 2,      /* Sigkill enforced (the operation was denied too) */
	VG_OUT_WOULD_DENY = 3,  /* monitor mode: Override matched, nothing denied */
	VG_OUT_WOULD_KILL = 4,  /* monitor mode: Sigkill matched, nothing killed */
	VG_OUT_SIGNALED = 5,    /* Signal enforced: the caller got selector.signal */
	VG_OUT_WOULD_SIGNAL = 6,
};

/* Key of the one hash map that holds every string value of every selector.
 * Equal: hash of the whole string; Prefix: hash of its first len bytes;
 * Postfix: hash of its last len bytes, read backwards. Lookup cost does not
 * depend on how many values a selector holds. */
struct vg_str_key {
	__u32 selector; /* global selector slot */
	__u8 filter;    /* index of the matchArgs filter, or VG_FILTER_BINARY */
	__u8 op;        /* enum vg_str_op */
	__u16 len;      /* length of the hashed bytes */
	__u64 hash;     /* vg_hash over those bytes */
};
#define VG_FILTER_BINARY 0xff

/* For Prefix and Postfix: which lengths occur among the values, so the kernel
 * does one lookup per length that exists, in a single pass over the string. */
struct vg_len_set {
	__u16 max_len;
	__u16 pad[3];
	__u8 bits[VG_LEN_BITMAP_BYTES];
};

struct vg_arg_filter {
	__u8 op;     /* enum vg_str_op; VG_OP_NONE = unused slot */
	__u8 arg;    /* hook argument index (0: the file) */
	__u8 field;  /* enum vg_field */
	__u8 negate; /* NotEqual, NotPrefix, NotInRange, NotDAddr...: the filter passes when the op fails */
	__u32 len_set; /* index into the len_sets map (Prefix/Postfix) */
	__u64 a, b;  /* GT/LT/Mask operand; InRange bounds */
};

/* Filters on the calling task rather than on the hook's arguments. */
enum vg_task_filter_kind {
	VG_TF_NONE = 0,
	VG_TF_PID = 1,  /* matchPIDs: values in vg_str_match (op VG_OP_INT_IN) */
	VG_TF_NS = 2,   /* matchNamespaces: inode numbers in vg_str_match */
	VG_TF_CAP = 3,  /* matchCapabilities: any of mask's bits held */
	VG_TF_PARENT_BIN = 4, /* matchParentBinaries: which = VG_OP_BIN_IN/_PREFIX/_POSTFIX,
			       * mask = its length set; values under VG_FILTER_TASK + t */
	VG_TF_CAP_CHANGE = 5, /* matchCapabilityChanges: which = set; the bits of mask that
			       * differ from those held at exec (vg_proc.exec_caps) */
	VG_TF_NS_CHANGE = 6,  /* matchNamespaceChanges: mask = bits of enum vg_ns whose inode
			       * differs from the one at exec (vg_proc.exec_ns) */
	/* 7 reserved */
};
#define VG_TF_FOLLOW_FORKS 1 /* matchPIDs: the process or any of its ancestors */
#define VG_TF_NS_PID 2       /* matchPIDs: pids as the task's own pid namespace numbers them */
#define VG_NS_TIME_FOR_CHILDREN VG_NS_COUNT /* matchNamespaces' extra namespace */
#define VG_FILTER_TASK 0xf0  /* vg_str_key.filter of task filter t: VG_FILTER_TASK + t */
struct vg_task_filter {
	__u8 kind;   /* enum vg_task_filter_kind */
	__u8 negate; /* NotIn */
	__u8 which;  /* VG_TF_NS: enum vg_ns; VG_TF_CAP: 0 effective, 1 permitted, 2 inheritable */
	__u8 flags;  /* VG_TF_PID: VG_TF_FOLLOW_FORKS | VG_TF_NS_PID */
	__u8 ns_cap;   /* isNamespaceCapability: matches only in a user namespace other
			* than the initial one */
	__u8 pad[3];
	__u64 mask;  /* VG_TF_CAP: capability bits */
};

/* vg_selector.stacks: which stacks an event carries (kernelStackTrace,
 * userStackTrace); the frames are in the vg_stacks / vg_ustacks maps
 * (BPF_MAP_TYPE_STACK_TRACE) under the event's kstack_id/ustack_id, and
 * vigild deletes them once read. */
#define VG_STACK_KERNEL 1
#define VG_STACK_USER 2
#define VG_STACK_DEPTH 64       /* kernel frames kept per stack */
#define VG_STACK_ENTRIES 4096   /* kernel stacks the map holds at once */
/* User stacks (vg_ustacks) are kept as (build id, offset in the file) pairs,
 * which the kernel resolves when it takes the stack: a process that exits
 * before vigild reads the event still gets its frames named. 32 bytes per
 * frame (struct bpf_stack_build_id). */
#define VG_USTACK_DEPTH 32
#define VG_USTACK_ENTRIES 1024

struct vg_selector {
	__u32 policy;  /* policy id */
	__u32 index;   /* selector index within its policy, for events */
	__u8 action;   /* enum vg_action */
	__u8 nfilters; /* used entries of filters[] */
	__u8 binaries; /* matchBinaries: VG_OP_NONE, VG_OP_BIN_IN, _PREFIX or _POSTFIX */
	__u8 bin_negate; /* NotIn / NotPrefix / NotPostfix */
	__s32 error;   /* Override: the (negative) errno the hook returns */
	__u8 signal;   /* Signal: the signal sent to the caller (0: none) */
	__u8 nopost;   /* NoPost: act without an event */
	__u8 bin_follow;   /* matchBinaries followChildren: the process or an ancestor */
	__u8 parent_affix; /* matchParentBinaries Prefix/Postfix: its task[] index + 1
			    * (0: none; one per selector) */
	__u32 bin_len_set; /* matchBinaries Prefix/Postfix: its length set */
	struct vg_arg_filter filters[VG_MAX_ARG_FILTERS];
	__u8 ntask;        /* used entries of task[] */
	__u8 rate_scope;   /* rateLimit: enum vg_rate_scope */
	__u8 untrack_sock; /* UntrackSock: argSock + 1, the sock argument to forget (0: none) */
	__u8 stacks;       /* kernelStackTrace/userStackTrace: VG_STACK_* bits */
	__u8 pad2[4];
	struct vg_task_filter task[VG_MAX_TASK_FILTERS];
	__u64 rate_ns;     /* rateLimit: at most one event per this many ns (0: none) */
};

/* rateLimitScope: whose identical events a rateLimit counts together. */
enum vg_rate_scope { VG_RATE_THREAD = 0, VG_RATE_PROCESS = 1, VG_RATE_GLOBAL = 2 };

/* Key of the rate limiter: one entry per selector, scope and argument values. */
struct vg_rate_key {
	__u32 selector;
	__u32 id;    /* tid, tgid or 0 by scope */
	__u64 args;  /* hash of the event's arguments */
};

/* Key of the LPM trie of SAddr/DAddr prefixes. prefixlen counts the bits
 * after itself: 64 for selector/filter/family/pad, then the address bits. */
struct vg_cidr_key {
	__u32 prefixlen;
	__u32 selector;
	__u8 filter;
	__u8 family; /* AF_INET or AF_INET6 */
	__u8 pad[2];
	__u8 addr[16];
};

/* Per hook, the selector slots to evaluate, grouped by policy, in policy order. */
struct vg_hook_selectors {
	__u32 count;
	__u32 pad;
	__u32 slots[VG_MAX_HOOK_SELECTORS];
};

struct vg_policy_state {
	__u8 mode;    /* enum vg_mode */
	__u8 enabled;
	__u8 pad[6];
};

/* Name and mode of each policy id, kept with the pinned maps so a daemon that
 * adopts them can name the events the previous one's policies produced. */
#define VG_POLICY_NAME_MAX 120
struct vg_policy_meta {
	char name[VG_POLICY_NAME_MAX];
	__u8 mode; /* enum vg_mode */
	__u8 pad[7];
};

/* What each generic hook id stands for, kept with the pinned maps so a daemon
 * that adopts them keeps the same ids ("lsm:file_permission(file,s32)"). */
#define VG_HOOK_KEY_MAX 248
struct vg_hook_meta {
	char key[VG_HOOK_KEY_MAX];
	__u32 in_use;
	__u32 pad;
};

/* Global switches (array map, one entry). */
struct vg_config {
	__u8 audit_all; /* daemon-wide audit: behave as if every policy were monitor */
	__u8 enforcer_caps; /* VG_ENF_*: what the loaded enforcer programs can do */
	__u8 pad[6];
	/* Secret keys of the string hashes (vg_hash_init): random per set of
	 * pinned maps, so no one can craft a string that collides with a policy
	 * value (a NotEqual allow list bypassed) without reading them. */
	__u64 hash_key[2];
};

/* NotifyEnforcer (spec.enforcers): a selector notes, for the calling thread,
 * what the enforcer programs on the listed system calls do at its next one. */
#define VG_SYSCALL_IA32 0x80000000u /* syscall64: a compat (ia32) system call number */
#define VG_ENF_DENY 1   /* enforcers attached with fmod_ret: they return the error */
#define VG_ENF_SIGNAL 2 /* enforcers attached (fmod_ret or fentry): they send the signal */
struct vg_enforce_note {
	__s32 error;  /* negative errno the system call returns (0: none) */
	__u32 signal; /* signal sent at the system call (0: none) */
	__u32 policy;
	__u32 pad;
};

/* Namespaces, in the order of api/vigil/events.proto's Namespaces message. */
enum vg_ns {
	VG_NS_UTS, VG_NS_IPC, VG_NS_MNT, VG_NS_PID, VG_NS_PID_FOR_CHILDREN,
	VG_NS_NET, VG_NS_TIME, VG_NS_CGROUP, VG_NS_USER, VG_NS_COUNT,
};

/* Kernel process table entry, keyed by tgid. */
struct vg_proc {
	__u64 bin_hash; /* vg_hash of the full binary path */
	__u64 bin_check; /* its check hash (vg_str_match's value) */
	__u16 bin_len;  /* full length of the binary path */
	__u8 bin_trunc; /* bin[] holds only the first VG_BIN_MAX-1 bytes */
	__u8 pad[5];
	char bin[VG_BIN_MAX];
	/* What the process held at exec (or when Vigil first saw it), for
	 * matchCapabilityChanges and matchNamespaceChanges. */
	__u64 exec_caps[3]; /* effective, permitted, inheritable */
	__u32 exec_ns[VG_NS_COUNT];
	__u32 pad2;
};

/* ---- events (ring buffer) ----------------------------------------------- */
enum vg_event_type {
	/* 1 was the built-in hooks' record (ABI 1) */
	VG_EV_HOOK = 2,
	VG_EV_EXEC = 3,
	VG_EV_EXIT = 4,
	VG_EV_CLONE = 5,
};

struct vg_event_hdr {
	__u16 type;    /* enum vg_event_type */
	__u16 version; /* VG_ABI_VERSION */
	__u32 size;    /* total record size, header included */
	__u64 ktime;   /* bpf_ktime_get_boot_ns() */
};

enum vg_mechanism {
	VG_MECH_LSM = 1,      /* BPF LSM program */
	VG_MECH_FMOD_RET = 2, /* fmod_ret on security_<hook> (or an error-injectable function) */
	VG_MECH_FENTRY = 3,   /* fentry on a kernel function: observe, signal, kill */
	VG_MECH_FEXIT = 4,    /* fexit: a return probe, with the return value */
	VG_MECH_KPROBE = 5,   /* kprobe: where fentry is refused; observe, signal, kill */
	VG_MECH_KRETPROBE = 6, /* kretprobe: return probe where fexit is refused */
	VG_MECH_TRACEPOINT = 7, /* a tracepoint (classic, raw or BTF-typed) */
	VG_MECH_UPROBE = 8,   /* uprobe on a user-space function */
	VG_MECH_URETPROBE = 9, /* uretprobe */
};

/* One argument of a generic hook event, as the kernel read it. */
#define VG_ARGF_TRUNC 1   /* the string/path was cut at VG_PATH_MAX */
#define VG_ARGF_ERR 2     /* could not be read */
#define VG_ARGF_RET 4     /* a return probe's returnArg of a struct kind (sock, socket) */
/* Extra numbers of kinds 20..31 (see enum vg_arg_kind), in saddr. */
#define VG_ARG_X(a) ((__u32 *)(a)->saddr)
struct vg_arg_val {
	__u8 kind;     /* enum vg_arg_kind; VG_ARG_NONE: not captured */
	__u8 flags;    /* VG_ARGF_* */
	__u16 str_len; /* string/path: its bytes at data + VG_BIN_MAX + str_off */
	__u16 str_off;
	__u16 family;  /* sockets */
	__u64 num;     /* integers (sign-extended), cred euid, task tgid */
	__u16 sport, dport; /* host order */
	__u8 protocol;
	__u8 state;
	__u8 pad[2];
	__u8 saddr[16], daddr[16];
};

/* A policy matched on a generic hook (any LSM hook or kernel function).
 * Followed by VG_BIN_MAX bytes of binary path (bin_len used), then the
 * string slots: slot k at VG_BIN_MAX + k * VG_PATH_MAX. */
struct vg_hook_event {
	struct vg_event_hdr hdr;
	__u32 pid, tid, ppid, uid, gid;
	__u32 policy, selector;
	__u16 hook;
	__u8 action;
	__u8 outcome;
	__s32 error;
	__u16 bin_len;
	__u8 bin_trunc;
	__u8 mechanism;
	__u8 signal;
	__u8 has_ret;  /* a return probe: retval holds the function's return value */
	__u8 pad[2];
	__s32 kstack_id; /* kernelStackTrace: the stack's id in vg_stacks (< 0: none, or -errno) */
	__s64 retval;
	__s32 ustack_id; /* userStackTrace: as kstack_id, in vg_ustacks */
	__u32 pad3;
	char comm[VG_COMM_LEN];
	struct vg_arg_val args[VG_HOOK_ARGS];
};
/* Tracepoints (tp_btf): where a generic hook instance takes argument i's raw
 * value (rodata vg_gen_src[i]); 0 keeps the kprobe/LSM reading of ctx[i]. */
enum vg_tp_src {
	VG_SRC_ARG = 0,      /* ctx[i] as for functions */
	VG_SRC_CTX0 = 1,     /* VG_SRC_CTX0 + n: the tracepoint's argument n (TP_PROTO) */
	VG_SRC_TID = 16,     /* common_pid: the calling thread */
	VG_SRC_REGS_NR = 17, /* the system call number in the pt_regs of TP_PROTO argument 0 */
	/* syscalls/sys_enter_NAME: system call argument n (di, si, dx, r10, r8,
	 * r9) in the pt_regs of TP_PROTO argument 0, n <= 5 */
	VG_SRC_REGS_ARG0 = 18,
	VG_SRC_TASK_PID0 = 24,  /* + n: ->pid of the task at TP_PROTO argument n, n <= 2 */
	VG_SRC_TASK_COMM0 = 27, /* + n: ->comm of that task (a string), n <= 2 */
	VG_SRC_TASK_PRIO = 30,  /* ->prio of the task at argument 0 */
	VG_SRC_TASK_OOM = 31,   /* ->signal->oom_score_adj of the task at argument 0 */
	VG_SRC_BPRM_FILENAME = 32, /* ->filename of the linux_binprm at argument 2 (a string) */
	VG_SRC_MOD_NAME = 33,   /* ->name of the module at argument 0 (a string) */
	VG_SRC_MOD_TAINTS = 34, /* ->taints of the module at argument 0 */
	/* signal_generate's errno and code, from the siginfo at argument 1 as
	 * TP_STORE_SIGINFO takes them (SEND_SIG_NOINFO: 0 and SI_USER,
	 * SEND_SIG_PRIV: 0 and SI_KERNEL) */
	VG_SRC_SIGINFO_ERRNO = 35,
	VG_SRC_SIGINFO_CODE = 36,
};

/* vg_arg_filter.arg of matchReturnArgs filters: the return value. */
#define VG_ARG_RETURN 7
#define VG_HOOK_EVENT_MAX (sizeof(struct vg_hook_event) + VG_BIN_MAX + VG_HOOK_STR_SLOTS * VG_PATH_MAX)

#define VG_EXEC_DATA_MAX (VG_PATH_MAX + VG_ARGS_MAX + VG_PATH_MAX)


/* Identity of a task at an event: what the process table and the exec/exit
 * events share. start_ns is task->start_boottime of the thread group leader. */
struct vg_task_id {
	__u32 pid;
	__u32 tid;
	__u64 start_ns;
	__u32 ppid;
	__u32 pad;
	__u64 parent_start_ns;
};

#define VG_ARGS_MAX 4096
#define VG_EXEC_FLAG_BIN_TRUNC (1 << 0)
#define VG_EXEC_FLAG_ARGS_TRUNC (1 << 1)
#define VG_EXEC_FLAG_CWD_TRUNC (1 << 2)
#define VG_EXEC_FLAG_NO_PATHS (1 << 3) /* kernel reads refused: paths come from /proc */
#define VG_TTY_LEN 16

/* A process exec'd. Followed by bin_len bytes of binary path, args_len bytes
 * of NUL-separated argv, cwd_len bytes of working directory. */
struct vg_exec_event {
	struct vg_event_hdr hdr;
	struct vg_task_id id;
	__u32 uid, euid, gid, egid, auid, sessionid;
	__u64 cgroup_id;
	__u64 cap_permitted, cap_effective, cap_inheritable;
	__u32 ns[VG_NS_COUNT];
	__u16 bin_len;
	__u16 args_len;
	__u16 cwd_len;
	__u16 flags;
	char comm[VG_COMM_LEN];
	__u32 pad;
	/* Controlling terminal: device number (major << 20 | minor, the kernel's
	 * dev_t) and the kernel's name for it ("pts3", "tty1", "ttyS0"); 0 and ""
	 * without one. */
	__u32 tty_dev;
	__u32 pad2;
	char tty[VG_TTY_LEN];
};

/* A new process (not a thread) forked: the userspace cache copies its parent. */
struct vg_clone_event {
	struct vg_event_hdr hdr;
	struct vg_task_id id;
};

/* The last thread of a process exited. */
struct vg_exit_event {
	struct vg_event_hdr hdr;
	struct vg_task_id id;
	__u32 exit_code; /* wait status: code << 8 | signal */
	__u32 pad;
};

/* Ring buffer reserve failures, per hook (per-CPU array indexed by hook). */
struct vg_counters {
	__u64 events;
	__u64 lost;
	__u64 denied;
	__u64 killed;
};

/* ---- hashing, identical on both sides ----------------------------------- */
/* Strings are matched by two 64-bit hashes, each keyed with a secret
 * (vg_config.hash_key): the first is part of vg_str_match's key, the second
 * is the entry's value and must agree too. FNV-1a steps with different
 * multipliers and keyed initial states: one pass, one multiply per byte each.
 * Unkeyed, a 64-bit FNV collision can be computed offline; keyed twice, an
 * attacker must guess 128 secret bits instead. */
#define VG_FNV_OFFSET 0xcbf29ce484222325ULL
#define VG_FNV_PRIME 0x100000001b3ULL
#define VG_CHECK_OFFSET 0x84222325cbf29ce4ULL
#define VG_CHECK_PRIME 0xc6a4a7935bd1e995ULL /* odd: a bijection mod 2^64 */

struct vg_hash2 {
	__u64 h;     /* vg_str_key.hash */
	__u64 check; /* vg_str_match's value */
};

static inline struct vg_hash2 vg_hash_init(const __u64 key[2])
{
	struct vg_hash2 s = { VG_FNV_OFFSET ^ key[0], VG_CHECK_OFFSET ^ key[1] };
	return s;
}

static inline __u64 vg_hash_step(__u64 h, __u8 c)
{
	return (h ^ c) * VG_FNV_PRIME;
}

static inline __u64 vg_check_step(__u64 h, __u8 c)
{
	return (h ^ c) * VG_CHECK_PRIME;
}

#ifndef __VIGIL_BPF__
#include <stddef.h>
/* Hashes of bytes [0, n) forwards (Equal, Prefix, binaries). */
static inline struct vg_hash2 vg_hash_fwd(const char *s, size_t n, const __u64 key[2])
{
	struct vg_hash2 h = vg_hash_init(key);
	for (size_t i = 0; i < n; i++) {
		h.h = vg_hash_step(h.h, (__u8)s[i]);
		h.check = vg_check_step(h.check, (__u8)s[i]);
	}
	return h;
}
/* Hashes of bytes [0, n) read backwards from the last one (Postfix). */
static inline struct vg_hash2 vg_hash_rev(const char *s, size_t n, const __u64 key[2])
{
	struct vg_hash2 h = vg_hash_init(key);
	for (size_t i = n; i > 0; i--) {
		h.h = vg_hash_step(h.h, (__u8)s[i - 1]);
		h.check = vg_check_step(h.check, (__u8)s[i - 1]);
	}
	return h;
}
#endif

/* ---- layout checks ------------------------------------------------------ */
#ifdef __cplusplus
#define VG_STATIC_ASSERT static_assert
#else
#define VG_STATIC_ASSERT _Static_assert
#endif
VG_STATIC_ASSERT(sizeof(struct vg_str_key) == 16, "vg_str_key layout");
VG_STATIC_ASSERT(sizeof(struct vg_len_set) == 8 + VG_LEN_BITMAP_BYTES, "vg_len_set layout");
VG_STATIC_ASSERT(sizeof(struct vg_arg_filter) == 24, "vg_arg_filter layout");
VG_STATIC_ASSERT(sizeof(struct vg_task_filter) == 16, "vg_task_filter layout");
VG_STATIC_ASSERT(sizeof(struct vg_selector) == 24 + 24 * VG_MAX_ARG_FILTERS + 8 + 16 * VG_MAX_TASK_FILTERS + 8, "vg_selector layout");
VG_STATIC_ASSERT(sizeof(struct vg_rate_key) == 16, "vg_rate_key layout");
VG_STATIC_ASSERT(sizeof(struct vg_cidr_key) == 28, "vg_cidr_key layout");
VG_STATIC_ASSERT(sizeof(struct vg_hook_meta) == 256, "vg_hook_meta layout");
VG_STATIC_ASSERT(sizeof(struct vg_arg_val) == 56, "vg_arg_val layout");
VG_STATIC_ASSERT(sizeof(struct vg_hook_event) == 16 + 28 + 4 + 4 + 4 + 8 + 8 + 8 + 16 + 56 * VG_HOOK_ARGS, "vg_hook_event layout");
VG_STATIC_ASSERT(sizeof(struct vg_hook_selectors) == 8 + 4 * VG_MAX_HOOK_SELECTORS, "hook layout");
VG_STATIC_ASSERT(sizeof(struct vg_proc) == 24 + VG_BIN_MAX + 64, "vg_proc layout");
VG_STATIC_ASSERT(sizeof(struct vg_config) == 24, "vg_config layout");
VG_STATIC_ASSERT(sizeof(struct vg_event_hdr) == 16, "vg_event_hdr layout");
VG_STATIC_ASSERT(sizeof(struct vg_task_id) == 32, "vg_task_id layout");
VG_STATIC_ASSERT(sizeof(struct vg_policy_meta) == 128, "vg_policy_meta layout");
VG_STATIC_ASSERT(sizeof(struct vg_exec_event) == 16 + 32 + 24 + 8 + 24 + 36 + 8 + 16 + 4 + 8 + VG_TTY_LEN,
		 "vg_exec_event layout");
VG_STATIC_ASSERT(sizeof(struct vg_exit_event) == 56, "vg_exit_event layout");

#endif /* VIGIL_ABI_ABI_H */
