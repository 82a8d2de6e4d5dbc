/*
 * What a blob linked with the std plugin provides and must provide to be
 * run by compel_infect()/compel_call().
 */
#ifndef COMPEL_PLUGINS_STD_INFECT_H
#define COMPEL_PLUGINS_STD_INFECT_H

#include <compel/rpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Defined by the blob: runs command cmd (>= COMPEL_CMD_USER) with the
 * argument area the host filled in; its result is compel_call()'s *ret.
 */
int parasite_service(unsigned int cmd, void *args);

/* The control area shared with the host. */
struct compel_parasite_ctl *compel_ctl(void);

/*
 * printf-like logging to the host (compel_set_log_handler()): %d %i %u %x
 * %X %p %s %c %% with the l and ll modifiers, and a width for numbers.
 * No syscall: lines go through shared memory.
 */
void compel_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs the command of the control area; called by the parasite's entry. */
void compel_parasite_main(void);

#ifdef __cplusplus
}
#endif

#endif
