/* long compel_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) */
	.text
	.globl	compel_syscall
	.hidden	compel_syscall
	.type	compel_syscall, @function
compel_syscall:
	movq	%rdi, %rax		/* nr */
	movq	%rsi, %rdi		/* a1 */
	movq	%rdx, %rsi		/* a2 */
	movq	%rcx, %rdx		/* a3 */
	movq	%r8, %r10		/* a4: the kernel takes it in r10, not rcx */
	movq	%r9, %r8		/* a5 */
	movq	8(%rsp), %r9		/* a6 */
	syscall
	ret
	.size	compel_syscall, . - compel_syscall
	.section .note.GNU-stack, "", @progbits
