/*
 * /init of the multiarch test VMs that tests/multiarch/run-vm boots: mounts
 * what tests expect, runs the tests of /tests.list one after the other,
 * reports each on the console and powers the VM off.  As pid 1 it must never
 * return or exit: the kernel would panic.
 *
 * /tests.list has one test a line, fields separated by single spaces:
 *
 *   NAME TIMEOUT COMMAND [ARG...]        TIMEOUT in seconds, COMMAND a path
 *
 * What it writes to the console, read by run-vm:
 *
 *   NAME| ...                            the test's stdout and stderr
 *   MULTIARCH NAME PASS
 *   MULTIARCH NAME FAIL <exit code N | signal N (SIGX) | timeout after N s>
 *   MULTIARCH-DONE <passed> <failed>
 *   MULTIARCH-ERROR <what failed>        nothing more will run
 *
 * Test output goes through a pipe and gets the prefix so that no test can
 * print a line that passes for a result.
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
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TESTS_LIST "/tests.list"
#define MAX_ARGS 64
#define OUTPUT_LINE_MAX 4096

struct test {
	const char *name;
	unsigned timeout;
	char *argv[MAX_ARGS + 1];
};

static void console(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void console(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdprintf(STDOUT_FILENO, fmt, ap);
	va_end(ap);
}

static _Noreturn void power_off(void)
{
	/* Without this, the last lines may still sit in the tty buffer. */
	tcdrain(STDOUT_FILENO);
	sync();
	reboot(RB_POWER_OFF);
	console("MULTIARCH-ERROR reboot(RB_POWER_OFF): %s\n", strerror(errno));
	for (;;)
		pause();
}

static _Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void fatal(const char *fmt, ...)
{
	va_list ap;

	console("MULTIARCH-ERROR ");
	va_start(ap, fmt);
	vdprintf(STDOUT_FILENO, fmt, ap);
	va_end(ap);
	console("\n");
	power_off();
}

static void mount_fs(const char *type, const char *dir, const char *options)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		fatal("mkdir %s: %s", dir, strerror(errno));
	if (mount(type, dir, type, MS_NOSUID, options) != 0)
		fatal("mount %s on %s: %s", type, dir, strerror(errno));
}

static char *read_file(const char *path)
{
	size_t size = 0, cap = 4096;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		fatal("open %s: %s", path, strerror(errno));
	for (;;) {
		if (!buf)
			fatal("reading %s: out of memory", path);
		n = read(fd, buf + size, cap - size - 1);
		if (n < 0)
			fatal("read %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		size += (size_t)n;
		if (size == cap - 1)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[size] = '\0';
	return buf;
}

/* Splits /tests.list in place; the tests point into `text`. */
static size_t parse_tests(char *text, struct test **out)
{
	size_t nr = 0, lineno = 0;
	struct test *tests = NULL;
	char *line;

	while ((line = strsep(&text, "\n"))) {
		struct test *t;
		char *field, *save, *end;
		size_t argc = 0;
		unsigned long timeout;

		lineno++;
		if (*line == '\0')
			continue;
		tests = realloc(tests, (nr + 1) * sizeof(*tests));
		if (!tests)
			fatal("%s: out of memory", TESTS_LIST);
		t = &tests[nr++];
		t->name = strtok_r(line, " ", &save);
		field = strtok_r(NULL, " ", &save);
		if (!t->name || !field)
			fatal("%s line %zu: want NAME TIMEOUT COMMAND [ARG...]", TESTS_LIST, lineno);
		errno = 0;
		timeout = strtoul(field, &end, 10);
		if (errno || *end || timeout == 0 || timeout > INT_MAX / 1000)
			fatal("%s line %zu: bad timeout '%s'", TESTS_LIST, lineno, field);
		t->timeout = (unsigned)timeout;
		while ((field = strtok_r(NULL, " ", &save))) {
			if (argc == MAX_ARGS)
				fatal("%s line %zu: more than %d arguments", TESTS_LIST, lineno,
				      MAX_ARGS);
			t->argv[argc++] = field;
		}
		if (argc == 0)
			fatal("%s line %zu: no command", TESTS_LIST, lineno);
		t->argv[argc] = NULL;
	}
	*out = tests;
	return nr;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Prefixes each complete line of test output; `flush` also ends a partial one. */
struct output {
	const char *name;
	char buf[OUTPUT_LINE_MAX];
	size_t len;
};

static void output_lines(struct output *o, int flush)
{
	size_t start = 0, i;

	for (i = 0; i < o->len; i++) {
		if (o->buf[i] != '\n')
			continue;
		console("%s| %.*s\n", o->name, (int)(i - start), o->buf + start);
		start = i + 1;
	}
	if (start == 0 && o->len == sizeof(o->buf))
		flush = 1; /* one line longer than the buffer: cut it */
	if (flush && start < o->len) {
		console("%s| %.*s\n", o->name, (int)(o->len - start), o->buf + start);
		start = o->len;
	}
	memmove(o->buf, o->buf + start, o->len - start);
	o->len -= start;
}

static _Noreturn void exec_test(const struct test *t, int out_fd, const sigset_t *mask)
{
	int null_fd = open("/dev/null", O_RDONLY);

	sigprocmask(SIG_UNBLOCK, mask, NULL);
	if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0) {
		dprintf(out_fd, "setting up stdio for %s: %s\n", t->argv[0], strerror(errno));
		_exit(127);
	}
	execv(t->argv[0], t->argv);
	dprintf(STDERR_FILENO, "exec %s: %s\n", t->argv[0], strerror(errno));
	_exit(127);
}

/*
 * Kills every process but pid 1, so that nothing a test left behind
 * (daemons, stopped tracees) meets the next test or holds its output pipe.
 */
static void kill_all(void)
{
	if (kill(-1, SIGKILL) != 0 && errno != ESRCH)
		fatal("kill(-1, SIGKILL): %s", strerror(errno));
}

static const char *signal_name(int sig)
{
	const char *name = sigabbrev_np(sig);

	return name ? name : "?";
}

/* Returns 1 if the test passed; prints its result line either way. */
static int run_test(const struct test *t, int sig_fd, const sigset_t *mask)
{
	static struct output out;
	int pipe_fds[2], status = 0, exited = 0, eof = 0, timed_out = 0;
	long long deadline = now_ms() + t->timeout * 1000LL;
	pid_t pid;

	out.name = t->name;
	out.len = 0;
	if (pipe2(pipe_fds, O_CLOEXEC) != 0)
		fatal("pipe2 for %s: %s", t->name, strerror(errno));
	pid = fork();
	if (pid < 0)
		fatal("fork for %s: %s", t->name, strerror(errno));
	if (pid == 0)
		exec_test(t, pipe_fds[1], mask);
	close(pipe_fds[1]);

	while (!exited || !eof) {
		struct pollfd fds[2] = {{.fd = pipe_fds[0], .events = POLLIN},
					{.fd = sig_fd, .events = POLLIN}};
		long long left = deadline - now_ms();
		int timeout_ms = timed_out ? -1 : left > 0 ? (int)left : 0;

		if (eof)
			fds[0].fd = -1;
		if (poll(fds, 2, timeout_ms) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll while running %s: %s", t->name, strerror(errno));
		}
		if (fds[0].revents) {
			ssize_t n = read(pipe_fds[0], out.buf + out.len, sizeof(out.buf) - out.len);

			if (n < 0 && errno != EINTR)
				fatal("reading the output of %s: %s", t->name, strerror(errno));
			if (n == 0)
				eof = 1;
			if (n > 0)
				out.len += (size_t)n;
			output_lines(&out, eof);
		}
		if (fds[1].revents) {
			struct signalfd_siginfo si;
			int st;
			pid_t w;

			if (read(sig_fd, &si, sizeof(si)) < 0 && errno != EAGAIN)
				fatal("reading the signalfd: %s", strerror(errno));
			while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
				if (w != pid)
					continue;
				status = st;
				exited = 1;
				kill_all();
			}
		}
		if (!timed_out && !exited && now_ms() >= deadline) {
			timed_out = 1;
			kill_all();
		}
	}
	close(pipe_fds[0]);
	kill_all();
	while (waitpid(-1, NULL, 0) > 0)
		;

	if (timed_out)
		console("MULTIARCH %s FAIL timeout after %u s\n", t->name, t->timeout);
	else if (WIFSIGNALED(status))
		console("MULTIARCH %s FAIL signal %d (SIG%s)\n", t->name, WTERMSIG(status),
			signal_name(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		console("MULTIARCH %s FAIL exit code %d\n", t->name, WEXITSTATUS(status));
	else
		console("MULTIARCH %s PASS\n", t->name);
	return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
	unsigned passed = 0, failed = 0;
	struct test *tests;
	sigset_t mask;
	size_t nr, i;
	int sig_fd;

	mount_fs("proc", "/proc", NULL);
	mount_fs("sysfs", "/sys", NULL);
	mount_fs("devtmpfs", "/dev", NULL);
	mount_fs("tmpfs", "/tmp", "mode=1777");
	setenv("PATH", "/bin", 1);

	/* Child exits wake the poll() in run_test() through this descriptor. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		fatal("blocking SIGCHLD: %s", strerror(errno));
	sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_fd < 0)
		fatal("signalfd: %s", strerror(errno));

	nr = parse_tests(read_file(TESTS_LIST), &tests);
	for (i = 0; i < nr; i++) {
		if (run_test(&tests[i], sig_fd, &mask))
			passed++;
		else
			failed++;
	}
	console("MULTIARCH-DONE %u %u\n", passed, failed);
	power_off();
}
