/*
 * --mib N of memory, the first half random, the second half written with
 * zeros (present, but nothing to save); on SIGTERM it checks every word.
 * The e2e test of 256 MiB, and the benchmark's process: a fast but wrong
 * restore does not pass for a benchmark result.
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

int main(int argc, char **argv)
{
	size_t mib = 0;
	uint64_t *mem, seed = 0x9e3779b97f4a7c15ULL, sum = 0, check;
	size_t words, half, i;

	for (i = 1; i + 1 < (size_t)argc; i += 2)
		if (!strcmp(argv[i], "--mib"))
			mib = strtoul(argv[i + 1], NULL, 10);
	e2e_init(argc, argv);
	words = mib << 17;
	half = words / 2;
	mem = mmap(NULL, words * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!mib || mem == MAP_FAILED)
		e2e_fail("cannot map %zu MiB (give --mib N)", mib);
	for (i = 0; i < half; i++)
		sum += mem[i] = next(&seed);
	memset(mem + half, 0, (words - half) * 8);
	e2e_ready(argc, argv);
	e2e_wait();
	check = 0;
	seed = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < half; i++) {
		if (mem[i] != next(&seed))
			e2e_fail("word %zu of the random half changed", i);
		check += mem[i];
	}
	for (; i < words; i++)
		if (mem[i])
			e2e_fail("word %zu of the zero half is 0x%llx", i, (unsigned long long)mem[i]);
	if (check != sum)
		e2e_fail("checksum 0x%llx, expected 0x%llx", (unsigned long long)check, (unsigned long long)sum);
	e2e_pass();
}
