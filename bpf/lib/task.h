/* Reading a task's identity, credentials, namespaces and paths for process
 * events. Everything goes through CO-RE reads (bpf_probe_read_kernel), so the
 * same object runs on 6.1 and 6.12+ whatever their struct layouts. Programs
 * that include this need bpf_probe_read_kernel: refused under
 * lockdown=confidentiality, where the loader keeps vg_can_read_kernel false
 * and these reads are never reached (the verifier drops the dead branch). */
#pragma once

#include "lib/maps.h"

const volatile bool vg_can_read_kernel = true;
const volatile __u32 vg_args_max = 1024;

/* Identity, credentials and namespaces use direct BTF-typed loads, which the
 * verifier turns into fault-safe loads and which lockdown does not refuse. */
static __always_inline void vg_task_id(struct task_struct *t, struct vg_task_id *id)
{
	struct task_struct *parent = t->real_parent;
	id->pid = t->tgid;
	id->tid = t->pid;
	id->start_ns = t->group_leader->start_boottime;
	id->ppid = parent->tgid;
	id->parent_start_ns = parent->group_leader->start_boottime;
}

/* kernel_cap_t is { u64 val } since 6.3 and { u32 cap[2] } before. */
struct kernel_cap_struct___v1 {
	__u32 cap[2];
} __attribute__((preserve_access_index));

static __always_inline __u64 vg_cap(const kernel_cap_t *cap)
{
	if (bpf_core_field_exists(cap->val))
		return cap->val;
	const struct kernel_cap_struct___v1 *old = (const void *)cap;
	return old->cap[0] | ((__u64)old->cap[1] << 32);
}

static __always_inline void vg_task_creds(struct task_struct *t, struct vg_exec_event *ev)
{
	const struct cred *c = t->cred;
	ev->uid = c->uid.val;
	ev->euid = c->euid.val;
	ev->gid = c->gid.val;
	ev->egid = c->egid.val;
	ev->cap_permitted = vg_cap(&c->cap_permitted);
	ev->cap_effective = vg_cap(&c->cap_effective);
	ev->cap_inheritable = vg_cap(&c->cap_inheritable);
	ev->ns[VG_NS_USER] = c->user_ns->ns.inum;
	ev->auid = bpf_core_field_exists(t->loginuid) ? t->loginuid.val : (__u32)-1;
	ev->sessionid = bpf_core_field_exists(t->sessionid) ? t->sessionid : 0;
}

static __always_inline void vg_task_ns(struct task_struct *t, struct vg_exec_event *ev)
{
	struct nsproxy *ns = t->nsproxy;
	ev->ns[VG_NS_UTS] = ns->uts_ns->ns.inum;
	ev->ns[VG_NS_IPC] = ns->ipc_ns->ns.inum;
	ev->ns[VG_NS_MNT] = ns->mnt_ns->ns.inum;
	ev->ns[VG_NS_PID_FOR_CHILDREN] = ns->pid_ns_for_children->ns.inum;
	ev->ns[VG_NS_NET] = ns->net_ns->ns.inum;
	ev->ns[VG_NS_TIME] = ns->time_ns->ns.inum;
	ev->ns[VG_NS_CGROUP] = ns->cgroup_ns->ns.inum;
	if (vg_can_read_kernel) {
		/* The task's own pid namespace: thread_pid->numbers[level].ns */
		struct pid *pid = t->thread_pid;
		__u32 level = pid->level & 31;
		struct upid up = {};
		bpf_probe_read_kernel(&up, sizeof(up),
				      (void *)pid + bpf_core_field_offset(struct pid, numbers) +
					      level * bpf_core_type_size(struct upid));
		ev->ns[VG_NS_PID] = BPF_CORE_READ(up.ns, ns.inum);
	}
}

/* ---- path of a (mount, dentry) pair, the way d_path builds it ---------- */

struct vg_pathwalk {
	struct dentry *d;
	struct vfsmount *vfsmnt;
	struct dentry *root_d;     /* stop at the task's root, as d_path does */
	struct vfsmount *root_mnt;
	char *buf;                 /* VG_PATH_MAX bytes, filled from the end */
	__u32 pos;                 /* first used byte of buf */
	__u8 trunc;
};

static long vg_path_step(__u32 i, struct vg_pathwalk *w)
{
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vfsmnt;
	if (d == w->root_d && vm == w->root_mnt)
		return 1;
	struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
	if (d == mnt_root) {
		struct mount *m = container_of(vm, struct mount, mnt);
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);
		if (parent == m)
			return 1; /* the global root */
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->vfsmnt = __builtin_preserve_access_index(&parent->mnt);
		return 0;
	}
	struct dentry *up = BPF_CORE_READ(d, d_parent);
	if (up == d)
		return 1;
	__u32 len = BPF_CORE_READ(d, d_name.len);
	const unsigned char *name = BPF_CORE_READ(d, d_name.name);
	if (len > 255 || len + 1 > w->pos) {
		w->trunc = 1;
		return 1;
	}
	w->pos -= len;
	bpf_probe_read_kernel(w->buf + VG_BOUND(w->pos, VG_PATH_MAX - 1), len & 255, name);
	w->pos -= 1;
	w->buf[VG_BOUND(w->pos, VG_PATH_MAX - 1)] = '/';
	w->d = up;
	return 0;
}

/* Resolves path into buf; returns the offset of its first byte (the path runs
 * to the end of buf), so the length is VG_PATH_MAX - offset. */
static __always_inline __u32 vg_walk_path(struct task_struct *t, const struct path *p, char *buf,
					  __u8 *trunc)
{
	struct vg_pathwalk w = {
		.d = BPF_CORE_READ(p, dentry),
		.vfsmnt = BPF_CORE_READ(p, mnt),
		.root_d = BPF_CORE_READ(t, fs, root.dentry),
		.root_mnt = BPF_CORE_READ(t, fs, root.mnt),
		.buf = buf,
		.pos = VG_PATH_MAX,
	};
	bpf_loop(VG_PATH_MAX / 2, vg_path_step, &w, 0);
	*trunc = w.trunc;
	if (w.pos == VG_PATH_MAX) { /* the root itself */
		w.pos = VG_PATH_MAX - 1;
		buf[VG_PATH_MAX - 1] = '/';
	}
	return w.pos;
}
