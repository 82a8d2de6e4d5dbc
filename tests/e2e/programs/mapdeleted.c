/*
 * Mappings of deleted files, as POSIX semaphores make them (sem_open maps a
 * file of /dev/shm and unlinks it): a file mapped shared by a parent and
 * its child, and a file mapped privately with a page of it written.  After
 * the restore the shared mapping is still one memory for both (a write of
 * the child's shows in the parent), and the private one holds the file's
 * pages and the written one.
 */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE 4096

static char *map_deleted(const char *name, int flags, char fill)
{
	char buf[2 * PAGE];
	char *p;
	int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	memset(buf, fill, sizeof(buf));
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		e2e_fail("cannot write %s: %s", name, strerror(errno));
	p = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED || close(fd) || unlink(name))
		e2e_fail("cannot map %s: %s", name, strerror(errno));
	return p;
}

int main(int argc, char **argv)
{
	char *shared, *priv;
	pid_t child;

	e2e_init(argc, argv);
	e2e_tree_init();
	shared = map_deleted("shared.bin", MAP_SHARED, 's');
	priv = map_deleted("private.bin", MAP_PRIVATE, 'p');
	priv[PAGE] = 'W';
	child = fork();
	if (child == 0) {
		e2e_tree_ready(0);
		e2e_wait();
		shared[PAGE + 1] = 'C';
		_exit(shared[0] == 's' && priv[0] == 'p' && priv[PAGE] == 'W' ? 0 : 1);
	}
	if (e2e_tree_wait(1, NULL))
		e2e_fail("the child is not ready");
	e2e_ready(argc, argv);
	e2e_wait();
	if (e2e_verdict_of(child) != 0)
		e2e_fail("the child does not see the files' contents");
	if (shared[PAGE + 1] != 'C')
		e2e_fail("the child's write to the shared mapping does not show in the parent (%c)", shared[PAGE + 1]);
	if (shared[0] != 's' || priv[0] != 'p' || priv[PAGE] != 'W' || priv[PAGE + 1] != 'p')
		e2e_fail("the mappings do not hold what they held");
	e2e_pass();
}
