/*
 * Files a parent and its child share over fork: a pipe (the child writes,
 * the parent reads) and a regular file (one open file: the child's write
 * moves the parent's offset).  criu opens each once and gives it to both.
 */
#include "e2e.h"

int main(int argc, char **argv)
{
	char path[] = "/tmp/e2e-sharedpipe.XXXXXX", buf[8] = "";
	int p[2], file;
	pid_t child;

	e2e_init(argc, argv);
	file = mkstemp(path);
	if (file < 0 || pipe(p) || write(file, "ab", 2) != 2)
		e2e_fail("cannot set up: %s", strerror(errno));
	child = fork();
	if (child == 0) {
		close(p[0]);
		/* Its descriptors are as the test will see them: say so. */
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		e2e_wait();
		_exit(write(p[1], "ok", 2) == 2 && write(file, "c", 1) == 1 ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], buf, 1) != 1 || buf[0] != 'r')
		e2e_fail("the child did not get ready");
	buf[0] = 0;
	e2e_ready(argc, argv);
	e2e_wait();
	if (e2e_verdict_of(child) != 0 || read(p[0], buf, sizeof(buf) - 1) != 2 || strcmp(buf, "ok"))
		e2e_fail("the child's word did not come through the pipe (%s)", buf);
	if (lseek(file, 0, SEEK_CUR) != 3)
		e2e_fail("the child's write did not move the shared offset (%lld)", (long long)lseek(file, 0, SEEK_CUR));
	unlink(path);
	e2e_pass();
}
