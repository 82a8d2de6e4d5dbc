/* Signal handlers with their flags, blocked and pending signals, ignored ones. */
#include "e2e.h"

static volatile sig_atomic_t usr1, usr2;
static void on_usr1(int s) { (void)s; usr1++; }
static void on_usr2(int s) { (void)s; usr2++; }

int main(int argc, char **argv)
{
	struct sigaction sa, old;
	sigset_t block, pend, cur;

	e2e_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2;
	sa.sa_flags = 0;
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);          /* pending for the thread */
	kill(getpid(), SIGUSR2); /* pending for the process */
	e2e_ready(argc, argv);
	e2e_wait();
	sigaction(SIGUSR1, NULL, &old);
	if (old.sa_handler != on_usr1 || !(old.sa_flags & SA_RESTART) || !(old.sa_flags & SA_NODEFER) ||
	    !sigismember(&old.sa_mask, SIGHUP))
		e2e_fail("the SIGUSR1 action changed");
	sigaction(SIGINT, NULL, &old);
	if (old.sa_handler != SIG_IGN)
		e2e_fail("SIGINT is no longer ignored");
	sigprocmask(SIG_BLOCK, NULL, &cur);
	sigpending(&pend);
	if (!sigismember(&cur, SIGUSR1) || !sigismember(&cur, SIGUSR2))
		e2e_fail("the signal mask changed");
	if (!sigismember(&pend, SIGUSR1) || !sigismember(&pend, SIGUSR2))
		e2e_fail("a pending signal was lost");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	if (usr1 != 1 || usr2 != 1)
		e2e_fail("pending signals were delivered %d and %d times", usr1, usr2);
	e2e_pass();
}
