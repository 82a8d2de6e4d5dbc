/* A listening TCP socket: not dumpable yet, so the dump must fail and leave it be. */
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s;

	e2e_init(argc, argv);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		e2e_fail("cannot listen: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	if (listen(s, 1))
		e2e_fail("the socket is gone");
	e2e_pass();
}
