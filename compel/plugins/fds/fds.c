/* The fds plugin: pass descriptors to and from the host over the control socket. */
#include <compel/plugins/fds.h>
#include <compel/plugins/std.h>

#include "../std/sockets.h"

long compel_fds_send(const int *fds, unsigned int n)
{
	while (n) {
		unsigned int chunk = n < COMPEL_MAX_FDS ? n : COMPEL_MAX_FDS;
		long ret = compel_std_send_fds(compel_ctl()->sock, fds, chunk);

		if (ret < 0)
			return ret;
		fds += chunk;
		n -= chunk;
	}
	return 0;
}

long compel_fds_recv(int *fds, unsigned int n)
{
	unsigned int got = compel_std_take_fds(fds, n);

	while (got < n) {
		struct compel_rpc_msg m;
		long ret = compel_std_recv_msg(compel_ctl()->sock, &m);

		if (ret < 0)
			return ret;
		if (m.type != COMPEL_MSG_FDS)
			return -EPROTO_COMPEL; /* a command while descriptors were expected */
		got += compel_std_take_fds(fds + got, n - got);
	}
	return 0;
}
