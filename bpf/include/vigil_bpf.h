/* Common includes for every Vigil BPF source. */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

/* Clamp an index with a mask the compiler cannot drop: clang proves the mask
 * redundant after a bounds check and removes it, and the verifier then tracks
 * a different register than the one that was checked. */
#define VG_BOUND(v, mask)                                          \
	({                                                         \
		__u64 __v = (v);                                   \
		asm volatile("%0 &= %1" : "+r"(__v) : "i"(mask)); \
		__v;                                               \
	})

#define VG_EPERM 1
#define VG_SIGKILL 9

char LICENSE[] SEC("license") = "GPL";
