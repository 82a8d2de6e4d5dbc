/* Runs inside the victim: sends one of its descriptors to the host. */
#include <compel/plugins/fds.h>
#include <compel/plugins/std.h>

#include "fdspy.h"

int parasite_service(unsigned int cmd, void *args)
{
	struct fdspy_args *a = args;

	if (cmd != FDSPY_CMD)
		return -22; /* EINVAL */
	return (int)compel_fds_send(&a->fd, 1);
}
