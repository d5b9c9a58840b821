/* Generic selector evaluation for a hook: every policy's selectors live in
 * maps, so one program per hook serves every policy. Selectors of a policy are
 * OR'd, the first that matches wins; the filters inside a selector are AND'd.
 * Each matching policy posts its own event; the first enforced denial sets the
 * hook's return value. */
#pragma once

#include "lib/selector.h"

struct vg_hook_ctx {
	struct vg_scratch *sc;
	const struct vg_hook_selectors *hs;
	const struct vg_proc *proc; /* caller's process entry, NULL if unknown */
	struct vg_loop_state *st;   /* matched policy and verdict so far */
	__u32 path_len;             /* 0: no path */
	__u32 hook;
	__u32 file_flags;
	__u8 audit_all;
	__u8 path_trunc;
	__u8 mechanism;
};

static __always_inline void vg_emit(struct vg_hook_ctx *c, const struct vg_selector *sel,
				    __u8 outcome, int err)
{
	struct vg_lsm_event *ev = &c->sc->ev;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	__u32 path_len = c->path_len & (VG_PATH_MAX - 1);

	ev->hdr.type = VG_EV_LSM;
	ev->hdr.version = VG_ABI_VERSION;
	ev->hdr.size = sizeof(*ev) + VG_BIN_MAX + path_len;
	ev->hdr.ktime = bpf_ktime_get_boot_ns();
	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->ppid = task->real_parent->tgid;
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	ev->policy = sel->policy;
	ev->selector = sel->index;
	ev->hook = c->hook;
	ev->action = sel->action;
	ev->outcome = outcome;
	ev->error = err;
	ev->path_len = path_len;
	ev->path_trunc = c->path_trunc;
	ev->mechanism = c->mechanism;
	ev->file_flags = c->file_flags;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	if (c->proc) {
		__builtin_memcpy(c->sc->bin, c->proc->bin, VG_BIN_MAX);
		ev->bin_trunc = c->proc->bin_trunc;
		ev->bin_len = c->proc->bin_trunc ? VG_BIN_MAX - 1 : c->proc->bin_len;
	} else {
		ev->bin_len = 0;
		ev->bin_trunc = 0;
	}
	vg_count(c->hook, 0);
	if (bpf_ringbuf_output(&vg_events, ev, sizeof(*ev) + VG_BIN_MAX + path_len, 0))
		vg_count(c->hook, 1);
}

/* Apply a matched selector's action, honouring the policy's mode. */
static __always_inline void vg_act(struct vg_hook_ctx *c, const struct vg_selector *sel,
				   __u32 slot, const struct vg_policy_state *ps)
{
	int err;
	__u8 outcome = vg_decide(sel, c->audit_all || ps->mode == VG_MODE_MONITOR, true, c->hook, &err);
	if (err && !c->st->verdict)
		c->st->verdict = err;
	if (!sel->nopost && !vg_rate_limited(sel, slot, c->sc->path_hash.h))
		vg_emit(c, sel, outcome, -err);
}

/* One filter of a built-in hook: its one argument is the file, as a path. An
 * unresolved path matches nothing, negated operators included. A global
 * function: verified once, and the string walk's state lives in its own
 * stack frame, not in the selector loop's. */
__noinline int vg_file_filter_hit(struct vg_scratch *sc, const struct vg_arg_filter *af, __u32 slot,
				  __u32 f)
{
	if (!sc || !af)
		return 0;
	__u32 len = sc->path_len & (VG_PATH_MAX - 1);
	if (af->arg != 0 || !len)
		return 0;
	bool hit = false;
	switch (af->op) {
	case VG_OP_EQUAL:
		hit = vg_match_exact(slot, f, VG_OP_EQUAL, len, sc->path_hash.h, sc->path_hash.check);
		break;
	case VG_OP_PREFIX:
	case VG_OP_POSTFIX:
		hit = vg_match_affix(slot, f, af->op, af->len_set, sc->path, len);
		break;
	default:
		return 0;
	}
	return hit != (af->negate != 0);
}

static long vg_eval_selector(__u32 i, struct vg_hook_ctx *c)
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
		if (!vg_file_filter_hit(c->sc, &sel->filters[f], slot, f))
			return 0;
	}
	c->st->matched_policy = sel->policy + 1;
	vg_act(c, sel, slot, ps);
	return 0;
}

/* Entry for hooks on a file: resolve its path if a selector needs it, then
 * evaluate every selector of the hook. Returns the hook's verdict. */
static __always_inline long vg_eval_hook(__u32 hook, struct vg_scratch *sc, __u32 path_len,
					__u8 path_trunc, __u8 mechanism, __u32 file_flags)
{
	__u32 zero = 0;
	const struct vg_hook_selectors *hs = bpf_map_lookup_elem(&vg_hooks, &hook);
	if (!hs || !hs->count)
		return 0;
	struct vg_loop_state *st = bpf_map_lookup_elem(&vg_loop_state, &hook);
	if (!st)
		return 0;
	const struct vg_config *cfg = bpf_map_lookup_elem(&vg_config, &zero);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct vg_hook_ctx c = {
		.sc = sc,
		.hs = hs,
		.st = st,
		.proc = bpf_map_lookup_elem(&vg_procs, &tgid),
		.path_len = path_len,
		.path_trunc = path_trunc,
		.hook = hook,
		.audit_all = cfg ? cfg->audit_all : 0,
		.mechanism = mechanism,
		.file_flags = file_flags,
	};
	sc->path_len = path_len;
	sc->path_hash.h = sc->path_hash.check = 0;
	if (path_len)
		sc->path_hash = vg_hash_str(sc->path, path_len);
	st->matched_policy = 0;
	st->verdict = 0;
	bpf_loop(VG_MAX_HOOK_SELECTORS, vg_eval_selector, &c, 0);
	long ret = st->verdict; /* 64-bit and sign-extended: the verifier checks the range of r0 */
	if (ret < -4095 || ret > 0)
		ret = -VG_EPERM;
	return ret;
}

static __always_inline struct vg_scratch *vg_scratch_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&vg_scratch, &zero);
}

/* bpf_d_path into the scratch record; returns the length without the NUL,
 * 0 when the path could not be resolved. */
static __always_inline __u32 vg_resolve_path(const struct path *p, struct vg_scratch *sc,
					     __u8 *trunc)
{
	long n = bpf_d_path((struct path *)p, sc->path, VG_PATH_MAX);
	if (n <= 1) {
		*trunc = n == -36 /* ENAMETOOLONG */;
		return 0;
	}
	*trunc = 0;
	return (__u32)(n - 1) & (VG_PATH_MAX - 1);
}
