/* What the fdspy host and parasite share. */
#ifndef FDSPY_H
#define FDSPY_H

#include <compel/abi.h>
#include <compel/rpc.h>

#define FDSPY_CMD COMPEL_CMD_USER

struct fdspy_args {
	int32_t fd; /* the victim's descriptor to hand over */
};

#endif
