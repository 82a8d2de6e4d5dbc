/*
 * __aeabi_uldivmod / __aeabi_ldivmod (RTABI 4.3.1): the dividend comes in
 * r0:r1, the divisor in r2:r3; the quotient goes back in r0:r1 and the
 * remainder in r2:r3, which no C function can return, hence this shim
 * around compel_[us]divmod64(n, d, &rem).  Assembles as ARM or Thumb-2.
 */
	.syntax	unified
	.text

	.macro	ldivmod name, helper
	.globl	\name
	.hidden	\name
	.type	\name, %function
\name:
	push	{r4, lr}
	sub	sp, sp, #16		/* [sp]: &rem (5th argument word), [sp+8]: rem */
	add	r4, sp, #8
	str	r4, [sp]
	bl	\helper
	ldrd	r2, r3, [sp, #8]
	add	sp, sp, #16
	pop	{r4, pc}
	.size	\name, . - \name
	.endm

	ldivmod	__aeabi_uldivmod, compel_udivmod64
	ldivmod	__aeabi_ldivmod, compel_sdivmod64

	.section .note.GNU-stack, "", %progbits
