/*
 * Types for records that a host and a blob share through memory when they
 * may be built for different arches (an x86-64 host with an i386 blob, an
 * AArch64 host with an ARM one).  i386 aligns 64-bit integers to 4 bytes,
 * the others to 8: these types align them to 8 everywhere.  compel-layout
 * (compel_add_blob's SHARED_HEADERS) checks the result.
 */
#ifndef COMPEL_ABI_H
#define COMPEL_ABI_H

#include <stdint.h>

typedef uint64_t compel_u64 __attribute__((aligned(8)));
typedef int64_t compel_s64 __attribute__((aligned(8)));

#endif
