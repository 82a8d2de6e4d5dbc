/*
 * A shared struct with one field more on AArch64 only: compel-layout must
 * refuse it, and a blob that shares it must fail to build.
 */
#include <stdint.h>

struct shared {
	uint32_t a;
#ifdef __aarch64__
	uint32_t extra;
#endif
	uint64_t b;
};
