/* The 64-bit division helpers that compilers call on i386 (libgcc's names). */
#include <compel/plugins/std/divmod.h>

uint64_t __udivdi3(uint64_t n, uint64_t d);
uint64_t __umoddi3(uint64_t n, uint64_t d);
int64_t __divdi3(int64_t n, int64_t d);
int64_t __moddi3(int64_t n, int64_t d);

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
	return compel_udivmod64(n, d, 0);
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
	uint64_t r;

	compel_udivmod64(n, d, &r);
	return r;
}

int64_t __divdi3(int64_t n, int64_t d)
{
	return compel_sdivmod64(n, d, 0);
}

int64_t __moddi3(int64_t n, int64_t d)
{
	int64_t r;

	compel_sdivmod64(n, d, &r);
	return r;
}
