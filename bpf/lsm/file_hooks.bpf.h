/* BPF LSM entry programs: thin wrappers that resolve the hook's object and hand
 * over to the generic evaluator in lib/policy_eval.h. Every program first keeps
 * an earlier denial: a previous BPF LSM program's verdict stands. */
#pragma once

#include "lib/policy_eval.h"

static __always_inline long vg_file_open(struct file *file, __u8 mechanism)
{
	struct vg_scratch *sc = vg_scratch_get();
	if (!sc)
		return 0;
	__u32 hook = VG_HOOK_FILE_OPEN;
	const struct vg_hook_selectors *hs = bpf_map_lookup_elem(&vg_hooks, &hook);
	if (!hs || !hs->count)
		return 0;
	__u8 trunc = 0;
	__u32 len = hs->need_path ? vg_resolve_path(&file->f_path, sc, &trunc) : 0;
	return vg_eval_hook(hook, sc, len, trunc, mechanism);
}

static __always_inline long vg_bprm_check(struct linux_binprm *bprm, __u8 mechanism)
{
	struct vg_scratch *sc = vg_scratch_get();
	if (!sc)
		return 0;
	__u32 hook = VG_HOOK_BPRM_CHECK_SECURITY;
	const struct vg_hook_selectors *hs = bpf_map_lookup_elem(&vg_hooks, &hook);
	if (!hs || !hs->count)
		return 0;
	__u8 trunc = 0;
	__u32 len = hs->need_path ? vg_resolve_path(&bprm->file->f_path, sc, &trunc) : 0;
	return vg_eval_hook(hook, sc, len, trunc, mechanism);
}

SEC("lsm/file_open")
int BPF_PROG(vg_lsm_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	return vg_file_open(file, VG_MECH_LSM);
}

SEC("lsm/bprm_check_security")
int BPF_PROG(vg_lsm_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	return vg_bprm_check(bprm, VG_MECH_LSM);
}
