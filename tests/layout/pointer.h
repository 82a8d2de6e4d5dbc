/* A pointer is 4 bytes on 32-bit arches: not shareable between them and 64-bit ones. */
#include <stdint.h>

struct with_pointer {
	void *p;
	uint32_t n;
};
