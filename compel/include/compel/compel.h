/*
 * libcompel: run code inside a live process, and leave no trace.
 *
 *   compel_seize()       stop every thread of a process under ptrace
 *   compel_syscall()     run a syscall in it
 *   compel_infect()      map a blob (see <compel/blob.h>) into it
 *   compel_call()        run a command of the blob, synchronously or
 *                        through its daemon loop
 *   compel_cure()        take the blob out and put everything back
 *   compel_detach()      let the process go
 *
 * Errors: functions that return int give 0 (or a documented count) on
 * success and a negative errno on failure; compel_last_error() then tells
 * the calling thread what failed, naming the pid and the step.  Every
 * object owns what it created: compel_detach() cures a live infection, and
 * a failed call leaves nothing of its own behind in the task.
 *
 * A compel_task and its infection belong to the thread that seized the
 * task (ptrace's rule), and must be used from that thread only.
 */
#ifndef COMPEL_COMPEL_H
#define COMPEL_COMPEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <compel/blob.h>
#include <compel/syscall-ids.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct compel_task compel_task;
typedef struct compel_infection compel_infection;

/* What went wrong in the calling thread's last failed compel_* call. */
const char *compel_last_error(void);

/* ---- Seizing ------------------------------------------------------------ */

enum compel_seize_flags {
	/* Stop only the thread `pid`, not every thread of its process. */
	COMPEL_SEIZE_ONE_THREAD = 1 << 0,
};

/*
 * Seizes the process `pid` (or, with COMPEL_SEIZE_ONE_THREAD, the thread
 * `pid`) with PTRACE_SEIZE, interrupts every thread and waits until all are
 * stopped; threads created meanwhile are caught too.  A signal that was
 * about to be delivered is delivered first, as it would have been; blocked
 * pending signals stay pending.  A job-control stop survives compel_detach().
 * Seccomp filters are suspended while the task is seized.
 */
int compel_seize(pid_t pid, unsigned flags, compel_task **task);

/* Cures any infection, puts back the state compel changed, detaches every
 * thread and frees task.  Safe to call with NULL. */
int compel_detach(compel_task *task);

pid_t compel_task_pid(const compel_task *task);
enum compel_arch compel_task_arch(const compel_task *task);

/* Thread ids of the seized task, the leader first: at most max are stored;
 * returns how many threads there are. */
int compel_task_threads(const compel_task *task, pid_t *tids, size_t max);

enum compel_task_state {
	COMPEL_TASK_RUNNING = 1,       /* running or sleeping in user space */
	COMPEL_TASK_IN_SYSCALL = 2,    /* stopped inside a syscall (syscall_nr) */
	COMPEL_TASK_JOB_STOPPED = 3,   /* stopped by SIGSTOP/SIGTSTP/...: stop_signal */
};

struct compel_thread_info {
	pid_t tid;
	enum compel_task_state state;  /* what the thread was doing when stopped */
	int stop_signal;               /* for COMPEL_TASK_JOB_STOPPED */
	long syscall_nr;               /* for COMPEL_TASK_IN_SYSCALL, in the task's ABI */
};

/* What thread `tid` (0: the leader) was doing when compel stopped it. */
int compel_get_thread_info(const compel_task *task, pid_t tid, struct compel_thread_info *info);

/* Let every thread run on (still traced), and stop them all again. */
int compel_resume(compel_task *task);
int compel_interrupt(compel_task *task);

/* ---- Remote syscalls ---------------------------------------------------- */

/*
 * Runs syscall `sys` with up to six arguments in the leader thread (or in
 * `tid` with compel_syscall_in) and stores the kernel's result (a negative
 * errno on failure) in *result.  The return value says whether the syscall
 * could be run at all.  The task's memory is not modified: compel executes
 * a syscall instruction that the task already has (in its vDSO or code).
 */
int compel_syscall(compel_task *task, enum compel_sys sys, const uint64_t args[6], int64_t *result);
int compel_syscall_in(compel_task *task, pid_t tid, enum compel_sys sys, const uint64_t args[6],
		      int64_t *result);

/* Helpers on top: each stores the remote result (an address, an fd) in
 * *out and returns 0, or returns the negative errno of the remote call. */
int compel_remote_mmap(compel_task *task, uint64_t addr, uint64_t length, int prot, int flags, int fd,
		       uint64_t offset, uint64_t *out);
int compel_remote_munmap(compel_task *task, uint64_t addr, uint64_t length);
int compel_remote_mprotect(compel_task *task, uint64_t addr, uint64_t length, int prot);
int compel_remote_memfd(compel_task *task, const char *name, unsigned flags, int *out_fd);

/* Read or write the task's memory (any protection) through /proc/PID/mem. */
int compel_read_memory(compel_task *task, uint64_t addr, void *buf, size_t len);
int compel_write_memory(compel_task *task, uint64_t addr, const void *buf, size_t len);

/* ---- Infection ---------------------------------------------------------- */

struct compel_infect_opts {
	size_t args_size;   /* bytes of the argument area shared with the blob */
	size_t stack_size;  /* parasite stack; 0: 64 KiB */
};

/*
 * Maps the blob of `blobs` (a NULL-terminated list, NAME_blobs[] of the
 * header compel_add_blob() makes) that matches the task's arch into the
 * leader thread, with the argument area, a stack and a control socket.
 * The blob must be linked with the std plugin and define
 *   int parasite_service(unsigned int cmd, void *args);
 */
int compel_infect(compel_task *task, const struct compel_blob_desc *const *blobs,
		  const struct compel_infect_opts *opts, compel_infection **infection);

/* The argument area, as the host sees it (the blob sees the same bytes). */
void *compel_args(compel_infection *infection);
size_t compel_args_size(const compel_infection *infection);

/* Victim address of the blob's image, and of an export of the blob. */
uint64_t compel_blob_base(const compel_infection *infection);

/*
 * Runs command `cmd` (>= COMPEL_CMD_USER) of the blob: parasite_service(cmd,
 * args) in the victim; stores its return value in *ret.  Works before and
 * after compel_daemon_start(): synchronously through ptrace, or by a
 * message to the daemon loop.  A parasite that crashes is reported with
 * the faulting instruction, and the task is put back as it was.
 */
int compel_call(compel_infection *infection, unsigned int cmd, int *ret);

/* Start/stop the blob's daemon loop, which serves compel_call()s over the
 * control socket with no ptrace stop per command. */
int compel_daemon_start(compel_infection *infection);
int compel_daemon_stop(compel_infection *infection);

/* Pass descriptors to/from the blob over the control socket (SCM_RIGHTS);
 * the blob uses the fds plugin on its side. */
int compel_send_fds(compel_infection *infection, const int *fds, unsigned int n);
int compel_recv_fds(compel_infection *infection, int *fds, unsigned int n);

/* Stops the blob, unmaps everything injected, restores registers, signal
 * mask and the interrupted syscall; frees infection. */
int compel_cure(compel_infection *infection);

/* Lines the blob logged with compel_log() (std plugin) go to handler, or to
 * stderr when none is set. */
typedef void (*compel_log_handler)(pid_t pid, const char *line, void *data);
void compel_set_log_handler(compel_infection *infection, compel_log_handler handler, void *data);

#ifdef __cplusplus
}
#endif

#endif /* COMPEL_COMPEL_H */
