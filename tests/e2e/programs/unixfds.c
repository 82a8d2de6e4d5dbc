/*
 * Descriptors in flight in unix sockets (SCM_RIGHTS), not received yet at
 * the dump: a file the process also has open (the same open file: its
 * offset is shared), an eventfd and a pipe's read end it closed after
 * sending them (in flight only), over a stream and a datagram pair.  After
 * the restore they arrive with their bytes, and work.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "e2e.h"

static void send_fds(int sk, const char *msg, const int *fds, int n)
{
	char control[CMSG_SPACE(4 * sizeof(int))] = {0};
	struct iovec iov = {(void *)msg, strlen(msg)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
			   .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);

	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(h), fds, n * sizeof(int));
	if (sendmsg(sk, &m, 0) != (ssize_t)strlen(msg))
		e2e_fail("sendmsg: %s", strerror(errno));
}

/* The next message must be want, with n descriptors: into fds. */
static void recv_fds(int sk, const char *want, int *fds, int n)
{
	char control[CMSG_SPACE(4 * sizeof(int))], buf[64] = "";
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
	struct cmsghdr *h;
	ssize_t got = recvmsg(sk, &m, MSG_DONTWAIT);

	if (got < 0 || strcmp(buf, want))
		e2e_fail("received \"%s\" (%s), not \"%s\"", buf, got < 0 ? strerror(errno) : "", want);
	h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(n * sizeof(int)))
		e2e_fail("\"%s\" came without its %d descriptors", want, n);
	memcpy(fds, CMSG_DATA(h), n * sizeof(int));
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/e2e-unixfds.XXXXXX", buf[16] = "";
	int st[2], dg[2], p[2], file, ev, got[2];
	uint64_t v = 0;

	e2e_init(argc, argv);
	file = mkstemp(path);
	if (file < 0 || write(file, "0123456789", 10) != 10 || lseek(file, 2, SEEK_SET) != 2)
		e2e_fail("cannot make %s: %s", path, strerror(errno));
	ev = eventfd(7, 0);
	if (ev < 0 || pipe(p) || write(p[1], "piped", 5) != 5 || socketpair(AF_UNIX, SOCK_STREAM, 0, st) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg))
		e2e_fail("cannot set up: %s", strerror(errno));
	send_fds(st[0], "first", (int[]){file, ev}, 2);
	if (send(st[0], "plain", 5, 0) != 5)
		e2e_fail("send: %s", strerror(errno));
	send_fds(dg[0], "dgram", (int[]){p[0]}, 1);
	close(ev);
	close(p[0]);

	e2e_ready(argc, argv);
	e2e_wait();

	recv_fds(st[1], "first", got, 2);
	if (lseek(got[0], 0, SEEK_CUR) != 2 || lseek(got[0], 5, SEEK_SET) != 5 || lseek(file, 0, SEEK_CUR) != 5)
		e2e_fail("the file in flight is not the process's open file");
	if (read(got[1], &v, sizeof(v)) != sizeof(v) || v != 7)
		e2e_fail("the eventfd in flight counts %llu", (unsigned long long)v);
	if (recv(st[1], buf, sizeof(buf) - 1, MSG_DONTWAIT) != 5 || strcmp(buf, "plain"))
		e2e_fail("the bytes after the descriptors are \"%s\"", buf);
	recv_fds(dg[1], "dgram", got, 1);
	memset(buf, 0, sizeof(buf));
	if (read(got[0], buf, sizeof(buf)) != 5 || strcmp(buf, "piped"))
		e2e_fail("the pipe in flight holds \"%s\"", buf);
	unlink(path);
	e2e_pass();
}
