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

#ifdef __cplusplus
}
#endif

#endif
