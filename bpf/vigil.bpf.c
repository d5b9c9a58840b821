/* The Vigil BPF object: process tracking and the one set of maps
 * (lib/maps.h) every hook program shares. Hooks, file_open and
 * bprm_check_security included, are instances of hook.bpf.c. */
#include "vigil_bpf.h"

#include "kprobe/process.bpf.h"
