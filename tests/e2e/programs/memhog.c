/*
 * --mib N of memory, the first half random, the second half written with
 * zeros (present, but nothing to save); on SIGTERM it checks every word.
 * The e2e test of 256 MiB, and the benchmark's process: a fast but wrong
 * restore does not pass for a benchmark result.  With --procs P, a tree:
 * P - 1 children each fill and check N MiB of their own (another random
 * sequence each), and the parent reads their verdicts; with --cow as well,
 * the parent fills its N MiB before it forks, and the children check that
 * memory, which they share with it copy-on-write.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "e2e.h"

static uint64_t next(uint64_t *s)
{
	/* xorshift64*: fast, and incompressible enough for page images. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

struct hog {
	uint64_t *mem, seed, sum;
	size_t words;
};

static int fill(struct hog *h, size_t mib, uint64_t seed)
{
	uint64_t s = seed;
	size_t i, half;

	h->words = mib << 17;
	h->seed = seed;
	h->sum = 0;
	h->mem = mmap(NULL, h->words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!mib || h->mem == MAP_FAILED)
		return -1;
	half = h->words / 2;
	for (i = 0; i < half; i++)
		h->sum += h->mem[i] = next(&s);
	memset(h->mem + half, 0, (h->words - half) * 8);
	return 0;
}

/* NULL if every word is as filled, or what is wrong. */
static const char *check(const struct hog *h)
{
	uint64_t s = h->seed, sum = 0;
	size_t i, half = h->words / 2;

	for (i = 0; i < half; i++) {
		if (h->mem[i] != next(&s))
			return "a word of the random half changed";
		sum += h->mem[i];
	}
	for (; i < h->words; i++)
		if (h->mem[i])
			return "a word of the zero half is not zero";
	return sum == h->sum ? NULL : "the checksum differs";
}

int main(int argc, char **argv)
{
	size_t mib = 0, procs = 1, i;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct hog h;
	pid_t *kids;
	const char *bad;
	int r = 0, cow = 0;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < (size_t)argc)
			mib = strtoul(argv[i + 1], NULL, 10);
		if (!strcmp(argv[i], "--procs") && i + 1 < (size_t)argc)
			procs = strtoul(argv[i + 1], NULL, 10);
		cow |= !strcmp(argv[i], "--cow");
	}
	e2e_init(argc, argv);
	e2e_tree_init();
	if (cow && fill(&h, mib, seed))
		e2e_fail("cannot map %zu MiB (give --mib N)", mib);
	kids = calloc(procs, sizeof(*kids));
	for (i = 1; i < procs; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			if (!cow)
				r = fill(&h, mib, seed + i);
			e2e_tree_ready(0);
			e2e_wait();
			_exit(r || check(&h) ? 1 : 0);
		}
	}
	if (!cow && fill(&h, mib, seed))
		e2e_fail("cannot map %zu MiB (give --mib N)", mib);
	if (e2e_tree_wait((int)procs - 1, NULL))
		e2e_fail("the children are not ready");
	e2e_ready(argc, argv);
	e2e_wait();
	bad = check(&h);
	if (bad)
		e2e_fail("%s", bad);
	for (i = 1; i < procs; i++)
		if ((r = e2e_verdict_of(kids[i])))
			e2e_fail("child %zu (pid %d) says %d", i, (int)kids[i], r);
	e2e_pass();
}
