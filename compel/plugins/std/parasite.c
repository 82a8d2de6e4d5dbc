/*
 * The parasite's side of compel_call(): run one command and return to the
 * entry code (which traps to the host), or serve commands from the
 * control socket until the host says COMPEL_CMD_FINI.
 */
#include <compel/plugins/std.h>

#include "sockets.h"

/* Set by the link script right after the blob's image: the control area. */
extern char __compel_blob_end[];

struct compel_parasite_ctl *compel_ctl(void)
{
	return (struct compel_parasite_ctl *)__compel_blob_end;
}

static void *args(void)
{
	return (void *)(unsigned long)compel_ctl()->args;
}

static int daemon_loop(struct compel_parasite_ctl *ctl)
{
	struct compel_rpc_msg m;

	for (;;) {
		long n = compel_std_recv_msg(ctl->sock, &m);

		if (n < 0)
			return (int)n;
		if (n != sizeof(m))
			return -EPROTO_COMPEL;
		if (m.type == COMPEL_MSG_FDS)
			continue; /* stashed by compel_std_recv_msg() for compel_fds_recv() */
		if (m.type != COMPEL_MSG_CMD)
			return -EPROTO_COMPEL;
		if (m.cmd == COMPEL_CMD_FINI)
			m.ret = 0;
		else
			m.ret = parasite_service(m.cmd, args());
		m.type = COMPEL_MSG_REPLY;
		n = sys_sendto(ctl->sock, &m, sizeof(m), 0, 0, 0);
		if (n < 0)
			return (int)n;
		if (m.cmd == COMPEL_CMD_FINI)
			return 0;
	}
}

/* Hands control back to the host: a plain signal, not a trap, which the
 * kernel would force on the victim and so reset an ignored SIGTRAP. */
static void stop(void)
{
	sys_tgkill((int)sys_getpid(), (int)sys_gettid(), 5 /* SIGTRAP */);
}

void compel_parasite_main(void)
{
	struct compel_parasite_ctl *ctl = compel_ctl();

	if (ctl->magic != COMPEL_CTL_MAGIC || ctl->version != COMPEL_RPC_VERSION) {
		ctl->ret = -EPROTO_COMPEL;
		return;
	}
	if (ctl->cmd == COMPEL_CMD_DAEMON)
		ctl->ret = daemon_loop(ctl);
	else
		ctl->ret = parasite_service(ctl->cmd, args());
}

/*
 * Where compel starts the parasite: on the parasite's stack, as if called.
 * It never returns; if resumed after its stop, it stops again.
 */
__attribute__((noreturn)) void __export_compel_entry(void);

void __export_compel_entry(void)
{
	compel_parasite_main();
	for (;;)
		stop();
}
