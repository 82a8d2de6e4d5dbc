/*
 * The protocol between libcompel and a blob's std plugin: both sides
 * include this header, and compel-layout checks that every arch lays it
 * out alike (an x86-64 host talks to i386 blobs, an AArch64 host to ARM).
 */
#ifndef COMPEL_RPC_H
#define COMPEL_RPC_H

#include <compel/abi.h>

#define COMPEL_CTL_MAGIC 0x6c706d63u /* "cmpl" */
#define COMPEL_RPC_VERSION 1

/* Commands.  Those below COMPEL_CMD_USER belong to compel. */
enum {
	COMPEL_CMD_DAEMON = 1, /* serve commands from the control socket until COMPEL_CMD_FINI */
	COMPEL_CMD_FINI = 2,   /* leave the daemon loop */
	COMPEL_CMD_USER = 128, /* the first command of parasite_service() */
};

#define COMPEL_LOG_SIZE 4096u

/*
 * The control area, right after the blob's image (at the address of the
 * link script's __compel_blob_end), in memory the host maps too.
 */
struct compel_parasite_ctl {
	uint32_t magic;
	uint32_t version;
	uint32_t cmd;          /* synchronous call: the command ... */
	int32_t ret;           /* ... and what it returned */
	int32_t sock;          /* the blob's end of the control socket */
	int32_t sv[2];         /* where the victim's socketpair() writes */
	uint32_t args_size;
	compel_u64 args;       /* victim address of the argument area */
	uint32_t log_written;  /* bytes ever logged; log[] holds the last COMPEL_LOG_SIZE */
	uint32_t pad;
	char log[COMPEL_LOG_SIZE];
};

/* A message on the control socket (SOCK_SEQPACKET), either way. */
enum {
	COMPEL_MSG_CMD = 1,   /* host -> blob: run cmd */
	COMPEL_MSG_REPLY = 2, /* blob -> host: cmd returned ret */
	COMPEL_MSG_FDS = 3,   /* either way: nr_fds descriptors ride along (SCM_RIGHTS) */
};

#define COMPEL_MAX_FDS 64u

struct compel_rpc_msg {
	uint32_t type;
	uint32_t cmd;
	int32_t ret;
	uint32_t nr_fds;
};

#endif /* COMPEL_RPC_H */
