/* BPF LSM entry programs: thin wrappers that resolve the hook's object and hand
 * over to the generic evaluator in lib/policy_eval.h. Every program first keeps
 * an earlier denial: a previous BPF LSM program's verdict stands. */
#pragma once

#include "lib/policy_eval.h"
#include "lib/task.h"

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
	return vg_eval_hook(hook, sc, len, trunc, mechanism, file->f_flags);
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
	__u32 len = 0;
	if (hs->need_path) {
		if (mechanism == VG_MECH_LSM) {
			len = vg_resolve_path(&bprm->file->f_path, sc, &trunc);
		} else if (vg_can_read_kernel) {
			/* bpf_d_path is not allowed on security_bprm_check: walk the
			 * dentries the same way d_path does, then copy in place. */
			struct task_struct *task = bpf_get_current_task_btf();
			__u32 pos = vg_walk_path(task, &bprm->file->f_path, sc->walk, &trunc);
			len = VG_PATH_MAX - pos;
			if (pos >= VG_PATH_MAX || len >= VG_PATH_MAX || trunc) {
				len = 0;
			} else {
				bpf_probe_read_kernel(sc->path, VG_BOUND(len, VG_PATH_MAX - 1),
						      sc->walk + VG_BOUND(pos, VG_PATH_MAX - 1));
			}
		}
	}
	return vg_eval_hook(hook, sc, len, trunc, mechanism, 0);
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

/* The same hooks where BPF LSM is not active (a kernel booted without bpf in
 * lsm=): fmod_ret on the security_* functions the LSM hooks are called from,
 * which may override their return value. */
SEC("fmod_ret/security_file_open")
int BPF_PROG(vg_fmod_file_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	return vg_file_open(file, VG_MECH_FMOD_RET);
}

SEC("fmod_ret/security_bprm_check")
int BPF_PROG(vg_fmod_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret;
	return vg_bprm_check(bprm, VG_MECH_FMOD_RET);
}
