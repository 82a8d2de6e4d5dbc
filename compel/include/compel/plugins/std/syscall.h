/* Raw syscalls from blob code.  The sys_*() wrappers are in <compel/plugins/std/syscalls.h>. */
#ifndef COMPEL_PLUGINS_STD_SYSCALL_H
#define COMPEL_PLUGINS_STD_SYSCALL_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Run syscall nr with up to six arguments (unused ones are ignored by the
 * kernel).  Returns the kernel's result: a negative errno on failure.
 * Implemented per arch in arch/<arch>/blob/syscall-<abi>.S.
 */
long compel_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

/*
 * clone3(clone_args, size), for a new thread: the parent gets the kernel's
 * result; the child starts in fn(arg) on the stack clone_args names, and fn
 * must not return (it ends the thread with sys_exit()).  Implemented for
 * x86-64 (arch/x86/blob/clone-x86_64.S) so far.
 */
long compel_clone_thread(void *clone_args, unsigned long size, void (*fn)(void *), void *arg);

#ifdef __cplusplus
}
#endif

#endif
