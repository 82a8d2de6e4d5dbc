/*
 * Pseudoterminals: one with its slave open, raw-ish settings, a window
 * size and the master in packet mode with output it has not read; one whose slave stays locked and
 * unopened; two with lines their slave wrote that the master has not read
 * (one of them locked since); one whose slave wrote a line and closed, and
 * one whose slave was opened and closed.  A pty made first and closed
 * leaves a lower index free, which restore must pass over.  After the
 * restore all are at the same /dev/pts/N with their settings, bytes go
 * both ways, the masters read the lines as they were written ("\r\n" for
 * "\n" once), and a master whose slaves are all closed reads EIO after
 * what is left.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "e2e.h"

/* NULL if the master reads exactly the len bytes of want (within a second), or why not. */
static const char *reads_bytes(int master, const char *want, size_t len)
{
	static char why[128];
	char buf[64] = "";
	size_t got = 0;
	struct pollfd p = {.fd = master, .events = POLLIN};

	while (got < len && poll(&p, 1, 1000) == 1) {
		ssize_t n = read(master, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == len && !memcmp(buf, want, len))
		return NULL;
	snprintf(why, sizeof(why), "%zu bytes \"%.*s\"", got, (int)got, buf);
	return why;
}

static const char *reads(int master, const char *want) { return reads_bytes(master, want, strlen(want)); }

int main(int argc, char **argv)
{
	struct winsize ws = {.ws_row = 40, .ws_col = 132, .ws_xpixel = 7, .ws_ypixel = 9}, got;
	struct termios tio;
	char name[64], locked_name[64], buf[16];
	int gap, master, slave, locked, on = 1, lock = 0, chatty, chatty_slave, held, held_slave, gone, gone_slave, quiet;
	const char *why;

	e2e_init(argc, argv);
	gap = posix_openpt(O_RDWR | O_NOCTTY);
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	locked = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (master < 0 || locked < 0 || unlockpt(master) || ptsname_r(master, name, sizeof(name)) ||
	    ptsname_r(locked, locked_name, sizeof(locked_name)))
		e2e_fail("cannot make the ptys: %s", strerror(errno));
	slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0 || tcgetattr(slave, &tio))
		e2e_fail("cannot open %s: %s", name, strerror(errno));
	tio.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 3;
	cfsetospeed(&tio, B9600);
	if (tcsetattr(slave, TCSANOW, &tio) || ioctl(master, TIOCSWINSZ, &ws) || ioctl(master, TIOCPKT, &on) ||
	    write(slave, "pending", 7) != 7)
		e2e_fail("cannot set up %s: %s", name, strerror(errno));

	chatty = posix_openpt(O_RDWR | O_NOCTTY);
	held = posix_openpt(O_RDWR | O_NOCTTY);
	if (chatty < 0 || held < 0 || unlockpt(chatty) || unlockpt(held) || ptsname_r(chatty, buf, sizeof(buf)) ||
	    (chatty_slave = open(buf, O_RDWR | O_NOCTTY)) < 0 || ptsname_r(held, buf, sizeof(buf)) ||
	    (held_slave = open(buf, O_RDWR | O_NOCTTY)) < 0)
		e2e_fail("cannot make the ptys with output: %s", strerror(errno));
	on = 1;
	if (write(chatty_slave, "line one\nline two\n", 18) != 18 || write(held_slave, "held\n", 5) != 5 ||
	    ioctl(held, TIOCSPTLCK, &on))
		e2e_fail("cannot write through the slaves: %s", strerror(errno));

	gone = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	quiet = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (gone < 0 || quiet < 0 || unlockpt(gone) || unlockpt(quiet) || ptsname_r(gone, buf, sizeof(buf)) ||
	    (gone_slave = open(buf, O_RDWR | O_NOCTTY)) < 0 || write(gone_slave, "bye\n", 4) != 4 ||
	    close(gone_slave) || ptsname_r(quiet, buf, sizeof(buf)) || close(open(buf, O_RDWR | O_NOCTTY)))
		e2e_fail("cannot make the ptys whose slaves closed: %s", strerror(errno));

	close(gap);
	e2e_ready(argc, argv);
	e2e_wait();

	if (ptsname_r(master, buf, sizeof(buf)) || strcmp(buf, name))
		e2e_fail("the master is now of %s, not %s", buf, name);
	if (tcgetattr(slave, &tio) || (tio.c_lflag & (ECHO | ICANON)) || tio.c_cc[VMIN] != 1 || tio.c_cc[VTIME] != 3 ||
	    cfgetospeed(&tio) != B9600)
		e2e_fail("the slave's settings are lost");
	if (ioctl(slave, TIOCGWINSZ, &got) || memcmp(&got, &ws, sizeof(ws)))
		e2e_fail("the window size is %ux%u", got.ws_row, got.ws_col);
	if (ioctl(master, TIOCGPKT, &on) || !on)
		e2e_fail("the master left packet mode");
	if (!(fcntl(master, F_GETFD) & FD_CLOEXEC) || !(fcntl(locked, F_GETFL) & O_NONBLOCK))
		e2e_fail("descriptor flags are lost");
	if ((why = reads_bytes(master, "\0pending", 8)))
		e2e_fail("the master in packet mode read %s, not what its slave wrote before the dump", why);
	if (write(master, "in", 2) != 2 || read(slave, buf, sizeof(buf)) != 2 || memcmp(buf, "in", 2))
		e2e_fail("master to slave does not work");
	if (write(slave, "out", 3) != 3 || read(master, buf, sizeof(buf)) != 4 || memcmp(buf, "\0out", 4))
		e2e_fail("slave to master (in packet mode) does not work");
	if (ptsname_r(locked, buf, sizeof(buf)) || strcmp(buf, locked_name))
		e2e_fail("the locked pty is now %s, not %s", buf, locked_name);
	if (ioctl(locked, TIOCGPTLCK, &lock) || !lock)
		e2e_fail("the locked pty is unlocked");
	if ((why = reads(chatty, "line one\r\nline two\r\n")))
		e2e_fail("the master read %s, not the two lines its slave wrote", why);
	if ((why = reads(held, "held\r\n")))
		e2e_fail("the locked master read %s, not the line its slave wrote", why);
	if (ioctl(held, TIOCGPTLCK, &lock) || !lock)
		e2e_fail("the pty locked after its slave wrote is unlocked");
	if (write(chatty_slave, "more", 4) != 4 || (why = reads(chatty, "more")))
		e2e_fail("the slave with lines unread writes no more");
	if ((why = reads(gone, "bye\r\n")))
		e2e_fail("the master whose slave closed read %s, not its last line", why);
	if (read(gone, buf, sizeof(buf)) >= 0 || errno != EIO || read(quiet, buf, sizeof(buf)) >= 0 || errno != EIO)
		e2e_fail("a master whose slaves closed does not read EIO: %s", strerror(errno));
	e2e_pass();
}
