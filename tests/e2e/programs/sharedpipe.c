/*
 * A pipe that a parent and its child share: the child writes into it, the
 * parent reads after SIGTERM.  criu refuses it for now (errors.py): each
 * process restores its own files, which would make the pipe two.
 */
#include "e2e.h"

int main(int argc, char **argv)
{
	int p[2];
	pid_t child;
	char buf[8] = "";

	e2e_init(argc, argv);
	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	child = fork();
	if (child == 0) {
		close(p[0]);
		/* Its descriptors are as the test will see them: say so. */
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		e2e_wait();
		_exit(write(p[1], "ok", 2) == 2 ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], buf, 1) != 1 || buf[0] != 'r')
		e2e_fail("the child did not get ready");
	buf[0] = 0;
	e2e_ready(argc, argv);
	e2e_wait();
	if (e2e_verdict_of(child) != 0 || read(p[0], buf, sizeof(buf) - 1) != 2 || strcmp(buf, "ok"))
		e2e_fail("the child's word did not come through the pipe (%s)", buf);
	e2e_pass();
}
