/*
 * Mappings of memfds: one mapped shared by a parent and its child and held
 * open by the parent, with seals; one only mapped (its descriptor closed);
 * one mapped privately with a page written.  After the restore the shared
 * one is one memory and one file again (a write of the child's through the
 * mapping shows in the parent's mapping and through its descriptor), the
 * seals are there, the mapped-only one holds its bytes, and the private
 * one its written page over the file's unchanged bytes.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "e2e.h"

#define PAGE 4096

static int memfd(const char *name, char fill, unsigned flags)
{
	char buf[2 * PAGE];
	int fd = memfd_create(name, MFD_CLOEXEC | flags);

	memset(buf, fill, sizeof(buf));
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf))
		e2e_fail("cannot make the memfd %s: %s", name, strerror(errno));
	return fd;
}

static char *map(int fd, int prot, int flags)
{
	char *p = mmap(NULL, 2 * PAGE, prot, flags, fd, 0);

	if (p == MAP_FAILED)
		e2e_fail("cannot map a memfd: %s", strerror(errno));
	return p;
}

int main(int argc, char **argv)
{
	int shared_fd, only_fd, private_fd;
	char *shared, *only, *priv, c;
	pid_t child;

	e2e_init(argc, argv);
	e2e_tree_init();
	shared_fd = memfd("shared", 's', MFD_ALLOW_SEALING);
	shared = map(shared_fd, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (fcntl(shared_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		e2e_fail("cannot seal: %s", strerror(errno));
	only_fd = memfd("mapped-only", 'o', 0);
	only = map(only_fd, PROT_READ, MAP_SHARED);
	close(only_fd);
	private_fd = memfd("private", 'p', 0);
	priv = map(private_fd, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	priv[PAGE] = 'W';
	child = fork();
	if (child == 0) {
		e2e_tree_ready(0);
		e2e_wait();
		shared[PAGE + 1] = 'C';
		_exit(shared[0] == 's' && only[0] == 'o' && priv[PAGE] == 'W' ? 0 : 1);
	}
	if (e2e_tree_wait(1, NULL))
		e2e_fail("the child is not ready");
	e2e_ready(argc, argv);
	e2e_wait();
	if (e2e_verdict_of(child) != 0)
		e2e_fail("the child does not see the memfds' contents");
	if (shared[PAGE + 1] != 'C')
		e2e_fail("the child's write to the shared mapping does not show in the parent (%c)", shared[PAGE + 1]);
	if (pread(shared_fd, &c, 1, PAGE + 1) != 1 || c != 'C')
		e2e_fail("the child's write does not show through the parent's descriptor of the memfd");
	if (fcntl(shared_fd, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		e2e_fail("the memfd's seals are %x", fcntl(shared_fd, F_GET_SEALS));
	if (only[0] != 'o' || only[2 * PAGE - 1] != 'o')
		e2e_fail("the memfd only mapped does not hold its bytes");
	if (priv[0] != 'p' || priv[PAGE] != 'W' || pread(private_fd, &c, 1, PAGE) != 1 || c != 'p')
		e2e_fail("the private mapping of a memfd does not hold its page over the file's bytes");
	e2e_pass();
}
