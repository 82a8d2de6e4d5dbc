/*
 * A UDP socket in flight in a unix socket (SCM_RIGHTS): not dumpable yet
 * (unix sockets in flight are), so the dump must fail and leave the
 * process be, its message still queued.
 */
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char control[CMSG_SPACE(sizeof(int))] = {0}, buf[8] = "";
	struct iovec iov = {"s", 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	int pair[2], udp;

	e2e_init(argc, argv);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) || udp < 0)
		e2e_fail("socket: %s", strerror(errno));
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &udp, sizeof(int));
	if (sendmsg(pair[0], &m, 0) != 1)
		e2e_fail("sendmsg: %s", strerror(errno));
	close(udp);
	e2e_ready(argc, argv);
	e2e_wait();
	iov.iov_base = buf;
	m.msg_controllen = sizeof(control);
	if (recvmsg(pair[1], &m, 0) != 1 || !CMSG_FIRSTHDR(&m))
		e2e_fail("the message and its socket are gone");
	e2e_pass();
}
