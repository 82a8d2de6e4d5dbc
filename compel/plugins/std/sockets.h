/* The control socket, shared by the command loop (std) and the fds plugin. */
#ifndef COMPEL_STD_SOCKETS_H
#define COMPEL_STD_SOCKETS_H

#include <compel/rpc.h>

/* EPROTO: blobs have no errno.h. */
#define EPROTO_COMPEL 71

/*
 * Receives one message from the control socket.  Descriptors that ride
 * along (COMPEL_MSG_FDS) are kept for compel_std_take_fds().  Returns the
 * message size or a negative errno.
 */
long compel_std_recv_msg(int sock, struct compel_rpc_msg *m);

/* Moves up to n kept descriptors to fds; returns how many. */
unsigned int compel_std_take_fds(int *fds, unsigned int n);

/* Sends n (1..COMPEL_MAX_FDS) descriptors in one COMPEL_MSG_FDS message. */
long compel_std_send_fds(int sock, const int *fds, unsigned int n);

#endif
