/*
 * Pseudoterminals: one with its slave open, raw-ish settings, a window
 * size and the master in packet mode; one whose slave stays locked and
 * unopened.  A pty made first and closed leaves a lower index free, which
 * restore must pass over.  After the restore both are at the same /dev/pts/N with their
 * settings, and bytes go both ways.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct winsize ws = {.ws_row = 40, .ws_col = 132, .ws_xpixel = 7, .ws_ypixel = 9}, got;
	struct termios tio;
	char name[64], locked_name[64], buf[16];
	int gap, master, slave, locked, on = 1, lock = 0;

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
	if (tcsetattr(slave, TCSANOW, &tio) || ioctl(master, TIOCSWINSZ, &ws) || ioctl(master, TIOCPKT, &on))
		e2e_fail("cannot set up %s: %s", name, strerror(errno));

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
	if (write(master, "in", 2) != 2 || read(slave, buf, sizeof(buf)) != 2 || memcmp(buf, "in", 2))
		e2e_fail("master to slave does not work");
	if (write(slave, "out", 3) != 3 || read(master, buf, sizeof(buf)) != 4 || memcmp(buf, "\0out", 4))
		e2e_fail("slave to master (in packet mode) does not work");
	if (ptsname_r(locked, buf, sizeof(buf)) || strcmp(buf, locked_name))
		e2e_fail("the locked pty is now %s, not %s", buf, locked_name);
	if (ioctl(locked, TIOCGPTLCK, &lock) || !lock)
		e2e_fail("the locked pty is unlocked");
	e2e_pass();
}
