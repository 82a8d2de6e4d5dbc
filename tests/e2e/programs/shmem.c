/*
 * Shared anonymous memory across a tree (MAP_SHARED over fork): the parent
 * fills part of it, each child writes its own page, one page only a child
 * ever touched.  After the restore each child writes again, and the parent
 * sees all of it: one memory for the three, as before the dump.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "e2e.h"

#define PAGES 2048 /* 8 MiB */

static uint32_t *page(uint8_t *mem, int n) { return (uint32_t *)(mem + (size_t)n * 4096); }

int main(int argc, char **argv)
{
	uint8_t *mem;
	pid_t children[2];

	e2e_init(argc, argv);
	e2e_tree_init();
	mem = mmap(NULL, (size_t)PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	for (int n = 0; n < PAGES / 2; n++)
		*page(mem, n) = 0x1000u + (uint32_t)n;
	for (int k = 0; k < 2; k++) {
		children[k] = fork();
		if (children[k] == 0) {
			*page(mem, PAGES / 2 + k) = 0xc0de0000u + (uint32_t)k; /* only this child touches it */
			e2e_tree_ready(k);
			e2e_wait();
			page(mem, k)[1] = 0xaf7e0000u + (uint32_t)k;
			_exit(0);
		}
	}
	if (e2e_tree_wait(2, NULL))
		e2e_fail("the children are not ready");
	e2e_ready(argc, argv);
	e2e_wait();
	for (int k = 0; k < 2; k++)
		if (e2e_verdict_of(children[k]) != 0)
			e2e_fail("child %d ended badly", k);
	for (int n = 0; n < PAGES / 2; n++)
		if (*page(mem, n) != 0x1000u + (uint32_t)n)
			e2e_fail("page %d holds %x", n, *page(mem, n));
	for (int k = 0; k < 2; k++) {
		if (*page(mem, PAGES / 2 + k) != 0xc0de0000u + (uint32_t)k)
			e2e_fail("child %d's own page holds %x", k, *page(mem, PAGES / 2 + k));
		if (page(mem, k)[1] != 0xaf7e0000u + (uint32_t)k)
			e2e_fail("child %d's write after the restore did not reach the parent (%x)", k, page(mem, k)[1]);
	}
	e2e_pass();
}
