#include <compel/plugins/std/divmod.h>

/*
 * 32-bit CPUs have no instruction for 64-bit division (and ARMv7-A none for
 * any division), so the compiler calls runtime helpers that a blob, linked
 * against nothing, must bring.  The arch files (arch/x86/blob/divide-i386.c,
 * arch/arm/blob/aeabi-div.[cS]) give them the names each ABI expects.
 * Division by zero returns 0, like no hardware does, but a blob must not trap.
 */

uint64_t compel_udivmod64(uint64_t n, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = 0;
	int i;

	if (d == 0) {
		if (rem)
			*rem = 0;
		return 0;
	}
	for (i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= (uint64_t)1 << i;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

int64_t compel_sdivmod64(int64_t n, int64_t d, int64_t *rem)
{
	uint64_t un = n < 0 ? -(uint64_t)n : (uint64_t)n;
	uint64_t ud = d < 0 ? -(uint64_t)d : (uint64_t)d;
	uint64_t ur;
	uint64_t uq = compel_udivmod64(un, ud, &ur);

	/* C rounds toward zero: the remainder takes the dividend's sign. */
	if (rem)
		*rem = n < 0 ? -(int64_t)ur : (int64_t)ur;
	return (n < 0) != (d < 0) ? -(int64_t)uq : (int64_t)uq;
}
