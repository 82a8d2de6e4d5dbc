/*
 * What the compel tests and their parasite share: commands and the layout
 * of the argument area (checked by compel-layout for every arch).
 */
#ifndef TEST_PROTOCOL_H
#define TEST_PROTOCOL_H

#include <compel/abi.h>
#include <compel/rpc.h>

enum {
	TEST_CMD_IDS = COMPEL_CMD_USER, /* pid, tid, uid as the victim sees them */
	TEST_CMD_MIX,                   /* out = mix(in), computed in the victim */
	TEST_CMD_SEND_FD,               /* send the victim's descriptor `fd` to the host */
	TEST_CMD_TAKE_FD,               /* take a descriptor from the host, write `text` to it, close it */
	TEST_CMD_LOG,                   /* log `count` numbered lines */
	TEST_CMD_CRASH,                 /* write to address 0 */
	TEST_CMD_SUM,                   /* out = sum of the 64-bit words after the header */
};

struct test_args {
	int32_t pid, tid;
	uint32_t uid;
	int32_t fd;
	uint32_t count;
	uint32_t pad;
	compel_u64 in, out;
	char text[64];
};

/* Something a wrong register or stack would get wrong. */
static inline uint64_t test_mix(uint64_t x)
{
	unsigned i;

	for (i = 0; i < 17; i++)
		x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ull + i;
	return x;
}

#endif
