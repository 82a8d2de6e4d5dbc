/*
 * The shmem plugin: the argument area, which the host maps too (see
 * compel_args()).  Bulk data written there by either side is seen by the
 * other without a copy or a syscall.
 */
#ifndef COMPEL_PLUGINS_SHMEM_H
#define COMPEL_PLUGINS_SHMEM_H

#ifdef __cplusplus
extern "C" {
#endif

/* The shared area and, in *size unless size is NULL, its size in bytes. */
void *compel_shmem(unsigned long *size);

#ifdef __cplusplus
}
#endif

#endif
