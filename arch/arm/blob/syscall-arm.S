/*
 * long compel_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
 * EABI: number in r7, arguments in r0-r5.  Assembles as ARM or Thumb-2.
 */
	.syntax	unified
	.text
	.globl	compel_syscall
	.hidden	compel_syscall
	.type	compel_syscall, %function
compel_syscall:
	push	{r4, r5, r7, lr}
	mov	r7, r0			/* nr */
	mov	r0, r1			/* a1 */
	mov	r1, r2			/* a2 */
	mov	r2, r3			/* a3 */
	ldr	r3, [sp, #16]		/* a4: stack arguments start above the 4 saved words */
	ldr	r4, [sp, #20]		/* a5 */
	ldr	r5, [sp, #24]		/* a6 */
	svc	#0
	pop	{r4, r5, r7, pc}
	.size	compel_syscall, . - compel_syscall
	.section .note.GNU-stack, "", %progbits
