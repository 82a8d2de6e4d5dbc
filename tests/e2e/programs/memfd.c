/*
 * memfds: one with 3 pages of data, a position and seals against growing
 * and shrinking, open a second time read-only through /proc; one without
 * sealing allowed (F_SEAL_SEAL from the start), empty.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "e2e.h"

#define SIZE (3 * 4096 + 100)

int main(int argc, char **argv)
{
	static char buf[SIZE], back[SIZE + 1];
	char path[64];
	int mfd, ro, plain, i;

	e2e_init(argc, argv);
	for (i = 0; i < SIZE; i++)
		buf[i] = (char)(i * 13);
	mfd = memfd_create("e2e data", MFD_ALLOW_SEALING);
	plain = memfd_create("plain", MFD_CLOEXEC);
	if (mfd < 0 || plain < 0 || write(mfd, buf, SIZE) != SIZE)
		e2e_fail("cannot set up the memfds: %s", strerror(errno));
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK))
		e2e_fail("F_ADD_SEALS: %s", strerror(errno));
	lseek(mfd, 1234, SEEK_SET);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY);
	lseek(ro, 99, SEEK_SET);

	e2e_ready(argc, argv);
	e2e_wait();

	if (lseek(mfd, 0, SEEK_CUR) != 1234 || lseek(ro, 0, SEEK_CUR) != 99)
		e2e_fail("the memfds' positions changed");
	if (fcntl(mfd, F_GET_SEALS) != (F_SEAL_GROW | F_SEAL_SHRINK) || fcntl(plain, F_GET_SEALS) != F_SEAL_SEAL)
		e2e_fail("the seals are %x and %x", fcntl(mfd, F_GET_SEALS), fcntl(plain, F_GET_SEALS));
	if (pread(ro, back, SIZE + 1, 0) != SIZE || memcmp(buf, back, SIZE))
		e2e_fail("the memfd's contents changed");
	if ((fcntl(ro, F_GETFL) & O_ACCMODE) != O_RDONLY || !(fcntl(plain, F_GETFD) & FD_CLOEXEC))
		e2e_fail("the memfds' flags changed");
	if (pwrite(mfd, "new", 3, 0) != 3 || pread(ro, back, 3, 0) != 3 || memcmp(back, "new", 3))
		e2e_fail("the two descriptors are no longer of one memfd");
	if (pwrite(mfd, "x", 1, SIZE) != -1 || errno != EPERM)
		e2e_fail("the memfd grows despite its seal");
	if (lseek(plain, 0, SEEK_END) != 0 || fcntl(plain, F_ADD_SEALS, F_SEAL_WRITE) != -1)
		e2e_fail("the plain memfd is not empty or takes seals");
	e2e_pass();
}
