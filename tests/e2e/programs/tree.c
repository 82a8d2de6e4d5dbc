/*
 * A process tree: a parent with three children, the first two with a child
 * of their own, the third with a second thread.  Every process (and that
 * thread) fills memory of its own and keeps checking it; at the end each
 * checks it once more.  SIGTERM goes to the parent, which passes it on and
 * reads its children's verdicts (their exit codes), as each child does for
 * its own.
 */
#include <pthread.h>

#include "e2e.h"

#define WORDS (256 * 1024)

enum { OK, BAD_MEMORY, BAD_COUNT, BAD_CHILD };

/* Fills a MiB with a pattern of its own and checks it until SIGTERM; a
 * child tells the root once its MiB is filled. */
static int work(unsigned seed, int child)
{
	unsigned *mem = malloc(WORDS * sizeof(unsigned));
	volatile unsigned long rounds = 0;
	unsigned long local = 0;
	struct timespec ms = {0, 1000000};
	size_t i;

	if (!mem)
		return BAD_MEMORY;
	for (i = 0; i < WORDS; i++)
		mem[i] = seed * 2654435761u + (unsigned)i;
	if (child)
		e2e_tree_ready(0);
	while (!e2e_stop) {
		for (i = 0; i < WORDS; i++)
			if (mem[i] != seed * 2654435761u + (unsigned)i)
				return BAD_MEMORY;
		rounds++;
		local++;
		nanosleep(&ms, NULL);
	}
	for (i = 0; i < WORDS; i++)
		if (mem[i] != seed * 2654435761u + (unsigned)i)
			return BAD_MEMORY;
	return rounds == local ? OK : BAD_COUNT;
}

static void *thread(void *seed)
{
	return (void *)(long)work((unsigned)(long)seed, 1);
}

static pid_t spawn(unsigned seed, int grandchild)
{
	pid_t pid = fork();
	pid_t kid = 0;
	pthread_t t;
	void *tr = (void *)OK;
	int r;

	if (pid)
		return pid;
	if (grandchild) {
		kid = fork();
		if (kid == 0)
			_exit(work(seed * 10, 1));
	} else if (pthread_create(&t, NULL, thread, (void *)(long)(seed * 100))) {
		_exit(BAD_CHILD);
	}
	r = work(seed, 1);
	if (kid && e2e_verdict_of(kid) != OK)
		r = BAD_CHILD;
	if (!grandchild && (pthread_join(t, &tr) || tr != (void *)OK))
		r = BAD_MEMORY;
	_exit(r);
}

int main(int argc, char **argv)
{
	pid_t children[3];
	int i, r;

	e2e_init(argc, argv);
	e2e_tree_init();
	for (i = 0; i < 3; i++)
		children[i] = spawn(i + 1, i < 2);
	if (e2e_tree_wait(6, NULL))
		e2e_fail("the tree is not ready");
	e2e_ready(argc, argv);
	r = work(7, 0);
	if (r != OK)
		e2e_fail("the parent's own check failed (%d)", r);
	for (i = 0; i < 3; i++) {
		r = e2e_verdict_of(children[i]);
		if (r != OK)
			e2e_fail("child %d (pid %d) says %d", i, (int)children[i], r);
	}
	e2e_pass();
}
