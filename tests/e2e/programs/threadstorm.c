/*
 * Threads come and go all the time, also while criu freezes the process:
 * two spawners create and join short-lived threads in a loop.  The dump
 * must catch every thread that exists when it is frozen (and none that has
 * gone), and the spawners go on after the restore.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "e2e.h"

#define NR_SPAWNERS 2

static volatile int done;
static volatile uint64_t joined[NR_SPAWNERS];
static char error[256];

static void *child(void *arg)
{
	return (void *)((uintptr_t)arg * 2);
}

static void *spawner(void *arg)
{
	uintptr_t n = (uintptr_t)arg, i;
	pthread_t t;
	void *ret;

	for (i = 0; !done; i++) {
		if (pthread_create(&t, NULL, child, (void *)i) || pthread_join(t, &ret)) {
			snprintf(error, sizeof(error), "spawner %lu: create or join failed", (unsigned long)n);
			return NULL;
		}
		if (ret != (void *)(i * 2)) {
			snprintf(error, sizeof(error), "spawner %lu: child %lu returned %p", (unsigned long)n,
				 (unsigned long)i, ret);
			return NULL;
		}
		joined[n]++;
	}
	return arg;
}

int main(int argc, char **argv)
{
	struct timespec tick = {0, 10 * 1000 * 1000};
	pthread_t spawners[NR_SPAWNERS];
	uint64_t before[NR_SPAWNERS];
	sigset_t term;
	void *ret;
	uintptr_t i;
	int tries;

	e2e_init(argc, argv);
	/* SIGTERM is for the main thread, which waits for it in pause(). */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	for (i = 0; i < NR_SPAWNERS; i++)
		if (pthread_create(&spawners[i], NULL, spawner, (void *)i))
			e2e_fail("pthread_create");
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	while (!joined[0] || !joined[NR_SPAWNERS - 1])
		sched_yield();
	e2e_ready(argc, argv);
	e2e_wait();

	for (i = 0; i < NR_SPAWNERS; i++)
		before[i] = joined[i];
	for (tries = 0; tries < 500 && (joined[0] == before[0] || joined[1] == before[1]) && !error[0]; tries++)
		nanosleep(&tick, NULL);
	done = 1;
	for (i = 0; i < NR_SPAWNERS; i++)
		if (pthread_join(spawners[i], &ret) || (ret != (void *)i && !error[0]))
			e2e_fail("spawner %lu did not end well", (unsigned long)i);
	if (error[0])
		e2e_fail("%s", error);
	for (i = 0; i < NR_SPAWNERS; i++)
		if (joined[i] == before[i])
			e2e_fail("spawner %lu made no thread after the restore", (unsigned long)i);
	e2e_pass();
}
