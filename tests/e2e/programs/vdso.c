/*
 * Time through the vDSO, without pause: the vDSO and its data pages must
 * be where the process had them after a restore, whatever address the
 * restoring criu had them at.  Each vDSO reading is bracketed by raw
 * system calls, so a vDSO reading wrong or stale data is caught.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "e2e.h"

static long long ns(const struct timespec *t) { return t->tv_sec * 1000000000LL + t->tv_nsec; }

static void raw_now(clockid_t clock, struct timespec *t)
{
	if (syscall(SYS_clock_gettime, clock, t) != 0)
		e2e_fail("clock_gettime(%d) failed: %s", (int)clock, strerror(errno));
}

int main(int argc, char **argv)
{
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	unsigned long rounds = 0;

	e2e_init(argc, argv);
	if (!vdso)
		e2e_fail("no vDSO (AT_SYSINFO_EHDR is 0)");
	e2e_ready(argc, argv);
	while (!e2e_stop) {
		static const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME};
		for (unsigned i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
			struct timespec before, via_vdso, after;
			raw_now(clocks[i], &before);
			clock_gettime(clocks[i], &via_vdso);
			raw_now(clocks[i], &after);
			if (ns(&via_vdso) < ns(&before) || ns(&via_vdso) > ns(&after))
				e2e_fail("clock %d through the vDSO read %lld, outside [%lld, %lld] after %lu rounds",
					 (int)clocks[i], ns(&via_vdso), ns(&before), ns(&after), rounds);
		}
		struct timeval tv;
		time_t raw = (time_t)syscall(SYS_time, NULL);
		gettimeofday(&tv, NULL);
		if (tv.tv_sec < raw || time(NULL) < raw)
			e2e_fail("gettimeofday/time went back: %ld, %ld before %ld", (long)tv.tv_sec, (long)time(NULL),
				 (long)raw);
		unsigned cpu;
		if (getcpu(&cpu, NULL) != 0 || cpu >= 4096)
			e2e_fail("getcpu failed or says cpu %u", cpu);
		rounds++;
	}
	if (getauxval(AT_SYSINFO_EHDR) != vdso)
		e2e_fail("AT_SYSINFO_EHDR moved from 0x%lx to 0x%lx", vdso, getauxval(AT_SYSINFO_EHDR));
	e2e_pass();
}
