/*
 * eventfds: a counter beyond 32 bits; a non-blocking semaphore; one at 0
 * that would block.
 */
#include <stdint.h>
#include <sys/eventfd.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	uint64_t v = 0x123456789aull;
	int counter, sem, zero;

	e2e_init(argc, argv);
	counter = eventfd(0, EFD_CLOEXEC);
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	zero = eventfd(0, 0);
	if (counter < 0 || sem < 0 || zero < 0 || write(counter, &v, sizeof(v)) != sizeof(v))
		e2e_fail("cannot set up the eventfds: %s", strerror(errno));

	e2e_ready(argc, argv);
	e2e_wait();

	if (!(fcntl(counter, F_GETFD) & FD_CLOEXEC) || !(fcntl(sem, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(zero, F_GETFL) & O_NONBLOCK))
		e2e_fail("the eventfds' flags changed");
	v = 0;
	if (read(counter, &v, sizeof(v)) != sizeof(v) || v != 0x123456789aull)
		e2e_fail("the counter reads %llx", (unsigned long long)v);
	for (int i = 0; i < 3; i++)
		if (read(sem, &v, sizeof(v)) != sizeof(v) || v != 1)
			e2e_fail("semaphore read %d gave %llu", i, (unsigned long long)v);
	if (read(sem, &v, sizeof(v)) != -1 || errno != EAGAIN)
		e2e_fail("the semaphore gives more than its 3");
	v = 5;
	if (write(zero, &v, sizeof(v)) != sizeof(v) || read(zero, &v, sizeof(v)) != sizeof(v) || v != 5)
		e2e_fail("the zero eventfd does not count");
	e2e_pass();
}
