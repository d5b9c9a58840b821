/* The Vigil BPF object: every program, one set of maps (lib/maps.h). The loader
 * turns programs on or off according to the policies and the kernel's features. */
#include "vigil_bpf.h"

#include "lsm/file_hooks.bpf.h"
#include "kprobe/process.bpf.h"
