/*
 * A process dumped while it waits in sigsuspend() with a temporary mask,
 * and a thread dumped while it waits in ppoll() with one: after the
 * restore the wait goes on, and when a signal ends it each has its own
 * mask again (the kernel keeps it aside meanwhile, which criu must save,
 * not the temporary one).
 */
#define _GNU_SOURCE /* ppoll */
#include <poll.h>
#include <pthread.h>

#include "e2e.h"

static volatile sig_atomic_t usr2;

static void on_usr2(int sig)
{
	(void)sig;
	usr2 = 1;
}

/* A mask of SIGUSR1 and sig (0: none). */
static sigset_t mask_of(int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	if (sig)
		sigaddset(&s, sig);
	return s;
}

static const char *thread_verdict = "did not end";

static void *poller(void *arg)
{
	sigset_t own = mask_of(SIGUSR2), during = mask_of(0), now;
	struct timespec forever = {1000000, 0};

	(void)arg;
	pthread_sigmask(SIG_SETMASK, &own, NULL);
	while (!usr2)
		ppoll(NULL, 0, &forever, &during); /* SIGUSR2 allowed while it waits */
	pthread_sigmask(SIG_SETMASK, NULL, &now);
	thread_verdict = sigismember(&now, SIGUSR2) && sigismember(&now, SIGUSR1) ? NULL
		: "the thread's mask after ppoll() is not its own (SIGUSR1 and SIGUSR2)";
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t own = mask_of(SIGTERM), during = mask_of(0), now;
	pthread_t t;

	e2e_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sigprocmask(SIG_SETMASK, &own, NULL); /* SIGUSR1 and SIGTERM */
	sigaddset(&own, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &own, NULL); /* the thread starts with SIGUSR2 blocked too */
	if (pthread_create(&t, NULL, poller, NULL))
		e2e_fail("pthread_create");
	sigdelset(&own, SIGUSR2);
	sigprocmask(SIG_SETMASK, &own, NULL);
	e2e_ready(argc, argv);
	while (!e2e_stop)
		sigsuspend(&during); /* SIGTERM allowed while it waits */
	sigprocmask(SIG_SETMASK, NULL, &now);
	if (!sigismember(&now, SIGTERM) || !sigismember(&now, SIGUSR1))
		e2e_fail("the mask after sigsuspend() is not the process's own (SIGUSR1 and SIGTERM)");
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
	if (thread_verdict)
		e2e_fail("%s", thread_verdict);
	e2e_pass();
}
