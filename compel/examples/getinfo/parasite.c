/* Runs inside the victim: asks the kernel who the victim is, as the victim. */
#include <compel/plugins/std.h>

#include "getinfo.h"

static int fill(struct getinfo *g)
{
	static const unsigned int resources[] = GETINFO_RLIMITS;
	long ret;
	unsigned int i;

	g->pid = (int32_t)sys_getpid();
#ifdef __NR_getuid32 /* 32-bit ABIs: the plain calls return 16-bit ids */
	g->uid = (uint32_t)sys_getuid32();
	g->gid = (uint32_t)sys_getgid32();
#else
	g->uid = (uint32_t)sys_getuid();
	g->gid = (uint32_t)sys_getgid();
#endif
	ret = sys_getcwd(g->cwd, sizeof(g->cwd));
	if (ret < 0)
		return (int)ret;
	for (i = 0; i < GETINFO_NR_RLIMITS; i++) {
		ret = sys_prlimit64(0, resources[i], 0, &g->rlimits[i]);
		if (ret < 0)
			return (int)ret;
	}
	return 0;
}

int parasite_service(unsigned int cmd, void *args)
{
	if (cmd != GETINFO_CMD)
		return -22; /* EINVAL */
	return fill(args);
}
