/*
 * A child subreaper and its orphans: the root is a child subreaper; its
 * child P forked G and ended, and its child S made a session of its own,
 * forked S1 and ended: G and S1 are the root's children now, S1 in the
 * session and group of S, which no process leads.  Each checks its parent
 * (and S1 its session) after the restore.
 */
#include <sys/prctl.h>

#include "e2e.h"

static int orphan(pid_t parent, pid_t sid, pid_t pgid)
{
	e2e_wait();
	if (getppid() != parent)
		return 1;
	return getsid(0) == sid && getpgid(0) == pgid ? 0 : 2;
}

int main(int argc, char **argv)
{
	pid_t root = getpid(), p, s, sid = getsid(0), pgid = getpgid(0), orphans[2];
	int i, r;

	e2e_init(argc, argv);
	e2e_tree_init();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		e2e_fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	p = fork();
	if (p == 0) {
		if (fork() == 0) {
			e2e_tree_ready(0);
			_exit(orphan(root, sid, pgid));
		}
		_exit(0);
	}
	s = fork();
	if (s == 0) {
		setsid();
		if (fork() == 0) {
			e2e_tree_ready(0);
			_exit(orphan(root, getsid(0), getsid(0)));
		}
		_exit(0);
	}
	if (e2e_tree_wait(2, orphans))
		e2e_fail("the orphans are not ready");
	waitpid(p, NULL, 0);
	waitpid(s, NULL, 0);
	e2e_ready(argc, argv);

	e2e_wait();
	for (i = 0; i < 2; i++)
		if ((r = e2e_verdict_of(orphans[i])))
			e2e_fail("orphan %d says %d", (int)orphans[i], r);
	e2e_pass();
}
