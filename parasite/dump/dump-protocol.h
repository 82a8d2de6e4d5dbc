/*
 * What criu dump and its parasite share: the commands and the argument
 * area.  compel-layout checks that the host and every blob arch lay it out
 * alike.
 */
#ifndef CRIU_DUMP_PROTOCOL_H
#define CRIU_DUMP_PROTOCOL_H

#include <compel/abi.h>
#include <compel/rpc.h>

enum {
	/* Everything of the process that only the process itself can tell. */
	DUMP_CMD_MISC = COMPEL_CMD_USER,
	/*
	 * Writes the non-zero pages of dump_pages.runs to the pages image,
	 * whose descriptor the host sends before the call; the parasite
	 * closes its copy before it returns, failed or not.
	 */
	DUMP_CMD_PAGES,
};

#define DUMP_NR_SIGNALS 64
#define DUMP_MAX_TIMERS 128

struct dump_sigaction {
	compel_u64 handler, flags, restorer, mask;
};

struct dump_itimer {
	compel_u64 value_ns, interval_ns;
};

struct dump_timer {
	int32_t id;
	int32_t overrun;
	compel_u64 value_ns, interval_ns;
};

struct dump_misc {
	/* in: the POSIX timers /proc/PID/timers lists */
	uint32_t nr_timers;
	int32_t timer_ids[DUMP_MAX_TIMERS];

	/* out: on failure, the step and its negative errno */
	uint32_t failed_step;
	int32_t error;

	struct dump_sigaction sigactions[DUMP_NR_SIGNALS]; /* [sig - 1]; SIGKILL, SIGSTOP zero */
	struct dump_itimer itimers[3];                    /* ITIMER_REAL, _VIRTUAL, _PROF */
	struct dump_timer timers[DUMP_MAX_TIMERS];
	compel_u64 brk;
	compel_u64 tid_address;
	compel_u64 altstack_sp, altstack_size;
	int32_t altstack_flags;
	uint32_t umask;
	int32_t dumpable;
	int32_t pdeathsig;
	int32_t child_subreaper;
	uint32_t securebits;
};

/*
 * A batch of pages for DUMP_CMD_PAGES: runs of pages the pagemap says are
 * present.  The parasite reads them where they are (no copy), writes each
 * stretch of non-zero pages to the pages image with one write(), and marks
 * the zero ones in a bitmap, so that the host can tell the pagemap which
 * pages the image holds.  The runs of a batch are at most
 * DUMP_BATCH_PAGES pages in all: a call costs microseconds, and between
 * two the host shows how far the dump is.
 */
#define DUMP_MAX_RUNS 4096
#define DUMP_BATCH_PAGES (1u << 14) /* 64 MiB of 4 KiB pages */

struct dump_run {
	compel_u64 addr, nr_pages;
};

struct dump_pages {
	/* in */
	uint32_t nr_runs;
	struct dump_run runs[DUMP_MAX_RUNS];

	/* out */
	uint32_t failed_step;
	int32_t error;
	compel_u64 written;                          /* pages written */
	compel_u64 zero[DUMP_BATCH_PAGES / 64];      /* bit i: page i of the batch's runs is zero */
};

/*
 * What the kernel tells only the thread itself, for threads but the leader:
 * criu runs prctl(PR_GET_TID_ADDRESS) and sigaltstack() in each, through
 * ptrace, and they write here.  altstack is the kernel's stack_t.
 */
struct dump_thread {
	compel_u64 tid_address;
	struct {
		compel_u64 sp;
		int32_t flags;
		uint32_t pad;
		compel_u64 size;
	} altstack;
};

/* The argument area holds what any command needs. */
union dump_args {
	struct dump_misc misc;
	struct dump_pages pages;
	struct dump_thread thread;
};

/* The steps of the commands, for the host's error message. */
enum {
	DUMP_STEP_SIGACTION = 1,
	DUMP_STEP_ITIMER,
	DUMP_STEP_TIMER,
	DUMP_STEP_PRCTL,
	DUMP_STEP_ALTSTACK,
	DUMP_STEP_PAGES_FD,
	DUMP_STEP_PAGES_WRITE,
};

#endif
