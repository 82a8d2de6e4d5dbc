/*
 * Loads a smoke blob the way compel will load parasites, without ptrace:
 * maps it at a random 4 KiB-aligned address, relocates it with
 * compel_blob_relocate(), makes the code read-only and executable, calls
 * its export twice and checks what it computed, wrote and kept in bss.
 *
 * Built for every arch (natively, or statically to run under qemu-user);
 * LOADER_BLOBS lists the blobs of that arch it can run.
 *
 *   blob-smoke-loader BLOB     BLOB: x86_64, i386, arm, thumb or aarch64
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "smoke-protocol.h"
#include "smoke.h"

typedef void (*smoke_fn)(struct smoke_args *);

static const char *const expected_words[SMOKE_NR_WORDS] = {"compel ", "blob ", "smoke ", "test\n"};

static int fail(const char *blob, const char *what)
{
	printf("FAIL %s: %s\n", blob, what);
	return 1;
}

/*
 * A random page-aligned address: above 4 GiB on 64-bit arches so that
 * relocated words need all 64 bits, and clear of AddressSanitizer's
 * shadow memory (which ends below 0x10007fff8000).
 */
static void *random_address(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull;
	if (sizeof(void *) == 4)
		return (void *)(uintptr_t)(0x10000000u + ((uint32_t)r & 0x3ffff000u));
	return (void *)(uintptr_t)(0x200000000000ull + (r & 0xfffffff000ull));
}

static void *map_blob(const struct compel_blob_desc *d)
{
	int i;

	for (i = 0; i < 64; i++) {
		void *want = random_address();
		void *p = mmap(want, d->mem_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == want)
			return p;
		if (p != MAP_FAILED)
			munmap(p, d->mem_size); /* a kernel that ignored the flag */
	}
	return NULL;
}

static int run(const char *name, const struct compel_blob_desc *d)
{
	int fds[2];
	char out[128] = "", want[128] = "";
	struct smoke_args args;
	unsigned char *base;
	int64_t off;
	smoke_fn fn;
	ssize_t n;
	int i;

	if (d->nr_relocs == 0)
		return fail(name, "the blob has no relocations to test");
	base = map_blob(d);
	if (!base)
		return fail(name, "no free address for the blob");
	if (compel_blob_relocate(d, base, (uintptr_t)base) != 0)
		return fail(name, "compel_blob_relocate() refused the blob");
	if (mprotect(base, d->exec_size, PROT_READ | PROT_EXEC) != 0)
		return fail(name, "mprotect of the code failed");
	off = compel_blob_export_offset(d, "smoke_run");
	if (off < 0)
		return fail(name, "no export smoke_run");
	/* On Thumb the offset has bit 0 set: the call switches state. */
	fn = (smoke_fn)(uintptr_t)(base + off);

	if (pipe(fds) != 0)
		return fail(name, "pipe");
	for (i = 1; i <= 2; i++) {
		memset(&args, 0, sizeof(args));
		args.fd = fds[1];
		args.seed = 0x5eed0000u + (uint32_t)i;
		fn(&args);
		if (args.calls != (uint32_t)i)
			return fail(name, "the call counter in bss is wrong");
		if (args.checksum != smoke_checksum(expected_words, SMOKE_NR_WORDS, args.seed))
			return fail(name, "wrong checksum: relocated pointers or division helpers are broken");
		if (args.write_result < 0)
			return fail(name, "write() from the blob failed");
		if (i == 1 && args.bss_clean != 1)
			return fail(name, "bss was not zero when the blob first ran");
	}

	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	for (i = 0; i < 2 * SMOKE_NR_WORDS; i++)
		strcat(want, expected_words[i % SMOKE_NR_WORDS]);
	if (n < 0 || strcmp(out, want) != 0)
		return fail(name, "the blob wrote something else");
	printf("PASS %s: %u bytes at %p, %u relocations, checksum %016llx\n", name, d->mem_size,
	       (void *)base, d->nr_relocs, (unsigned long long)args.checksum);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		const struct compel_blob_desc *desc;
	} blobs[] = {LOADER_BLOBS};
	size_t i;

	if (argc != 2)
		return fail("?", "usage: blob-smoke-loader BLOB");
	for (i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++)
		if (strcmp(argv[1], blobs[i].name) == 0)
			return run(blobs[i].name, blobs[i].desc);
	return fail(argv[1], "this loader cannot run that blob");
}
