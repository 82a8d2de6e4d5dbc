/* The shmem plugin: the memory a parasite shares with its host. */
#include <compel/plugins/shmem.h>
#include <compel/plugins/std.h>

void *compel_shmem(unsigned long *size)
{
	struct compel_parasite_ctl *ctl = compel_ctl();

	if (size)
		*size = ctl->args_size;
	return (void *)(unsigned long)ctl->args;
}
