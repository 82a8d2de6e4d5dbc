/*
 * A session of its own with process groups: the root leads a new session;
 * child A leads a group, with A's own child in it; child C joins A's group;
 * child B stays in the root's group; child M is in the group of L, which
 * has exited (a group without its leader).  Each checks its session and
 * group after the restore.
 */
#include "e2e.h"

enum { OK, BAD_SID, BAD_PGID, BAD_CHILD };

/* Waits for SIGTERM in session sid and group pgid, and says whether it
 * still is. */
static int member(pid_t sid, pid_t pgid)
{
	e2e_tree_ready(0);
	e2e_wait();
	if (getsid(0) != sid)
		return BAD_SID;
	return getpgid(0) == pgid ? OK : BAD_PGID;
}

static pid_t child(pid_t sid, pid_t pgid)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(member(sid, pgid));
	return pid;
}

int main(int argc, char **argv)
{
	pid_t sid, a, b, c, l, m;
	int r;

	e2e_init(argc, argv);
	sid = setsid();
	if (sid < 0)
		e2e_fail("setsid: %s", strerror(errno));
	e2e_tree_init();

	a = fork();
	if (a == 0) {
		pid_t kid;

		setpgid(0, 0);
		kid = child(sid, getpid());
		r = member(sid, getpid());
		_exit(r == OK && e2e_verdict_of(kid) != OK ? BAD_CHILD : r);
	}
	setpgid(a, a);
	b = child(sid, sid);
	c = child(sid, a);
	setpgid(c, a);

	l = fork();
	if (l == 0) {
		e2e_wait_ending();
		_exit(0);
	}
	setpgid(l, l);
	m = child(sid, l);
	if (setpgid(m, l))
		e2e_fail("setpgid(%d, %d): %s", (int)m, (int)l, strerror(errno));
	if (e2e_tree_wait(5, NULL))
		e2e_fail("the tree is not ready");
	if (e2e_verdict_of(l) != 0)
		e2e_fail("the group leader did not end well");
	e2e_ready(argc, argv);

	e2e_wait();
	if (getsid(0) != sid || getpgid(0) != sid)
		e2e_fail("the root is in session %d, group %d, not %d", (int)getsid(0), (int)getpgid(0), (int)sid);
	if ((r = e2e_verdict_of(a)))
		e2e_fail("A (pid %d, a group leader) says %d", (int)a, r);
	if ((r = e2e_verdict_of(b)))
		e2e_fail("B (pid %d, in the root's group) says %d", (int)b, r);
	if ((r = e2e_verdict_of(c)))
		e2e_fail("C (pid %d, in A's group) says %d", (int)c, r);
	if ((r = e2e_verdict_of(m)))
		e2e_fail("M (pid %d, in the group of L, gone) says %d", (int)m, r);
	e2e_pass();
}
