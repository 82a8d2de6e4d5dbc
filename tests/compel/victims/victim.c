/*
 * A process for the compel tests to infect.  It sets up the state of a
 * scenario, tells the test it is ready, waits (in the way the scenario
 * says) while the test infects and cures it, then checks that its state is
 * what it left and reports.
 *
 *   victim SCENARIO      with fd 3: commands from the test ("go")
 *                             fd 4: reports to the test ("ready", then
 *                                   "PASS" or "FAIL: why")
 * Built for every arch the host traces: x86-64 and i386; AArch64; ARM, in
 * ARM and in Thumb-2 code.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../test-protocol.h"

enum { CTL = 3, REPORT = 4 };

static __attribute__((format(printf, 1, 2))) void report(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	if (write(REPORT, buf, (size_t)n) != n)
		_exit(3);
}

static __attribute__((format(printf, 1, 2))) int fail(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report("FAIL: %s", buf);
	return 1;
}

/* Waits for the test's "go": the read() the test finds the victim in. */
static int wait_go(void)
{
	char buf[16];
	ssize_t n = read(CTL, buf, sizeof(buf));

	if (n != 2 || memcmp(buf, "go", 2) != 0)
		return fail("read() returned %zd (%s) instead of \"go\"", n, n < 0 ? strerror(errno) : "data");
	return 0;
}

static int scenario_read(void)
{
	report("ready");
	if (wait_go())
		return 1;
	report("PASS");
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int scenario_nanosleep(void)
{
	struct timespec req = {1, 0};
	double start;
	int r;

	report("ready");
	start = now();
	r = nanosleep(&req, NULL);
	if (r != 0)
		return fail("nanosleep() returned %d (%s): not restarted", r, strerror(errno));
	if (now() - start < 0.999)
		return fail("nanosleep() slept %.3f s of 1 s", now() - start);
	/* The test lets half of the second pass before it infects: a nanosleep
	 * restarted with the whole second again ends after 1.5 s. */
	if (now() - start > 1.5)
		return fail("nanosleep() slept %.3f s of 1 s: restarted from the start", now() - start);
	if (wait_go())
		return 1;
	report("PASS");
	return 0;
}

/* Threads that have started running: past glibc's start-up, where their
 * signal mask is all blocked, so that the test sees them as they stay. */
static int threads_started;

static void wait_threads_started(int n)
{
	while (__atomic_load_n(&threads_started, __ATOMIC_SEQ_CST) < n)
		sched_yield();
}

static uint32_t futex_word;

static void *futex_waker(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&threads_started, 1, __ATOMIC_SEQ_CST);
	if (wait_go())
		exit(1);
	__atomic_store_n(&futex_word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return NULL;
}

static int scenario_futex(void)
{
	pthread_t t;
	long r;

	if (pthread_create(&t, NULL, futex_waker, NULL))
		return fail("pthread_create");
	wait_threads_started(1);
	report("ready");
	do
		r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	while (r == -1 && errno == EAGAIN && !futex_word);
	if (r != 0 && !(r == -1 && errno == EAGAIN))
		return fail("futex wait returned %ld (%s)", r, strerror(errno));
	if (futex_word != 1)
		return fail("woken with the word still %u", futex_word);
	pthread_join(t, NULL);
	report("PASS");
	return 0;
}

static volatile sig_atomic_t stop_spinning;

static void on_usr1(int sig)
{
	(void)sig;
	stop_spinning = 1;
}

static int scenario_spin(void)
{
	uint64_t x = 42, y = 42, n = 0, i;

	signal(SIGUSR1, on_usr1);
	report("ready");
	while (!stop_spinning) {
		x = test_mix(x);
		n++;
	}
	for (i = 0; i < n; i++)
		y = test_mix(y);
	if (x != y)
		return fail("after %llu rounds the value is %llx, not %llx", (unsigned long long)n,
			    (unsigned long long)x, (unsigned long long)y);
	if (wait_go())
		return 1;
	report("PASS rounds=%llu", (unsigned long long)n);
	return 0;
}

static volatile sig_atomic_t got_usr1, got_usr2;
static void on_usr1_count(int sig) { (void)sig; got_usr1++; }
static void on_usr2_count(int sig) { (void)sig; got_usr2++; }
static void on_trap(int sig) { (void)sig; }

static int scenario_signals(void)
{
	sigset_t block, cur, pend;
	struct sigaction sa = {0}, old;

	sa.sa_handler = on_usr1_count;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_usr2_count;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_trap;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTRAP, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);          /* pending for this thread */
	kill(getpid(), SIGUSR2); /* pending for the process */
	report("ready");
	if (wait_go())
		return 1;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR1) || !sigismember(&cur, SIGUSR2) || sigismember(&cur, SIGTERM))
		return fail("the signal mask changed");
	sigpending(&pend);
	if (!sigismember(&pend, SIGUSR1) || !sigismember(&pend, SIGUSR2))
		return fail("a pending signal was lost");
	sigaction(SIGTRAP, NULL, &old);
	if (old.sa_handler != on_trap || !(old.sa_flags & SA_RESTART))
		return fail("the SIGTRAP handler changed");
	sigaction(SIGINT, NULL, &old);
	if (old.sa_handler != SIG_IGN)
		return fail("SIGINT is not ignored any more");
	if (got_usr1 || got_usr2)
		return fail("a blocked signal was delivered");
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	if (got_usr1 != 1 || got_usr2 != 1)
		return fail("unblocked signals delivered %d and %d times", got_usr1, got_usr2);
	report("PASS");
	return 0;
}

static int scenario_ignored_trap(void)
{
	struct sigaction old;

	signal(SIGTRAP, SIG_IGN);
	report("ready");
	if (wait_go())
		return 1;
	sigaction(SIGTRAP, NULL, &old);
	if (old.sa_handler != SIG_IGN)
		return fail("SIGTRAP is not ignored any more");
	report("PASS");
	return 0;
}

enum { NR_SPINNERS = 3 };
static volatile int threads_stop;
static uint64_t spin_results[NR_SPINNERS][2];

static void *spinner(void *arg)
{
	uint64_t *res = arg, x = (uint64_t)(uintptr_t)arg, n = 0;

	res[0] = x;
	__atomic_add_fetch(&threads_started, 1, __ATOMIC_SEQ_CST);
	while (!threads_stop) {
		x = test_mix(x);
		n++;
	}
	res[0] ^= x; /* checked against a recount below */
	res[1] = n;
	return NULL;
}

static int scenario_threads(void)
{
	pthread_t t[NR_SPINNERS];
	int i;

	for (i = 0; i < NR_SPINNERS; i++)
		if (pthread_create(&t[i], NULL, spinner, spin_results[i]))
			return fail("pthread_create");
	wait_threads_started(NR_SPINNERS);
	report("ready");
	if (wait_go())
		return 1;
	threads_stop = 1;
	for (i = 0; i < NR_SPINNERS; i++) {
		uint64_t start = (uint64_t)(uintptr_t)spin_results[i], x = start, k;

		pthread_join(t[i], NULL);
		for (k = 0; k < spin_results[i][1]; k++)
			x = test_mix(x);
		if ((start ^ x) != spin_results[i][0])
			return fail("thread %d computed a wrong value", i);
	}
	report("PASS");
	return 0;
}

/* Vector registers hold known values across a read() that the test
 * interrupts; the test scribbles over them while the victim is infected. */
#if defined(__x86_64__) || defined(__i386__)
static int scenario_vector(void)
{
	static const char pattern[32] = "0123456789abcdefghijklmnopqrstuv";
	char out[6][32], buf[16];
	long n;
	int i;

	report("ready");
#if defined(__x86_64__)
	__asm__ volatile("vmovdqu (%[p]), %%ymm2\n\tvpaddb %%ymm2, %%ymm2, %%ymm3\n\t"
			 "vpaddb %%ymm3, %%ymm2, %%ymm4\n\tvpaddb %%ymm4, %%ymm2, %%ymm5\n\t"
			 "vpaddb %%ymm5, %%ymm2, %%ymm6\n\tvpaddb %%ymm6, %%ymm2, %%ymm7\n\t"
			 "syscall\n\t"
			 "vmovdqu %%ymm2, 0(%[o])\n\tvmovdqu %%ymm3, 32(%[o])\n\tvmovdqu %%ymm4, 64(%[o])\n\t"
			 "vmovdqu %%ymm5, 96(%[o])\n\tvmovdqu %%ymm6, 128(%[o])\n\tvmovdqu %%ymm7, 160(%[o])"
			 : "=a"(n)
			 : [p] "r"(pattern), [o] "r"(out), "a"((long)SYS_read), "D"((long)CTL), "S"(buf), "d"(2L)
			 : "rcx", "r11", "memory", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
#else
	__asm__ volatile("vmovdqu (%[p]), %%ymm2\n\tvpaddb %%ymm2, %%ymm2, %%ymm3\n\t"
			 "vpaddb %%ymm3, %%ymm2, %%ymm4\n\tvpaddb %%ymm4, %%ymm2, %%ymm5\n\t"
			 "vpaddb %%ymm5, %%ymm2, %%ymm6\n\tvpaddb %%ymm6, %%ymm2, %%ymm7\n\t"
			 "int $0x80\n\t"
			 "vmovdqu %%ymm2, 0(%[o])\n\tvmovdqu %%ymm3, 32(%[o])\n\tvmovdqu %%ymm4, 64(%[o])\n\t"
			 "vmovdqu %%ymm5, 96(%[o])\n\tvmovdqu %%ymm6, 128(%[o])\n\tvmovdqu %%ymm7, 160(%[o])"
			 : "=a"(n)
			 : [p] "S"(pattern), [o] "D"(out), "a"((long)SYS_read), "b"((long)CTL), "c"(buf), "d"(2L)
			 : "memory", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
#endif
	if (n != 2 || memcmp(buf, "go", 2) != 0)
		return fail("read() returned %ld", n);
	for (i = 0; i < 6; i++) {
		int b;

		for (b = 0; b < 32; b++)
			if (out[i][b] != (char)(pattern[b] * (i + 1)))
				return fail("ymm%d byte %d is 0x%02x, not 0x%02x", i + 2, b, (unsigned char)out[i][b],
					    (unsigned char)(pattern[b] * (i + 1)));
	}
	report("PASS");
	return 0;
}
#else
/* ARM: VFP d8-d15 (ARMv7 hard-float has at least d0-d15), AArch64: NEON
 * v16-v23, loaded from a pattern and stored back after the read(). */
#if defined(__aarch64__)
#define VECTOR_BYTES 128
#define VECTOR_NAME "v16-v23"
#else
#define VECTOR_BYTES 64
#define VECTOR_NAME "d8-d15"
#endif

static int scenario_vector(void)
{
	unsigned char pattern[VECTOR_BYTES], out[VECTOR_BYTES];
	char buf[16];
	int i;

	for (i = 0; i < VECTOR_BYTES; i++)
		pattern[i] = (unsigned char)(i * 7 + 3);
	report("ready");
	{
#if defined(__aarch64__)
		register long x0 __asm__("x0") = CTL;
		register long x1 __asm__("x1") = (long)buf;
		register long x2 __asm__("x2") = 2;
		register long x8 __asm__("x8") = SYS_read;
		unsigned char *p = pattern, *o = out;

		__asm__ volatile("ld1 {v16.16b-v19.16b}, [%[p]], #64\n\tld1 {v20.16b-v23.16b}, [%[p]]\n\t"
				 "svc #0\n\t"
				 "st1 {v16.16b-v19.16b}, [%[o]], #64\n\tst1 {v20.16b-v23.16b}, [%[o]]"
				 : "+r"(x0), [p] "+r"(p), [o] "+r"(o)
				 : "r"(x1), "r"(x2), "r"(x8)
				 : "memory", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23");
		if (x0 != 2 || memcmp(buf, "go", 2) != 0)
			return fail("read() returned %ld", x0);
#else
		register long r0 __asm__("r0") = CTL;
		register long r1 __asm__("r1") = (long)buf;
		register long r2 __asm__("r2") = 2;
		register long r7 __asm__("r7") = SYS_read;

		__asm__ volatile("vldmia %[p], {d8-d15}\n\tsvc #0\n\tvstmia %[o], {d8-d15}"
				 : "+r"(r0)
				 : [p] "r"(pattern), [o] "r"(out), "r"(r1), "r"(r2), "r"(r7)
				 : "memory", "d8", "d9", "d10", "d11", "d12", "d13", "d14", "d15");
		if (r0 != 2 || memcmp(buf, "go", 2) != 0)
			return fail("read() returned %ld", r0);
#endif
	}
	for (i = 0; i < VECTOR_BYTES; i++)
		if (out[i] != pattern[i])
			return fail(VECTOR_NAME " byte %d is 0x%02x, not 0x%02x", i, out[i], pattern[i]);
	report("PASS");
	return 0;
}
#endif

/* No vDSO: compel must run its syscalls with an instruction of the
 * victim's own code.  Nothing here may need the vDSO after it is gone. */
static int scenario_no_vdso(void)
{
	unsigned long start, end;
	char line[256];
	FILE *maps = fopen("/proc/self/maps", "re");
	int found = 0;

	while (maps && !found && fgets(line, sizeof(line), maps))
		found = strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &start, &end) == 2;
	if (maps)
		fclose(maps);
	if (!found)
		return fail("no [vdso] in /proc/self/maps");
	if (munmap((void *)start, end - start))
		return fail("munmap of the vDSO: %s", strerror(errno));
	report("ready");
	if (wait_go())
		return 1;
	report("PASS");
	return 0;
}

/* A seccomp filter that fails the syscalls compel uses to infect. */
static int scenario_seccomp(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0), /* seccomp_data.nr */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_fprog prog = {sizeof(filter) / sizeof(filter[0]), filter};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return fail("cannot install the seccomp filter: %s", strerror(errno));
	report("ready");
	if (wait_go())
		return 1;
	if (syscall(SYS_memfd_create, "x", 0) != -1 || errno != EPERM)
		return fail("the seccomp filter is gone");
	report("PASS");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(void);
	} scenarios[] = {
		{"read", scenario_read},       {"nanosleep", scenario_nanosleep},
		{"futex", scenario_futex},     {"spin", scenario_spin},
		{"signals", scenario_signals}, {"ignored-trap", scenario_ignored_trap},
		{"threads", scenario_threads}, {"vector", scenario_vector},
		{"seccomp", scenario_seccomp}, {"no-vdso", scenario_no_vdso},
	};
	size_t i;

	if (argc != 2)
		return fail("usage: victim SCENARIO");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (!strcmp(argv[1], scenarios[i].name))
			return scenarios[i].run();
	return fail("unknown scenario %s", argv[1]);
}
