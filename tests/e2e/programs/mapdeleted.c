/*
 * Mappings of deleted files, as POSIX semaphores make them (sem_open maps a
 * file of /dev/shm and unlinks it): a file mapped shared by a parent and
 * its child, and a file mapped privately with a page of it written.  After
 * the restore the shared mapping is still one memory for both (a write of
 * the child's shows in the parent), and the private one holds the file's
 * pages and the written one.
 *
 * And a deleted file both mapped and open, as Python's multiprocessing
 * keeps its shared memory: the parent holds it open twice (one open file
 * its child inherits, at an offset, and one opened apart) and maps it
 * shared, and so does the child.  After the restore all are one file: what
 * the child writes through its descriptor shows in the parent's mapping,
 * and the descriptors have the file's inode, their offsets and flags.
 *
 * And two deleted files of one name (made, mapped and deleted one after
 * the other): each comes back as itself, with that name.
 */
#include <sys/mman.h>
#include <sys/stat.h>

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

/* Both open descriptors of the deleted file: the same inode, where they were. */
static int open_as_they_were(int inherited, int apart)
{
	struct stat a, b;

	return fstat(inherited, &a) == 0 && fstat(apart, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev &&
	       a.st_nlink == 0 && lseek(inherited, 0, SEEK_CUR) == 100 && lseek(apart, 0, SEEK_CUR) == 200 &&
	       (fcntl(apart, F_GETFL) & O_ACCMODE) == O_RDONLY && (fcntl(inherited, F_GETFL) & O_ACCMODE) == O_RDWR;
}

int main(int argc, char **argv)
{
	char *shared, *priv, *both, *first, *second;
	int inherited, apart;
	pid_t child;

	e2e_init(argc, argv);
	e2e_tree_init();
	shared = map_deleted("shared.bin", MAP_SHARED, 's');
	priv = map_deleted("private.bin", MAP_PRIVATE, 'p');
	priv[PAGE] = 'W';
	first = map_deleted("same.bin", MAP_SHARED, '1');
	second = map_deleted("same.bin", MAP_SHARED, '2');
	inherited = open("both.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
	apart = open("both.bin", O_RDONLY);
	if (inherited < 0 || apart < 0 || ftruncate(inherited, 2 * PAGE) || unlink("both.bin"))
		e2e_fail("cannot make both.bin: %s", strerror(errno));
	both = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, inherited, 0);
	if (both == MAP_FAILED || lseek(inherited, 100, SEEK_SET) != 100 || lseek(apart, 200, SEEK_SET) != 200)
		e2e_fail("cannot map both.bin: %s", strerror(errno));
	both[0] = 'b';
	child = fork();
	if (child == 0) {
		e2e_tree_ready(0);
		e2e_wait();
		shared[PAGE + 1] = 'C';
		first[1] = 'F', second[1] = 'S';
		if (pwrite(inherited, "D", 1, PAGE + 2) != 1)
			_exit(2);
		_exit(shared[0] == 's' && priv[0] == 'p' && priv[PAGE] == 'W' && both[0] == 'b' ? 0 : 1);
	}
	if (e2e_tree_wait(1, NULL))
		e2e_fail("the child is not ready");
	e2e_ready(argc, argv);
	e2e_wait();
	if (!open_as_they_were(inherited, apart))
		e2e_fail("the descriptors of the deleted file both.bin are not what they were");
	if (e2e_verdict_of(child) != 0)
		e2e_fail("the child does not see the files' contents");
	if (shared[PAGE + 1] != 'C')
		e2e_fail("the child's write to the shared mapping does not show in the parent (%c)", shared[PAGE + 1]);
	if (both[PAGE + 2] != 'D')
		e2e_fail("the child's write through its descriptor of both.bin does not show in the parent's mapping");
	if (shared[0] != 's' || priv[0] != 'p' || priv[PAGE] != 'W' || priv[PAGE + 1] != 'p')
		e2e_fail("the mappings do not hold what they held");
	if (first[0] != '1' || first[1] != 'F' || second[0] != '2' || second[1] != 'S')
		e2e_fail("the two deleted files of one name are not each itself, shared with the child");
	e2e_pass();
}
