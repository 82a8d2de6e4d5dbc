/*
 * What the smoke-test loader and the smoke blob share: the loader passes a
 * struct smoke_args, the blob fills it in.  compel-layout checks that the
 * layout is the same for the host and every blob arch.
 */
#ifndef SMOKE_PROTOCOL_H
#define SMOKE_PROTOCOL_H

#include <compel/abi.h>

#define SMOKE_NR_WORDS 4

struct smoke_args {
	int32_t fd;           /* in: where the blob writes its words */
	uint32_t seed;        /* in */
	compel_u64 checksum;  /* out: smoke_checksum() of the words */
	uint32_t calls;       /* out: how many times the blob ran */
	uint32_t bss_clean;   /* out: 1 if the blob's bss was all zero on the first call */
	compel_s64 write_result; /* out: what the last write() returned */
};

/*
 * FNV-1a over the words, then mixed with 64-bit divisions and remainders
 * so that a 32-bit blob exercises the std plugin's division helpers.
 */
static inline uint64_t smoke_checksum(const char *const *words, unsigned n, uint32_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	unsigned i;
	const char *p;

	for (i = 0; i < n; i++)
		for (p = words[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	return h / 7 + h % 1000003 + (uint64_t)((int64_t)(h >> 1) / -13) + (uint32_t)h / 3u +
	       (uint32_t)((int32_t)h % -5);
}

#endif
