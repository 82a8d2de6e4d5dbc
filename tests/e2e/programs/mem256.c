/* 256 MiB: half random data, half written zeros; a checksum says nothing moved. */
#include <stdint.h>
#include <sys/mman.h>

#include "e2e.h"

#define SIZE (256ul << 20)

static uint64_t sum(const uint64_t *p, size_t n)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

int main(int argc, char **argv)
{
	uint64_t *mem, x = 88172645463325252ull, before;
	size_t i, n = SIZE / 8;

	e2e_init(argc, argv);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	for (i = 0; i < n / 2; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		mem[i] = x;
	}
	memset(mem + n / 2, 0, SIZE / 2);
	before = sum(mem, n);
	e2e_ready(argc, argv);
	e2e_wait();
	if (sum(mem, n) != before)
		e2e_fail("the checksum of 256 MiB changed");
	e2e_pass();
}
