/* What every hook program does with a hook's selectors, whatever it reads:
 * find the selectors that apply (enabled policy, first match per policy,
 * matchBinaries), and decide a matched selector's outcome in the policy's
 * mode. The built-in hooks (policy_eval.h) and the generic one (hook.bpf.c)
 * differ only in how they read arguments and what their events carry. */
#pragma once

#include "lib/maps.h"
#include "lib/strmatch.h"

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

/* Selector i of a hook, if it applies to this call: its policy is enabled
 * and has not matched yet (first selector wins), and the caller passes its
 * matchBinaries. Sets *slot and *ps. */
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
	if (!vg_match_binary(proc, *slot, sel, binbuf))
		return NULL;
	return sel;
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
	}
	if (outcome == VG_OUT_DENIED || outcome == VG_OUT_KILLED)
		vg_count(hook, outcome == VG_OUT_KILLED ? 3 : 2);
	return outcome;
}
