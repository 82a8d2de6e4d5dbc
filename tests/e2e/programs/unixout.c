/*
 * A unix socket connected to a listener outside the process (the test's,
 * on the abstract name e2e-unixout-PPID): not dumpable yet, so the dump
 * must fail and leave the process be.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int n = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "e2e-unixout-%d", (int)getppid());
	int s;

	e2e_init(argc, argv);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)))
		e2e_fail("cannot connect: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	if (send(s, "x", 1, 0) != 1)
		e2e_fail("the socket is gone: %s", strerror(errno));
	e2e_pass();
}
