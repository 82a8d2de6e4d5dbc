/*
 * Netlink sockets: a route socket bound by the kernel on its first request
 * (its answers read), one bound to a port of its own and listening to
 * multicast groups (one above 32, which only NETLINK_ADD_MEMBERSHIP sets)
 * with options on, one connected to the first, and an audit socket never
 * bound (as dbus-daemon keeps one).  After the restore each has its port,
 * groups, destination, options and protocol, and the first asks the kernel
 * for its links again and gets the answer at its port.
 */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "e2e.h"

#define OWN_PORT 0x7e2e0001u

struct state {
	unsigned port, groups[4], peer_port, options;
	int protocol;
};

static void get_state(int sk, struct state *s)
{
	struct sockaddr_nl a = {0};
	socklen_t len = sizeof(a);
	int v, opts[] = {NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NETLINK_NO_ENOBUFS};
	unsigned i;

	memset(s, 0, sizeof(*s));
	if (getsockname(sk, (struct sockaddr *)&a, &len))
		e2e_fail("getsockname: %s", strerror(errno));
	s->port = a.nl_pid;
	len = sizeof(a);
	if (getpeername(sk, (struct sockaddr *)&a, &len))
		e2e_fail("getpeername: %s", strerror(errno));
	s->peer_port = a.nl_pid;
	len = sizeof(s->groups);
	if (getsockopt(sk, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, s->groups, &len))
		e2e_fail("NETLINK_LIST_MEMBERSHIPS: %s", strerror(errno));
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		len = sizeof(v);
		if (getsockopt(sk, SOL_NETLINK, opts[i], &v, &len))
			e2e_fail("getsockopt %d: %s", opts[i], strerror(errno));
		s->options |= v ? 1u << i : 0;
	}
	len = sizeof(s->protocol);
	if (getsockopt(sk, SOL_SOCKET, SO_PROTOCOL, &s->protocol, &len))
		e2e_fail("SO_PROTOCOL: %s", strerror(errno));
}

/* Asks for the links; returns whether the answer, read to its end, names lo. */
static int links_have_lo(int sk)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {{NLMSG_LENGTH(sizeof(struct ifinfomsg)), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0}, {0}};
	static char buf[1 << 16];
	int lo = 0;

	if (send(sk, &req, req.h.nlmsg_len, 0) != (ssize_t)req.h.nlmsg_len)
		e2e_fail("cannot ask for the links: %s", strerror(errno));
	for (;;) {
		ssize_t n = recv(sk, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (n <= 0)
			e2e_fail("no answer about the links: %s", strerror(errno));
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			struct ifinfomsg *i = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE)
				return lo;
			if (h->nlmsg_type == NLMSG_ERROR)
				e2e_fail("the kernel answers with an error");
			if (h->nlmsg_type == RTM_NEWLINK && (i->ifi_flags & IFF_LOOPBACK))
				lo = 1;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_nl own = {AF_NETLINK, 0, OWN_PORT, 1u << (RTNLGRP_IPV6_PREFIX - 1)};
	struct sockaddr_nl to = {AF_NETLINK, 0, 0, 0};
	struct state before[4], after[4];
	int sk[4], on = 1, high = RTNLGRP_BRVLAN, i;

	e2e_init(argc, argv);
	sk[0] = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
	sk[1] = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE);
	sk[2] = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	sk[3] = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT);
	if (sk[0] < 0 || sk[1] < 0 || sk[2] < 0 || sk[3] < 0)
		e2e_fail("cannot make the sockets: %s", strerror(errno));
	if (!links_have_lo(sk[0]))
		e2e_fail("the links do not include lo");
	if (bind(sk[1], (struct sockaddr *)&own, sizeof(own)) ||
	    setsockopt(sk[1], SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &high, sizeof(high)) ||
	    setsockopt(sk[1], SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on)) ||
	    setsockopt(sk[1], SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on)) ||
	    setsockopt(sk[1], SOL_NETLINK, NETLINK_NO_ENOBUFS, &on, sizeof(on)))
		e2e_fail("cannot bind and set up the listening socket: %s", strerror(errno));
	to.nl_pid = OWN_PORT;
	if (connect(sk[2], (struct sockaddr *)&to, sizeof(to)))
		e2e_fail("cannot connect: %s", strerror(errno));
	for (i = 0; i < 4; i++)
		get_state(sk[i], &before[i]);
	if (before[0].port == 0 || before[1].port != OWN_PORT || before[3].port != 0 || before[2].peer_port != OWN_PORT ||
	    before[1].groups[1] != 1u << (RTNLGRP_BRVLAN - 33) || before[1].options != 7)
		e2e_fail("the sockets are not set up as meant");
	e2e_ready(argc, argv);
	e2e_wait();
	for (i = 0; i < 4; i++) {
		get_state(sk[i], &after[i]);
		if (memcmp(&before[i], &after[i], sizeof(before[i])))
			e2e_fail("netlink socket %d: port %x groups %x %x peer %x options %x protocol %d, was port %x groups %x "
				 "%x peer %x options %x protocol %d",
				 i, after[i].port, after[i].groups[0], after[i].groups[1], after[i].peer_port, after[i].options,
				 after[i].protocol, before[i].port, before[i].groups[0], before[i].groups[1],
				 before[i].peer_port, before[i].options, before[i].protocol);
	}
	if ((fcntl(sk[1], F_GETFL) & O_NONBLOCK) == 0 || (fcntl(sk[0], F_GETFD) & FD_CLOEXEC) == 0)
		e2e_fail("the sockets' flags changed");
	if (!links_have_lo(sk[0]))
		e2e_fail("after the restore, the links do not include lo");
	e2e_pass();
}
