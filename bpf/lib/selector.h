/* What every hook program does with a hook's selectors, whatever it reads:
 * find the selectors that apply (enabled policy, first match per policy,
 * matchBinaries), and decide a matched selector's outcome in the policy's
 * mode. Used by the hook program (hook.bpf.c), which every hook is an
 * instance of. */
#pragma once

#include "lib/maps.h"
#include "lib/strmatch.h"
#include "lib/task.h"

static __always_inline void vg_count(__u32 hook, int field)
{
	struct vg_counters *c = bpf_map_lookup_elem(&vg_counters, &hook);
	if (!c)
		return;
	switch (field) {
	case 0: c->events++; break;
	case 1: c->lost++; break;
	case 2: c->denied++; break;
	case 3: c->killed++; break;
	}
}

/* The calling task's namespace inode number (enum vg_ns, or
 * VG_NS_TIME_FOR_CHILDREN); 0 when it cannot be read. */
static __always_inline __u64 vg_task_ns_inum(struct task_struct *t, __u8 which)
{
	struct nsproxy *ns = t->nsproxy;
	if (!ns)
		return 0;
	switch (which) {
	case VG_NS_UTS: return ns->uts_ns->ns.inum;
	case VG_NS_IPC: return ns->ipc_ns->ns.inum;
	case VG_NS_MNT: return ns->mnt_ns->ns.inum;
	case VG_NS_PID_FOR_CHILDREN: return ns->pid_ns_for_children->ns.inum;
	case VG_NS_NET: return ns->net_ns->ns.inum;
	case VG_NS_TIME: return ns->time_ns->ns.inum;
	case VG_NS_TIME_FOR_CHILDREN: return ns->time_ns_for_children->ns.inum;
	case VG_NS_CGROUP: return ns->cgroup_ns->ns.inum;
	case VG_NS_USER: return t->cred->user_ns->ns.inum;
	case VG_NS_PID:
		if (vg_can_read_kernel) {
			/* The task's own pid namespace: thread_pid->numbers[level].ns */
			struct pid *pid = t->thread_pid;
			__u32 level = BPF_CORE_READ(pid, level) & 31;
			struct upid up = {};
			bpf_probe_read_kernel(&up, sizeof(up),
					      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
						      level * bpf_core_type_size(struct upid));
			return BPF_CORE_READ(up.ns, ns.inum);
		}
		return 0;
	}
	return 0;
}

/* The task's pid as its own pid namespace numbers it. */
static __always_inline __u64 vg_task_ns_pid(struct task_struct *t)
{
	if (!vg_can_read_kernel)
		return 0;
	struct pid *pid = BPF_CORE_READ(t, group_leader, thread_pid);
	__u32 level = BPF_CORE_READ(pid, level) & 31;
	struct upid up = {};
	bpf_probe_read_kernel(&up, sizeof(up),
			      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
				      level * bpf_core_type_size(struct upid));
	return up.nr;
}

struct vg_pid_walk {
	struct task_struct *t;
	struct vg_str_key key;
	__u8 ns_pid;
	__u8 hit;
};

/* One step of matchPIDs' followForks: the task, then its ancestors. */
static long vg_pid_step(__u32 i, struct vg_pid_walk *w)
{
	struct task_struct *t = w->t;
	if (!t)
		return 1;
	w->key.hash = w->ns_pid ? vg_task_ns_pid(t) : (__u64)BPF_CORE_READ(t, tgid);
	if (bpf_map_lookup_elem(&vg_str_match, &w->key)) {
		w->hit = 1;
		return 1;
	}
	struct task_struct *up = BPF_CORE_READ(t, real_parent);
	if (up == t || BPF_CORE_READ(t, tgid) <= 1)
		return 1;
	w->t = up;
	return 0;
}

#define VG_PID_FOLLOW_DEPTH 32 /* ancestors matchPIDs followForks looks through */

/* One task filter (matchPIDs, matchNamespaces or matchCapabilities) against
 * the caller. A global function: the verifier checks it once per program
 * rather than once per filter slot and selector path. */
__noinline int vg_task_filter_hit(const struct vg_task_filter *tf, __u32 slot, __u32 f)
{
	if (!tf)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	bool hit = false;
	if (tf->kind == VG_TF_CAP) {
		const struct cred *c = t->cred;
		__u64 caps = tf->which == 1 ? vg_cap(&c->cap_permitted)
			   : tf->which == 2 ? vg_cap(&c->cap_inheritable)
					    : vg_cap(&c->cap_effective);
		hit = (caps & tf->mask) != 0;
	} else if (tf->kind == VG_TF_NS) {
		__u64 inum = vg_task_ns_inum(t, tf->which);
		hit = inum && vg_match_exact(slot, VG_FILTER_TASK + f, VG_OP_INT_IN, 0, inum, 0);
	} else if (tf->kind == VG_TF_PID && !vg_can_read_kernel) {
		/* No ancestors nor namespace pids without the helper (the
		 * loader refuses such selectors): the caller's own pid. */
		hit = vg_match_exact(slot, VG_FILTER_TASK + f, VG_OP_INT_IN, 0,
				     bpf_get_current_pid_tgid() >> 32, 0);
	} else if (tf->kind == VG_TF_PID) {
		struct vg_pid_walk w = {
			.t = t,
			.key = { .selector = slot, .filter = VG_FILTER_TASK + f, .op = VG_OP_INT_IN },
			.ns_pid = (tf->flags & VG_TF_NS_PID) != 0,
		};
		bpf_loop(tf->flags & VG_TF_FOLLOW_FORKS ? VG_PID_FOLLOW_DEPTH : 1, vg_pid_step, &w, 0);
		hit = w.hit;
	}
	return hit != (tf->negate != 0);
}

/* matchPIDs, matchNamespaces, matchCapabilities of a selector (AND'd). */
static __always_inline bool vg_match_task(const struct vg_selector *sel, __u32 slot)
{
	if (!sel->ntask)
		return true;
#pragma unroll
	for (int f = 0; f < VG_MAX_TASK_FILTERS; f++) {
		if (f >= sel->ntask)
			break;
		if (sel->task[f].kind >= VG_TF_PARENT_BIN)
			continue; /* vg_match_task_ext */
		if (!vg_task_filter_hit(&sel->task[f], slot, f))
			return false;
	}
	return true;
}

/* ---- matchBinaries followChildren, matchParentBinaries,
 * matchCapabilityChanges, matchNamespaceChanges ---------------------------- */

struct vg_follow_walk {
	struct task_struct *t;
	__u32 tgid;
	struct vg_str_key key;
	__u8 hit;
};

/* One step of followChildren: the process's binary, then its ancestors'.
 * The task pointer travels through the loop's context, so it is read with
 * BPF_CORE_READ as matchPIDs' walk does; without the helper (lockdown) only
 * the process itself is looked at. */
static long vg_follow_step(__u32 i, struct vg_follow_walk *w)
{
	__u32 tgid = w->tgid;
	const struct vg_proc *p = bpf_map_lookup_elem(&vg_procs, &tgid);
	if (p) {
		w->key.len = p->bin_len;
		w->key.hash = p->bin_hash;
		const __u64 *check = bpf_map_lookup_elem(&vg_str_match, &w->key);
		if (check && *check == p->bin_check) {
			w->hit = 1;
			return 1;
		}
	}
	if (!vg_can_read_kernel || tgid <= 1)
		return 1;
	struct task_struct *t = w->t;
	struct task_struct *up = BPF_CORE_READ(t, real_parent);
	if (!up || up == t)
		return 1;
	w->t = up;
	w->tgid = BPF_CORE_READ(up, tgid);
	return 0;
}

/* matchBinaries In/NotIn with followChildren: a process whose ancestor (up
 * to VG_PID_FOLLOW_DEPTH generations) ran one of the binaries matches too. */
static __always_inline bool vg_match_binary_follow(__u32 slot, const struct vg_selector *sel)
{
	struct vg_follow_walk w = {
		.t = bpf_get_current_task_btf(),
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.key = { .selector = slot, .filter = VG_FILTER_BINARY, .op = VG_OP_BIN_IN },
	};
	bpf_loop(VG_PID_FOLLOW_DEPTH, vg_follow_step, &w, 0);
	return w.hit != (sel->bin_negate != 0);
}

struct vg_tf_walk {
	__u32 slot;
	__u32 tgid, ptgid;
	__u8 fail;
};

/* Namespace inodes of the task, in enum vg_ns order, against exec's. */
static __always_inline bool vg_ns_changed(struct task_struct *t, const struct vg_proc *p, __u64 mask)
{
	bool changed = false;
#pragma unroll
	for (int n = 0; n < VG_NS_COUNT; n++) {
		if (!(mask & (1ull << n)) || !p->exec_ns[n])
			continue;
		__u64 cur = vg_task_ns_inum(t, n);
		if (cur && cur != p->exec_ns[n])
			changed = true;
	}
	return changed;
}

/* One task filter of the kinds above (the others pass here: vg_match_task
 * evaluates them). Called through bpf_loop, so the verifier walks it once. */
static long vg_tf_step(__u32 f, struct vg_tf_walk *w)
{
	const struct vg_selector *sel = bpf_map_lookup_elem(&vg_selectors, &w->slot);
	if (!sel || f >= sel->ntask || f >= VG_MAX_TASK_FILTERS)
		return 1;
	const struct vg_task_filter *tf = &sel->task[VG_BOUND(f, VG_MAX_TASK_FILTERS - 1)];
	struct task_struct *t = bpf_get_current_task_btf();
	const struct vg_proc *p;
	bool hit = false;
	switch (tf->kind) {
	case VG_TF_PARENT_BIN:
		p = bpf_map_lookup_elem(&vg_procs, &w->ptgid);
		if (!p)
			break;
		/* Prefix/Postfix: vg_match_parent_affix, outside this loop (a string
		 * walk here would nest one call frame too many for 6.1's
		 * 512-byte combined stack). */
		if (tf->which != VG_OP_BIN_IN)
			return 0;
		hit = vg_match_exact(w->slot, VG_FILTER_TASK + f, VG_OP_BIN_IN, p->bin_len, p->bin_hash,
				     p->bin_check);
		break;
	case VG_TF_CAP_CHANGE: {
		p = bpf_map_lookup_elem(&vg_procs, &w->tgid);
		if (!p)
			break;
		const struct cred *c = t->cred;
		__u32 which = tf->which > 2 ? 0 : tf->which;
		__u64 cur = which == 1 ? vg_cap(&c->cap_permitted)
			  : which == 2 ? vg_cap(&c->cap_inheritable)
				       : vg_cap(&c->cap_effective);
		__u64 at_exec = which == 1 ? p->exec_caps[1] : which == 2 ? p->exec_caps[2] : p->exec_caps[0];
		hit = ((cur ^ at_exec) & tf->mask) != 0;
		if (hit && tf->ns_cap && c->user_ns->level == 0)
			hit = false;
		break;
	}
	case VG_TF_NS_CHANGE:
		p = bpf_map_lookup_elem(&vg_procs, &w->tgid);
		if (p)
			hit = vg_ns_changed(t, p, tf->mask);
		break;
	default:
		return 0;
	}
	if (hit == (tf->negate != 0)) {
		w->fail = 1;
		return 1;
	}
	return 0;
}

/* The task filters vg_match_task leaves out (kinds VG_TF_PARENT_BIN and up;
 * matchParentBinaries Prefix/Postfix: vg_match_parent_affix). */
static __always_inline bool vg_match_task_ext(const struct vg_selector *sel, __u32 slot)
{
	if (!sel->ntask)
		return true;
	bool any = false;
#pragma unroll
	for (int f = 0; f < VG_MAX_TASK_FILTERS; f++)
		if (f < sel->ntask && sel->task[f].kind >= VG_TF_PARENT_BIN)
			any = true;
	if (!any)
		return true;
	struct task_struct *t = bpf_get_current_task_btf();
	struct vg_tf_walk w = {
		.slot = slot,
		.tgid = t->tgid,
		.ptgid = t->real_parent->tgid,
	};
	bpf_loop(VG_MAX_TASK_FILTERS, vg_tf_step, &w, 0);
	return !w.fail;
}

/* Selector i of a hook, if it applies to this call: its policy is enabled
 * and has not matched yet (first selector wins), and the caller passes its
 * matchBinaries and its task filters. Sets *slot and *ps. */
static __always_inline const struct vg_selector *
vg_selector_at(const struct vg_hook_selectors *hs, __u32 i, __u32 matched_policy,
	       const struct vg_proc *proc, char *binbuf, __u32 *slot,
	       const struct vg_policy_state **ps)
{
	if (i >= hs->count || i >= VG_MAX_HOOK_SELECTORS)
		return NULL;
	*slot = hs->slots[VG_BOUND(i, VG_MAX_HOOK_SELECTORS - 1)];
	const struct vg_selector *sel = bpf_map_lookup_elem(&vg_selectors, slot);
	if (!sel || matched_policy == sel->policy + 1)
		return NULL;
	__u32 pol = sel->policy;
	*ps = bpf_map_lookup_elem(&vg_policies, &pol);
	if (!*ps || !(*ps)->enabled)
		return NULL;
	if (sel->bin_follow ? !vg_match_binary_follow(*slot, sel) : !vg_match_binary(proc, *slot, sel, binbuf))
		return NULL;
	if (!vg_match_parent_affix(sel, *slot, binbuf))
		return NULL;
	if (!vg_match_task(sel, *slot) || !vg_match_task_ext(sel, *slot))
		return NULL;
	return sel;
}

/* NotifyEnforcer: note for this thread what the enforcer programs on the
 * policy's system calls do at its next one (Tetragon's model). What they can
 * do is in vg_config.enforcer_caps (the loader says which attached); with no
 * enforcer attached at all the signal is sent from here, the error is lost
 * (the loader reported that as degraded). */
static __always_inline __u8 vg_notify_enforcer(const struct vg_selector *sel, bool monitor)
{
	bool kill = sel->signal == VG_SIGKILL;
	if (monitor)
		return kill ? VG_OUT_WOULD_KILL : sel->error ? VG_OUT_WOULD_DENY : VG_OUT_WOULD_SIGNAL;
	__u32 zero = 0;
	const struct vg_config *cfg = bpf_map_lookup_elem(&vg_config, &zero);
	__u8 caps = cfg ? cfg->enforcer_caps : 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct vg_enforce_note note = {
		.error = (caps & VG_ENF_DENY) ? sel->error : 0,
		.signal = (caps & VG_ENF_SIGNAL) ? sel->signal : 0,
		.policy = sel->policy,
	};
	if (note.error || note.signal)
		bpf_map_update_elem(&vg_enforce, &id, &note, BPF_ANY);
	if (!(caps & VG_ENF_SIGNAL) && sel->signal)
		bpf_send_signal(sel->signal);
	if (sel->signal && kill)
		return VG_OUT_KILLED;
	if (note.error)
		return VG_OUT_DENIED;
	return sel->signal ? VG_OUT_SIGNALED : VG_OUT_POSTED;
}

/* Carries out a matched selector's action in its policy's mode; returns the
 * outcome and sets *err to the errno the hook returns (0: allow). can_deny:
 * the program decides a return value (LSM, fmod_ret), not fentry. */
static __always_inline __u8 vg_decide(const struct vg_selector *sel, bool monitor, bool can_deny,
				      __u32 hook, int *err)
{
	__u8 outcome = VG_OUT_POSTED;
	*err = 0;
	switch (sel->action) {
	case VG_ACT_OVERRIDE:
		if (monitor) {
			outcome = VG_OUT_WOULD_DENY;
		} else if (can_deny) {
			outcome = VG_OUT_DENIED;
			*err = sel->error;
			if (*err < -4095 || *err >= 0)
				*err = -VG_EPERM;
		}
		break;
	case VG_ACT_SIGKILL:
		if (monitor) {
			outcome = VG_OUT_WOULD_KILL;
		} else {
			/* Deny as well where possible: the signal lands on return
			 * to user space, after the operation would have completed. */
			bpf_send_signal(VG_SIGKILL);
			outcome = VG_OUT_KILLED;
			if (can_deny)
				*err = -VG_EPERM;
		}
		break;
	case VG_ACT_SIGNAL:
		if (monitor) {
			outcome = VG_OUT_WOULD_SIGNAL;
		} else {
			bpf_send_signal(sel->signal);
			outcome = VG_OUT_SIGNALED;
		}
		break;
	case VG_ACT_NOTIFY_ENFORCER:
		outcome = vg_notify_enforcer(sel, monitor);
		break;
	}
	if (outcome == VG_OUT_DENIED || outcome == VG_OUT_KILLED)
		vg_count(hook, outcome == VG_OUT_KILLED ? 3 : 2);
	return outcome;
}

/* rateLimit: true when this selector already posted an event with the same
 * arguments (args: their hash) for the same thread, process or anyone within
 * its window; otherwise records this one. Actions still run: only the event
 * is held back, as in Tetragon. */
static __always_inline bool vg_rate_limited(const struct vg_selector *sel, __u32 slot, __u64 args)
{
	if (!sel->rate_ns)
		return false;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct vg_rate_key key = {
		.selector = slot,
		.id = sel->rate_scope == VG_RATE_GLOBAL  ? 0
		      : sel->rate_scope == VG_RATE_PROCESS ? (__u32)(pid_tgid >> 32)
							  : (__u32)pid_tgid,
		.args = args,
	};
	__u64 now = bpf_ktime_get_boot_ns();
	__u64 *last = bpf_map_lookup_elem(&vg_rate, &key);
	if (last && now - *last < sel->rate_ns)
		return true;
	bpf_map_update_elem(&vg_rate, &key, &now, BPF_ANY);
	return false;
}
