/*
 * An epoll a parent and its child share over fork.  The parent added a
 * pipe's read end before the fork; after it, the child closes its copy of
 * that end and adds an eventfd of its own with the same number: the
 * epoll has two targets of one number, each process's file.  Both have
 * something to read.  The parent also adds an eventfd and
 * moves it to another number.  After the restore both see both events
 * through the one epoll, each process changes and removes the target it
 * added by its own number, and the other sees the change; the moved
 * eventfd is still watched, and its old number still closed.
 */
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "e2e.h"

enum { kPipe = 1, kCounter = 2, kMoved = 3 };

/* NULL if ep has exactly the events whose data are want[0..n). */
static const char *events(int ep, const uint64_t *want, int n)
{
	static char why[200];
	struct epoll_event got[4];
	int i, j, k = epoll_wait(ep, got, 4, 0);

	if (k != n) {
		snprintf(why, sizeof(why), "%d events, not %d (%s)", k, n, k < 0 ? strerror(errno) : "");
		return why;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < k && got[j].data.u64 != want[i]; j++)
			;
		if (j == k) {
			snprintf(why, sizeof(why), "no event with data %llu", (unsigned long long)want[i]);
			return why;
		}
	}
	return NULL;
}

static int child_fail(const char *what, const char *why)
{
	fprintf(stderr, "sharedepoll child: %s: %s\n", what, why);
	return 1;
}

/* Adds its eventfd; after the restore checks that the parent's change of
 * the pipe's data shows, and changes and removes its own target. */
static int child(int ep, int pipe_end)
{
	struct epoll_event ev = {EPOLLIN, {.u64 = kCounter}};
	uint64_t one = 1, both[] = {kPipe + 10, kCounter}, changed[] = {kPipe + 10, kCounter + 20};
	int counter;
	const char *why;

	close(pipe_end);
	counter = eventfd(0, 0);
	if (counter != pipe_end)
		return child_fail("cannot set up", "the eventfd did not take the pipe's number");
	if (epoll_ctl(ep, EPOLL_CTL_ADD, counter, &ev) || write(counter, &one, sizeof(one)) != sizeof(one))
		return child_fail("cannot set up", strerror(errno));
	e2e_tree_ready(1);
	e2e_wait_ending();
	/* The parent has made the pipe's data kPipe + 10 by now. */
	if ((why = events(ep, both, 2)))
		return child_fail("after the restore", why);
	/* The epoll knows the eventfd by this process's number. */
	if (epoll_ctl(ep, EPOLL_CTL_ADD, counter, &ev) == 0 || errno != EEXIST)
		return child_fail("adding the eventfd again", "did not fail with EEXIST");
	ev.data.u64 = kCounter + 20;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, counter, &ev))
		return child_fail("EPOLL_CTL_MOD of the eventfd", strerror(errno));
	if ((why = events(ep, changed, 2)))
		return child_fail("after EPOLL_CTL_MOD", why);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, counter, NULL))
		return child_fail("EPOLL_CTL_DEL of the eventfd", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	struct epoll_event ev = {EPOLLIN, {.u64 = kPipe}};
	uint64_t both[] = {kPipe, kCounter}, pipe_only[] = {kPipe + 10}, moved_only[] = {kMoved}, one = 1;
	int ep, p[2], moved, was;
	const char *why;
	pid_t kid;

	e2e_init(argc, argv);
	e2e_tree_init();
	ep = epoll_create1(0);
	if (ep < 0 || pipe(p) || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) || write(p[1], "x", 1) != 1)
		e2e_fail("cannot set up: %s", strerror(errno));
	kid = fork();
	if (kid == 0)
		_exit(child(ep, p[0]));
	if (e2e_tree_wait(1, NULL))
		e2e_fail("the child did not get ready");
	ev.data.u64 = kMoved;
	was = eventfd(0, 0);
	moved = fcntl(was, F_DUPFD, 20);
	if (was < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, was, &ev) || moved < 0 || close(was))
		e2e_fail("cannot move an eventfd: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();

	if ((why = events(ep, both, 2)))
		e2e_fail("after the restore: %s", why);
	ev.data.u64 = kPipe + 10;
	if (epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev))
		e2e_fail("EPOLL_CTL_MOD of the pipe: %s", strerror(errno));
	if (e2e_verdict_of(kid) != 0)
		e2e_fail("the child failed");
	/* The child has removed its eventfd. */
	if ((why = events(ep, pipe_only, 1)))
		e2e_fail("after the child's EPOLL_CTL_DEL: %s", why);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL) || epoll_wait(ep, &ev, 1, 0) != 0)
		e2e_fail("EPOLL_CTL_DEL of the pipe: %s", strerror(errno));
	if (fcntl(was, F_GETFD) >= 0)
		e2e_fail("fd %d, where the eventfd was added from, is open", was);
	if (write(moved, &one, sizeof(one)) != sizeof(one) || (why = events(ep, moved_only, 1)))
		e2e_fail("the moved eventfd: %s", why ? why : strerror(errno));
	e2e_pass();
}
