/* String matching against vg_str_match in one pass over the string.
 *
 * Equal looks up the hash of the whole string. Prefix (Postfix) walks the
 * string forwards (backwards) and looks up the running hash only at lengths
 * that occur among the selector's values (vg_len_set), so the cost is one pass
 * plus one lookup per distinct value length, whatever the number of values. */
#pragma once

#include "lib/maps.h"

struct vg_walk {
	const char *s;                 /* string, in a map value */
	__u32 len;                     /* string length, < VG_PATH_MAX */
	__u32 limit;                   /* bytes to walk */
	struct vg_hash2 h;
	const struct vg_len_set *lens; /* NULL: just hash */
	struct vg_str_key key;
	__u8 reverse;
	__u8 matched;
};

/* The secret keys of the string hashes (vg_config.hash_key). */
static __always_inline struct vg_hash2 vg_hash_start(void)
{
	__u32 zero = 0;
	const struct vg_config *cfg = bpf_map_lookup_elem(&vg_config, &zero);
	const __u64 none[2] = {};
	return vg_hash_init(cfg ? cfg->hash_key : none);
}

static long vg_walk_step(__u32 i, struct vg_walk *w)
{
	if (i >= w->limit || i >= VG_PATH_MAX)
		return 1;
	__u32 pos = w->reverse ? w->len - 1 - i : i;
	if (pos >= VG_PATH_MAX)
		return 1;
	__u8 c = (__u8)w->s[VG_BOUND(pos, VG_PATH_MAX - 1)];
	w->h.h = vg_hash_step(w->h.h, c);
	w->h.check = vg_check_step(w->h.check, c);
	if (!w->lens)
		return 0;
	__u32 l = i + 1;
	if (!(w->lens->bits[VG_BOUND(l >> 3, VG_LEN_BITMAP_BYTES - 1)] & (1 << (l & 7))))
		return 0;
	w->key.len = l;
	w->key.hash = w->h.h;
	const __u64 *check = bpf_map_lookup_elem(&vg_str_match, &w->key);
	if (check && *check == w->h.check) {
		w->matched = 1;
		return 1;
	}
	return 0;
}

/* Both hashes of s[0, len). */
static __always_inline struct vg_hash2 vg_hash_str(const char *s, __u32 len)
{
	struct vg_walk w = { .s = s, .len = len, .limit = len, .h = vg_hash_start() };
	bpf_loop(VG_PATH_MAX, vg_walk_step, &w, 0);
	return w.h;
}

/* A whole value (or integer: hash = the number, check = 0) in a filter's set. */
static __always_inline bool vg_match_exact(__u32 slot, __u8 filter, __u8 op, __u32 len, __u64 hash,
					   __u64 check)
{
	struct vg_str_key key = { .selector = slot, .filter = filter, .op = op,
				  .len = (__u16)len, .hash = hash };
	const __u64 *v = bpf_map_lookup_elem(&vg_str_match, &key);
	return v && *v == check;
}

static __always_inline bool vg_match_affix(__u32 slot, __u8 filter, __u8 op, __u32 len_set,
					   const char *s, __u32 len)
{
	const struct vg_len_set *lens = bpf_map_lookup_elem(&vg_len_sets, &len_set);
	if (!lens)
		return false;
	struct vg_walk w = {
		.s = s,
		.len = len,
		.limit = len < lens->max_len ? len : lens->max_len,
		.h = vg_hash_start(),
		.lens = lens,
		.key = { .selector = slot, .filter = filter, .op = op },
		.reverse = op == VG_OP_POSTFIX,
	};
	bpf_loop(VG_PATH_MAX, vg_walk_step, &w, 0);
	return w.matched;
}

/* matchBinaries of a selector against the caller's process table entry:
 * In/NotIn on the whole path, Prefix/Postfix (and negations) on its bytes.
 * A process the table does not know matches only the negated forms.
 * binbuf: VG_BIN_MAX bytes of scratch followed by at least VG_PATH_MAX more in
 * the same map value (the string walk's bounds), where the binary is copied. */
struct vg_binbuf {
	char b[VG_BIN_MAX + VG_PATH_MAX];
};

/* A process's binary against one binary filter (filter: VG_FILTER_BINARY
 * or a matchParentBinaries task filter) of selector slot: op_set is the
 * filter's VG_OP_BIN_* << 24 | its length set (Prefix/Postfix). In on the
 * whole path, Prefix/Postfix on its bytes. Returns the hit before negation;
 * a process the table does not know misses. A global function, verified
 * once, in its own stack frame: the selector loop's frame stays small enough
 * for 6.1's 512-byte limit of a call chain (program -> selector callback ->
 * this -> string walk). */
__noinline int vg_binary_hit(const struct vg_proc *proc, __u32 slot, __u32 filter, __u32 op_set,
			     struct vg_binbuf *buf)
{
	if (!proc || !buf)
		return 0;
	__u8 op = op_set >> 24;
	if (op == VG_OP_BIN_IN)
		return vg_match_exact(slot, filter, VG_OP_BIN_IN, proc->bin_len, proc->bin_hash,
				      proc->bin_check);
	if (proc->bin_trunc || !proc->bin_len || proc->bin_len >= VG_BIN_MAX)
		return 0;
	__builtin_memcpy(buf->b, proc->bin, VG_BIN_MAX);
	return vg_match_affix(slot, filter, op == VG_OP_BIN_PREFIX ? VG_OP_PREFIX : VG_OP_POSTFIX,
			      op_set & 0xffffff, buf->b, proc->bin_len);
}

/* matchBinaries of a selector against the caller's process table entry. */
static __always_inline bool vg_match_binary(const struct vg_proc *proc, __u32 slot,
					    const struct vg_selector *sel, char *binbuf)
{
	if (sel->binaries == VG_OP_NONE)
		return true;
	__u32 op_set = (__u32)sel->binaries << 24 | (sel->bin_len_set & 0xffffff);
	return (vg_binary_hit(proc, slot, VG_FILTER_BINARY, op_set, (struct vg_binbuf *)binbuf) != 0) !=
	       (sel->bin_negate != 0);
}

/* A selector's matchParentBinaries Prefix/Postfix filter (at most one; In and
 * NotIn are vg_tf_step's) against the parent's process table entry. */
static __always_inline bool vg_match_parent_affix(const struct vg_selector *sel, __u32 slot,
						  char *binbuf)
{
	if (!sel->parent_affix)
		return true;
	__u32 f = (sel->parent_affix - 1) & (VG_MAX_TASK_FILTERS - 1);
	const struct vg_task_filter *tf = &sel->task[f];
	__u32 ptgid = bpf_get_current_task_btf()->real_parent->tgid;
	const struct vg_proc *parent = bpf_map_lookup_elem(&vg_procs, &ptgid);
	__u32 op_set = (__u32)tf->which << 24 | ((__u32)tf->mask & 0xffffff);
	return (vg_binary_hit(parent, slot, VG_FILTER_TASK + f, op_set, (struct vg_binbuf *)binbuf) != 0) !=
	       (tf->negate != 0);
}
