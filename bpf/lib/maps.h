/* Every map of the Vigil BPF object, in one place. Keys and values come from
 * the shared ABI header; userspace fills the policy maps, the kernel side only
 * reads them (apart from the process table and counters). */
#pragma once

#include "vigil/abi/abi.h"

/* Events to userspace. Sized so a burst of full-path events fits while the
 * daemon is busy; reserve failures are counted in vg_counters. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} vg_events SEC(".maps");

/* Every string value of every selector (Equal / Prefix / Postfix / binaries),
 * and the integer sets: the value is the string's check hash (0 for integers). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VG_STR_MATCH_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_str_key);
	__type(value, __u64);
} vg_str_match SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_MAX_LEN_SETS);
	__type(key, __u32);
	__type(value, struct vg_len_set);
} vg_len_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_MAX_SELECTORS);
	__type(key, __u32);
	__type(value, struct vg_selector);
} vg_selectors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct vg_hook_selectors);
} vg_hooks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct vg_policy_state);
} vg_policies SEC(".maps");

/* Userspace only (policy names for events after a restart); never read here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_MAX_POLICIES);
	__type(key, __u32);
	__type(value, struct vg_policy_meta);
} vg_policy_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_config);
} vg_config SEC(".maps");

/* Kernel process table: binary of every process, keyed by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct vg_proc);
} vg_procs SEC(".maps");

/* Per hook (and per process tracepoint): events, ring buffer losses, denials. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_CNT_MAX);
	__type(key, __u32);
	__type(value, struct vg_counters);
} vg_counters SEC(".maps");

/* Scratch for exec records: the record, then binary, argv and cwd packed one
 * after the other, and a buffer the path walk fills from its end. Separate
 * from vg_hook_scratch so a hook program and a tracepoint never share one. */
struct vg_exec_scratch {
	struct vg_exec_event ev;
	char data[VG_EXEC_DATA_MAX + VG_PATH_MAX]; /* slack keeps masked offsets in bounds */
	char walk[2 * VG_PATH_MAX];                /* the path ends at VG_PATH_MAX; slack after */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_exec_scratch);
} vg_exec_scratch SEC(".maps");

/* kernelStackTrace/userStackTrace: the frames of an event's stacks, by the
 * ids in the event (vigild reads and deletes them); user frames as build ids
 * and file offsets (abi.h VG_USTACK_DEPTH). */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, VG_STACK_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, VG_STACK_DEPTH * sizeof(__u64));
} vg_stacks SEC(".maps");
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, VG_USTACK_ENTRIES);
	__uint(map_flags, BPF_F_STACK_BUILD_ID);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, VG_USTACK_DEPTH * sizeof(struct bpf_stack_build_id));
} vg_ustacks SEC(".maps");

/* A kprobe program's arguments (bpf/hook.bpf.c vg_kprobe_regs_get). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[VG_HOOK_ARGS + 1]);
} vg_kprobe_regs SEC(".maps");

/* The selector loop's results so far, per CPU and per hook id: a program of
 * another hook can run nested on the same CPU (a tracepoint that
 * bpf_send_signal passes, say) and must not change this one's verdict; a
 * program never nests in itself. In a map, not the loop's stack context: the
 * verifier does not track what a map value holds, so every step starts from
 * the same state. Kernels from 6.8 verify a bpf_loop callback again until its
 * state converges; with the verdict on the stack each possible verdict was a
 * new state, and an fmod_ret instance verified ~75,000 instructions on 6.12
 * instead of ~17,000 (docs/benchmarks.md). */
struct vg_loop_state {
	__u32 matched_policy; /* policy index + 1 of the selector that matched */
	__u32 pad;
	/* The errno the hook returns (0: allow); 64-bit so that the range the
	 * verifier checks at exit is the one the program clamped. */
	__s64 verdict;
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VG_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct vg_loop_state);
} vg_loop_state SEC(".maps");

/* SAddr/DAddr/NotSAddr/NotDAddr prefixes of every selector. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, VG_CIDR_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct vg_cidr_key);
	__type(value, __u8);
} vg_cidr SEC(".maps");

/* Userspace only: what each generic hook id stands for (see abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct vg_hook_meta);
} vg_hook_meta SEC(".maps");

/* Per-CPU scratch of the generic hook programs: the event record, then the
 * binary and the string slots in place, so the record goes out without a
 * copy; walk is the buffer of the dentry walk where bpf_d_path is refused. */
struct vg_hook_scratch {
	struct vg_hook_event ev;
	char bin[VG_BIN_MAX];
	char str[VG_HOOK_STR_SLOTS][VG_PATH_MAX];
	char walk[2 * VG_PATH_MAX];
	struct vg_arg_val retval; /* return probes, for matchReturnArgs (kept off the stack) */
	struct vg_hash2 str_hash[VG_HOOK_STR_SLOTS]; /* each string slot's hashes, for Equal */
};
/* Entry 0: every generic hook; entry 1: tracepoints that can fire inside
 * another generic hook's run (signal_generate, from bpf_send_signal), which
 * would otherwise overwrite the event it is building. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct vg_hook_scratch);
} vg_hook_scratch SEC(".maps");

/* TrackSock: the process that owns a socket (keyed by struct sock address),
 * named in the events of hooks that see the socket outside its context
 * (packets in softirq); UntrackSock forgets it. */
struct vg_sock_owner {
	__u32 tgid, tid, ppid, uid, gid, pad;
	char comm[VG_COMM_LEN];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct vg_sock_owner);
} vg_socks SEC(".maps");

/* rateLimit: when each (selector, thread/process, arguments) last posted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct vg_rate_key);
	__type(value, __u64);
} vg_rate SEC(".maps");

/* NotifyEnforcer: pid_tgid -> what the enforcer programs do at the thread's
 * next listed system call (written by selectors, consumed by enforcers). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u64);
	__type(value, struct vg_enforce_note);
} vg_enforce SEC(".maps");
