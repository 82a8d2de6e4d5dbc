/*
 * Runs the SDK examples, getinfo and fdspy, on a live victim of each build
 * given and compares what they print with what the victim is, exactly.
 *
 *   examples-check GETINFO FDSPY VICTIM...
 *
 * Each victim (examples-victim.c) runs in a directory of its own with
 * RLIMIT_NOFILE 777 and RLIMIT_CORE 0; its fd 5 holds "secret of <pid>".
 * Prints "ok: ..." per victim, then PASS; exits 1 on the first difference.
 * A program rather than a script: the ARM test VMs have no shell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static _Noreturn __attribute__((format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

/* Runs argv with stdout to a pipe; returns its pid and the read end. */
static pid_t spawn(char *const argv[], const char *dir, int *out)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		struct rlimit nofile = {777, 777}, core = {0, 0};

		if ((dir && chdir(dir) != 0) || (dir && setrlimit(RLIMIT_NOFILE, &nofile) != 0) ||
		    (dir && setrlimit(RLIMIT_CORE, &core) != 0) || dup2(p[1], STDOUT_FILENO) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Everything fd gives within 30 s (until EOF, or a line if one_line). */
static void slurp(int fd, char *buf, size_t size, int one_line, const char *what)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 30000) != 1)
			die("%s: no output within 30 s", what);
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0)
			die("%s: read: %s", what, strerror(errno));
		len += (size_t)n;
		buf[len] = '\0';
		if (n == 0 || len == size - 1 || (one_line && strchr(buf, '\n')))
			return;
	}
}

/* What one run of an example printed, after it exited 0. */
static void run(char *const argv[], char *buf, size_t size)
{
	int fd, status;
	pid_t pid = spawn(argv, NULL, &fd);

	slurp(fd, buf, size, 0, argv[0]);
	close(fd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("%s exited with status 0x%x, having printed:\n%s", argv[0], status, buf);
}

static void limit(char *buf, size_t size, rlim_t v)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, size, "unlimited");
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
}

static void expect(const char *what, const char *victim, const char *actual, const char *expected)
{
	if (strcmp(actual, expected) != 0)
		die("%s on %s printed\n%sinstead of\n%s", what, victim, actual, expected);
}

static void check(char *getinfo, char *fdspy, char *victim)
{
	char dir[] = "/tmp/examples-check.XXXXXX", cwd[PATH_MAX], pid_s[16];
	char out[4096], want[PATH_MAX + 256], cur[32], max[32];
	char *victim_argv[] = {victim, NULL}, *getinfo_argv[] = {getinfo, pid_s, NULL};
	char *fdspy_argv[] = {fdspy, pid_s, "5", NULL};
	struct rlimit stack;
	int fd;
	pid_t pid;

	if (!mkdtemp(dir) || !realpath(dir, cwd))
		die("a directory for the victim: %s", strerror(errno));
	pid = spawn(victim_argv, dir, &fd);
	slurp(fd, out, sizeof(out), 1, victim);
	if (strcmp(out, "ready\n") != 0)
		die("%s said \"%s\" instead of \"ready\"", victim, out);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);

	getrlimit(RLIMIT_STACK, &stack); /* the victim's, inherited */
	limit(cur, sizeof(cur), stack.rlim_cur);
	limit(max, sizeof(max), stack.rlim_max);
	snprintf(want, sizeof(want),
		 "pid %d\nuid %u gid %u\ncwd %s\nRLIMIT_NOFILE 777 777\nRLIMIT_STACK %s %s\nRLIMIT_CORE 0 0\n",
		 (int)pid, getuid(), getgid(), cwd, cur, max);
	run(getinfo_argv, out, sizeof(out));
	expect("getinfo", victim, out, want);

	snprintf(want, sizeof(want), "fd 5 of pid %d: secret of %d\n", (int)pid, (int)pid);
	run(fdspy_argv, out, sizeof(out));
	expect("fdspy", victim, out, want);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(fd);
	rmdir(dir);
	printf("ok: getinfo and fdspy on %s\n", strrchr(victim, '/') ? strrchr(victim, '/') + 1 : victim);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: examples-check GETINFO FDSPY VICTIM...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 3; i < argc; i++)
		check(argv[1], argv[2], argv[i]);
	printf("PASS\n");
	return 0;
}
