/* What the getinfo parasite reports: shared by the host and the parasite. */
#ifndef GETINFO_H
#define GETINFO_H

#include <compel/abi.h>
#include <compel/rpc.h>

#define GETINFO_CMD COMPEL_CMD_USER

/* The limits reported, in this order. */
#define GETINFO_NR_RLIMITS 3
#define GETINFO_RLIMITS {7 /* RLIMIT_NOFILE */, 3 /* RLIMIT_STACK */, 4 /* RLIMIT_CORE */}

struct getinfo_rlimit {
	compel_u64 cur, max;
};

struct getinfo {
	int32_t pid;
	uint32_t uid, gid;
	int32_t error;                 /* a negative errno, if a syscall failed */
	char cwd[256];
	struct getinfo_rlimit rlimits[GETINFO_NR_RLIMITS];
};

#endif
