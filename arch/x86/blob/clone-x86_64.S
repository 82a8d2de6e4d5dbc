/*
 * long compel_clone_thread(void *clone_args, unsigned long size, void (*fn)(void *), void *arg)
 * clone3(); the child calls fn(arg) on the stack clone_args gives it and
 * must never return.  fn and arg cross in r8 and r9, which the kernel
 * copies into the child and the syscall leaves alone.
 */
	.text
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
