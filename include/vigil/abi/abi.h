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

#define VG_ABI_VERSION 1

/* ---- limits ------------------------------------------------------------- */
#define VG_PATH_MAX 4096          /* full kernel paths, not 256-byte prefixes */
#define VG_BIN_MAX 256            /* binary path kept in the kernel process table */
#define VG_COMM_LEN 16
#define VG_MAX_POLICIES 1024
#define VG_MAX_SELECTORS 4096     /* selector slots across all policies */
#define VG_MAX_HOOK_SELECTORS 64  /* selectors evaluated per hook, in order */
#define VG_MAX_ARG_FILTERS 4      /* matchArgs entries per selector */
#define VG_LEN_BITMAP_BYTES (VG_PATH_MAX / 8)
#define VG_STR_MATCH_ENTRIES 262144
#define VG_MAX_LEN_SETS 4096       /* Prefix/Postfix filters across all policies */

/* ---- hooks -------------------------------------------------------------- */
enum vg_hook {
	VG_HOOK_NONE = 0,
	VG_HOOK_BPRM_CHECK_SECURITY = 1,
	VG_HOOK_FILE_OPEN = 2,
	VG_HOOK_MAX,
	/* Counter slots for the process tracepoints (vg_counters only). */
	VG_CNT_EXEC = VG_HOOK_MAX,
	VG_CNT_EXIT,
	VG_CNT_CLONE,
	VG_CNT_MAX,
};

/* ---- selector filters --------------------------------------------------- */
enum vg_str_op {
	VG_OP_NONE = 0,
	VG_OP_EQUAL = 1,
	VG_OP_PREFIX = 2,
	VG_OP_POSTFIX = 3,
	VG_OP_BIN_IN = 4,
};

enum vg_action {
	VG_ACT_POST = 0,
	VG_ACT_OVERRIDE = 1, /* deny: the hook returns the selector's error */
	VG_ACT_SIGKILL = 2,  /* SIGKILL the caller (and deny, so the op never completes) */
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
	__u8 op;   /* enum vg_str_op; VG_OP_NONE = unused slot */
	__u8 arg;  /* hook argument index (0: the file) */
	__u8 pad[2];
	__u32 len_set; /* index into the len_sets map (Prefix/Postfix) */
};

struct vg_selector {
	__u32 policy;  /* policy id */
	__u32 index;   /* selector index within its policy, for events */
	__u8 action;   /* enum vg_action */
	__u8 nfilters; /* used entries of filters[] */
	__u8 binaries; /* matchBinaries: VG_OP_NONE or VG_OP_BIN_IN */
	__u8 pad;
	__s32 error;   /* Override: the (negative) errno the hook returns */
	struct vg_arg_filter filters[VG_MAX_ARG_FILTERS];
};

/* Per hook, the selector slots to evaluate, grouped by policy, in policy order. */
struct vg_hook_selectors {
	__u32 count;
	__u32 need_path; /* any selector needs the file path */
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

/* Global switches (array map, one entry). */
struct vg_config {
	__u8 audit_all; /* daemon-wide audit: behave as if every policy were monitor */
	__u8 pad[7];
};

/* Kernel process table entry, keyed by tgid. */
struct vg_proc {
	__u64 bin_hash; /* vg_hash of the full binary path */
	__u16 bin_len;  /* full length of the binary path */
	__u8 bin_trunc; /* bin[] holds only the first VG_BIN_MAX-1 bytes */
	__u8 pad[5];
	char bin[VG_BIN_MAX];
};

/* ---- events (ring buffer) ----------------------------------------------- */
enum vg_event_type {
	VG_EV_LSM = 1,
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

/* A policy matched on an LSM hook. Followed by bin_len bytes of binary path
 * and path_len bytes of hook path (no NULs). */
struct vg_lsm_event {
	struct vg_event_hdr hdr;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 policy;
	__u32 selector;
	__u16 hook;
	__u8 action;  /* enum vg_action, as configured */
	__u8 outcome; /* enum vg_outcome */
	__s32 error;  /* errno the hook returned (0 when allowed) */
	__u16 bin_len;
	__u16 path_len;
	__u8 bin_trunc;
	__u8 path_trunc;
	__u8 mechanism; /* enum vg_mechanism */
	__u8 pad;
	char comm[VG_COMM_LEN];
	__u32 file_flags; /* file_open: f_flags of the file being opened */
	/* char data[]: binary, then path */
};

enum vg_mechanism {
	VG_MECH_LSM = 1,     /* BPF LSM program */
	VG_MECH_FMOD_RET = 2 /* fmod_ret on security_<hook> */
};

#define VG_EXEC_DATA_MAX (VG_PATH_MAX + VG_ARGS_MAX + VG_PATH_MAX)
#define VG_LSM_EVENT_MAX (sizeof(struct vg_lsm_event) + VG_BIN_MAX + VG_PATH_MAX)

/* Namespaces, in the order of api/vigil/events.proto's Namespaces message. */
enum vg_ns {
	VG_NS_UTS, VG_NS_IPC, VG_NS_MNT, VG_NS_PID, VG_NS_PID_FOR_CHILDREN,
	VG_NS_NET, VG_NS_TIME, VG_NS_CGROUP, VG_NS_USER, VG_NS_COUNT,
};

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
#define VG_FNV_OFFSET 0xcbf29ce484222325ULL
#define VG_FNV_PRIME 0x100000001b3ULL

static inline __u64 vg_hash_step(__u64 h, __u8 c)
{
	return (h ^ c) * VG_FNV_PRIME;
}

#ifndef __VIGIL_BPF__
#include <stddef.h>
/* Hash of bytes [0, n) forwards (Equal, Prefix, binaries). */
static inline __u64 vg_hash_fwd(const char *s, size_t n)
{
	__u64 h = VG_FNV_OFFSET;
	for (size_t i = 0; i < n; i++) h = vg_hash_step(h, (__u8)s[i]);
	return h;
}
/* Hash of bytes [0, n) read backwards from the last one (Postfix). */
static inline __u64 vg_hash_rev(const char *s, size_t n)
{
	__u64 h = VG_FNV_OFFSET;
	for (size_t i = n; i > 0; i--) h = vg_hash_step(h, (__u8)s[i - 1]);
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
VG_STATIC_ASSERT(sizeof(struct vg_arg_filter) == 8, "vg_arg_filter layout");
VG_STATIC_ASSERT(sizeof(struct vg_selector) == 16 + 8 * VG_MAX_ARG_FILTERS, "vg_selector layout");
VG_STATIC_ASSERT(sizeof(struct vg_hook_selectors) == 8 + 4 * VG_MAX_HOOK_SELECTORS, "hook layout");
VG_STATIC_ASSERT(sizeof(struct vg_proc) == 16 + VG_BIN_MAX, "vg_proc layout");
VG_STATIC_ASSERT(sizeof(struct vg_event_hdr) == 16, "vg_event_hdr layout");
VG_STATIC_ASSERT(sizeof(struct vg_lsm_event) == 64 + VG_COMM_LEN, "vg_lsm_event layout");
VG_STATIC_ASSERT(sizeof(struct vg_task_id) == 32, "vg_task_id layout");
VG_STATIC_ASSERT(sizeof(struct vg_policy_meta) == 128, "vg_policy_meta layout");
VG_STATIC_ASSERT(sizeof(struct vg_exec_event) == 16 + 32 + 24 + 8 + 24 + 36 + 8 + 16 + 4 + 8 + VG_TTY_LEN,
		 "vg_exec_event layout");
VG_STATIC_ASSERT(sizeof(struct vg_exit_event) == 56, "vg_exit_event layout");

#endif /* VIGIL_ABI_ABI_H */
