/*
 * Zombies: four children that have ended, with exit codes 3, 42 and 7 and
 * killed by SIGUSR1, not reaped before the dump; the one that exits with
 * 42 led a process group, in which child W still is; the one that exits
 * with 7 is alone in the group of L, which has ended and been reaped.
 * After the restore the root reaps them and checks how each ended.
 */
#include "e2e.h"

static pid_t zombie(void (*end)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		e2e_wait_ending();
		end();
	}
	return pid;
}

static void exit3(void) { _exit(3); }
static void exit42(void) { _exit(42); }
static void exit7(void) { _exit(7); }
static void killed(void)
{
	signal(SIGUSR1, SIG_DFL);
	raise(SIGUSR1);
	_exit(1);
}

/* Ends the child and waits until it is a zombie, leaving it unreaped. */
static void end_unreaped(pid_t pid)
{
	siginfo_t si;

	kill(pid, SIGTERM);
	if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		e2e_fail("waitid(%d): %s", (int)pid, strerror(errno));
}

int main(int argc, char **argv)
{
	pid_t z[4], w, l;
	int want[4], status, i;

	e2e_init(argc, argv);
	e2e_tree_init();
	z[0] = zombie(exit3), want[0] = 3 << 8;
	z[1] = zombie(exit42), want[1] = 42 << 8;
	z[2] = zombie(killed), want[2] = SIGUSR1;
	setpgid(z[1], z[1]);
	w = fork();
	if (w == 0) {
		e2e_wait();
		_exit(getpgid(0) == z[1] ? 0 : 1);
	}
	if (setpgid(w, z[1]))
		e2e_fail("setpgid: %s", strerror(errno));
	l = zombie(exit3);
	setpgid(l, l);
	z[3] = zombie(exit7), want[3] = 7 << 8;
	if (setpgid(z[3], l))
		e2e_fail("setpgid: %s", strerror(errno));
	kill(l, SIGTERM);
	waitpid(l, NULL, 0);
	for (i = 0; i < 4; i++)
		end_unreaped(z[i]);
	e2e_ready(argc, argv);

	e2e_wait();
	for (i = 0; i < 4; i++) {
		if (waitpid(z[i], &status, WNOHANG) != z[i])
			e2e_fail("zombie %d is not there to reap: %s", (int)z[i], strerror(errno));
		if (status != want[i])
			e2e_fail("zombie %d ended with status 0x%x, not 0x%x", (int)z[i], status, want[i]);
	}
	if ((i = e2e_verdict_of(w)))
		e2e_fail("W (pid %d), in the zombie's group, says %d", (int)w, i);
	e2e_pass();
}
