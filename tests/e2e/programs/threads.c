#define _GNU_SOURCE
/*
 * Threads keep their own state: tid, name, signal mask, vector registers,
 * TLS, rseq, signal stack, private pending signals; a thread blocked in
 * futex wait, one in nanosleep; the process's queued signals come back once.  After the
 * restore every thread checks itself, and the main thread joins them all.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>

#include "e2e.h"

#define NR_SPINNERS 4

enum { SPIN, FUTEX = NR_SPINNERS, SLEEP, PENDING, NR_THREADS };

struct worker {
	int index;
	pid_t tid;
	volatile uint64_t count;
	char error[256];
};

static struct worker workers[NR_THREADS];
static volatile int done, started;
static uint32_t futex_word;
static __thread int mine = -1;

static void nothing(int sig) { (void)sig; }

/* What went wrong in w, for the main thread to report; NULL, for run(). */
static __attribute__((format(printf, 2, 3))) void *wfail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->error, sizeof(w->error), fmt, ap);
	va_end(ap);
	return NULL;
}

/* Each thread has its own mask: SIGTERM goes to the main thread. */
static void thread_mask(int index, sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGRTMIN + 1);
	sigaddset(set, SIGRTMIN + 2 + index);
	if (index == PENDING)
		sigaddset(set, SIGUSR1);
}

/* The kernel must still update this thread's rseq area. */
static int rseq_alive(void)
{
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	int i;

	if (__rseq_size == 0)
		return 0;
	rs->cpu_id = (uint32_t)-7;
	for (i = 0; i < 1000 && rs->cpu_id == (uint32_t)-7; i++) {
		pthread_kill(pthread_self(), SIGURG);
		sched_yield();
	}
	return rs->cpu_id != (uint32_t)-7;
}

static void spin(struct worker *w)
{
	char pattern[32], out[4][32];
	int i, b;

	for (b = 0; b < 32; b++)
		pattern[b] = (char)(b * 3 + w->index * 17 + 1);
	/* Distinct values in ymm12-15 of each thread, kept in registers while
	 * it counts, until done. */
	__asm__ volatile("vmovdqu (%[p]), %%ymm12\n\t"
			 "vpaddb %%ymm12, %%ymm12, %%ymm13\n\t"
			 "vpaddb %%ymm13, %%ymm12, %%ymm14\n\t"
			 "vpaddb %%ymm14, %%ymm12, %%ymm15\n\t"
			 "1: incq %[count]\n\t"
			 "cmpl $0, %[done]\n\t"
			 "je 1b\n\t"
			 "vmovdqu %%ymm12, 0(%[o])\n\t"
			 "vmovdqu %%ymm13, 32(%[o])\n\t"
			 "vmovdqu %%ymm14, 64(%[o])\n\t"
			 "vmovdqu %%ymm15, 96(%[o])"
			 : [count] "+m"(w->count)
			 : [p] "r"(pattern), [o] "r"(out), [done] "m"(done)
			 : "memory", "xmm12", "xmm13", "xmm14", "xmm15");
	for (i = 0; i < 4; i++)
		for (b = 0; b < 32; b++)
			if (out[i][b] != (char)(pattern[b] * (i + 1))) {
				wfail(w, "ymm%d byte %d is 0x%02x", 12 + i, b, (unsigned char)out[i][b]);
				return;
			}
}

static void wait_futex(struct worker *w)
{
	while (__atomic_load_n(&futex_word, __ATOMIC_SEQ_CST) == 0) {
		w->count++;
		if (syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0) < 0 && errno != EAGAIN &&
		    errno != EINTR) {
			wfail(w, "futex wait: %s", strerror(errno));
			return;
		}
	}
}

/* Sleeps, with a signal stack of its own (only it can tell the kernel's). */
static void sleep_long(struct worker *w)
{
	static char altstack[64 << 10];
	struct timespec t = {0, 20 * 1000 * 1000};
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)}, cur, old;

	/* The one it had goes back at the end: a sanitizer's runtime frees
	 * its own when the thread ends. */
	if (sigaltstack(&ss, &old)) {
		wfail(w, "sigaltstack: %s", strerror(errno));
		return;
	}

	while (!done) {
		w->count++;
		/* A sleep cut short by the dump ends early (see docs/criu.md). */
		if (nanosleep(&t, NULL) != 0 && errno != EINTR) {
			wfail(w, "nanosleep: %s", strerror(errno));
			break;
		}
	}
	if (!w->error[0] && (sigaltstack(NULL, &cur) || cur.ss_sp != altstack || cur.ss_size != sizeof(altstack) ||
			     cur.ss_flags))
		wfail(w, "the signal stack is %p (%zu bytes, flags %d)", cur.ss_sp, cur.ss_size, cur.ss_flags);
	sigaltstack(&old, NULL);
}

/* SIGUSR1 queued for this thread alone, blocked: still its own after,
 * with its siginfo. */
static void queue_own(void)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_pid = getpid();
	si.si_uid = getuid();
	si.si_value.sival_int = 4242;
	syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR1, &si);
}

static void keep_pending(struct worker *w)
{
	struct timespec zero = {0, 0};
	sigset_t usr1;
	siginfo_t si;

	while (!done) {
		w->count++;
		usleep(10000);
	}
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigtimedwait(&usr1, &si, &zero) != SIGUSR1)
		wfail(w, "the thread's pending SIGUSR1 is gone: %s", strerror(errno));
	else if (si.si_code != SI_QUEUE || si.si_pid != getpid() || si.si_value.sival_int != 4242)
		wfail(w, "the pending SIGUSR1 has code %d, pid %d, value %d", si.si_code, si.si_pid,
		      si.si_value.sival_int);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	sigset_t want, cur;
	char name[16], expect[16];

	thread_mask(w->index, &want);
	pthread_sigmask(SIG_SETMASK, &want, NULL);
	snprintf(expect, sizeof(expect), "worker-%d", w->index);
	pthread_setname_np(pthread_self(), expect);
	w->tid = gettid();
	mine = w->index * 7;
	if (w->index == PENDING)
		queue_own();
	__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST);

	if (w->index < NR_SPINNERS)
		spin(w);
	else if (w->index == FUTEX)
		wait_futex(w);
	else if (w->index == SLEEP)
		sleep_long(w);
	else
		keep_pending(w);
	if (w->error[0])
		return NULL;

	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	pthread_getname_np(pthread_self(), name, sizeof(name));
	if (gettid() != w->tid)
		return wfail(w, "tid %d, was %d", gettid(), w->tid);
	if (strcmp(name, expect))
		return wfail(w, "name '%s'", name);
	if (memcmp(&cur, &want, sizeof(cur)))
		return wfail(w, "the signal mask changed");
	if (mine != w->index * 7)
		return wfail(w, "the thread-local variable is %d", mine);
	if (!rseq_alive())
		return wfail(w, "the kernel no longer updates the rseq area");
	return w;
}

static int progressed(const uint64_t *before)
{
	int i;

	for (i = 0; i < NR_THREADS; i++)
		if (i != FUTEX && workers[i].count == before[i])
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	struct timespec zero = {0, 0}, tick = {0, 10 * 1000 * 1000};
	pthread_t threads[NR_THREADS];
	uint64_t before[NR_THREADS];
	struct sigaction sa;
	sigset_t rt, pend;
	siginfo_t si;
	void *ret;
	int i;

	e2e_init(argc, argv);
	if (!__builtin_cpu_supports("avx2"))
		e2e_fail("no AVX2 on this CPU");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nothing;
	sigaction(SIGURG, &sa, NULL);
	/* The process's queue: two of one real-time signal, blocked everywhere. */
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN + 1);
	pthread_sigmask(SIG_BLOCK, &rt, NULL);
	for (i = 0; i < NR_THREADS; i++) {
		workers[i].index = i;
		if (pthread_create(&threads[i], NULL, run, &workers[i]))
			e2e_fail("pthread_create");
	}
	while (__atomic_load_n(&started, __ATOMIC_SEQ_CST) != NR_THREADS)
		sched_yield();
	sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 11});
	sigqueue(getpid(), SIGRTMIN + 1, (union sigval){.sival_int = 22});
	mine = 1000;
	e2e_ready(argc, argv);
	e2e_wait();

	/* Every thread runs again. */
	for (i = 0; i < NR_THREADS; i++)
		before[i] = workers[i].count;
	for (i = 0; i < 500 && !progressed(before); i++)
		nanosleep(&tick, NULL);
	if (!progressed(before))
		e2e_fail("a thread does not run after the restore");
	sigpending(&pend);
	if (sigismember(&pend, SIGUSR1))
		e2e_fail("the worker's pending SIGUSR1 is pending for the main thread too");
	for (i = 0; i < 2; i++)
		if (sigtimedwait(&rt, &si, &zero) != SIGRTMIN + 1 || si.si_value.sival_int != 11 * (i + 1))
			e2e_fail("queued signal %d of the process: %s, value %d", i, strerror(errno), si.si_value.sival_int);
	if (sigtimedwait(&rt, &si, &zero) >= 0)
		e2e_fail("a queued signal of the process came back twice");

	done = 1;
	__atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	for (i = 0; i < NR_THREADS; i++) {
		if (pthread_join(threads[i], &ret))
			e2e_fail("pthread_join of worker %d", i);
		if (ret != &workers[i])
			e2e_fail("worker %d: %s", i, workers[i].error);
	}
	if (mine != 1000)
		e2e_fail("the main thread's thread-local variable is %d", mine);
	e2e_pass();
}
