/* Memory and string functions for blob code (blobs have no libc). */
#ifndef COMPEL_PLUGINS_STD_STRING_H
#define COMPEL_PLUGINS_STD_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The compiler may emit calls to these four on its own. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#ifdef __cplusplus
}
#endif

#endif
