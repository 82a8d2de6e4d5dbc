#define _GNU_SOURCE
/*
 * What glibc's threads rely on from the kernel survives a restore:
 * pthread_join (the kernel clears the tid at clear_child_tid when a thread
 * ends), thread-local variables (fs base), thread-specific data, a
 * condition variable, and a robust mutex whose owner ends (robust list).
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "e2e.h"

#define NR_WAITERS 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t robust;
static pthread_key_t key;
static int go, waiting, holding;
static __thread uint64_t tls_value;
static __thread char tls_buf[64];

static void *waiter(void *arg)
{
	uintptr_t n = (uintptr_t)arg;
	char expect[sizeof(tls_buf)];

	tls_value = 0x1000 + n;
	snprintf(expect, sizeof(expect), "waiter %lu", (unsigned long)n);
	strcpy(tls_buf, expect);
	pthread_setspecific(key, (void *)(n * 3 + 1));
	pthread_mutex_lock(&lock);
	waiting++;
	pthread_cond_broadcast(&cond);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	if (tls_value != 0x1000 + n)
		return (void *)"a thread-local variable changed";
	if (strcmp(tls_buf, expect) || (uintptr_t)pthread_getspecific(key) != n * 3 + 1)
		return (void *)"thread-specific data changed";
	return (void *)(n + 100);
}

/* Takes the robust mutex and ends holding it, once told to. */
static void *owner(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&robust);
	pthread_mutex_lock(&lock);
	holding = 1;
	pthread_cond_broadcast(&cond);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Ended before the dump: joined after the restore. */
static void *early(void *arg) { return arg; }

static int nr_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	pthread_t waiters[NR_WAITERS], own, done_early;
	pthread_mutexattr_t ma;
	sigset_t term;
	void *ret;
	uintptr_t i;
	int r;

	e2e_init(argc, argv);
	pthread_key_create(&key, NULL);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &ma);
	tls_value = 7;
	/* SIGTERM is for the main thread, which waits for it in pause(). */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);
	if (pthread_create(&done_early, NULL, early, (void *)"early"))
		e2e_fail("pthread_create");
	for (i = 0; i < NR_WAITERS; i++)
		if (pthread_create(&waiters[i], NULL, waiter, (void *)i))
			e2e_fail("pthread_create");
	if (pthread_create(&own, NULL, owner, NULL))
		e2e_fail("pthread_create");
	pthread_sigmask(SIG_UNBLOCK, &term, NULL);
	pthread_mutex_lock(&lock);
	while (waiting != NR_WAITERS || !holding)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	/* The early thread is gone from the kernel too, and whatever its
	 * runtime unmaps as it ends is unmapped: the runner compares maps. */
	while (nr_threads() != NR_WAITERS + 2)
		sched_yield();
	e2e_ready(argc, argv);
	e2e_wait();

	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < NR_WAITERS; i++) {
		if ((r = pthread_join(waiters[i], &ret)))
			e2e_fail("pthread_join of waiter %lu: %s", (unsigned long)i, strerror(r));
		if (ret != (void *)(i + 100))
			e2e_fail("waiter %lu: %s", (unsigned long)i, (const char *)ret);
	}
	if ((r = pthread_join(own, NULL)))
		e2e_fail("pthread_join of the owner: %s", strerror(r));
	if ((r = pthread_mutex_lock(&robust)) != EOWNERDEAD)
		e2e_fail("locking the robust mutex whose owner ended: %s, not EOWNERDEAD", strerror(r));
	if ((r = pthread_join(done_early, &ret)) || strcmp(ret, "early"))
		e2e_fail("pthread_join of the thread that ended before the dump: %s", strerror(r));
	if (tls_value != 7)
		e2e_fail("the main thread's thread-local variable is %llu", (unsigned long long)tls_value);
	e2e_pass();
}
