/*
 * Messages on the control socket, with descriptors as SCM_RIGHTS.  The
 * structs are the kernel's, laid out with the arch's native long and
 * pointer sizes, as each blob arch compiles them.
 */
#include <compel/plugins/std.h>

#include "sockets.h"

struct kernel_iovec {
	void *base;
	unsigned long len;
};

struct kernel_msghdr {
	void *name;
	int namelen;
	struct kernel_iovec *iov;
	unsigned long iovlen;
	void *control;
	unsigned long controllen;
	unsigned int flags;
};

struct kernel_cmsghdr {
	unsigned long len;
	int level;
	int type;
};

#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define MSG_CMSG_CLOEXEC_ 0x40000000
#define CMSG_ALIGN_(n) (((n) + sizeof(long) - 1) & ~(sizeof(long) - 1))
#define CMSG_SPACE_(n) (CMSG_ALIGN_(sizeof(struct kernel_cmsghdr)) + CMSG_ALIGN_(n))

/* Room for the most descriptors one message may carry. */
union cmsg_buf {
	char bytes[CMSG_SPACE_(COMPEL_MAX_FDS * sizeof(int))];
	long align;
};

static int stash[COMPEL_MAX_FDS];
static unsigned int nr_stashed;

static int *cmsg_fds(void *control)
{
	return (int *)((char *)control + CMSG_ALIGN_(sizeof(struct kernel_cmsghdr)));
}

long compel_std_recv_msg(int sock, struct compel_rpc_msg *m)
{
	struct kernel_iovec iov = {m, sizeof(*m)};
	union cmsg_buf cbuf;
	struct kernel_msghdr h = {0, 0, &iov, 1, cbuf.bytes, sizeof(cbuf.bytes), 0};
	struct kernel_cmsghdr *c = (struct kernel_cmsghdr *)cbuf.bytes;
	unsigned int i, n = 0;
	long ret;

	do
		ret = sys_recvmsg(sock, &h, MSG_CMSG_CLOEXEC_);
	while (ret == -4 /* EINTR */);
	if (ret <= 0)
		return ret == 0 ? -104 /* ECONNRESET: the host went away */ : ret;
	if (h.controllen >= sizeof(*c) && c->level == SOL_SOCKET_ && c->type == SCM_RIGHTS_)
		n = (unsigned int)((c->len - CMSG_ALIGN_(sizeof(*c))) / sizeof(int));
	for (i = 0; i < n; i++) {
		if (nr_stashed < COMPEL_MAX_FDS)
			stash[nr_stashed++] = cmsg_fds(cbuf.bytes)[i];
		else
			sys_close(cmsg_fds(cbuf.bytes)[i]);
	}
	return ret;
}

unsigned int compel_std_take_fds(int *fds, unsigned int n)
{
	unsigned int i, taken = n < nr_stashed ? n : nr_stashed;

	for (i = 0; i < taken; i++)
		fds[i] = stash[i];
	memmove(stash, stash + taken, (nr_stashed - taken) * sizeof(int));
	nr_stashed -= taken;
	return taken;
}

long compel_std_send_fds(int sock, const int *fds, unsigned int n)
{
	struct compel_rpc_msg m = {COMPEL_MSG_FDS, 0, 0, n};
	struct kernel_iovec iov = {&m, sizeof(m)};
	union cmsg_buf cbuf;
	struct kernel_msghdr h = {0, 0, &iov, 1, cbuf.bytes, CMSG_SPACE_(n * sizeof(int)), 0};
	struct kernel_cmsghdr *c = (struct kernel_cmsghdr *)cbuf.bytes;

	if (n == 0 || n > COMPEL_MAX_FDS)
		return -22; /* EINVAL */
	c->len = CMSG_ALIGN_(sizeof(*c)) + n * sizeof(int);
	c->level = SOL_SOCKET_;
	c->type = SCM_RIGHTS_;
	memcpy(cmsg_fds(cbuf.bytes), fds, n * sizeof(int));
	return sys_sendmsg(sock, &h, 0);
}
