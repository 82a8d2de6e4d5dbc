/* The fds plugin: descriptors between a parasite and its host (SCM_RIGHTS). */
#ifndef COMPEL_PLUGINS_FDS_H
#define COMPEL_PLUGINS_FDS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Sends n of the victim's descriptors to the host, which takes them with
 * compel_recv_fds().  Returns 0 or a negative errno. */
long compel_fds_send(const int *fds, unsigned int n);

/* Takes n descriptors the host sent with compel_send_fds(); they are
 * installed in the victim with O_CLOEXEC.  Returns 0 or a negative errno. */
long compel_fds_recv(int *fds, unsigned int n);

#ifdef __cplusplus
}
#endif

#endif
