/*
 * An epoll over a pipe's read end (level-triggered, data 0x1234...), an
 * eventfd (edge-triggered), and another epoll that watches the first:
 * targets with their events and data come back.  The first epoll's fd is
 * lower than its targets', so restore must wait for them.
 */
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct epoll_event ev, got[4];
	int ep, outer, p[2], efd, n;
	uint64_t one = 1;

	e2e_init(argc, argv);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (pipe(p) || ep < 0)
		e2e_fail("cannot set up: %s", strerror(errno));
	efd = eventfd(0, EFD_NONBLOCK);
	outer = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.u64 = 0x123456789abcdef0ull;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev))
		e2e_fail("epoll_ctl pipe: %s", strerror(errno));
	ev.events = EPOLLIN | EPOLLET;
	ev.data.u64 = 77;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		e2e_fail("epoll_ctl eventfd: %s", strerror(errno));
	ev.events = EPOLLIN;
	ev.data.u64 = 5;
	if (epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev))
		e2e_fail("epoll_ctl epoll: %s", strerror(errno));
	if (write(p[1], "x", 1) != 1)
		e2e_fail("cannot write the pipe");

	e2e_ready(argc, argv);
	e2e_wait();

	if (!(fcntl(ep, F_GETFD) & FD_CLOEXEC) || (fcntl(outer, F_GETFD) & FD_CLOEXEC))
		e2e_fail("the epolls' descriptor flags changed");
	n = epoll_wait(outer, got, 4, 1000);
	if (n != 1 || got[0].data.u64 != 5)
		e2e_fail("the outer epoll reports %d events", n);
	n = epoll_wait(ep, got, 4, 1000);
	if (n != 1 || got[0].data.u64 != 0x123456789abcdef0ull || got[0].events != EPOLLIN)
		e2e_fail("the epoll reports %d events, data %llx", n, n > 0 ? (unsigned long long)got[0].data.u64 : 0);
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		e2e_fail("cannot write the eventfd");
	n = epoll_wait(ep, got, 4, 1000);
	if (n != 2 || got[0].data.u64 + got[1].data.u64 != 0x123456789abcdef0ull + 77)
		e2e_fail("the epoll reports %d events after the eventfd's write", n);
	/* Edge-triggered: the eventfd again only after a new write. */
	n = epoll_wait(ep, got, 4, 0);
	if (n != 1 || got[0].data.u64 != 0x123456789abcdef0ull)
		e2e_fail("the eventfd's watch is no longer edge-triggered (%d events)", n);
	e2e_pass();
}
