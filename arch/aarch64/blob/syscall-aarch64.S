/* long compel_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
	.text
	.globl	compel_syscall
	.hidden	compel_syscall
	.type	compel_syscall, %function
compel_syscall:
	mov	x8, x0			/* nr */
	mov	x0, x1
	mov	x1, x2
	mov	x2, x3
	mov	x3, x4
	mov	x4, x5
	mov	x5, x6
	svc	#0
	ret
	.size	compel_syscall, . - compel_syscall
	.section .note.GNU-stack, "", %progbits
