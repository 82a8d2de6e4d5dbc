/* A counter loop: the simplest process, counting in a register and in memory. */
#include "e2e.h"

int main(int argc, char **argv)
{
	volatile unsigned long counter = 0;
	unsigned long local = 0;

	e2e_init(argc, argv);
	e2e_ready(argc, argv);
	while (!e2e_stop) {
		counter++;
		local++;
	}
	if (counter != local)
		e2e_fail("the counters disagree: %lu in memory, %lu in a register", counter, local);
	e2e_pass();
}
