/*
 * A session whose controlling terminal no process holds open: the child
 * leads a session and took a pty's slave as its terminal, then closed it;
 * the parent holds the master, which reads EIO since.  After the restore
 * the child's controlling terminal is that pty again (/dev/tty opens it),
 * and the master still reads EIO.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "e2e.h"

static int hung_up(int master)
{
	struct pollfd p = {.fd = master, .events = POLLIN};
	char c;

	return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && read(master, &c, 1) < 0 && errno == EIO;
}

/* The controlling terminal's device, as /proc/self/stat has it (tty_nr). */
static dev_t ctty(void)
{
	char buf[512], *p;
	int fd = open("/proc/self/stat", O_RDONLY), n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	unsigned tty_nr = 0;

	if (fd >= 0)
		close(fd);
	if (n <= 0 || !(p = strrchr((buf[n] = 0, buf), ')')) || sscanf(p + 2, "%*c %*d %*d %*d %u", &tty_nr) != 1)
		return 0;
	return makedev((tty_nr >> 8) & 0xfff, (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00));
}

int main(int argc, char **argv)
{
	char name[64];
	int master, slave;
	pid_t child;

	e2e_init(argc, argv);
	e2e_tree_init();
	master = e2e_pty(name, sizeof(name));
	child = fork();
	if (child == 0) {
		struct stat pty;

		if (setsid() < 0 || (slave = open(name, O_RDWR)) < 0 || fstat(slave, &pty) || close(slave))
			_exit(2);
		e2e_tree_ready(0);
		e2e_wait();
		_exit(ctty() == pty.st_rdev ? 0 : 1);
	}
	if (e2e_tree_wait(1, NULL))
		e2e_fail("the child is not ready");
	if (!hung_up(master))
		e2e_fail("the master does not read EIO with its slave closed");
	e2e_ready(argc, argv);
	e2e_wait();
	if (!hung_up(master))
		e2e_fail("after the restore, the master does not read EIO with its slave closed");
	if (e2e_verdict_of(child) != 0)
		e2e_fail("the child's controlling terminal is not the pty %s", name);
	e2e_pass();
}
