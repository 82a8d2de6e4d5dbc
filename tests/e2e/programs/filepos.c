/* Open files: positions, flags, a dup sharing its position, O_APPEND. */
#include "e2e.h"

int main(int argc, char **argv)
{
	char buf[100];
	int rw, dup_fd, app, ro;

	e2e_init(argc, argv);
	memset(buf, 'x', sizeof(buf));
	rw = open("data.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (rw < 0 || write(rw, buf, sizeof(buf)) != sizeof(buf))
		e2e_fail("cannot write data.txt");
	lseek(rw, 37, SEEK_SET);
	dup_fd = dup(rw);
	app = open("data.txt", O_WRONLY | O_APPEND);
	ro = open("data.txt", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	lseek(ro, 5, SEEK_SET);
	e2e_ready(argc, argv);
	e2e_wait();
	if (lseek(rw, 0, SEEK_CUR) != 37 || lseek(ro, 0, SEEK_CUR) != 5)
		e2e_fail("positions are %ld and %ld, not 37 and 5", (long)lseek(rw, 0, SEEK_CUR), (long)lseek(ro, 0, SEEK_CUR));
	lseek(dup_fd, 50, SEEK_SET);
	if (lseek(rw, 0, SEEK_CUR) != 50)
		e2e_fail("a dup'ed descriptor no longer shares its position");
	if (!(fcntl(app, F_GETFL) & O_APPEND) || !(fcntl(ro, F_GETFL) & O_NONBLOCK) ||
	    !(fcntl(ro, F_GETFD) & FD_CLOEXEC) || (fcntl(rw, F_GETFL) & O_ACCMODE) != O_RDWR)
		e2e_fail("file flags changed");
	if (write(app, "END", 3) != 3 || lseek(app, 0, SEEK_CUR) != 103)
		e2e_fail("O_APPEND writes do not go to the end");
	e2e_pass();
}
