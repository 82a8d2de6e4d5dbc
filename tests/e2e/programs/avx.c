/* Vector registers (AVX, and AVX-512 where there is) hold their values across the dump. */
#include <stdint.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	static const char pattern[32] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	char out[4][32];
	uint64_t k = 0;
	int i, b;

	e2e_init(argc, argv);
	if (!__builtin_cpu_supports("avx2"))
		e2e_fail("no AVX2 on this CPU");
	e2e_ready(argc, argv);
	/* Load, spin until SIGTERM (a handler's frame saves and restores the
	 * registers), store. */
	__asm__ volatile("vmovdqu (%[p]), %%ymm12\n\t"
			 "vpaddb %%ymm12, %%ymm12, %%ymm13\n\t"
			 "vpaddb %%ymm13, %%ymm12, %%ymm14\n\t"
			 "vpaddb %%ymm14, %%ymm12, %%ymm15\n\t"
			 "1: incq %[k]\n\t"
			 "cmpl $0, %[stop]\n\t"
			 "je 1b\n\t"
			 "vmovdqu %%ymm12, 0(%[o])\n\t"
			 "vmovdqu %%ymm13, 32(%[o])\n\t"
			 "vmovdqu %%ymm14, 64(%[o])\n\t"
			 "vmovdqu %%ymm15, 96(%[o])"
			 : [k] "+r"(k)
			 : [p] "r"(pattern), [o] "r"(out), [stop] "m"(e2e_stop)
			 : "memory", "xmm12", "xmm13", "xmm14", "xmm15");
	for (i = 0; i < 4; i++)
		for (b = 0; b < 32; b++)
			if (out[i][b] != (char)(pattern[b] * (i + 1)))
				e2e_fail("ymm%d byte %d is 0x%02x", 12 + i, b, (unsigned char)out[i][b]);
	e2e_pass();
}
