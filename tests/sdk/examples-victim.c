/*
 * A process for the SDK examples to look at: its fd 5 is a pipe holding
 * "secret of <pid>" (and no writer, so a reader sees the end), and it
 * waits.  Prints "ready" once set up.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char msg[64];
	int p[2];

	if (pipe(p) != 0)
		return 1;
	snprintf(msg, sizeof(msg), "secret of %d", (int)getpid());
	if (write(p[1], msg, strlen(msg)) != (ssize_t)strlen(msg))
		return 1;
	close(p[1]); /* first: it may be the descriptor 5 that the read end goes to */
	if (p[0] != 5 && (dup2(p[0], 5) != 5 || close(p[0]) != 0))
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
