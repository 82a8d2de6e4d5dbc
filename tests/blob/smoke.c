/*
 * The smoke blob: proves that a blob built by compel_add_blob() runs where
 * it is put.  Its word table needs RELATIVE relocations, its counter and
 * scratch area live in bss (the scratch spans more than a page), it makes
 * a syscall through the std plugin and, on 32-bit arches, calls the
 * division helpers.
 */
#include <compel/plugins/std.h>

#include "smoke-protocol.h"

/* Not const: the compiler must keep real pointers, hence relocations. */
const char *smoke_words[SMOKE_NR_WORDS] = {"compel ", "blob ", "smoke ", "test\n"};

static uint32_t calls;
static unsigned char scratch[3 * 4096];

static int bss_is_clean(void)
{
	unsigned i;

	for (i = 0; i < sizeof(scratch); i++)
		if (scratch[i])
			return 0;
	return 1;
}

void __export_smoke_run(struct smoke_args *args)
{
	unsigned i;
	long ret = 0;

	if (calls == 0)
		args->bss_clean = (uint32_t)bss_is_clean();
	scratch[sizeof(scratch) - 1] = 1;
	calls++;

	for (i = 0; i < SMOKE_NR_WORDS && ret >= 0; i++)
		ret = sys_write(args->fd, smoke_words[i], strlen(smoke_words[i]));
	args->write_result = ret;
	args->checksum = smoke_checksum(smoke_words, SMOKE_NR_WORDS, args->seed);
	args->calls = calls;
}
