/*
 * An epoll a parent and its child share over fork: not dumpable yet (its
 * targets are descriptors of one process), so the dump must fail half way
 * and leave both processes be.
 */
#include <sys/epoll.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	int ep, p[2];
	pid_t child;

	e2e_init(argc, argv);
	ep = epoll_create1(0);
	if (ep < 0 || pipe(p))
		e2e_fail("cannot set up: %s", strerror(errno));
	child = fork();
	if (child == 0) {
		close(p[0]);
		/* Its descriptors are as the test will see them: say so. */
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		e2e_wait();
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &(char){0}, 1) != 1)
		e2e_fail("the child did not get ready");
	e2e_ready(argc, argv);
	e2e_wait();
	if (e2e_verdict_of(child) != 0 || epoll_wait(ep, &(struct epoll_event){0}, 1, 0) < 0)
		e2e_fail("the epoll or the child is gone");
	e2e_pass();
}
