/* Reading a task's identity, credentials, namespaces and paths for process
 * events, through CO-RE relocated reads, so the same object runs on 6.1 and
 * 6.12+ whatever their struct layouts. Paths come in two variants: through
 * bpf_probe_read_kernel (refused under lockdown=confidentiality: the loader
 * then keeps vg_can_read_kernel false and those reads are never reached, the
 * verifier drops the dead branch), or through BTF-typed loads only
 * (vg_btf_reads, below). */
#pragma once

#include "lib/maps.h"

const volatile bool vg_can_read_kernel = true;
/* Exec records read paths through BTF-typed pointers instead of
 * bpf_probe_read_kernel (needs the bpf_rdonly_cast kfunc, 6.2+). */
const volatile bool vg_btf_reads = false;
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
	if (vg_can_read_kernel && !vg_btf_reads) { /* else vg_bpid_ns() */
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

/* ---- the same reads without bpf_probe_read_kernel ------------------------
 *
 * Under lockdown=confidentiality bpf_probe_read_kernel is refused, but loads
 * through BTF-typed pointers are not: the verifier turns them into fault-safe
 * loads (BPF_PROBE_MEM). A struct field reached from a tracepoint argument
 * (task->fs) is such a load; a name (d_name.name is a char *, which kernels
 * before 6.17 type as a plain number) and container_of are not. The
 * bpf_rdonly_cast kfunc (6.2+) turns any address into an untrusted BTF
 * pointer of a kernel type, and the verifier inlines it as a register move.
 * These helpers keep every kernel address as a plain integer and cast it at
 * each use, so the verifier tracks no pointer types through the walk's loop. */

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* The object at address addr, as a read-only BTF pointer of a kernel type. */
#define VG_AT(addr, type) \
	((type *)bpf_rdonly_cast((const void *)(addr), bpf_core_type_id_kernel(type)))
/* The 8 bytes at address addr (struct rb_node starts with an unsigned long). */
#define VG_WORD(addr) ((__u64)VG_AT(addr, struct rb_node)->__rb_parent_color)
/* A pointer field of the object at integer address addr, as an integer. */
#define VG_PTR(addr, type, field) VG_WORD(&VG_AT(addr, type)->field)

struct vg_bwalk {
	__u64 d, vfsmnt;        /* where the walk is: struct dentry *, struct vfsmount * */
	__u64 root_d, root_mnt; /* the task's root */
	char *buf;              /* filled from the end, as in vg_pathwalk */
	__u32 pos;
	__u8 trunc;
};

static long vg_bpath_step(__u32 i, struct vg_bwalk *w)
{
	__u64 d = w->d, vm = w->vfsmnt;
	if (!d || !vm || (d == w->root_d && vm == w->root_mnt))
		return 1;
	if (d == VG_PTR(vm, struct vfsmount, mnt_root)) {
		__u64 m = vm - bpf_core_field_offset(struct mount, mnt);
		__u64 parent = VG_PTR(m, struct mount, mnt_parent);
		if (parent == m || !parent)
			return 1; /* the global root */
		w->d = VG_PTR(m, struct mount, mnt_mountpoint);
		w->vfsmnt = parent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	__u64 up = VG_PTR(d, struct dentry, d_parent);
	if (up == d || !up)
		return 1;
	__u32 len = VG_AT(d, struct dentry)->d_name.len;
	__u64 name = VG_PTR(d, struct dentry, d_name.name);
	/* 8 bytes of slack in front: see below */
	if (len > 255 || len + 9 > w->pos) {
		w->trunc = 1;
		return 1;
	}
	w->pos -= len;
	/* The name in 8-byte words, its last word first. The first word may
	 * start up to 7 bytes before the name (inside the dentry or the
	 * external name's header, and the load cannot fault anyway) and land
	 * before pos, on bytes the walk fills later. */
	for (__s32 rel = (__s32)len - 8; rel > -8; rel -= 8) {
		__u64 v = VG_WORD(name + rel);
		*(__u64 *)(w->buf + VG_BOUND(w->pos + rel, VG_PATH_MAX - 1)) = v;
	}
	w->pos -= 1;
	w->buf[VG_BOUND(w->pos, VG_PATH_MAX - 1)] = '/';
	w->d = up;
	return 0;
}

/* vg_walk_path without bpf_probe_read_kernel: dentry and mnt are the
 * addresses of the path's struct dentry and struct vfsmount. */
static __always_inline __u32 vg_bwalk_path(struct task_struct *t, __u64 dentry, __u64 mnt,
					   char *buf, __u8 *trunc)
{
	__u64 fs = VG_WORD(&t->fs);
	struct vg_bwalk w = {
		.d = dentry,
		.vfsmnt = mnt,
		.root_d = VG_PTR(fs, struct fs_struct, root.dentry),
		.root_mnt = VG_PTR(fs, struct fs_struct, root.mnt),
		.buf = buf,
		.pos = VG_PATH_MAX,
	};
	bpf_loop(VG_PATH_MAX / 2, vg_bpath_step, &w, 0);
	*trunc = w.trunc;
	if (w.pos == VG_PATH_MAX) {
		w.pos = VG_PATH_MAX - 1;
		buf[VG_PATH_MAX - 1] = '/';
	}
	return w.pos;
}

/* memcpy between two places of a map value, without bpf_probe_read_kernel:
 * len (< VG_PATH_MAX) bytes in 8-byte words, then the tail byte by byte. */
struct vg_copy {
	char *dst;
	const char *src;
	__u32 words;
};

static long vg_copy_step(__u32 i, struct vg_copy *c)
{
	if (i >= c->words)
		return 1;
	__u32 o = VG_BOUND(i * 8, VG_PATH_MAX - 8);
	*(__u64 *)(c->dst + o) = *(const __u64 *)(c->src + o);
	return 0;
}

static __always_inline void vg_copy(char *dst, const char *src, __u32 len)
{
	struct vg_copy c = {.dst = dst, .src = src, .words = len / 8};
	bpf_loop(VG_PATH_MAX / 8, vg_copy_step, &c, 0);
	__u32 base = VG_BOUND(len & ~7u, VG_PATH_MAX - 8);
	for (__u32 k = 0; k < 7; k++) {
		if (base + k >= len)
			break;
		dst[base + k] = src[base + k];
	}
}

/* The task's own pid namespace (thread_pid->numbers[level].ns), BTF reads. */
static __always_inline __u32 vg_bpid_ns(struct task_struct *t)
{
	__u64 pid = VG_WORD(&t->thread_pid);
	__u32 level = VG_AT(pid, struct pid)->level & 31;
	__u64 up = pid + bpf_core_field_offset(struct pid, numbers) +
		   level * bpf_core_type_size(struct upid);
	__u64 ns = VG_PTR(up, struct upid, ns);
	return VG_AT(ns, struct pid_namespace)->ns.inum;
}

/* Controlling terminal: signal->tty, its device number and name. */
static __always_inline void vg_task_tty(struct task_struct *t, struct vg_exec_event *ev)
{
	struct tty_struct *tty = t->signal->tty;
	if (!tty)
		return;
	struct tty_driver *drv = tty->driver;
	__u32 minor = drv->minor_start + tty->index;
	ev->tty_dev = ((__u32)drv->major << 20) | (minor & 0xfffff);
	__builtin_memcpy(ev->tty, tty->name, VG_TTY_LEN - 1);
}
