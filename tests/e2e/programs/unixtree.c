/*
 * Unix sockets between the processes of a tree: a stream socketpair
 * between the parent and child A with bytes queued both ways and, in what
 * A has not read yet, the write end of a pipe whose read end the parent
 * holds (with bytes in it); a datagram socketpair between them with a
 * datagram queued; a listener that the parent and child B share (one open
 * file, inherited), with a connection from B that the parent accepted and
 * one that waits for accept().  After the restore every message arrives,
 * the connections carry new bytes both ways, and the listener takes new
 * connections.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

static struct sockaddr_un name;
static socklen_t name_len;

static void put(int sk, const char *msg)
{
	if (send(sk, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		e2e_fail("cannot send %s: %s", msg, strerror(errno));
}

/* NULL if the next message (or what a stream has) on sk is want. */
static const char *got(int sk, const char *want, int flags)
{
	static char why[300];
	char buf[128];
	ssize_t n = recv(sk, buf, sizeof(buf) - 1, flags);

	if (n < 0) {
		snprintf(why, sizeof(why), "nothing to read (%s), not \"%s\"", strerror(errno), want);
		return why;
	}
	buf[n] = 0;
	if (strcmp(buf, want)) {
		snprintf(why, sizeof(why), "read \"%s\", not \"%s\"", buf, want);
		return why;
	}
	return NULL;
}

static int child_fail(const char *who, const char *what, const char *why)
{
	fprintf(stderr, "unixtree child %s: %s: %s\n", who, what, why);
	return 1;
}

/* A: the other ends of the pairs; receives the pipe's write end. */
static int child_a(int stream, int dgram)
{
	char buf[64], control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *c;
	ssize_t n;
	int pw;

	put(stream, "to-parent");
	put(dgram, "dg-from-A");
	e2e_tree_ready(0);
	e2e_wait();
	n = recvmsg(stream, &m, MSG_DONTWAIT);
	if (n < 0)
		return child_fail("A", "the socketpair", strerror(errno));
	buf[n] = 0;
	c = CMSG_FIRSTHDR(&m);
	if (strcmp(buf, "to-A") || !c || c->cmsg_type != SCM_RIGHTS)
		return child_fail("A", "the socketpair", "not \"to-A\" with a descriptor");
	memcpy(&pw, CMSG_DATA(c), sizeof(pw));
	if (write(pw, "+more", 5) != 5)
		return child_fail("A", "the pipe's write end it received", strerror(errno));
	if (got(stream, "after", 0))
		return child_fail("A", "the socketpair after the restore", got(stream, "after", 0));
	return 0;
}

/* B: two connections to the listener it shares with the parent. */
static int child_b(int listener)
{
	int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un mine;
	socklen_t len = sizeof(mine);
	int on = 0;
	const char *why;

	if (connect(c1, (struct sockaddr *)&name, name_len) || connect(c2, (struct sockaddr *)&name, name_len))
		return child_fail("B", "connect", strerror(errno));
	put(c1, "from-B");
	e2e_tree_ready(1);
	e2e_wait();
	if ((why = got(c1, "back-c1", 0)) || (why = got(c2, "hi-c2", 0)))
		return child_fail("B", "its connections", why);
	len = sizeof(on);
	if (getsockopt(listener, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) || !on)
		return child_fail("B", "the listener it shares", "not listening");
	len = sizeof(mine);
	if (getsockname(listener, (struct sockaddr *)&mine, &len) || len != name_len || memcmp(&mine, &name, len))
		return child_fail("B", "the listener it shares", "not bound to its name");
	return 0;
}

int main(int argc, char **argv)
{
	int stream[2], dgram[2], pipefd[2], listener, accepted, late, late_accepted;
	char control[CMSG_SPACE(sizeof(int))], buf[64];
	struct iovec iov = {"to-A", 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *c;
	pid_t a, b;
	const char *why;
	ssize_t n;

	e2e_init(argc, argv);
	e2e_tree_init();
	name.sun_family = AF_UNIX;
	n = snprintf(name.sun_path + 1, sizeof(name.sun_path) - 1, "e2e-unixtree-%d", (int)getpid());
	name_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, stream) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dgram) || pipe(pipefd))
		e2e_fail("socketpair, pipe: %s", strerror(errno));
	listener = socket(AF_UNIX, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&name, name_len) || listen(listener, 8))
		e2e_fail("listener: %s", strerror(errno));

	a = fork();
	if (a == 0) {
		close(stream[0]), close(dgram[0]), close(pipefd[0]), close(pipefd[1]), close(listener);
		_exit(child_a(stream[1], dgram[1]));
	}
	close(stream[1]), close(dgram[1]);
	b = fork();
	if (b == 0) {
		close(stream[0]), close(dgram[0]), close(pipefd[0]), close(pipefd[1]);
		_exit(child_b(listener));
	}
	if (e2e_tree_wait(2, NULL))
		e2e_fail("the children are not ready");
	accepted = accept(listener, NULL, NULL);
	if (accepted < 0)
		e2e_fail("accept: %s", strerror(errno));
	/* The pipe's write end goes to A in flight, and is the parent's no more. */
	if (write(pipefd[1], "in-pipe", 7) != 7)
		e2e_fail("write to the pipe: %s", strerror(errno));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET, c->cmsg_type = SCM_RIGHTS, c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pipefd[1], sizeof(int));
	if (sendmsg(stream[0], &m, 0) != 4)
		e2e_fail("sendmsg: %s", strerror(errno));
	close(pipefd[1]);
	e2e_ready(argc, argv);
	e2e_wait();

	if ((why = got(stream[0], "to-parent", MSG_DONTWAIT)))
		e2e_fail("the socketpair with A: %s", why);
	if ((why = got(dgram[0], "dg-from-A", MSG_DONTWAIT)))
		e2e_fail("the datagram pair with A: %s", why);
	if ((why = got(accepted, "from-B", MSG_DONTWAIT)))
		e2e_fail("the connection B made: %s", why);
	/* B's second connection waited for accept(). */
	late_accepted = accept(listener, NULL, NULL);
	if (late_accepted < 0)
		e2e_fail("accept of B's waiting connection: %s", strerror(errno));
	put(late_accepted, "hi-c2");
	put(accepted, "back-c1");
	put(stream[0], "after");
	/* The listener takes new connections. */
	late = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(late, (struct sockaddr *)&name, name_len))
		e2e_fail("connect to the listener after the restore: %s", strerror(errno));
	close(accept(listener, NULL, NULL));
	if (e2e_verdict_of(a) != 0)
		e2e_fail("child A failed (its error is on stderr)");
	if (e2e_verdict_of(b) != 0)
		e2e_fail("child B failed (its error is on stderr)");
	close(listener);
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	if (n < 0)
		e2e_fail("the pipe: %s", strerror(errno));
	buf[n] = 0;
	if (strcmp(buf, "in-pipe+more"))
		e2e_fail("the pipe holds \"%s\", not \"in-pipe+more\"", buf);
	e2e_pass();
}
