/*
 * An inotify with watches on a directory and a file, numbered 1 and 3 (the
 * watch that had 2 was removed before the dump): after restore the watches
 * report events under their numbers, and the removed one nothing.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *ev;
	int in, dir_wd, gone_wd, file_wd, fd;
	ssize_t n;

	e2e_init(argc, argv);
	mkdir("watched", 0700);
	mkdir("other", 0700);
	fd = open("watched/file", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	close(fd);
	in = inotify_init1(IN_NONBLOCK);
	dir_wd = inotify_add_watch(in, "watched", IN_CREATE | IN_DELETE);
	gone_wd = inotify_add_watch(in, "other", IN_CREATE);
	file_wd = inotify_add_watch(in, "watched/file", IN_MODIFY | IN_CLOSE_WRITE);
	if (in < 0 || dir_wd != 1 || gone_wd != 2 || file_wd != 3 || inotify_rm_watch(in, gone_wd))
		e2e_fail("cannot set up the inotify: %s", strerror(errno));
	while (read(in, buf, sizeof(buf)) > 0)
		; /* IN_IGNORED of the removed watch */

	e2e_ready(argc, argv);
	e2e_wait();

	if (read(in, buf, sizeof(buf)) != -1 || errno != EAGAIN)
		e2e_fail("the inotify has events nobody made");
	fd = open("other/new", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = open("watched/new", O_WRONLY | O_CREAT, 0600);
	close(fd);
	fd = open("watched/file", O_WRONLY | O_APPEND);
	if (write(fd, "x", 1) != 1)
		e2e_fail("cannot write watched/file");
	close(fd);
	n = read(in, buf, sizeof(buf));
	if (n <= 0)
		e2e_fail("the inotify reports nothing");
	ev = (struct inotify_event *)buf;
	if (ev->wd != dir_wd || !(ev->mask & IN_CREATE) || strcmp(ev->name, "new"))
		e2e_fail("first event: wd %d mask %x name %s", ev->wd, ev->mask, ev->len ? ev->name : "");
	ev = (struct inotify_event *)((char *)ev + sizeof(*ev) + ev->len);
	if ((char *)ev >= buf + n || ev->wd != file_wd || !(ev->mask & IN_MODIFY))
		e2e_fail("the file's watch does not report its change");
	ev = (struct inotify_event *)((char *)ev + sizeof(*ev) + ev->len);
	if ((char *)ev >= buf + n || ev->wd != file_wd || !(ev->mask & IN_CLOSE_WRITE))
		e2e_fail("the file's watch does not report its closing");
	if ((char *)ev + sizeof(*ev) + ev->len != buf + n)
		e2e_fail("the inotify reports more than it watches");
	unlink("watched/new");
	unlink("other/new");
	e2e_pass();
}
