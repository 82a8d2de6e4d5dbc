/*
 * A signalfd of SIGUSR1 and SIGRTMIN+2 (non-blocking), and a blocked
 * SIGUSR1 pending for it; the mask must come back, and the signal be read
 * through it.
 */
#include <sys/signalfd.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct signalfd_siginfo si;
	sigset_t mask;
	int fd;

	e2e_init(argc, argv);
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGRTMIN + 2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	fd = signalfd(-1, &mask, SFD_NONBLOCK);
	if (fd < 0)
		e2e_fail("signalfd: %s", strerror(errno));
	kill(getpid(), SIGUSR1);

	e2e_ready(argc, argv);
	e2e_wait();

	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK))
		e2e_fail("the signalfd is no longer non-blocking");
	if (read(fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		e2e_fail("the pending SIGUSR1 does not come through the signalfd");
	if (read(fd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		e2e_fail("the signalfd gives more signals than were sent");
	sigqueue(getpid(), SIGRTMIN + 2, (union sigval){.sival_int = 42});
	if (read(fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != (unsigned)SIGRTMIN + 2 || si.ssi_int != 42)
		e2e_fail("SIGRTMIN+2 does not come through the signalfd");
	/* Blocked, pending, but not the signalfd's. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	kill(getpid(), SIGUSR2);
	if (read(fd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		e2e_fail("the signalfd reads SIGUSR2, which it was not made for");
	e2e_pass();
}
