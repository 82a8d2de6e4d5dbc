/*
 * getinfo PID: prints what process PID sees of itself (pid, ids, working
 * directory, some limits), asked from inside it by a parasite.  Uses the C
 * API of libcompel.
 */
#include <stdio.h>
#include <stdlib.h>

#include <compel/compel.h>

#include "getinfo-parasite.h"
#include "getinfo.h"

static int die(const char *step)
{
	fprintf(stderr, "getinfo: %s: %s\n", step, compel_last_error());
	return 1;
}

static void print_limit(const char *name, const struct getinfo_rlimit *r)
{
	printf("%s", name);
	if (r->cur == ~0ull)
		printf(" unlimited");
	else
		printf(" %llu", (unsigned long long)r->cur);
	if (r->max == ~0ull)
		printf(" unlimited\n");
	else
		printf(" %llu\n", (unsigned long long)r->max);
}

int main(int argc, char **argv)
{
	struct compel_infect_opts opts = {sizeof(struct getinfo), 0};
	compel_task *task;
	compel_infection *inf;
	struct getinfo info;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: getinfo PID\n");
		return 2;
	}
	if (compel_seize(atoi(argv[1]), 0, &task))
		return die("seize");
	if (compel_infect(task, getinfo_parasite_blobs, &opts, &inf)) {
		compel_detach(task);
		return die("infect");
	}
	if (compel_call(inf, GETINFO_CMD, &ret)) {
		compel_detach(task); /* cures too */
		return die("call");
	}
	info = *(const struct getinfo *)compel_args(inf);
	if (compel_cure(inf) || compel_detach(task))
		return die("cure");
	if (ret < 0) {
		fprintf(stderr, "getinfo: the parasite failed with error %d\n", -ret);
		return 1;
	}

	printf("pid %d\n", info.pid);
	printf("uid %u gid %u\n", info.uid, info.gid);
	printf("cwd %s\n", info.cwd);
	print_limit("RLIMIT_NOFILE", &info.rlimits[0]);
	print_limit("RLIMIT_STACK", &info.rlimits[1]);
	print_limit("RLIMIT_CORE", &info.rlimits[2]);
	return 0;
}
