/* A file mapped shared and privately: written pages, and untouched ones. */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE 4096

int main(int argc, char **argv)
{
	char page[PAGE], *shared, *priv;
	int fd, i;

	e2e_init(argc, argv);
	fd = open("mapped.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
	for (i = 0; i < 8; i++) {
		memset(page, 'a' + i, PAGE);
		if (fd < 0 || write(fd, page, PAGE) != PAGE)
			e2e_fail("cannot write mapped.bin");
	}
	shared = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4 * PAGE);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	close(fd);
	memset(shared + PAGE, 'S', PAGE);  /* goes to the file */
	memset(priv + 2 * PAGE, 'P', PAGE); /* a private copy */
	memset(priv + 3 * PAGE, 0, PAGE);   /* a private copy of zeros */
	e2e_ready(argc, argv);
	e2e_wait();
	if (shared[0] != 'a' || shared[PAGE] != 'S' || shared[3 * PAGE + 7] != 'd')
		e2e_fail("the shared mapping changed");
	if (priv[0] != 'e' || priv[PAGE] != 'f' || priv[2 * PAGE + 9] != 'P' || priv[3 * PAGE + 1] != 0)
		e2e_fail("the private mapping changed: %c %c %c %d", priv[0], priv[PAGE], priv[2 * PAGE + 9],
			 priv[3 * PAGE + 1]);
	shared[2 * PAGE] = 'Z';
	fd = open("mapped.bin", O_RDONLY);
	if (pread(fd, page, 1, 2 * PAGE) != 1 || page[0] != 'Z')
		e2e_fail("the shared mapping no longer writes through to the file");
	e2e_pass();
}
