/*
 * Typed input that a pty's slave side has not read: a terminal in
 * canonical mode with echo holding two lines and part of a third (and
 * their echo, which the master has not read), one in canonical mode
 * without echo whose line was edited as it was typed (an erased
 * character), and a raw one holding bytes that canonical mode, signals
 * and CR translation would change.  After the restore each slave reads
 * what it would have read, the partial line is completed by what is typed
 * next, and each master reads the echo once.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>
#include <termios.h>

#include "e2e.h"

static int pty(int *slave, tcflag_t lflag_off, tcflag_t iflag_off)
{
	char name[64];
	struct termios tio;
	int master = e2e_pty(name, sizeof(name));

	if ((*slave = open(name, O_RDWR | O_NOCTTY)) < 0 || tcgetattr(*slave, &tio))
		e2e_fail("cannot open %s: %s", name, strerror(errno));
	tio.c_lflag &= ~lflag_off;
	tio.c_iflag &= ~iflag_off;
	tio.c_cc[VMIN] = 1, tio.c_cc[VTIME] = 0;
	if (tcsetattr(*slave, TCSANOW, &tio))
		e2e_fail("cannot set up %s: %s", name, strerror(errno));
	return master;
}

static void type(int master, const char *bytes, size_t len)
{
	if (write(master, bytes, len) != (ssize_t)len)
		e2e_fail("cannot type: %s", strerror(errno));
}

/* What one read of fd gives (within a second), as a string. */
static const char *one_read(int fd)
{
	static char buf[128];
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n = poll(&p, 1, 1000) == 1 ? read(fd, buf, sizeof(buf) - 1) : -1;

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void expect(int fd, const char *want, const char *what)
{
	const char *got = one_read(fd);

	if (strcmp(got, want))
		e2e_fail("%s reads \"%s\", not \"%s\"", what, got, want);
}

int main(int argc, char **argv)
{
	int echoing, echoing_slave, edited, edited_slave, raw, raw_slave;
	char buf[16];

	e2e_init(argc, argv);
	echoing = pty(&echoing_slave, 0, 0);
	edited = pty(&edited_slave, ECHO, 0);
	raw = pty(&raw_slave, ICANON | ISIG | ECHO | IEXTEN, ICRNL | IXON);
	type(echoing, "first\nsecond\nthi", 16);
	type(edited, "abx\x7f" "c\nde", 8);
	type(raw, "\x03raw\r\x7f", 6);
	e2e_ready(argc, argv);
	e2e_wait();

	expect(echoing_slave, "first\n", "the echoing terminal's slave");
	expect(echoing_slave, "second\n", "the echoing terminal's slave, next");
	type(echoing, "rd\n", 3);
	expect(echoing_slave, "third\n", "the echoing terminal's slave, with its partial line completed");
	expect(echoing, "first\r\nsecond\r\nthird\r\n", "the echoing terminal's master");
	expect(edited_slave, "abc\n", "the edited terminal's slave");
	type(edited, "f\n", 2);
	expect(edited_slave, "def\n", "the edited terminal's slave, with its partial line completed");
	if (read(raw_slave, buf, sizeof(buf)) != 6 || memcmp(buf, "\x03raw\r\x7f", 6))
		e2e_fail("the raw terminal's slave does not read its bytes as they were typed");
	{
		struct pollfd p[2] = {{.fd = edited, .events = POLLIN}, {.fd = raw, .events = POLLIN}};

		if (poll(p, 2, 100) != 0)
			e2e_fail("a terminal without echo echoes");
	}
	e2e_pass();
}
