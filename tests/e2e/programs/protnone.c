/*
 * Memory the process cannot read: data, written zeros and untouched pages
 * in PROT_NONE anonymous memory and in a PROT_NONE private file mapping.
 * criu reads such pages itself instead of through the parasite.
 */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE 4096

static void fill(char *p, int c) { memset(p, c, PAGE); }

static int is(const char *p, int c)
{
	int i;

	for (i = 0; i < PAGE; i++)
		if (p[i] != c)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	char page[PAGE], *anon, *priv;
	int fd, i;

	e2e_init(argc, argv);
	anon = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = open("file.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (i = 0; i < 4; i++) {
		fill(page, 'a' + i);
		if (fd < 0 || write(fd, page, PAGE) != PAGE)
			e2e_fail("cannot write file.bin");
	}
	priv = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (anon == MAP_FAILED || priv == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	close(fd);
	for (i = 0; i < 4; i++)
		fill(anon + i * PAGE, 'A' + i); /* pages 4, 5 zeros, 6, 7 untouched */
	fill(anon + 4 * PAGE, 0);
	fill(anon + 5 * PAGE, 0);
	fill(priv + PAGE, 'P');  /* a private copy */
	fill(priv + 2 * PAGE, 0); /* a private copy of zeros, over the file's 'c' */
	if (mprotect(anon, 8 * PAGE, PROT_NONE) || mprotect(priv, 4 * PAGE, PROT_NONE))
		e2e_fail("mprotect: %s", strerror(errno));
	e2e_ready(argc, argv);
	e2e_wait();
	if (mprotect(anon, 8 * PAGE, PROT_READ) || mprotect(priv, 4 * PAGE, PROT_READ))
		e2e_fail("mprotect: %s", strerror(errno));
	for (i = 0; i < 4; i++)
		if (!is(anon + i * PAGE, 'A' + i))
			e2e_fail("anonymous page %d lost its data", i);
	for (i = 4; i < 8; i++)
		if (!is(anon + i * PAGE, 0))
			e2e_fail("anonymous page %d is not zero", i);
	if (!is(priv, 'a') || !is(priv + PAGE, 'P') || !is(priv + 2 * PAGE, 0) || !is(priv + 3 * PAGE, 'd'))
		e2e_fail("the private file mapping changed: %c %c %d %c", priv[0], priv[PAGE], priv[2 * PAGE],
			 priv[3 * PAGE]);
	e2e_pass();
}
