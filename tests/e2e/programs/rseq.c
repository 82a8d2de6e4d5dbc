#define _GNU_SOURCE
/* glibc's rseq area is registered again on restore: the kernel keeps writing to it. */
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/rseq.h>

#include "e2e.h"

static void nothing(int sig) { (void)sig; }

/* Gives the kernel reasons to write the rseq area: a signal delivered, a
 * move to another CPU (a yield alone may switch nothing on an idle CPU). */
static void nudge(const cpu_set_t *allowed)
{
	int cpu = sched_getcpu(), next;
	cpu_set_t one;

	raise(SIGUSR1);
	for (next = cpu + 1; next != cpu; next = (next + 1) % CPU_SETSIZE)
		if (CPU_ISSET(next, allowed))
			break;
	CPU_ZERO(&one);
	CPU_SET(next, &one);
	sched_setaffinity(0, sizeof(one), &one);
	sched_yield();
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	cpu_set_t allowed;
	struct rseq *rs;
	int i;

	e2e_init(argc, argv);
	if (__rseq_size == 0)
		e2e_fail("glibc did not register rseq");
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nothing;
	sigaction(SIGUSR1, &sa, NULL);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		e2e_fail("sched_getaffinity: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	/* A value the kernel would never write: it must overwrite it soon. */
	rs->cpu_id = (uint32_t)-7;
	for (i = 0; i < 1000 && rs->cpu_id == (uint32_t)-7; i++)
		nudge(&allowed);
	if (rs->cpu_id == (uint32_t)-7)
		e2e_fail("the kernel no longer updates the rseq area");
	if ((int)rs->cpu_id != sched_getcpu())
		e2e_fail("rseq says cpu %u, sched_getcpu() %d", rs->cpu_id, sched_getcpu());
	e2e_pass();
}
