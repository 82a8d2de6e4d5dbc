/* Records laid out alike on every arch: compel-layout must accept them. */
#include <compel/abi.h>

struct fixed {
	uint32_t a;
	uint32_t pad;
	compel_u64 b;
	union {
		uint8_t bytes[8];
		compel_u64 word;
	} u;
	struct {
		uint16_t x, y;
	} point[2];
	uint32_t flags : 3, mode : 29;
};

typedef struct {
	int32_t fd;
	uint32_t len;
} anon_t;
