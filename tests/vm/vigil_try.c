/* vigil-try: attempts one operation in a forked child and prints what the
 * kernel did, as one line the VM tests compare exactly:
 *   ok                 the operation succeeded (exec: the program exited 0)
 *   errno=NAME         it failed with errno NAME (EPERM, EACCES, ...)
 *   signal=NAME        the child was killed by signal NAME (KILL, ...)
 *   exit=N             exec'd program exited with N != 0
 * Usage: vigil-try [after FIFO] open PATH | vigil-try [after FIFO] exec PATH [ARG]...
 * "after FIFO" first blocks until a line can be read from FIFO, so a test can
 * start the process before vigild and let it act once vigild is ready.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
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
	if (argc < 3 || (strcmp(argv[1], "open") && strcmp(argv[1], "exec"))) {
		fprintf(stderr, "usage: vigil-try open PATH | vigil-try exec PATH [ARG]...\n");
		return 2;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return 2;
	pid_t pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		int err = 0;
		if (!strcmp(argv[1], "open")) {
			int fd = open(argv[2], O_RDONLY);
			err = fd < 0 ? errno : 0;
		} else {
			execv(argv[2], &argv[2]);
			err = errno;
		}
		/* Only reached on open, or when exec failed. */
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
