/* long compel_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6), cdecl */
	.text
	.globl	compel_syscall
	.hidden	compel_syscall
	.type	compel_syscall, @function
compel_syscall:
	pushl	%ebp
	pushl	%edi
	pushl	%esi
	pushl	%ebx
	/* 4 saved registers + return address: arguments start at 20(%esp) */
	movl	20(%esp), %eax		/* nr */
	movl	24(%esp), %ebx		/* a1 */
	movl	28(%esp), %ecx		/* a2 */
	movl	32(%esp), %edx		/* a3 */
	movl	36(%esp), %esi		/* a4 */
	movl	40(%esp), %edi		/* a5 */
	movl	44(%esp), %ebp		/* a6 */
	int	$0x80
	popl	%ebx
	popl	%esi
	popl	%edi
	popl	%ebp
	ret
	.size	compel_syscall, . - compel_syscall
	.section .note.GNU-stack, "", @progbits
