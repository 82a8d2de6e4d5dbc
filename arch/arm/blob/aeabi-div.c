/*
 * The 32-bit division helpers of the ARM run-time ABI (RTABI 4.3.1).
 * __aeabi_[u]idivmod return the quotient in r0 and the remainder in r1: a
 * 64-bit return value is passed in exactly those registers, low word first.
 */
#include <compel/plugins/std/divmod.h>

unsigned int __aeabi_uidiv(unsigned int n, unsigned int d);
int __aeabi_idiv(int n, int d);
uint64_t __aeabi_uidivmod(unsigned int n, unsigned int d);
uint64_t __aeabi_idivmod(int n, int d);

unsigned int __aeabi_uidiv(unsigned int n, unsigned int d)
{
	return (unsigned int)compel_udivmod64(n, d, 0);
}

int __aeabi_idiv(int n, int d)
{
	return (int)compel_sdivmod64(n, d, 0);
}

uint64_t __aeabi_uidivmod(unsigned int n, unsigned int d)
{
	uint64_t r;
	uint64_t q = compel_udivmod64(n, d, &r);

	return (uint32_t)q | r << 32;
}

uint64_t __aeabi_idivmod(int n, int d)
{
	int64_t r;
	int64_t q = compel_sdivmod64(n, d, &r);

	return (uint32_t)q | (uint64_t)(uint32_t)r << 32;
}
