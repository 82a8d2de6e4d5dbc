/*
 * Unix sockets: socketpairs of the three types with data queued both ways
 * and a shutdown; a listener on a path with a connection it accepted and
 * two that wait for accept(); a listener on an abstract name; a datagram
 * socket with datagrams queued and a client connected to it one way; two
 * datagram sockets with names connected to each other, with datagrams
 * queued from each other (which keep their sender's name) and from a
 * socket without a name; a datagram socket with datagrams from named
 * senders: one still open, one closed (an abstract name), one closed whose
 * socket file stays; a connection whose other end has closed; buffer sizes
 * and SO_PASSCRED.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

static socklen_t address(struct sockaddr_un *a, const char *name, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, name, len);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

static int make(int type, const char *name, size_t len)
{
	struct sockaddr_un a;
	socklen_t alen = address(&a, name, len);
	int sk = socket(AF_UNIX, type, 0);

	if (sk < 0 || (len && bind(sk, (struct sockaddr *)&a, alen) != 0))
		e2e_fail("cannot make a socket bound to %s: %s", name + !name[0], strerror(errno));
	return sk;
}

static void connect_to(int sk, const char *name, size_t len)
{
	struct sockaddr_un a;
	socklen_t alen = address(&a, name, len);

	if (connect(sk, (struct sockaddr *)&a, alen) != 0)
		e2e_fail("cannot connect to %s: %s", name + !name[0], strerror(errno));
}

static void put(int sk, const char *msg)
{
	if (send(sk, msg, strlen(msg), 0) != (ssize_t)strlen(msg))
		e2e_fail("cannot send %s: %s", msg, strerror(errno));
}

/* The next message (or all a stream has, up to its size) is want. */
static void expect(int sk, const char *want, const char *what)
{
	char buf[256];
	ssize_t n = recv(sk, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0)
		e2e_fail("%s: nothing to read (%s), not \"%s\"", what, strerror(errno), want);
	buf[n] = 0;
	if (strcmp(buf, want))
		e2e_fail("%s: read \"%s\", not \"%s\"", what, buf, want);
}

static void expect_empty(int sk, const char *what)
{
	char c;
	ssize_t n = recv(sk, &c, 1, MSG_DONTWAIT);

	if (n != -1 || errno != EAGAIN)
		e2e_fail("%s: has more to read (%zd)", what, n);
}

static void expect_name(int sk, int peer, const char *name, size_t len, const char *what)
{
	struct sockaddr_un a;
	socklen_t alen = sizeof(a);
	int r = peer ? getpeername(sk, (struct sockaddr *)&a, &alen) : getsockname(sk, (struct sockaddr *)&a, &alen);
	size_t got = alen - offsetof(struct sockaddr_un, sun_path);

	if (r != 0)
		e2e_fail("%s: no name: %s", what, strerror(errno));
	if (len && name[0])
		got = strnlen(a.sun_path, got);
	if (got != len || memcmp(a.sun_path, name, len))
		e2e_fail("%s: is called %.*s", what, (int)got, a.sun_path + !a.sun_path[0]);
}

static int get_int(int sk, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	getsockopt(sk, SOL_SOCKET, opt, &v, &len);
	return v;
}

int main(int argc, char **argv)
{
	int st[2], sp[2], dg[2], gone[2], c1, c2, c3, a1, dsrv, dcli, anon, anon_client, ds, dt, inbox, live;
	char dir[] = "/tmp/e2e-unixsk.XXXXXX", path[128], abstract[64], dname[64], sname[64], tname[64];
	char iname[64], lname[64], gname[64], fname[160];
	size_t alen, dlen, slen, tlen, ilen, llen, glen;
	struct stat left;
	char scratch;

	e2e_init(argc, argv);
	if (!mkdtemp(dir))
		e2e_fail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/listener", dir);
	alen = 1 + (size_t)snprintf(abstract + 1, sizeof(abstract) - 1, "e2e-unixsk-%d", (int)getpid());
	abstract[0] = 0;
	dlen = 1 + (size_t)snprintf(dname + 1, sizeof(dname) - 1, "e2e-unixsk-dgram-%d", (int)getpid());
	dname[0] = 0;
	slen = 1 + (size_t)snprintf(sname + 1, sizeof(sname) - 1, "e2e-unixsk-s-%d", (int)getpid());
	sname[0] = 0;
	tlen = 1 + (size_t)snprintf(tname + 1, sizeof(tname) - 1, "e2e-unixsk-t-%d", (int)getpid());
	tname[0] = 0;
	ilen = 1 + (size_t)snprintf(iname + 1, sizeof(iname) - 1, "e2e-unixsk-inbox-%d", (int)getpid());
	iname[0] = 0;
	llen = 1 + (size_t)snprintf(lname + 1, sizeof(lname) - 1, "e2e-unixsk-live-%d", (int)getpid());
	lname[0] = 0;
	glen = 1 + (size_t)snprintf(gname + 1, sizeof(gname) - 1, "e2e-unixsk-gone-%d", (int)getpid());
	gname[0] = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, st) || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) || socketpair(AF_UNIX, SOCK_STREAM, 0, gone))
		e2e_fail("socketpair: %s", strerror(errno));
	put(st[0], "hello ");
	put(st[0], "there");
	put(st[1], "world!");
	put(sp[0], "one");
	put(sp[0], "two");
	put(sp[1], "three");
	shutdown(sp[1], SHUT_WR);
	put(dg[0], "d1");
	put(dg[0], "d2");
	put(dg[1], "d3");
	put(gone[1], "bye");
	close(gone[1]);

	c1 = make(SOCK_STREAM, path, strlen(path));
	if (listen(c1, 5) != 0)
		e2e_fail("listen: %s", strerror(errno));
	a1 = socket(AF_UNIX, SOCK_STREAM, 0);
	connect_to(a1, path, strlen(path));
	c2 = accept(c1, NULL, NULL);
	if (c2 < 0)
		e2e_fail("accept: %s", strerror(errno));
	put(a1, "to server");
	put(c2, "to client");
	/* c1 listens; a1 and c2 are a connection; c3 and anon_client wait. */
	c3 = socket(AF_UNIX, SOCK_STREAM, 0);
	connect_to(c3, path, strlen(path));
	anon_client = socket(AF_UNIX, SOCK_STREAM, 0);
	connect_to(anon_client, path, strlen(path));
	setsockopt(c3, SOL_SOCKET, SO_RCVBUF, &(int){65536}, sizeof(int));
	setsockopt(a1, SOL_SOCKET, SO_PASSCRED, &(int){1}, sizeof(int));

	anon = make(SOCK_SEQPACKET, abstract, alen);
	if (listen(anon, 3) != 0)
		e2e_fail("listen: %s", strerror(errno));

	dsrv = make(SOCK_DGRAM, dname, dlen);
	{
		int sender = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un a;
		socklen_t l = address(&a, dname, dlen);

		if (sendto(sender, "q1", 2, 0, (struct sockaddr *)&a, l) != 2 ||
		    sendto(sender, "q22", 3, 0, (struct sockaddr *)&a, l) != 3)
			e2e_fail("sendto: %s", strerror(errno));
		close(sender);
	}
	dcli = socket(AF_UNIX, SOCK_DGRAM, 0);
	connect_to(dcli, dname, dlen);

	ds = make(SOCK_DGRAM, sname, slen);
	dt = make(SOCK_DGRAM, tname, tlen);
	{
		int sender = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un a;
		socklen_t l = address(&a, sname, slen);

		if (sendto(sender, "anon", 4, 0, (struct sockaddr *)&a, l) != 4)
			e2e_fail("sendto: %s", strerror(errno));
		close(sender);
	}
	inbox = make(SOCK_DGRAM, iname, ilen);
	live = make(SOCK_DGRAM, lname, llen);
	snprintf(fname, sizeof(fname), "%s/closed-sender", dir);
	{
		int gone_sender = make(SOCK_DGRAM, gname, glen), file_sender = make(SOCK_DGRAM, fname, strlen(fname));
		struct sockaddr_un a;
		socklen_t l = address(&a, iname, ilen);

		if (sendto(live, "from-live", 9, 0, (struct sockaddr *)&a, l) != 9 ||
		    sendto(gone_sender, "from-gone", 9, 0, (struct sockaddr *)&a, l) != 9 ||
		    sendto(file_sender, "from-file", 9, 0, (struct sockaddr *)&a, l) != 9 ||
		    sendto(live, "live-again", 10, 0, (struct sockaddr *)&a, l) != 10)
			e2e_fail("sendto: %s", strerror(errno));
		close(gone_sender);
		close(file_sender); /* its socket file stays */
	}
	if (stat(fname, &left))
		e2e_fail("the closed sender's socket file: %s", strerror(errno));
	{
		struct sockaddr_un a;
		socklen_t l = address(&a, sname, slen);

		if (sendto(live, "live-to-s", 9, 0, (struct sockaddr *)&a, l) != 9)
			e2e_fail("sendto: %s", strerror(errno));
	}
	connect_to(ds, tname, tlen);
	connect_to(dt, sname, slen);
	put(dt, "from-t");
	put(ds, "from-s");

	e2e_ready(argc, argv);
	e2e_wait();

	if (!(fcntl(st[0], F_GETFL) & O_NONBLOCK))
		e2e_fail("the stream pair lost O_NONBLOCK");
	expect(st[1], "hello there", "stream pair, one way");
	expect(st[0], "world!", "stream pair, the other way");
	put(st[0], "again");
	expect(st[1], "again", "stream pair after the restore");

	expect(sp[1], "one", "seqpacket, first message");
	expect(sp[1], "two", "seqpacket, second message");
	expect(sp[0], "three", "seqpacket, the other way");
	if (recv(sp[0], &scratch, 1, MSG_DONTWAIT) != 0)
		e2e_fail("seqpacket: the peer's shutdown is lost");
	if (send(sp[1], "x", 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
		e2e_fail("seqpacket: the shut down side can send");

	expect(dg[1], "d1", "datagram pair, first");
	expect(dg[1], "d2", "datagram pair, second");
	expect(dg[0], "d3", "datagram pair, the other way");
	expect_empty(dg[1], "datagram pair");

	expect(gone[0], "bye", "the connection whose peer has gone");
	if (recv(gone[0], &scratch, 1, MSG_DONTWAIT) != 0)
		e2e_fail("the connection whose peer has gone does not end");

	expect(c2, "to server", "accepted connection");
	expect(a1, "to client", "its client");
	expect_name(c2, 0, path, strlen(path), "the accepted connection");
	expect_name(a1, 1, path, strlen(path), "the client's peer");
	if (get_int(a1, SO_PASSCRED) != 1)
		e2e_fail("SO_PASSCRED is lost");
	if (get_int(c3, SO_RCVBUF) != 2 * 65536)
		e2e_fail("SO_RCVBUF is %d", get_int(c3, SO_RCVBUF));
	{
		int x = accept(c1, NULL, NULL), y = accept(c1, NULL, NULL);

		if (x < 0 || y < 0)
			e2e_fail("the connections waiting for accept() are gone: %s", strerror(errno));
		put(c3, "from c3");
		put(anon_client, "from anon_client");
		expect(x, "from c3", "the first connection waiting");
		expect(y, "from anon_client", "the second connection waiting");
	}
	expect_name(c1, 0, path, strlen(path), "the listener");

	expect_name(anon, 0, abstract, alen, "the abstract listener");
	{
		int late = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		connect_to(late, abstract, alen);
		if (accept(anon, NULL, NULL) < 0)
			e2e_fail("the abstract listener does not accept");
	}

	expect(dsrv, "q1", "datagram server, first");
	expect(dsrv, "q22", "datagram server, second");
	expect_name(dcli, 1, dname, dlen, "the datagram client's peer");
	put(dcli, "q333");
	expect(dsrv, "q333", "datagram server, after the restore");

	expect(ds, "anon", "named datagram pair, from a socket without a name");
	{
		struct sockaddr_un from;
		socklen_t flen = sizeof(from);
		char buf[16] = "";

		if (recvfrom(ds, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen) != 9 ||
		    strcmp(buf, "live-to-s") || flen != offsetof(struct sockaddr_un, sun_path) + llen ||
		    memcmp(from.sun_path, lname, llen))
			e2e_fail("named datagram pair: \"%s\", not \"live-to-s\" from the other named sender", buf);
	}
	{
		struct sockaddr_un from;
		socklen_t flen = sizeof(from);
		char buf[16] = "";

		if (recvfrom(ds, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen) != 6 ||
		    strcmp(buf, "from-t") || flen != offsetof(struct sockaddr_un, sun_path) + tlen ||
		    memcmp(from.sun_path, tname, tlen))
			e2e_fail("named datagram pair: \"%s\" from a sender of %u bytes, not \"from-t\" from its peer", buf,
				 flen);
	}
	{
		const char *want[] = {"from-live", "from-gone", "from-file", "live-again"};
		const char *name[] = {lname, gname, fname, lname};
		size_t len[] = {llen, glen, strlen(fname), llen};
		struct stat now;

		for (int i = 0; i < 4; i++) {
			struct sockaddr_un from;
			socklen_t flen = sizeof(from);
			char buf[16] = "";
			ssize_t n = recvfrom(inbox, buf, sizeof(buf) - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
			size_t got = flen - offsetof(struct sockaddr_un, sun_path);

			if (n < 0 || strcmp(buf, want[i]))
				e2e_fail("datagram %d from a named sender: \"%s\", not \"%s\"", i, buf, want[i]);
			if (name[i][0])
				got = strnlen(from.sun_path, got);
			if (got != len[i] || memcmp(from.sun_path, name[i], len[i]))
				e2e_fail("datagram %d came from %.*s, not %s", i, (int)got, from.sun_path + !from.sun_path[0],
					 name[i] + !name[i][0]);
		}
		expect_name(live, 0, lname, llen, "the named sender still open");
		if (stat(fname, &now) || now.st_ino != left.st_ino)
			e2e_fail("the closed sender's socket file is not the one it left");
	}
	expect(dt, "from-s", "named datagram pair, the other way");
	expect_name(ds, 0, sname, slen, "a named datagram socket");
	expect_name(ds, 1, tname, tlen, "its peer");
	put(dt, "again");
	expect(ds, "again", "named datagram pair after the restore");

	unlink(path);
	rmdir(dir);
	e2e_pass();
}
