/*
 * Children that come and go: the process forks without pause, each child
 * computes a little and exits with a status of its own, and the parent
 * reaps each and checks that status, also while criu freezes the tree.
 * Children caught by the dump, running or ended but not reaped, are restored
 * as such: after the restore the parent reaps them and checks them too.
 */
#include "e2e.h"

static int status_of(unsigned n) { return (int)(n * 7 + 3) & 0x7f; }

static void child(unsigned n)
{
	volatile unsigned sum = 0;
	unsigned i;

	for (i = 0; i < 20000 * (n % 50); i++)
		sum += i;
	_exit(status_of(n));
}

int main(int argc, char **argv)
{
	unsigned n, reaped = 0;
	int status, told = 0;
	pid_t pid, r;

	e2e_init(argc, argv);
	for (n = 0; !e2e_stop; n++) {
		pid = fork();
		if (pid < 0)
			e2e_fail("fork: %s", strerror(errno));
		if (pid == 0)
			child(n);
		/* A dump, a restore or SIGTERM may interrupt the wait. */
		while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
			;
		if (r != pid)
			e2e_fail("waitpid(%d): %s", (int)pid, strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != status_of(n))
			e2e_fail("child %u (pid %d) ended with status 0x%x, not exit %d", n, (int)pid, status, status_of(n));
		reaped++;
		if (!told && reaped == 100) {
			e2e_ready(argc, argv);
			told = 1;
		}
	}
	if (reaped < 100)
		e2e_fail("only %u children", reaped);
	e2e_pass();
}
