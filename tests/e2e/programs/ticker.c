/*
 * The demo's process (scripts/demo-run): counts, and says so on stdout
 * twice a second.  Like a daemon, it first closes what it inherited
 * beyond stdin, stdout and stderr.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	unsigned long n = 0;

	close_range(3, ~0u, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		printf("tick %lu (pid %d)\n", n++, getpid());
		usleep(500000);
	}
}
