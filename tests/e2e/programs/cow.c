/*
 * Private memory shared copy-on-write after fork: a parent fills --mib N
 * (512 by default) and forks four children, which change a little of it
 * each in their own way: write pages, write zeros, drop pages (they read
 * as zeros again), and in a private file mapping the parent had written
 * to, drop a page (the file shows through again) or write one.  After the
 * children are ready the parent writes some pages, which the children keep
 * as they were.  After the restore every process checks what it sees, and
 * the parent checks from smaps that the five processes still share the
 * memory: their proportional sizes (Pss) of it add up to about N MiB, not
 * five times that.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "e2e.h"

#define PAGE 4096
#define CHILDREN 4
#define FILE_PAGES 8

static size_t pages;
static uint8_t *mem;
static char *file_map;

static uint64_t *word(size_t page) { return (uint64_t *)(mem + page * PAGE); }

static uint64_t pattern(size_t page, uint64_t gen) { return (page * 0x9e3779b97f4a7c15ull) ^ (gen << 56); }

static void fill(size_t first, size_t n, uint64_t gen)
{
	for (size_t p = first; p < first + n; p++)
		for (size_t w = 0; w < PAGE / 8; w++)
			word(p)[w] = pattern(p, gen) + w;
}

/* The page holds what fill(gen) put there (gen 0: zeros). */
static int holds(size_t page, uint64_t gen)
{
	static const size_t probe[] = {0, 1, 255, 511};

	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
		if (word(page)[probe[i]] != (gen ? pattern(page, gen) + probe[i] : 0))
			return 0;
	return 1;
}

/* What child k changes: its own pages, written with generation 100 + k. */
static size_t own_first(int k) { return (size_t)k * 1024 + 16; }
#define OWN_PAGES 64
#define DROPPED_FIRST 2048 /* child 0 drops these */
#define DROPPED_PAGES 256
#define ZEROED_FIRST 4096 /* child 2 writes zeros there */
#define ZEROED_PAGES 32
#define LATE_FIRST 8192 /* the parent writes these after the fork, generation 2 */
#define LATE_PAGES 64

/* Generation page should hold in process k (-1: the parent). */
static uint64_t expected(int k, size_t page)
{
	if (k < 0)
		return page >= LATE_FIRST && page < LATE_FIRST + LATE_PAGES ? 2 : 1;
	if (page >= own_first(k) && page < own_first(k) + OWN_PAGES)
		return 100 + (uint64_t)k;
	if (k == 0 && page >= DROPPED_FIRST && page < DROPPED_FIRST + DROPPED_PAGES)
		return 0;
	if (k == 2 && page >= ZEROED_FIRST && page < ZEROED_FIRST + ZEROED_PAGES)
		return 0;
	return 1;
}

/* NULL if process k sees what it should, or what is wrong. */
static const char *check(int k)
{
	static char why[256];
	/* The file's pages 0-3 were written by the parent before the fork. */
	char file_expected[FILE_PAGES] = {'P', 'P', 'P', 'P', 'e', 'f', 'g', 'h'};

	for (size_t p = 0; p < pages; p++)
		if (!holds(p, expected(k, p))) {
			snprintf(why, sizeof(why), "page %zu holds %llx, not generation %llu", p,
				 (unsigned long long)word(p)[0], (unsigned long long)expected(k, p));
			return why;
		}
	if (k == 0)
		file_expected[1] = 'b'; /* dropped: the file's own page again */
	if (k == 1)
		file_expected[5] = 'C';
	for (int i = 0; i < FILE_PAGES; i++)
		if (file_map[i * PAGE] != file_expected[i] || file_map[i * PAGE + PAGE - 1] != file_expected[i]) {
			snprintf(why, sizeof(why), "page %d of the file mapping holds %c, not %c", i, file_map[i * PAGE],
				 file_expected[i]);
			return why;
		}
	return NULL;
}

/* The Pss of pid's mapping at mem, in KiB; -1 if it has none. */
static long pss_kib(pid_t pid)
{
	char path[64], line[256], head[32];
	long kib = -1;
	int in = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	snprintf(head, sizeof(head), "%lx-", (unsigned long)mem);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
			in = !strncmp(line, head, strlen(head));
		else if (in && sscanf(line, "Pss: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return in ? kib : -1;
}

static void child(int k)
{
	const char *why;

	fill(own_first(k), OWN_PAGES, 100 + (uint64_t)k);
	if (k == 0 && (madvise(mem + (size_t)DROPPED_FIRST * PAGE, (size_t)DROPPED_PAGES * PAGE, MADV_DONTNEED) ||
		       madvise(file_map + PAGE, PAGE, MADV_DONTNEED)))
		_exit(2);
	if (k == 1)
		memset(file_map + 5 * PAGE, 'C', PAGE);
	if (k == 2)
		memset(mem + (size_t)ZEROED_FIRST * PAGE, 0, (size_t)ZEROED_PAGES * PAGE);
	e2e_tree_ready(k);
	e2e_wait();
	why = check(k);
	if (why) {
		fprintf(stderr, "cow child %d: %s\n", k, why);
		_exit(1);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	pid_t children[CHILDREN];
	size_t mib = 512;
	long total = 0;
	const char *why;
	char buf[PAGE];
	int fd;

	e2e_init(argc, argv);
	for (int i = 1; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "--mib"))
			mib = strtoul(argv[i + 1], NULL, 10);
	if (mib < 64)
		e2e_fail("--mib %zu: at least 64", mib);
	pages = mib * 256;
	e2e_tree_init();
	mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("cow.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; i < FILE_PAGES; i++) {
		memset(buf, 'a' + i, PAGE);
		if (fd < 0 || write(fd, buf, PAGE) != PAGE)
			e2e_fail("cannot write cow.bin");
	}
	file_map = mmap(NULL, FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (mem == MAP_FAILED || file_map == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	close(fd);
	fill(0, pages, 1);
	memset(file_map, 'P', 4 * PAGE);
	for (int k = 0; k < CHILDREN; k++) {
		children[k] = fork();
		if (children[k] < 0)
			e2e_fail("fork: %s", strerror(errno));
		if (children[k] == 0)
			child(k);
	}
	if (e2e_tree_wait(CHILDREN, NULL))
		e2e_fail("the children are not ready");
	fill(LATE_FIRST, LATE_PAGES, 2);
	e2e_ready(argc, argv);
	e2e_wait();

	total = pss_kib(getpid());
	for (int k = 0; k < CHILDREN; k++) {
		long kib = pss_kib(children[k]);
		if (kib < 0 || total < 0)
			e2e_fail("cannot read the Pss of the memory in pid %d", (int)children[k]);
		total += kib;
	}
	/* One copy, and the pages each process has of its own. */
	if (total > (long)(mib * 1024 * 5 / 4))
		e2e_fail("the %zu MiB the processes share take %ld MiB in all (Pss): copied, not shared", mib, total / 1024);
	why = check(-1);
	if (why)
		e2e_fail("the parent: %s", why);
	for (int k = 0; k < CHILDREN; k++) {
		int v = e2e_verdict_of(children[k]);
		if (v != 0)
			e2e_fail("child %d ended with %d (its error is on stderr)", k, v);
	}
	e2e_pass();
}
