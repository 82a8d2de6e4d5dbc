/*
 * A pty of the process that is also its controlling terminal: not
 * dumpable yet, so the dump must fail and leave the process be.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char name[64];
	int master, slave;

	e2e_init(argc, argv);
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || unlockpt(master) || ptsname_r(master, name, sizeof(name)) || setsid() < 0)
		e2e_fail("cannot make a pty and a session: %s", strerror(errno));
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0))
		e2e_fail("cannot make %s the controlling terminal: %s", name, strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	if (write(master, "x", 1) != 1)
		e2e_fail("the pty is gone");
	e2e_pass();
}
