/* Integer division for blob code on CPUs that lack it (see divmod.c). */
#ifndef COMPEL_PLUGINS_STD_DIVMOD_H
#define COMPEL_PLUGINS_STD_DIVMOD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Quotient of n / d; the remainder goes to *rem unless rem is NULL. */
uint64_t compel_udivmod64(uint64_t n, uint64_t d, uint64_t *rem);
int64_t compel_sdivmod64(int64_t n, int64_t d, int64_t *rem);

#ifdef __cplusplus
}
#endif

#endif
