/*
 * A FIFO (in the working directory) with bytes buffered in it, open for
 * reading and, on another descriptor, for writing; and a second FIFO open
 * read-write with O_NONBLOCK.
 */
#include <sys/stat.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	int rd, wr, rw;
	char buf[64];

	e2e_init(argc, argv);
	unlink("fifo");
	unlink("fifo-rw");
	if (mkfifo("fifo", 0600) || mkfifo("fifo-rw", 0600))
		e2e_fail("mkfifo: %s", strerror(errno));
	rd = open("fifo", O_RDONLY | O_NONBLOCK);
	wr = open("fifo", O_WRONLY);
	rw = open("fifo-rw", O_RDWR | O_NONBLOCK);
	if (rd < 0 || wr < 0 || rw < 0)
		e2e_fail("cannot open the FIFOs: %s", strerror(errno));
	fcntl(rd, F_SETFL, 0);
	if (write(wr, "through the fifo", 16) != 16 || write(rw, "rw", 2) != 2)
		e2e_fail("cannot write the FIFOs");

	e2e_ready(argc, argv);
	e2e_wait();

	if ((fcntl(rd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != O_RDONLY ||
	    (fcntl(wr, F_GETFL) & O_ACCMODE) != O_WRONLY ||
	    (fcntl(rw, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) != (O_RDWR | O_NONBLOCK))
		e2e_fail("the FIFOs' flags changed");
	if (read(rd, buf, sizeof(buf)) != 16 || memcmp(buf, "through the fifo", 16))
		e2e_fail("the FIFO lost its bytes");
	if (write(wr, "again", 5) != 5 || read(rd, buf, sizeof(buf)) != 5 || memcmp(buf, "again", 5))
		e2e_fail("the FIFO's ends are no longer one FIFO");
	if (read(rw, buf, sizeof(buf)) != 2 || memcmp(buf, "rw", 2))
		e2e_fail("the read-write FIFO lost its bytes");
	if (read(rw, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		e2e_fail("the empty read-write FIFO does not say EAGAIN");
	e2e_pass();
}
