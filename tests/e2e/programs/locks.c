/*
 * File locks: an flock() held exclusively, POSIX record locks on two
 * ranges (one to the end of the file), an OFD lock.  After the restore a
 * child, another process, finds each one held where it was, and not
 * elsewhere.
 */
#define _GNU_SOURCE
#include <sys/file.h>
#include <sys/wait.h>

#include "e2e.h"

static char dir[] = "/tmp/e2e-locks.XXXXXX";

static int open_in_dir(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		e2e_fail("cannot open %s: %s", path, strerror(errno));
	return fd;
}

static void lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	if (fcntl(fd, cmd, &l) != 0)
		e2e_fail("cannot lock %lld+%lld: %s", (long long)start, (long long)len, strerror(errno));
}

/* Who holds what a write lock of start+len would meet: F_UNLCK for nobody. */
static short holder(int fd, int cmd, off_t start, off_t len, pid_t *pid)
{
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	if (fcntl(fd, cmd, &l) != 0)
		_exit(10);
	*pid = l.l_pid;
	return l.l_type;
}

/* The checks, from another process: an exit code per failure. */
static int check_from_child(pid_t parent)
{
	int a = open_in_dir("a"), b = open_in_dir("b"), c = open_in_dir("c");
	pid_t who;

	if (flock(a, LOCK_EX | LOCK_NB) != -1 || errno != EWOULDBLOCK)
		return 1;
	if (holder(b, F_GETLK, 5, 10, &who) != F_WRLCK || who != parent)
		return 2;
	if (holder(b, F_GETLK, 20, 1, &who) != F_UNLCK)
		return 3;
	if (holder(b, F_GETLK, 5000, 1, &who) != F_RDLCK || who != parent)
		return 4;
	if (holder(c, F_OFD_GETLK, 0, 50, &who) != F_RDLCK || who != -1)
		return 5;
	if (holder(c, F_OFD_GETLK, 50, 1, &who) != F_UNLCK)
		return 6;
	return 0;
}

int main(int argc, char **argv)
{
	static const char *what[] = {"", "the flock() is not held", "the POSIX write lock is not held",
				     "bytes 20 are locked", "the POSIX read lock to the end is not held",
				     "the OFD lock is not held", "byte 50 is OFD-locked"};
	int a, b, c, status;
	pid_t child;

	e2e_init(argc, argv);
	if (!mkdtemp(dir))
		e2e_fail("mkdtemp: %s", strerror(errno));
	a = open_in_dir("a");
	b = open_in_dir("b");
	c = open_in_dir("c");
	if (flock(a, LOCK_EX) != 0)
		e2e_fail("flock: %s", strerror(errno));
	lock(b, F_SETLK, F_WRLCK, 5, 10);
	lock(b, F_SETLK, F_RDLCK, 100, 0);
	lock(c, F_OFD_SETLK, F_RDLCK, 0, 50);

	e2e_ready(argc, argv);
	e2e_wait();

	child = fork();
	if (child == 0)
		_exit(check_from_child(getppid()));
	if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status))
		e2e_fail("the checking child did not finish");
	if (WEXITSTATUS(status))
		e2e_fail("%s", WEXITSTATUS(status) < 7 ? what[WEXITSTATUS(status)] : "a check could not run");
	for (const char *n = "abc"; *n; n++) {
		char path[128];

		snprintf(path, sizeof(path), "%s/%c", dir, *n);
		unlink(path);
	}
	rmdir(dir);
	e2e_pass();
}
