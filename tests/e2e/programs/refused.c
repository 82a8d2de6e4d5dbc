/*
 * What criu refuses to dump yet, one case per run, chosen by E2E_REFUSE:
 *   relsock      a unix socket bound to a relative path
 *   namedsender  a datagram queued from a named socket outside the tree
 *   relsender    a datagram queued from a socket bound to a relative path, gone
 *   ptyunread    a pty holding a line nobody has read (its slave never opened)
 *   ptyoutside   the slave of a pty whose master is elsewhere (E2E_PTY)
 *   cttyoutside  a session leader whose controlling terminal is such a slave,
 *                closed since
 *   selfsend     a socket in flight in what its own peer has received
 *   epollflying  an epoll watching an eventfd only in flight in a unix socket
 *   epollstdin   an epoll watching stdin (a pipe from the outside) and an
 *                eventfd moved from the number it was added with
 *   iouring      an io_uring instance, and a pidfd
 *   netlinkqueue a netlink socket with the kernel's answer not read yet
 *   memfdsealed  a memfd mapped writable and shared, sealed against writes since
 * The dump must fail naming it, and the process go on as before.
 */
#define _GNU_SOURCE
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "e2e.h"

static socklen_t abstract(struct sockaddr_un *a, const char *tag)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "e2e-refused-%s-%d", tag, (int)getpid());
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int send_fd(int sk, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {"x", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sk, &m, 0) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *what = getenv("E2E_REFUSE");
	struct sockaddr_un a, b;
	socklen_t alen, blen;
	int s, t;

	e2e_init(argc, argv);
	if (!what)
		e2e_fail("E2E_REFUSE is not set");
	if (!strcmp(what, "relsock")) {
		strcpy(a.sun_path, "relative.sock");
		a.sun_family = AF_UNIX;
		unlink(a.sun_path);
		s = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)))
			e2e_fail("bind: %s", strerror(errno));
	} else if (!strcmp(what, "relsender")) {
		strcpy(b.sun_path, "relsender.sock");
		b.sun_family = AF_UNIX;
		unlink(b.sun_path);
		alen = abstract(&a, "r");
		s = socket(AF_UNIX, SOCK_DGRAM, 0);
		t = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(s, (struct sockaddr *)&a, alen) || bind(t, (struct sockaddr *)&b, sizeof(b)) ||
		    sendto(t, "x", 1, 0, (struct sockaddr *)&a, alen) != 1 || close(t))
			e2e_fail("cannot set up: %s", strerror(errno));
	} else if (!strcmp(what, "namedsender")) {
		int hold[2];
		char c;

		alen = abstract(&a, "a");
		blen = abstract(&b, "b");
		s = socket(AF_UNIX, SOCK_DGRAM, 0);
		t = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (bind(s, (struct sockaddr *)&a, alen) || bind(t, (struct sockaddr *)&b, blen) ||
		    sendto(t, "x", 1, 0, (struct sockaddr *)&a, alen) != 1 || pipe(hold))
			e2e_fail("cannot set up: %s", strerror(errno));
		/* The sender goes to a process outside the tree, which holds its
		 * name until this one ends. */
		if (fork() == 0) {
			if (fork() == 0) {
				close(hold[1]);
				_exit(read(hold[0], &c, 1) < 0);
			}
			_exit(0);
		}
		wait(NULL);
		close(t);
		close(hold[0]);
	} else if (!strcmp(what, "ptyunread")) {
		s = posix_openpt(O_RDWR | O_NOCTTY);
		if (s < 0 || unlockpt(s) || write(s, "unread\n", 7) != 7)
			e2e_fail("cannot set up: %s", strerror(errno));
	} else if (!strcmp(what, "iouring")) {
		char params[120] = {0}; /* struct io_uring_params */

		s = (int)syscall(SYS_io_uring_setup, 4, params);
		t = (int)syscall(SYS_pidfd_open, getpid(), 0);
		if (s < 0 || t < 0)
			e2e_fail("cannot set up: %s", strerror(errno));
	} else if (!strcmp(what, "netlinkqueue")) {
		struct {
			struct nlmsghdr h;
			struct ifinfomsg i;
		} req = {{NLMSG_LENGTH(sizeof(struct ifinfomsg)), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0}, {0}};

		s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
		if (s < 0 || send(s, &req, req.h.nlmsg_len, 0) != (ssize_t)req.h.nlmsg_len)
			e2e_fail("cannot set up: %s", strerror(errno));
	} else if (!strcmp(what, "memfdsealed")) {
		s = memfd_create("sealed", MFD_ALLOW_SEALING);
		if (s < 0 || ftruncate(s, 4096) ||
		    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0) == MAP_FAILED ||
		    fcntl(s, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
			e2e_fail("cannot set up: %s", strerror(errno));
	} else if (!strcmp(what, "cttyoutside")) {
		if (!getenv("E2E_PTY") || setsid() < 0 || (t = open(getenv("E2E_PTY"), O_RDWR)) < 0 || close(t))
			e2e_fail("cannot take the pty E2E_PTY names as the terminal: %s", strerror(errno));
		s = -1;
	} else if (!strcmp(what, "ptyoutside")) {
		s = getenv("E2E_PTY") ? open(getenv("E2E_PTY"), O_RDWR | O_NOCTTY) : -1;
		if (s < 0)
			e2e_fail("cannot open the pty E2E_PTY names: %s", strerror(errno));
	} else if (!strcmp(what, "selfsend")) {
		char control[CMSG_SPACE(sizeof(int))] = {0};
		struct iovec iov = {"s", 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
				   .msg_controllen = sizeof(control)};
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		int pair[2];

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair))
			e2e_fail("socketpair: %s", strerror(errno));
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(h), &pair[0], sizeof(int));
		if (sendmsg(pair[0], &m, 0) != 1)
			e2e_fail("sendmsg: %s", strerror(errno));
	} else if (!strcmp(what, "epollflying")) {
		struct epoll_event ev = {EPOLLIN, {.u64 = 1}};
		int sv[2], ep = epoll_create1(0), efd = eventfd(0, 0);

		/* The message keeps the eventfd, and with it the epoll's watch. */
		if (ep < 0 || efd < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) ||
		    send_fd(sv[0], efd))
			e2e_fail("cannot set up: %s", strerror(errno));
		close(efd);
	} else if (!strcmp(what, "epollstdin")) {
		struct epoll_event ev = {EPOLLIN, {.u64 = 1}};
		int p[2], ep = epoll_create1(0), efd = eventfd(0, 0);

		/* Nothing of the tree holds the pipe's other end: stdin is the outside's. */
		if (ep < 0 || efd < 0 || pipe(p) || dup2(p[0], 0) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) || fcntl(efd, F_DUPFD, 20) < 0)
			e2e_fail("cannot set up: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		close(efd);
	} else {
		e2e_fail("E2E_REFUSE=%s is no case of this program", what);
	}
	e2e_ready(argc, argv);
	e2e_wait();
	e2e_pass();
}
