/* Process events and the kernel process table, from the scheduler's
 * tracepoints (tp_btf works even where trampolines are refused, so this part
 * also runs in degraded mode). Exec records carry the binary, argv and cwd;
 * the process table keeps each process's binary for matchBinaries. */
#pragma once

#include "lib/maps.h"
#include "lib/strmatch.h"
#include "lib/task.h"

static __always_inline void vg_count_output(__u32 slot, void *rec, __u64 size)
{
	struct vg_counters *c = bpf_map_lookup_elem(&vg_counters, &slot);
	if (c)
		c->events++;
	if (bpf_ringbuf_output(&vg_events, rec, size, 0) && c)
		c->lost++;
}

/* Copies the walked path (at walk[pos..]) into data[off..]; returns its length. */
static __always_inline __u32 vg_put_walk(struct vg_exec_scratch *sc, __u32 pos, __u32 off)
{
	__u32 len = VG_PATH_MAX - pos;
	if (len > VG_PATH_MAX - 1 || pos >= VG_PATH_MAX)
		return 0;
	bpf_probe_read_kernel(sc->data + VG_BOUND(off, 2 * VG_PATH_MAX - 1),
			      VG_BOUND(len, VG_PATH_MAX - 1),
			      sc->walk + VG_BOUND(pos, VG_PATH_MAX - 1));
	return len;
}

/* The process table learns the binary (data[0..len)) for matchBinaries. */
static __always_inline void vg_learn_binary(struct vg_exec_scratch *sc, __u32 len, bool btf)
{
	struct vg_proc *pr = (struct vg_proc *)sc->walk; /* reuse: the walk is done */
	struct vg_hash2 h = vg_hash_str(sc->data, len);
	__builtin_memset(pr, 0, sizeof(*pr));
	pr->bin_hash = h.h;
	pr->bin_check = h.check;
	pr->bin_len = len;
	pr->bin_trunc = len >= VG_BIN_MAX;
	__u32 n = VG_BOUND(len < VG_BIN_MAX ? len : VG_BIN_MAX - 1, VG_BIN_MAX - 1);
	if (btf)
		vg_copy(pr->bin, sc->data, n);
	else
		bpf_probe_read_kernel(pr->bin, n, sc->data);
	pr->exec_caps[0] = sc->ev.cap_effective;
	pr->exec_caps[1] = sc->ev.cap_permitted;
	pr->exec_caps[2] = sc->ev.cap_inheritable;
	__builtin_memcpy(pr->exec_ns, sc->ev.ns, sizeof(pr->exec_ns));
	__u32 tgid = sc->ev.id.pid;
	bpf_map_update_elem(&vg_procs, &tgid, pr, BPF_ANY);
}

/* argv, as the kernel just laid it out on the new stack, into data[off..].
 * bpf_probe_read_user: the pages were just written by execve, so they are
 * resident. Not usable under lockdown (see vg_put_args_btf). Returns the new
 * offset. */
static __always_inline __u32 vg_put_args(struct task_struct *p, struct vg_exec_scratch *sc, __u32 off)
{
	struct vg_exec_event *ev = &sc->ev;
	struct mm_struct *mm = p->mm;
	unsigned long start = mm->arg_start, end = mm->arg_end;
	__u32 alen = end > start ? end - start : 0;
	__u32 amax = vg_args_max < VG_ARGS_MAX ? vg_args_max : VG_ARGS_MAX;
	if (alen > amax) {
		alen = amax;
		ev->flags |= VG_EXEC_FLAG_ARGS_TRUNC;
	}
	alen = VG_BOUND(alen, VG_ARGS_MAX - 1);
	if (alen && bpf_probe_read_user(sc->data + VG_BOUND(off, VG_PATH_MAX - 1), alen,
					(void *)start) == 0) {
		ev->args_len = alen;
		off += alen;
	}
	return off;
}

/* argv without bpf_probe_read_user. The kernel would allow it under lockdown,
 * but libbpf would not: its feature probe for bpf_probe_read_kernel fails
 * there, and it then rewrites every bpf_probe_read_{kernel,user} call into the
 * legacy bpf_probe_read, which x86 refuses. bpf_snprintf's "%pus" copies one
 * NUL-terminated user string (up to 511 bytes) per call, libbpf leaves it
 * alone, and lockdown does not restrict user memory. */
static const char vg_fmt_user_str[] = "%pus";

struct vg_argv {
	char *dst;      /* data + off */
	__u64 ptr, end; /* the next argument, the end of argv (user addresses) */
	__u32 out, max;
	__u8 trunc;
};

static long vg_argv_step(__u32 i, struct vg_argv *a)
{
	if (a->ptr >= a->end)
		return 1;
	if (a->out >= a->max) {
		a->trunc = 1;
		return 1;
	}
	__u32 room = a->max - a->out;
	if (room > 512)
		room = 512;
	__u64 arg = a->ptr;
	long n = bpf_snprintf(a->dst + VG_BOUND(a->out, VG_ARGS_MAX - 1), VG_BOUND(room, 1023),
			      vg_fmt_user_str, &arg, sizeof(arg));
	if (n <= 0)
		return 1; /* -EBUSY: nested printf on this CPU */
	if (n >= room || n == 512) {
		/* cut here, or an argument of 511+ bytes: its end is unknown */
		a->out = VG_BOUND(a->out + (n < room ? n : room), VG_ARGS_MAX - 1);
		a->trunc = 1;
		return 1;
	}
	/* with its NUL, the separator. The mask keeps out's range from growing
	 * with every iteration the verifier explores (it would never converge). */
	a->out = VG_BOUND(a->out + n, VG_ARGS_MAX - 1);
	a->ptr += n;
	return 0;
}

static __always_inline __u32 vg_put_args_btf(struct task_struct *p, struct vg_exec_scratch *sc,
					     __u32 off)
{
	struct mm_struct *mm = p->mm;
	__u32 amax = vg_args_max < VG_ARGS_MAX ? vg_args_max : VG_ARGS_MAX;
	struct vg_argv a = {
		.dst = sc->data + VG_BOUND(off, VG_PATH_MAX - 1),
		.ptr = mm->arg_start,
		.end = mm->arg_end,
		.max = amax,
	};
	bpf_loop(VG_ARGS_MAX / 2, vg_argv_step, &a, 0);
	if (a.trunc)
		sc->ev.flags |= VG_EXEC_FLAG_ARGS_TRUNC;
	sc->ev.args_len = VG_BOUND(a.out, VG_ARGS_MAX - 1);
	return off + sc->ev.args_len;
}

/* Binary, argv and cwd with BTF-typed reads and bpf_snprintf only.
 * Returns the bytes written to data. */
static __always_inline __u32 vg_exec_paths_btf(struct task_struct *p, struct linux_binprm *bprm,
					       struct vg_exec_scratch *sc)
{
	struct vg_exec_event *ev = &sc->ev;
	__u8 trunc = 0;
	__u64 file = VG_WORD(&bprm->file);
	__u32 pos = vg_bwalk_path(p, VG_PTR(file, struct file, f_path.dentry),
				  VG_PTR(file, struct file, f_path.mnt), sc->walk, &trunc);
	__u32 len = VG_PATH_MAX - pos;
	vg_copy(sc->data, sc->walk + VG_BOUND(pos, VG_PATH_MAX - 1), VG_BOUND(len, VG_PATH_MAX - 1));
	ev->bin_len = len;
	if (trunc)
		ev->flags |= VG_EXEC_FLAG_BIN_TRUNC;
	else if (len)
		vg_learn_binary(sc, len, true);
	__u32 off = vg_put_args_btf(p, sc, len);

	__u64 fs = VG_WORD(&p->fs);
	pos = vg_bwalk_path(p, VG_PTR(fs, struct fs_struct, pwd.dentry),
			    VG_PTR(fs, struct fs_struct, pwd.mnt), sc->walk, &trunc);
	len = VG_BOUND(VG_PATH_MAX - pos, VG_PATH_MAX - 1);
	vg_copy(sc->data + VG_BOUND(off, 2 * VG_PATH_MAX - 1), sc->walk + VG_BOUND(pos, VG_PATH_MAX - 1),
		len);
	ev->cwd_len = len;
	if (trunc)
		ev->flags |= VG_EXEC_FLAG_CWD_TRUNC;
	return off + len;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_tp_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct vg_exec_scratch *sc = bpf_map_lookup_elem(&vg_exec_scratch, &zero);
	if (!sc)
		return 0;
	struct vg_exec_event *ev = &sc->ev;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->hdr.type = VG_EV_EXEC;
	ev->hdr.version = VG_ABI_VERSION;
	ev->hdr.ktime = bpf_ktime_get_boot_ns();
	vg_task_id(p, &ev->id);
	vg_task_creds(p, ev);
	vg_task_ns(p, ev);
	vg_task_tty(p, ev);
	ev->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));

	__u32 off = 0;
	if (vg_btf_reads) {
		ev->ns[VG_NS_PID] = vg_bpid_ns(p);
		off = vg_exec_paths_btf(p, bprm, sc);
	} else if (vg_can_read_kernel) {
		__u8 trunc = 0;
		__u32 pos = vg_walk_path(p, &bprm->file->f_path, sc->walk, &trunc);
		__u32 len = vg_put_walk(sc, pos, 0);
		ev->bin_len = len;
		if (trunc)
			ev->flags |= VG_EXEC_FLAG_BIN_TRUNC;
		if (len && !trunc)
			vg_learn_binary(sc, len, false);
		off = vg_put_args(p, sc, len);

		pos = vg_walk_path(p, __builtin_preserve_access_index(&p->fs->pwd), sc->walk, &trunc);
		ev->cwd_len = vg_put_walk(sc, pos, off);
		if (trunc)
			ev->flags |= VG_EXEC_FLAG_CWD_TRUNC;
		off += ev->cwd_len;
	} else {
		ev->flags |= VG_EXEC_FLAG_NO_PATHS;
	}
	/* off < VG_EXEC_DATA_MAX; a power-of-two mask (VG_EXEC_DATA_MAX is not) */
	__u64 size = sizeof(*ev) + VG_BOUND(off, 4 * VG_PATH_MAX - 1);
	ev->hdr.size = size;
	vg_count_output(VG_CNT_EXEC, ev, size);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_tp_fork, struct task_struct *parent, struct task_struct *child)
{
	if (child->pid != child->tgid)
		return 0; /* a new thread shares its process's entry */
	__u32 ptgid = parent->tgid;
	struct vg_proc *pr = bpf_map_lookup_elem(&vg_procs, &ptgid);
	__u32 ctgid = child->tgid;
	if (pr)
		bpf_map_update_elem(&vg_procs, &ctgid, pr, BPF_ANY);
	struct vg_clone_event ev = {};
	ev.hdr.type = VG_EV_CLONE;
	ev.hdr.version = VG_ABI_VERSION;
	ev.hdr.size = sizeof(ev);
	ev.hdr.ktime = bpf_ktime_get_boot_ns();
	ev.id.pid = ctgid;
	ev.id.tid = child->pid;
	ev.id.start_ns = child->start_boottime;
	ev.id.ppid = parent->tgid;
	ev.id.parent_start_ns = parent->group_leader->start_boottime;
	vg_count_output(VG_CNT_CLONE, &ev, sizeof(ev));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_tp_exit, struct task_struct *p)
{
	/* The process ends with its last thread, not with its leader. */
	if (p->signal->live.counter != 0)
		return 0;
	__u32 tgid = p->tgid;
	bpf_map_delete_elem(&vg_procs, &tgid);
	struct vg_exit_event ev = {};
	ev.hdr.type = VG_EV_EXIT;
	ev.hdr.version = VG_ABI_VERSION;
	ev.hdr.size = sizeof(ev);
	ev.hdr.ktime = bpf_ktime_get_boot_ns();
	vg_task_id(p, &ev.id);
	ev.exit_code = p->exit_code;
	vg_count_output(VG_CNT_EXIT, &ev, sizeof(ev));
	return 0;
}
