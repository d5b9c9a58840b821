/* vigil-try: attempts one operation in a forked child and prints what the
 * kernel did, as one line the VM tests compare exactly:
 *   ok                 the operation succeeded (exec: the program exited 0)
 *   errno=NAME         it failed with errno NAME (EPERM, EACCES, ...)
 *   signal=NAME        the child was killed by signal NAME (KILL, ...)
 *   exit=N             exec'd program exited with N != 0
 * Usage: vigil-try [after FIFO] OP ARG...  with OP one of
 *   open PATH | exec PATH [ARG]... | write PATH (open for writing, then write)
 *   mkdir PATH | rmdir PATH | unlink PATH | symlink TARGET LINK | link OLD NEW
 *   rename OLD NEW | chmod PATH OCTAL | truncate PATH
 *   socket FAMILY TYPE PROTO (numbers) | connect tcp|udp ADDR PORT | bind tcp|udp ADDR PORT
 *   kill SIG (sends SIG to a child it forked) | getpgid N (the syscall, with N)
 * "after FIFO" first blocks until a line can be read from FIFO, so a test can
 * start the process before vigild and let it act once vigild is ready.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A socket address from "tcp|udp ADDR PORT" (IPv4 or IPv6). */
static int sockaddr_of(const char *addr, const char *port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(atoi(port));
		*len = sizeof(*in);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(port));
		*len = sizeof(*in6);
		return AF_INET6;
	}
	return -1;
}

/* Runs OP in the child; returns 0 or an errno. */
static int run_op(int argc, char **argv)
{
	const char *op = argv[1];
	int r = -1;
	if (!strcmp(op, "open")) {
		r = open(argv[2], O_RDONLY);
	} else if (!strcmp(op, "exec")) {
		execv(argv[2], &argv[2]);
	} else if (!strcmp(op, "write")) {
		int fd = open(argv[2], O_WRONLY | O_CREAT, 0644);
		r = fd < 0 ? -1 : (int)write(fd, "x", 1);
	} else if (!strcmp(op, "mkdir")) {
		r = mkdir(argv[2], 0755);
	} else if (!strcmp(op, "rmdir")) {
		r = rmdir(argv[2]);
	} else if (!strcmp(op, "unlink")) {
		r = unlink(argv[2]);
	} else if (!strcmp(op, "symlink") && argc >= 4) {
		r = symlink(argv[2], argv[3]);
	} else if (!strcmp(op, "link") && argc >= 4) {
		r = link(argv[2], argv[3]);
	} else if (!strcmp(op, "rename") && argc >= 4) {
		r = rename(argv[2], argv[3]);
	} else if (!strcmp(op, "chmod") && argc >= 4) {
		r = chmod(argv[2], strtol(argv[3], NULL, 8));
	} else if (!strcmp(op, "truncate")) {
		r = truncate(argv[2], 0);
	} else if (!strcmp(op, "socket") && argc >= 5) {
		r = socket(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	} else if ((!strcmp(op, "connect") || !strcmp(op, "bind")) && argc >= 5) {
		struct sockaddr_storage ss;
		socklen_t len;
		int family = sockaddr_of(argv[3], argv[4], &ss, &len);
		if (family < 0)
			return EINVAL;
		int fd = socket(family, !strcmp(argv[2], "udp") ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (fd < 0)
			return errno;
		r = !strcmp(op, "connect") ? connect(fd, (struct sockaddr *)&ss, len)
					   : bind(fd, (struct sockaddr *)&ss, len);
	} else if (!strcmp(op, "kill")) {
		pid_t victim = fork();
		if (victim == 0) {
			pause();
			_exit(0);
		}
		r = kill(victim, atoi(argv[2]));
		int saved = errno;
		kill(victim, SIGKILL);
		waitpid(victim, NULL, 0);
		errno = saved;
	} else if (!strcmp(op, "dup")) {
		r = dup(atoi(argv[2])); /* NotifyEnforcer tests: a listed system call */
	} else if (!strcmp(op, "sendudp") && argc >= 4) {
		/* sendudp ADDR PORT: one datagram "vigil-kargs" (a packet on ip_output) */
		struct sockaddr_storage ss;
		socklen_t len;
		int family = sockaddr_of(argv[2], argv[3], &ss, &len);
		if (family < 0)
			return EINVAL;
		int fd = socket(family, SOCK_DGRAM, 0);
		if (fd < 0)
			return errno;
		r = (int)sendto(fd, "vigil-kargs", 11, 0, (struct sockaddr *)&ss, len);
	} else if (!strcmp(op, "capdrop") && argc >= 4) {
		/* capdrop CAP PGID: drop CAP from the effective set, then getpgid(PGID) */
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct d[2];
		if (syscall(SYS_capget, &h, d) != 0)
			return errno;
		int cap = atoi(argv[2]);
		d[cap / 32].effective &= ~(1u << (cap % 32));
		if (syscall(SYS_capset, &h, d) != 0)
			return errno;
		r = (int)syscall(SYS_getpgid, atoi(argv[3]));
		if (r < 0 && errno == ESRCH)
			r = 0;
	} else if (!strcmp(op, "unshare-uts")) {
		/* unshare-uts PGID: a new UTS namespace, then getpgid(PGID) */
		if (unshare(CLONE_NEWUTS) != 0)
			return errno;
		r = (int)syscall(SYS_getpgid, atoi(argv[2]));
		if (r < 0 && errno == ESRCH)
			r = 0;
	} else if (!strcmp(op, "getpgid")) {
		r = (int)syscall(SYS_getpgid, atoi(argv[2]));
		if (r < 0 && errno == ESRCH)
			r = 0; /* no such process is the normal answer */
	} else {
		return EINVAL;
	}
	return r < 0 ? errno : 0;
}

/* bench-getpgid N PID: N getpgid(PID) calls in this process, and the mean
 * time per call in ns (the kprobe/fentry overhead measurement). */
static int bench_getpgid(long n, int pid)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getpgid, pid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long long ns = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
	printf("%lld\n", n > 0 ? ns / n : 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "bench-getpgid"))
		return bench_getpgid(atol(argv[2]), atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "after")) {
		char c;
		int fd = open(argv[2], O_RDONLY);
		if (fd < 0 || read(fd, &c, 1) != 1) {
			perror("vigil-try: after");
			return 2;
		}
		close(fd);
		argc -= 2;
		argv += 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: vigil-try [after FIFO] OP ARG... (see the source)\n");
		return 2;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return 2;
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		int err = run_op(argc, argv);
		/* Only reached when the operation was not a successful exec. */
		if (write(pipefd[1], &err, sizeof(err)) != sizeof(err))
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	int err = -1;
	ssize_t n = read(pipefd[0], &err, sizeof(err));
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status)) {
		printf("signal=%s\n", sigabbrev_np(WTERMSIG(status)));
	} else if (n == sizeof(err) && err != 0) {
		printf("errno=%s\n", strerrorname_np(err));
	} else if (WEXITSTATUS(status) != 0) {
		printf("exit=%d\n", WEXITSTATUS(status));
	} else {
		printf("ok\n");
	}
	return 0;
}
