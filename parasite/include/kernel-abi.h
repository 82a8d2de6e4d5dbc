/*
 * The kernel's structs that both of criu's blobs pass to syscalls, in the
 * arch's native words (the blob is built for the task's arch).
 */
#ifndef CRIU_PARASITE_KERNEL_ABI_H
#define CRIU_PARASITE_KERNEL_ABI_H

#include <stdint.h>

struct kernel_sigaction {
	unsigned long handler;
	unsigned long flags;
	unsigned long restorer;
	uint64_t mask;
};

struct kernel_timeval {
	long sec, usec;
};

struct kernel_itimerval {
	struct kernel_timeval interval, value;
};

struct kernel_timespec {
	long sec, nsec;
};

struct kernel_itimerspec {
	struct kernel_timespec interval, value;
};

#endif
