/*
 * What criu restore hands its restorer blob: everything the restored
 * process's threads must do after criu's code and data are gone.
 * Arrays live in the same area, after this header; their addresses are
 * where the restorer sees them.  compel-layout checks that the host and
 * every blob arch lay it out alike.
 */
#ifndef CRIU_RESTORER_PROTOCOL_H
#define CRIU_RESTORER_PROTOCOL_H

#include <compel/abi.h>

#define RESTORER_NR_SIGNALS 64
#define RESTORER_SIGINFO_SIZE 128
#define RESTORER_THREAD_STACK (32 << 10) /* each thread but the leader has one */

struct restorer_range {
	compel_u64 start, len;
};

/* A VMA of the restored process, premapped by criu at `from`. */
struct restorer_vma {
	compel_u64 from, to, len;
	compel_u64 madvise; /* 1 << MADV_* */
	uint32_t prot;
	uint32_t pad;
};

/* A special mapping ([vdso]...) of the restoring task, and where it goes. */
struct restorer_special {
	compel_u64 from, to, len;
};

struct restorer_sigaction {
	compel_u64 handler, flags, restorer, mask;
};

struct restorer_timer {
	int32_t id, clock, notify, signo, notify_tid, pad;
	compel_u64 sigval, value_ns, interval_ns;
};

/*
 * A thread of the restored process: the leader is the first; the restorer
 * creates the others with their tids, each on its own stack.  What the
 * thread sets itself (the kernel keeps it per thread).
 */
struct restorer_thread {
	int32_t tid;
	uint32_t nr_pending;
	compel_u64 pending;        /* its own queued signals: siginfos of RESTORER_SIGINFO_SIZE bytes */
	compel_u64 stack_top;      /* 16-byte aligned; unused for the leader */
	compel_u64 rseq_area;
	uint32_t rseq_len, rseq_sig;
	compel_u64 clear_child_tid, robust_list, robust_list_len;
	compel_u64 altstack_sp, altstack_size;
	int32_t altstack_flags;
	uint32_t pad;
	char name[16];
};

/* The kernel's struct prctl_mm_map, with the auxv pointer as a u64. */
struct restorer_mm_map {
	compel_u64 start_code, end_code, start_data, end_data, start_brk, brk, start_stack;
	compel_u64 arg_start, arg_end, env_start, env_end;
	compel_u64 auxv;
	uint32_t auxv_size;
	uint32_t exe_fd;
};

struct restorer_args {
	/* The restorer's own memory, a hole it may move things through, and
	 * where criu premapped the process's memory: all gone at the end. */
	struct restorer_range self, scratch, premap;

	/* criu's memory, to unmap, and its rseq, to unregister. */
	compel_u64 unmap;          /* struct restorer_range[nr_unmap] */
	uint32_t nr_unmap;
	uint32_t criu_rseq_len;
	compel_u64 criu_rseq;
	uint32_t criu_rseq_sig;
	uint32_t nr_specials;
	struct restorer_special specials[4];

	compel_u64 vmas;           /* struct restorer_vma[nr_vmas] */
	uint32_t nr_vmas;
	uint32_t nr_timers;
	compel_u64 timers;         /* struct restorer_timer[nr_timers] */
	struct restorer_mm_map mm;

	struct restorer_sigaction sigactions[RESTORER_NR_SIGNALS]; /* [sig - 1] */
	struct {
		compel_u64 value_ns, interval_ns;
	} itimers[3];
	uint32_t personality;
	uint32_t umask;
	int32_t dumpable, pdeathsig, child_subreaper, no_new_privs;

	compel_u64 threads;        /* struct restorer_thread[nr_threads], the leader first */
	uint32_t nr_threads;
	/* How many of the other threads have set their state: the leader
	 * waits on it (a futex) before it reports. */
	uint32_t threads_ready;

	/* The process's pending signals, to queue again: siginfos of
	 * RESTORER_SIGINFO_SIZE bytes. */
	compel_u64 shared_pending;
	uint32_t nr_shared_pending;
	uint32_t pad;

	/* Credentials, set last. */
	uint32_t uid, euid, suid, fsuid, gid, egid, sgid, fsgid;
	uint32_t nr_groups;
	uint32_t securebits;
	compel_u64 groups;         /* uint32_t[nr_groups] */
	compel_u64 cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;

	/* Descriptors of criu's that go before the end; status gets the verdict. */
	int32_t close_fds[4];
	int32_t status_fd;

	/* out: where it failed */
	uint32_t failed_step;
	int32_t error;
};

/* What the restorer writes to status_fd: step 0 and error 0 when done;
 * on failure, the thread that failed. */
#define RESTORER_STATUS_MAGIC 0x52545352u /* "RSTR" */
struct restorer_status {
	uint32_t magic;
	uint32_t step;
	int32_t error;
	int32_t tid;
	struct restorer_range self; /* for criu to unmap */
};

/* The steps, for criu's error message. */
enum {
	RESTORER_STEP_UNMAP = 1,
	RESTORER_STEP_SPECIALS,
	RESTORER_STEP_VMAS,
	RESTORER_STEP_MM,
	RESTORER_STEP_SIGNALS,
	RESTORER_STEP_TIMERS,
	RESTORER_STEP_RSEQ,
	RESTORER_STEP_THREAD,
	RESTORER_STEP_PRCTL,
	RESTORER_STEP_PENDING,
	RESTORER_STEP_CREDS,
	RESTORER_STEP_CLONE, /* creating a thread with its tid */
};

#endif
