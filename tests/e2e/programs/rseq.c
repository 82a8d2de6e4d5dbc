#define _GNU_SOURCE
/* glibc's rseq area is registered again on restore: the kernel keeps writing to it. */
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/rseq.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct rseq *rs;
	int i;

	e2e_init(argc, argv);
	if (__rseq_size == 0)
		e2e_fail("glibc did not register rseq");
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	e2e_ready(argc, argv);
	e2e_wait();
	/* A value the kernel would never write: it must overwrite it soon. */
	rs->cpu_id = (uint32_t)-7;
	for (i = 0; i < 1000 && rs->cpu_id == (uint32_t)-7; i++)
		sched_yield();
	if (rs->cpu_id == (uint32_t)-7)
		e2e_fail("the kernel no longer updates the rseq area");
	if ((int)rs->cpu_id != sched_getcpu())
		e2e_fail("rseq says cpu %u, sched_getcpu() %d", rs->cpu_id, sched_getcpu());
	e2e_pass();
}
