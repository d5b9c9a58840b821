/* The program the uprobe tests probe: a user-space function with an integer
 * and a string argument, called as the command line says. Only the tests run
 * it (from a temp dir on the host), so enforcing policies on it touch nothing
 * else.
 *   vigil-uprobe-target N NAME      strtol(N), one call of vg_probe_op(N, NAME), prints its result
 *   vigil-uprobe-target --bench N   N calls, prints nanoseconds per call
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noinline, used)) int vg_probe_op(int n, const char *name)
{
	/* Keeps the call (and its arguments) from being folded away. */
	__asm__ volatile("" : : "r"(name) : "memory");
	return n * 2 + (int)(strlen(name) & 0);
}

__attribute__((noinline, used)) long vg_probe_other(long v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
	return v + 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--bench") == 0) {
		long n = atol(argv[2]);
		struct timespec a, b;
		char name[] = "bench";
		clock_gettime(CLOCK_MONOTONIC, &a);
		long sum = 0;
		for (long i = 0; i < n; i++)
			sum += vg_probe_op((int)i, name);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
		printf("%.1f ns/call (%ld calls, sum %ld)\n", ns / (double)n, n, sum);
		return 0;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s N NAME | --bench N\n", argv[0]);
		return 2;
	}
	/* Touch the string so its page is resident when the probe reads it. */
	volatile size_t len = strlen(argv[2]);
	(void)len;
	/* strtol from the C library: the VM case probes it in libc.so.6. */
	int r = vg_probe_op((int)strtol(argv[1], NULL, 10), argv[2]);
	printf("%d %ld\n", r, vg_probe_other(r));
	fflush(stdout);
	return 0;
}
