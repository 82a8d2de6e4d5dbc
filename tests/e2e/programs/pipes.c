/*
 * Pipes with bytes buffered in them, and the flags and owner of their
 * descriptors: a pipe with both ends open; a big pipe (256 KiB) nearly
 * full, its read end non-blocking and a dup of it elsewhere; a pipe whose
 * write end is closed (read gives its bytes, then end of file); a read end
 * that signals SIGUSR2 to the process when data comes (O_ASYNC, F_SETOWN,
 * F_SETSIG); a pipe made stdin, its write end kept (not stdin shared with
 * whoever started the process).  The pipes are made while low descriptors
 * are free, so that their numbers are the ones restore's own pipes would
 * get first.
 */
#define _GNU_SOURCE
#include "e2e.h"

#define BIG (200 * 1024)

static volatile sig_atomic_t sigio_fd = -1;

static void on_sigusr2(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	sigio_fd = si->si_fd;
}

static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + i / 251); }

static void expect(int fd, const char *what, const void *want, size_t len)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)len || memcmp(buf, want, len))
		e2e_fail("%s: read %zd bytes, not the %zu written before the dump", what, n, len);
}

int main(int argc, char **argv)
{
	int small[2], big[2], closed[2], async[2], in[2], big_dup;
	static unsigned char buf[BIG];
	struct sigaction sa;
	size_t i;
	ssize_t n;

	e2e_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigusr2;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGUSR2, &sa, NULL);

	if (pipe(small) || pipe2(big, O_CLOEXEC) || pipe(closed) || pipe(async))
		e2e_fail("pipe: %s", strerror(errno));
	if (write(small[1], "hello pipe", 10) != 10)
		e2e_fail("cannot fill the small pipe");
	if (fcntl(big[1], F_SETPIPE_SZ, 256 * 1024) < 256 * 1024)
		e2e_fail("F_SETPIPE_SZ: %s", strerror(errno));
	for (i = 0; i < BIG; i++)
		buf[i] = pattern(i);
	if (write(big[1], buf, BIG) != BIG)
		e2e_fail("cannot fill the big pipe");
	fcntl(big[0], F_SETFL, O_NONBLOCK);
	big_dup = dup2(big[0], 40);
	if (write(closed[1], "last words", 10) != 10)
		e2e_fail("cannot fill the closed pipe");
	close(closed[1]);
	fcntl(async[0], F_SETOWN, getpid());
	fcntl(async[0], F_SETSIG, SIGUSR2);
	fcntl(async[0], F_SETFL, O_ASYNC | O_NONBLOCK);
	fcntl(async[1], F_SETFL, O_APPEND);
	if (pipe(in) || write(in[1], "to stdin", 8) != 8 || dup2(in[0], 0) != 0 || close(in[0]))
		e2e_fail("cannot make a pipe stdin: %s", strerror(errno));

	e2e_ready(argc, argv);
	e2e_wait();

	expect(small[0], "small pipe", "hello pipe", 10);
	if (write(small[1], "more", 4) != 4)
		e2e_fail("the small pipe's write end does not write");
	expect(small[0], "small pipe", "more", 4);

	if (fcntl(big[1], F_GETPIPE_SZ) != 256 * 1024)
		e2e_fail("the big pipe holds %d bytes, not 256 KiB", fcntl(big[1], F_GETPIPE_SZ));
	if (!(fcntl(big[0], F_GETFL) & O_NONBLOCK) || !(fcntl(big[0], F_GETFD) & FD_CLOEXEC) ||
	    (fcntl(big_dup, F_GETFD) & FD_CLOEXEC) || !(fcntl(big[1], F_GETFD) & FD_CLOEXEC))
		e2e_fail("the big pipe's descriptor flags changed");
	fcntl(big_dup, F_SETFL, 0);
	if (fcntl(big[0], F_GETFL) & O_NONBLOCK)
		e2e_fail("fd %d and its dup %d no longer share their open file", big[0], big_dup);
	fcntl(big_dup, F_SETFL, O_NONBLOCK);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < BIG; i += (size_t)n) {
		n = read(i % 2 ? big_dup : big[0], buf + i, BIG - i);
		if (n <= 0)
			e2e_fail("the big pipe ends after %zu of its %d bytes", i, BIG);
	}
	for (i = 0; i < BIG; i++)
		if (buf[i] != pattern(i))
			e2e_fail("the big pipe's byte %zu differs", i);
	if (read(big[0], buf, 1) != -1 || errno != EAGAIN)
		e2e_fail("the emptied big pipe does not say EAGAIN");

	expect(0, "stdin", "to stdin", 8);
	if (write(in[1], "more", 4) != 4)
		e2e_fail("cannot write to stdin's pipe");
	expect(0, "stdin", "more", 4);

	expect(closed[0], "pipe without writer", "last words", 10);
	if (read(closed[0], buf, 1) != 0)
		e2e_fail("a pipe without a writer does not end");

	if (fcntl(async[0], F_GETOWN) != getpid() || fcntl(async[0], F_GETSIG) != SIGUSR2 ||
	    (fcntl(async[0], F_GETFL) & (O_ASYNC | O_NONBLOCK)) != (O_ASYNC | O_NONBLOCK) ||
	    !(fcntl(async[1], F_GETFL) & O_APPEND))
		e2e_fail("the async pipe's owner %d, signal %d or flags %o changed", fcntl(async[0], F_GETOWN),
			 fcntl(async[0], F_GETSIG), fcntl(async[0], F_GETFL));
	if (write(async[1], "x", 1) != 1)
		e2e_fail("cannot write the async pipe");
	for (i = 0; i < 1000 && sigio_fd < 0; i++)
		usleep(1000);
	if (sigio_fd != async[0])
		e2e_fail("data in the async pipe signalled fd %d, not %d", (int)sigio_fd, async[0]);
	e2e_pass();
}
