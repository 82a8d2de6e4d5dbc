/* Keeps kept.txt open: a restore that cannot reopen it must fail cleanly. */
#include "e2e.h"

int main(int argc, char **argv)
{
	const char *path = "kept.txt";
	int fd;

	e2e_init(argc, argv);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		e2e_fail("cannot open %s", path);
	e2e_ready(argc, argv);
	e2e_wait();
	e2e_pass();
}
