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

/*
 * long compel_clone_thread(void *clone_args, unsigned long size, void (*fn)(void *), void *arg)
 * clone3(); the child calls fn(arg) on the stack clone_args gives it and
 * must never return.  fn and arg cross in r8 and r9, which the kernel
 * copies into the child and the syscall leaves alone.
 */
	.globl	compel_clone_thread
	.hidden	compel_clone_thread
	.type	compel_clone_thread, @function
compel_clone_thread:
	movq	%rdx, %r8
	movq	%rcx, %r9
	movl	$435, %eax		/* clone3 */
	syscall
	testq	%rax, %rax
	jnz	1f
	xorl	%ebp, %ebp		/* the child: a new stack, no frames above */
	andq	$-16, %rsp
	movq	%r9, %rdi
	call	*%r8
	ud2
1:	ret
	.size	compel_clone_thread, . - compel_clone_thread
	.section .note.GNU-stack, "", @progbits
