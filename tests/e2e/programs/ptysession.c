/*
 * A pty across a tree, as a terminal emulator and its shell: the parent
 * holds the master; its child leads a session whose controlling terminal
 * is the slave, and a grandchild shares the child's slave (inherited).
 * After the restore both have the terminal as their controlling one, and
 * a line the parent writes reaches the child.  With --leader-closes the
 * child closes its slave once the grandchild has it: its session keeps the
 * terminal, which it opens again as /dev/tty after the restore.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

#include "e2e.h"

/* The calling process has slave as its session's controlling terminal. */
static int has_ctty(int slave)
{
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (tty < 0)
		return 0;
	close(tty);
	return tcgetsid(slave) == getsid(0);
}

/* Its controlling terminal, opened again as /dev/tty (-1 if none). */
static int reopen_ctty(void)
{
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (tty >= 0 && tcgetsid(tty) != getsid(0)) {
		close(tty);
		return -1;
	}
	return tty;
}

int main(int argc, char **argv)
{
	char name[64], line[16] = "";
	int master, slave, leader_closes = 0;
	pid_t child;

	e2e_init(argc, argv);
	for (int i = 1; i < argc; i++)
		leader_closes |= !strcmp(argv[i], "--leader-closes");
	e2e_tree_init();
	master = e2e_pty(name, sizeof(name));
	child = fork();
	if (child == 0) {
		pid_t grandchild;

		close(master);
		if (setsid() < 0 || (slave = open(name, O_RDWR)) < 0)
			_exit(10);
		grandchild = fork();
		if (grandchild == 0) {
			e2e_tree_ready(2);
			e2e_wait();
			_exit(has_ctty(slave) ? 0 : 11);
		}
		if (leader_closes)
			close(slave);
		e2e_tree_ready(1);
		e2e_wait();
		if (leader_closes)
			slave = reopen_ctty();
		if (slave < 0 || !has_ctty(slave))
			_exit(12);
		if (read(slave, line, sizeof(line) - 1) != 3 || strcmp(line, "hi\n"))
			_exit(13);
		_exit(e2e_verdict_of(grandchild));
	}
	if (e2e_tree_wait(2, NULL))
		e2e_fail("the session is not ready");
	e2e_ready(argc, argv);
	e2e_wait();
	if (write(master, "hi\n", 3) != 3)
		e2e_fail("cannot write to the master: %s", strerror(errno));
	switch (e2e_verdict_of(child)) {
	case 0:
		e2e_pass();
	case 11:
		e2e_fail("the grandchild lost its controlling terminal");
	case 12:
		e2e_fail("the session leader lost its controlling terminal");
	case 13:
		e2e_fail("the line did not come through the pty (\"%s\")", line);
	default:
		e2e_fail("the session leader ended badly");
	}
}
