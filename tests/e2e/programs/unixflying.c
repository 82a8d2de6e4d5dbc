/*
 * Unix sockets in flight (SCM_RIGHTS) in seqpacket pairs, not received yet
 * at the dump, each closed by the process after it sent it:
 * - "pair": one end of a stream socketpair whose other end the process
 *   holds;
 * - "listener": a listening socket with a connection from the process
 *   waiting for accept();
 * - "nested": one end of a socketpair with an eventfd in flight in it;
 * - "both", "other": the two ends of a datagram socketpair, each with a
 *   datagram queued;
 * - "peer": one end of a socketpair whose other end a child holds, in a
 *   pair of its own (which criu makes, as it spans two processes: the
 *   others the process makes itself);
 * - "handed": a listener with a connection from the process waiting for
 *   accept(), sent to the child (a server handing its listener to a
 *   worker): the child accepts it after the restore.
 * After the restore each arrives with recvmsg() and works: bytes both ways,
 * accept() on the listener, the eventfd with its count.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

static void send_fd(int sk, const char *msg, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {(void *)msg, strlen(msg)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	if (sendmsg(sk, &m, 0) != (ssize_t)strlen(msg))
		e2e_fail("sendmsg %s: %s", msg, strerror(errno));
	close(fd);
}

/* The next message on sk must be want, with one descriptor: returned. */
static int recv_fd(int sk, const char *want)
{
	char control[CMSG_SPACE(sizeof(int))], buf[64] = "";
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *h;
	ssize_t got = recvmsg(sk, &m, MSG_DONTWAIT);
	int fd;

	if (got < 0 || strcmp(buf, want))
		e2e_fail("received \"%s\" (%s), not \"%s\"", buf, got < 0 ? strerror(errno) : "", want);
	h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int)))
		e2e_fail("\"%s\" came without its descriptor", want);
	memcpy(&fd, CMSG_DATA(h), sizeof(int));
	return fd;
}

static void put(int sk, const char *msg)
{
	if (send(sk, msg, strlen(msg), MSG_NOSIGNAL) != (ssize_t)strlen(msg))
		e2e_fail("cannot send \"%s\": %s", msg, strerror(errno));
}

static void expect(int sk, const char *want, const char *what)
{
	char buf[64] = "";
	ssize_t n = recv(sk, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0 || strcmp(buf, want))
		e2e_fail("%s: read \"%s\" (%s), not \"%s\"", what, buf, n < 0 ? strerror(errno) : "", want);
}

/*
 * Holds the other end of "peer" and receives "handed" once told to end:
 * answers what it reads on the first, accepts on the second.
 */
static int child(int sk, int work)
{
	char buf[64] = "";
	int listener, conn;

	e2e_tree_ready(0);
	e2e_wait();
	if (recv(sk, buf, sizeof(buf) - 1, MSG_DONTWAIT) != 5 || strcmp(buf, "hello")) {
		fprintf(stderr, "unixflying child: read \"%s\", not \"hello\"\n", buf);
		return 1;
	}
	put(sk, "child");
	listener = recv_fd(work, "handed");
	conn = accept(listener, NULL, NULL);
	if (conn < 0) {
		fprintf(stderr, "unixflying child: accept() on the listener handed to it: %s\n", strerror(errno));
		return 1;
	}
	expect(conn, "knock", "the connection the child accepted");
	put(conn, "welcome");
	return 0;
}

int main(int argc, char **argv)
{
	int carrier[2], carrier2[2], pair[2], nested[2], both[2], peer[2], work[2], listener, client, client2, ev, got, conn, yes = 0;
	struct sockaddr_un name = {.sun_family = AF_UNIX};
	socklen_t name_len, len = sizeof(yes);
	uint64_t count = 0;
	pid_t kid;

	e2e_init(argc, argv);
	e2e_tree_init();
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, peer) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, work))
		e2e_fail("socketpair: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (kid == 0) {
		close(peer[0]);
		close(work[0]);
		_exit(child(peer[1], work[1]));
	}
	close(peer[1]);
	close(work[1]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, carrier) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, carrier2) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, pair) || socketpair(AF_UNIX, SOCK_STREAM, 0, nested) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, both))
		e2e_fail("socketpair: %s", strerror(errno));

	snprintf(name.sun_path + 1, sizeof(name.sun_path) - 1, "e2e-unixflying-%d", (int)getpid());
	name_len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name.sun_path + 1);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	client = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || client < 0 || bind(listener, (struct sockaddr *)&name, name_len) || listen(listener, 4) ||
	    connect(client, (struct sockaddr *)&name, name_len))
		e2e_fail("cannot listen and connect: %s", strerror(errno));
	send_fd(carrier[0], "pair", pair[0]);
	send_fd(carrier[0], "listener", listener);
	snprintf(name.sun_path + 1, sizeof(name.sun_path) - 1, "e2e-unixflying-handed-%d", (int)getpid());
	name_len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name.sun_path + 1);
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	client2 = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || client2 < 0 || bind(listener, (struct sockaddr *)&name, name_len) || listen(listener, 4) ||
	    connect(client2, (struct sockaddr *)&name, name_len))
		e2e_fail("cannot listen and connect to the listener to hand: %s", strerror(errno));
	send_fd(work[0], "handed", listener);
	ev = eventfd(5, 0);
	if (ev < 0)
		e2e_fail("eventfd: %s", strerror(errno));
	send_fd(nested[1], "ev", ev);

	send_fd(carrier[0], "nested", nested[0]);
	put(both[0], "to-other");
	put(both[1], "to-both");
	send_fd(carrier[0], "both", both[0]);
	send_fd(carrier[0], "other", both[1]);
	send_fd(carrier2[0], "peer", peer[0]);
	if (e2e_tree_wait(1, NULL))
		e2e_fail("the child is not ready");
	e2e_ready(argc, argv);
	e2e_wait();

	got = recv_fd(carrier[1], "pair");
	put(got, "ping");
	expect(pair[1], "ping", "the other end of the pair");
	put(pair[1], "pong");
	expect(got, "pong", "the pair's end in flight");
	close(got);

	got = recv_fd(carrier[1], "listener");
	if (getsockopt(got, SOL_SOCKET, SO_ACCEPTCONN, &yes, &len) || !yes)
		e2e_fail("the listener in flight does not listen");
	conn = accept4(got, NULL, NULL, SOCK_NONBLOCK);
	if (conn < 0)
		e2e_fail("accept() on the listener in flight: %s", strerror(errno));
	put(client, "knock");
	expect(conn, "knock", "the connection that waited for accept()");
	put(conn, "come in");
	expect(client, "come in", "the client of the listener in flight");
	close(conn);
	close(got);

	got = recv_fd(carrier[1], "nested");
	ev = recv_fd(got, "ev");
	if (read(ev, &count, sizeof(count)) != sizeof(count) || count != 5)
		e2e_fail("the eventfd in flight in the socket in flight counts %llu", (unsigned long long)count);
	put(nested[1], "deep");
	expect(got, "deep", "the socket in flight that carried the eventfd");
	put(got, "up");
	expect(nested[1], "up", "the other end of the socket that carried the eventfd");

	got = recv_fd(carrier[1], "both");
	conn = recv_fd(carrier[1], "other");
	expect(got, "to-both", "the first end of a pair in flight");
	expect(conn, "to-other", "the second end of a pair in flight");
	put(got, "again");
	expect(conn, "again", "the second end of a pair in flight, after the restore");
	close(conn);
	close(got);

	got = recv_fd(carrier2[1], "peer");
	put(got, "hello");
	put(client2, "knock");
	if (e2e_verdict_of(kid) != 0)
		e2e_fail("the child holding the peer's other end and receiving the listener failed");
	expect(got, "child", "the end in flight whose peer is the child's");
	expect(client2, "welcome", "the connection to the listener handed to the child");
	e2e_pass();
}
