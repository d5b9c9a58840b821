/* Process table from the scheduler's tracepoints (tp_btf works even where
 * trampolines are refused, so this part also runs in degraded mode). */
#pragma once

#include "lib/maps.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_tp_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 old = old_pid;
	struct vg_proc *pending = bpf_map_lookup_elem(&vg_exec_pending, &old);
	if (!pending)
		return 0;
	__u32 tgid = p->tgid;
	bpf_map_update_elem(&vg_procs, &tgid, pending, BPF_ANY);
	bpf_map_delete_elem(&vg_exec_pending, &old);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_tp_fork, struct task_struct *parent, struct task_struct *child)
{
	if (child->pid != child->tgid)
		return 0; /* a new thread shares its process's entry */
	__u32 ptgid = parent->tgid;
	struct vg_proc *pr = bpf_map_lookup_elem(&vg_procs, &ptgid);
	if (!pr)
		return 0;
	__u32 ctgid = child->tgid;
	bpf_map_update_elem(&vg_procs, &ctgid, pr, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_tp_exit, struct task_struct *p)
{
	if (p->pid != p->tgid)
		return 0;
	__u32 tgid = p->tgid;
	bpf_map_delete_elem(&vg_procs, &tgid);
	return 0;
}
