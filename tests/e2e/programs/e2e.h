/*
 * The contract every e2e test program follows, so that one runner drives
 * them all: set up a state, write the pid to --pidfile, wait for SIGTERM
 * (the runner dumps and restores meanwhile), check the state, and write
 * "PASS" or "FAIL: why" to --outfile.
 */
#ifndef E2E_H
#define E2E_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *e2e_outfile;
static volatile sig_atomic_t e2e_stop;

static void e2e_on_term(int sig)
{
	(void)sig;
	e2e_stop = 1;
}

/* Parses --pidfile/--outfile and arms SIGTERM; call first. */
static void e2e_init(int argc, char **argv)
{
	struct sigaction sa;
	int i;

	for (i = 1; i + 1 < argc; i++) {
		if (!strcmp(argv[i], "--outfile"))
			e2e_outfile = argv[i + 1];
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = e2e_on_term;
	sigaction(SIGTERM, &sa, NULL);
	(void)argv;
}

static void e2e_write(const char *path, const char *text)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) != 0 || rename(tmp, path) != 0)
		_exit(3);
}

/* The state is set up: tell the runner (write the pid file last). */
static void e2e_ready(int argc, char **argv)
{
	char buf[32];
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--pidfile")) {
			snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
			e2e_write(argv[i + 1], buf);
		}
}

/* Sleeps in pause() until SIGTERM: the common way to wait. */
static __attribute__((unused)) void e2e_wait(void)
{
	while (!e2e_stop)
		pause();
}

/*
 * Like e2e_wait(), for a process that SIGTERM may reach at once (it is sent
 * as soon as the process is made): no window between the check and the
 * sleep.  It leaves SIGTERM blocked: for a process that ends right after.
 */
static __attribute__((unused)) void e2e_wait_ending(void)
{
	sigset_t term, old;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	while (!e2e_stop)
		sigsuspend(&old);
}

static __attribute__((noreturn)) void e2e_pass(void)
{
	e2e_write(e2e_outfile, "PASS\n");
	exit(0);
}

static __attribute__((noreturn, format(printf, 1, 2))) void e2e_fail(const char *fmt, ...)
{
	char buf[1024] = "FAIL: ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + 6, sizeof(buf) - 8, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	e2e_write(e2e_outfile, buf);
	exit(1);
}

/*
 * Trees: the root calls e2e_tree_init() before it forks; each process of
 * the tree that must be set up before the dump calls e2e_tree_ready(), and
 * the root waits for all of them with e2e_tree_wait().  Readiness is a
 * queued real-time signal, so that nothing (a pipe) is left open for the
 * dump.  At the end the root sends SIGTERM to each child and reads its
 * verdict, its exit code (0 for good), with e2e_verdict_of().
 */
static pid_t e2e_root;

static __attribute__((unused)) void e2e_tree_init(void)
{
	sigset_t rt;

	e2e_root = getpid();
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &rt, NULL);
}

static __attribute__((unused)) void e2e_tree_ready(int tag)
{
	sigqueue(e2e_root, SIGRTMIN, (union sigval){.sival_int = tag});
}

/* Waits for n processes to be ready; who[i] gets the pid of the i-th. */
static __attribute__((unused)) int e2e_tree_wait(int n, pid_t *who)
{
	struct timespec wait = {10, 0};
	sigset_t rt;
	siginfo_t si;
	int i;

	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	for (i = 0; i < n; i++) {
		if (sigtimedwait(&rt, &si, &wait) != SIGRTMIN)
			return -1;
		if (who)
			who[i] = si.si_pid;
	}
	return 0;
}

/* SIGTERM to a child, and its verdict: its exit code, 128+signal if killed. */
static __attribute__((unused)) int e2e_verdict_of(pid_t child)
{
	int status;

	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#ifdef _GNU_SOURCE
/* A new pty, unlocked: its master; name gets its slave's path. */
static __attribute__((unused)) int e2e_pty(char *name, size_t len)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	if (master < 0 || unlockpt(master) || ptsname_r(master, name, len))
		e2e_fail("cannot make a pty: %s", strerror(errno));
	return master;
}
#endif

#endif
