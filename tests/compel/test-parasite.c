/* The parasite the compel tests infect their victims with. */
#include <compel/plugins/fds.h>
#include <compel/plugins/shmem.h>
#include <compel/plugins/std.h>

#include "test-protocol.h"

static int take_fd(struct test_args *a)
{
	int fd;
	long ret = compel_fds_recv(&fd, 1);

	if (ret < 0)
		return (int)ret;
	ret = sys_write(fd, a->text, strlen(a->text));
	sys_close(fd);
	return ret < 0 ? (int)ret : 0;
}

static int sum(void)
{
	unsigned long size;
	char *area = compel_shmem(&size);
	const uint64_t *words = (const uint64_t *)(area + sizeof(struct test_args));
	unsigned long i, n = (size - sizeof(struct test_args)) / sizeof(uint64_t);
	struct test_args *a = (struct test_args *)area;
	uint64_t s = 0;

	for (i = 0; i < n; i++)
		s += words[i];
	a->out = s;
	return 0;
}

int parasite_service(unsigned int cmd, void *args)
{
	struct test_args *a = args;
	unsigned int i;

	switch (cmd) {
	case TEST_CMD_IDS:
		a->pid = (int32_t)sys_getpid();
		a->tid = (int32_t)sys_gettid();
#ifdef __NR_getuid32
		a->uid = (uint32_t)sys_getuid32();
#else
		a->uid = (uint32_t)sys_getuid();
#endif
		return 0;
	case TEST_CMD_MIX:
		a->out = test_mix(a->in);
		return 0;
	case TEST_CMD_SEND_FD:
		return (int)compel_fds_send(&a->fd, 1);
	case TEST_CMD_TAKE_FD:
		return take_fd(a);
	case TEST_CMD_LOG:
		for (i = 0; i < a->count; i++)
			compel_log("line %u of %u: %s %d %x %llu", i + 1, a->count, "ok", -5, 0xabcu,
				   18446744073709551615ull);
		return 0;
	case TEST_CMD_CRASH:
		*(volatile int *)0 = 1;
		return 0;
	case TEST_CMD_SUM:
		return sum();
	}
	return -22; /* EINVAL */
}
