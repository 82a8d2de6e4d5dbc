/*
 * criu's restorer: runs in the restored process's only thread after criu
 * has prepared everything it can from normal code.  It removes criu's own
 * memory, moves the process's memory (premapped by criu) into place, and
 * sets what only the thread itself can set.  Then it reports and waits:
 * criu seizes it, gives the thread its registers and signal mask through
 * ptrace, and takes this blob out (see criu/restore/Restore.cpp).
 */
#include <compel/plugins/std.h>

#include "restorer-protocol.h"

#define MREMAP_MAYMOVE_ 1
#define MREMAP_FIXED_ 2
#define SIG_SETMASK_ 2
#define RSEQ_FLAG_UNREGISTER_ 1
#define PR_SET_PDEATHSIG_ 1
#define PR_SET_DUMPABLE_ 4
#define PR_SET_NAME_ 15
#define PR_CAPBSET_DROP_ 24
#define PR_SET_SECUREBITS_ 28
#define PR_SET_MM_ 35
#define PR_SET_MM_MAP_ 14
#define PR_SET_CHILD_SUBREAPER_ 36
#define PR_SET_NO_NEW_PRIVS_ 38
#define PR_CAP_AMBIENT_ 47
#define PR_CAP_AMBIENT_RAISE_ 2
#define PR_CAP_AMBIENT_CLEAR_ALL_ 4
#define PR_TIMER_CREATE_RESTORE_IDS_ 77
#define SECBIT_KEEP_CAPS_ (1u << 4)
#define SIGKILL_ 9
#define SIGSTOP_ 19

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

struct kernel_sigevent {
	unsigned long value;
	int signo;
	int notify;
	int tid;
	int pad[(64 - sizeof(unsigned long) - 3 * sizeof(int)) / sizeof(int)];
};

struct kernel_stack {
	void *sp;
	int flags;
	unsigned long size;
};

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static struct restorer_args *args;

static __attribute__((noreturn)) void finish(uint32_t step, long err)
{
	struct restorer_status st = {RESTORER_STATUS_MAGIC, step, (int32_t)err, 0, args->self};

	sys_write(args->status_fd, &st, sizeof(st));
	if (err) /* criu kills what is left; be gone first */
		sys_exit_group(1);
	sys_close(args->status_fd);
	for (;;) /* criu seizes the thread here */
		sys_ppoll(0, 0, 0, 0, 8);
}

#define CHECK(step, call)                                                                                   \
	do {                                                                                                \
		long ret_ = (call);                                                                         \
		if (ret_ < 0 && ret_ > -4096)                                                               \
			finish(step, ret_);                                                                 \
	} while (0)

static void to_timeval(uint64_t ns, struct kernel_timeval *tv)
{
	tv->sec = (long)(ns / 1000000000ull);
	tv->usec = (long)(ns % 1000000000ull / 1000);
}

static void to_timespec(uint64_t ns, struct kernel_timespec *ts)
{
	ts->sec = (long)(ns / 1000000000ull);
	ts->nsec = (long)(ns % 1000000000ull);
}

/* criu's code and data are gone after this: only args and this blob stay. */
static void replace_memory(void)
{
	const struct restorer_range *unmap = (const void *)(unsigned long)args->unmap;
	const struct restorer_vma *vmas = (const void *)(unsigned long)args->vmas;
	uint64_t at = args->scratch.start;
	uint32_t i;
	int adv;

	for (i = 0; i < args->nr_unmap; i++)
		CHECK(RESTORER_STEP_UNMAP, sys_munmap((void *)(unsigned long)unmap[i].start, unmap[i].len));

	/* Through the scratch hole: a special mapping may have to move onto
	 * where another one is now. */
	for (i = 0; i < args->nr_specials; i++) {
		const struct restorer_special *s = &args->specials[i];

		CHECK(RESTORER_STEP_SPECIALS, sys_mremap((void *)(unsigned long)s->from, s->len, s->len,
							 MREMAP_MAYMOVE_ | MREMAP_FIXED_, (void *)(unsigned long)at));
		at += s->len;
	}
	at = args->scratch.start;
	for (i = 0; i < args->nr_specials; i++) {
		const struct restorer_special *s = &args->specials[i];

		CHECK(RESTORER_STEP_SPECIALS, sys_mremap((void *)(unsigned long)at, s->len, s->len,
							 MREMAP_MAYMOVE_ | MREMAP_FIXED_, (void *)(unsigned long)s->to));
		at += s->len;
	}
	sys_munmap((void *)(unsigned long)args->scratch.start, args->scratch.len);

	for (i = 0; i < args->nr_vmas; i++) {
		const struct restorer_vma *v = &vmas[i];
		void *to = (void *)(unsigned long)v->to;

		if (v->from != v->to)
			CHECK(RESTORER_STEP_VMAS, sys_mremap((void *)(unsigned long)v->from, v->len, v->len,
							     MREMAP_MAYMOVE_ | MREMAP_FIXED_, to));
		CHECK(RESTORER_STEP_VMAS, sys_mprotect(to, v->len, (int)v->prot));
		for (adv = 0; adv < 64; adv++)
			if (v->madvise & (1ull << adv))
				CHECK(RESTORER_STEP_VMAS, sys_madvise(to, v->len, adv));
	}
	/* What is left of the premap reservation (its guard page). */
	sys_munmap((void *)(unsigned long)args->premap.start, args->premap.len);
	CHECK(RESTORER_STEP_MM, sys_prctl(PR_SET_MM_, PR_SET_MM_MAP_, (unsigned long)&args->mm, sizeof(args->mm), 0));
}

static void restore_signals_and_timers(void)
{
	const struct restorer_timer *timers = (const void *)(unsigned long)args->timers;
	uint32_t i;
	int sig;

	for (sig = 1; sig <= RESTORER_NR_SIGNALS; sig++) {
		const struct restorer_sigaction *s = &args->sigactions[sig - 1];
		struct kernel_sigaction a = {s->handler, s->flags, s->restorer, s->mask};

		if (sig != SIGKILL_ && sig != SIGSTOP_)
			CHECK(RESTORER_STEP_SIGNALS, sys_rt_sigaction(sig, &a, 0, sizeof(a.mask)));
	}
	for (i = 0; i < 3; i++) {
		struct kernel_itimerval v;
		uint64_t value = args->itimers[i].value_ns;

		/* An interval timer that expired while the process was frozen reads
		 * 0 and re-arms when its signal is taken; a value of 0 would
		 * disarm it for good.  1 us: it expires at once, its signal joins
		 * the pending one, and it re-arms when that is taken. */
		if (!value && args->itimers[i].interval_ns)
			value = 1000;
		to_timeval(value, &v.value);
		to_timeval(args->itimers[i].interval_ns, &v.interval);
		CHECK(RESTORER_STEP_TIMERS, sys_setitimer((int)i, &v, 0));
	}
	if (!args->nr_timers)
		return;
	/* Timer ids are chosen by the kernel, unless asked (Linux 6.15+). */
	CHECK(RESTORER_STEP_TIMERS, sys_prctl(PR_TIMER_CREATE_RESTORE_IDS_, 1, 0, 0, 0));
	for (i = 0; i < args->nr_timers; i++) {
		const struct restorer_timer *t = &timers[i];
		struct kernel_sigevent ev = {t->sigval, t->signo, t->notify, t->notify_tid, {0}};
		struct kernel_itimerspec v;
		int id = t->id;

		CHECK(RESTORER_STEP_TIMERS, sys_timer_create(t->clock, &ev, &id));
		to_timespec(t->value_ns, &v.value);
		to_timespec(t->interval_ns, &v.interval);
		CHECK(RESTORER_STEP_TIMERS, sys_timer_settime(id, 0, &v, 0));
	}
	CHECK(RESTORER_STEP_TIMERS, sys_prctl(PR_TIMER_CREATE_RESTORE_IDS_, 0, 0, 0, 0));
}

static void restore_thread(void)
{
	struct kernel_stack ss = {(void *)(unsigned long)args->altstack_sp, args->altstack_flags,
				  (unsigned long)args->altstack_size};

	if (args->rseq_area)
		CHECK(RESTORER_STEP_RSEQ, sys_rseq((void *)(unsigned long)args->rseq_area, args->rseq_len, 0,
						   args->rseq_sig));
	sys_set_tid_address((int *)(unsigned long)args->clear_child_tid);
	CHECK(RESTORER_STEP_THREAD,
	      sys_set_robust_list((void *)(unsigned long)args->robust_list, (unsigned long)args->robust_list_len));
	CHECK(RESTORER_STEP_THREAD, sys_sigaltstack(&ss, 0));
	CHECK(RESTORER_STEP_THREAD, sys_personality(args->personality));
	sys_umask((int)args->umask);
	CHECK(RESTORER_STEP_PRCTL, sys_prctl(PR_SET_NAME_, (unsigned long)args->comm, 0, 0, 0));
	CHECK(RESTORER_STEP_PRCTL, sys_prctl(PR_SET_DUMPABLE_, (unsigned long)args->dumpable, 0, 0, 0));
	CHECK(RESTORER_STEP_PRCTL, sys_prctl(PR_SET_PDEATHSIG_, (unsigned long)args->pdeathsig, 0, 0, 0));
	CHECK(RESTORER_STEP_PRCTL,
	      sys_prctl(PR_SET_CHILD_SUBREAPER_, (unsigned long)args->child_subreaper, 0, 0, 0));
}

static void queue_pending(void)
{
	const uint8_t *own = (const void *)(unsigned long)args->pending;
	const uint8_t *shared = (const void *)(unsigned long)args->shared_pending;
	int pid = (int)sys_getpid(), tid = (int)sys_gettid();
	uint32_t i;

	/* A process may queue any siginfo to itself: these arrive as they were. */
	for (i = 0; i < args->nr_pending; i++) {
		const uint8_t *si = own + i * RESTORER_SIGINFO_SIZE;

		CHECK(RESTORER_STEP_PENDING, sys_rt_tgsigqueueinfo(pid, tid, *(const int *)si, (void *)si));
	}
	for (i = 0; i < args->nr_shared_pending; i++) {
		const uint8_t *si = shared + i * RESTORER_SIGINFO_SIZE;

		CHECK(RESTORER_STEP_PENDING, sys_rt_sigqueueinfo(pid, *(const int *)si, (void *)si));
	}
}

static void restore_creds(void)
{
	struct cap_header h = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
	struct cap_data d[2] = {
		{(uint32_t)args->cap_eff, (uint32_t)args->cap_prm, (uint32_t)args->cap_inh},
		{(uint32_t)(args->cap_eff >> 32), (uint32_t)(args->cap_prm >> 32), (uint32_t)(args->cap_inh >> 32)},
	};
	int cap;

	for (cap = 0; cap < 64; cap++)
		if (!(args->cap_bnd & (1ull << cap)) && sys_prctl(PR_CAPBSET_DROP_, (unsigned long)cap, 0, 0, 0) < 0)
			break; /* past the last capability this kernel has */
	/* Keep the capabilities through the uid change; they are set below. */
	CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_SET_SECUREBITS_, args->securebits | SECBIT_KEEP_CAPS_, 0, 0, 0));
	CHECK(RESTORER_STEP_CREDS, sys_setgroups((int)args->nr_groups, (const unsigned int *)(unsigned long)args->groups));
	CHECK(RESTORER_STEP_CREDS, sys_setresgid(args->gid, args->egid, args->sgid));
	sys_setfsgid(args->fsgid);
	CHECK(RESTORER_STEP_CREDS, sys_setresuid(args->uid, args->euid, args->suid));
	sys_setfsuid(args->fsuid);
	CHECK(RESTORER_STEP_CREDS, sys_capset(&h, d));
	CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_CAP_AMBIENT_, PR_CAP_AMBIENT_CLEAR_ALL_, 0, 0, 0));
	for (cap = 0; cap < 64; cap++)
		if (args->cap_amb & (1ull << cap))
			CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_CAP_AMBIENT_, PR_CAP_AMBIENT_RAISE_, (unsigned long)cap, 0, 0));
	CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_SET_SECUREBITS_, args->securebits, 0, 0, 0));
	if (args->no_new_privs)
		CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_SET_NO_NEW_PRIVS_, 1, 0, 0, 0));
}

__attribute__((noreturn)) void __export_restore(struct restorer_args *a);

void __export_restore(struct restorer_args *a)
{
	uint64_t all = ~0ull;
	uint32_t i;

	args = a;
	/* Nothing may be delivered before the thread is the restored one. */
	sys_rt_sigprocmask(SIG_SETMASK_, &all, 0, sizeof(all));
	/* Before criu's TLS is unmapped, or the kernel writes into the hole. */
	if (args->criu_rseq_len)
		CHECK(RESTORER_STEP_RSEQ, sys_rseq((void *)(unsigned long)args->criu_rseq, args->criu_rseq_len,
						   RSEQ_FLAG_UNREGISTER_, args->criu_rseq_sig));
	replace_memory();
	restore_signals_and_timers();
	restore_thread();
	queue_pending();
	restore_creds();
	for (i = 0; i < sizeof(args->close_fds) / sizeof(args->close_fds[0]); i++)
		if (args->close_fds[i] >= 0)
			sys_close(args->close_fds[i]);
	finish(0, 0);
}
