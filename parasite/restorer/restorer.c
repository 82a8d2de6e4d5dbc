/*
 * criu's restorer: runs in the restored process's leader after criu has
 * prepared everything it can from normal code.  It removes criu's own
 * memory, moves the process's memory (premapped by criu) into place,
 * creates the other threads with their tids, and each thread sets what
 * only it can set.  When every thread is done, the leader reports, and all
 * wait: criu seizes them, gives each thread its registers and signal mask
 * through ptrace, and takes this blob out (see criu/restore/Restore.cpp).
 * No thread runs the process's code before all of them are restored.
 */
#include <compel/plugins/std.h>

#include "kernel-abi.h"
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
#define CLONE_VM_ 0x100ul
#define CLONE_FS_ 0x200ul
#define CLONE_FILES_ 0x400ul
#define CLONE_SIGHAND_ 0x800ul
#define CLONE_THREAD_ 0x10000ul
#define CLONE_SYSVSEM_ 0x40000ul
#define FUTEX_WAIT_PRIVATE_ 128
#define FUTEX_WAKE_PRIVATE_ 129

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

struct kernel_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size,
		cgroup;
};

struct cap_header {
	uint32_t version;
	int pid;
};

struct cap_data {
	uint32_t effective, permitted, inheritable;
};

static struct restorer_args *args;

static __attribute__((noreturn)) void park(void)
{
	for (;;) /* criu seizes the thread here */
		sys_ppoll(0, 0, 0, 0, 8);
}

/* Thread tid failed: the verdict goes to criu, and the process ends. */
static __attribute__((noreturn)) void fail(int tid, uint32_t step, long err)
{
	struct restorer_status st = {RESTORER_STATUS_MAGIC, step, (int32_t)err, tid, args->self};

	sys_write(args->status_fd, &st, sizeof(st));
	sys_exit_group(1); /* criu kills what is left; be gone first */
	park();
}

#define CHECK(step, call)                                                                                   \
	do {                                                                                                \
		long ret_ = (call);                                                                         \
		if (ret_ < 0 && ret_ > -4096)                                                               \
			fail((int)sys_gettid(), step, ret_);                                                \
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

static void restore_sigactions(void)
{
	int sig;

	for (sig = 1; sig <= RESTORER_NR_SIGNALS; sig++) {
		const struct restorer_sigaction *s = &args->sigactions[sig - 1];
		struct kernel_sigaction a = {s->handler, s->flags, s->restorer, s->mask};

		if (sig != SIGKILL_ && sig != SIGSTOP_)
			CHECK(RESTORER_STEP_SIGNALS, sys_rt_sigaction(sig, &a, 0, sizeof(a.mask)));
	}
}

/* After the threads exist: a timer may signal one of them. */
static void restore_timers(void)
{
	const struct restorer_timer *timers = (const void *)(unsigned long)args->timers;
	uint32_t i;

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

/* What the kernel keeps per thread; t is the calling thread.  Its own
 * pending signals are queued to it: a process may queue any siginfo to
 * itself, and these arrive as they were. */
static void restore_thread(const struct restorer_thread *t)
{
	struct kernel_stack ss = {(void *)(unsigned long)t->altstack_sp, t->altstack_flags,
				  (unsigned long)t->altstack_size};
	const uint8_t *own = (const void *)(unsigned long)t->pending;
	int pid = (int)sys_getpid();
	uint32_t i;

	if (t->rseq_area)
		CHECK(RESTORER_STEP_RSEQ, sys_rseq((void *)(unsigned long)t->rseq_area, t->rseq_len, 0, t->rseq_sig));
	sys_set_tid_address((int *)(unsigned long)t->clear_child_tid);
	CHECK(RESTORER_STEP_THREAD,
	      sys_set_robust_list((void *)(unsigned long)t->robust_list, (unsigned long)t->robust_list_len));
	CHECK(RESTORER_STEP_THREAD, sys_sigaltstack(&ss, 0));
	CHECK(RESTORER_STEP_THREAD, sys_personality(args->personality));
	CHECK(RESTORER_STEP_PRCTL, sys_prctl(PR_SET_NAME_, (unsigned long)t->name, 0, 0, 0));
	for (i = 0; i < t->nr_pending; i++) {
		const uint8_t *si = own + i * RESTORER_SIGINFO_SIZE;

		CHECK(RESTORER_STEP_PENDING, sys_rt_tgsigqueueinfo(pid, t->tid, *(const int *)si, (void *)si));
	}
}

static void restore_process(void)
{
	sys_umask((int)args->umask);
	CHECK(RESTORER_STEP_PRCTL, sys_prctl(PR_SET_DUMPABLE_, (unsigned long)args->dumpable, 0, 0, 0));
	CHECK(RESTORER_STEP_PRCTL, sys_prctl(PR_SET_PDEATHSIG_, (unsigned long)args->pdeathsig, 0, 0, 0));
	CHECK(RESTORER_STEP_PRCTL,
	      sys_prctl(PR_SET_CHILD_SUBREAPER_, (unsigned long)args->child_subreaper, 0, 0, 0));
}

static void queue_shared_pending(void)
{
	const uint8_t *shared = (const void *)(unsigned long)args->shared_pending;
	int pid = (int)sys_getpid();
	uint32_t i;

	for (i = 0; i < args->nr_shared_pending; i++) {
		const uint8_t *si = shared + i * RESTORER_SIGINFO_SIZE;

		CHECK(RESTORER_STEP_PENDING, sys_rt_sigqueueinfo(pid, *(const int *)si, (void *)si));
	}
}

/* Credentials are per thread too: every thread sets them, last.  The
 * securebits need CAP_SETPCAP, which a process of another uid may not have:
 * the thread keeps its capabilities through the uid change (KEEP_CAPS),
 * takes them up again to set the securebits and the ambient ones, and only
 * then drops to the dumped ones. */
static void restore_creds(void)
{
	struct cap_header h = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
	struct cap_data d[2] = {
		{(uint32_t)args->cap_eff, (uint32_t)args->cap_prm, (uint32_t)args->cap_inh},
		{(uint32_t)(args->cap_eff >> 32), (uint32_t)(args->cap_prm >> 32), (uint32_t)(args->cap_inh >> 32)},
	}, all[2];
	int cap;

	for (cap = 0; cap < 64; cap++)
		if (!(args->cap_bnd & (1ull << cap)) && sys_prctl(PR_CAPBSET_DROP_, (unsigned long)cap, 0, 0, 0) < 0)
			break; /* past the last capability this kernel has */
	CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_SET_SECUREBITS_, SECBIT_KEEP_CAPS_, 0, 0, 0));
	CHECK(RESTORER_STEP_CREDS, sys_setgroups((int)args->nr_groups, (const unsigned int *)(unsigned long)args->groups));
	CHECK(RESTORER_STEP_CREDS, sys_setresgid(args->gid, args->egid, args->sgid));
	sys_setfsgid(args->fsgid);
	CHECK(RESTORER_STEP_CREDS, sys_setresuid(args->uid, args->euid, args->suid));
	sys_setfsuid(args->fsuid);
	/* Every permitted capability effective, and the dumped inheritable ones
	 * (ambient ones must be both). */
	CHECK(RESTORER_STEP_CREDS, sys_capget(&h, all));
	all[0].effective = all[0].permitted, all[1].effective = all[1].permitted;
	all[0].inheritable = d[0].inheritable, all[1].inheritable = d[1].inheritable;
	CHECK(RESTORER_STEP_CREDS, sys_capset(&h, all));
	CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_CAP_AMBIENT_, PR_CAP_AMBIENT_CLEAR_ALL_, 0, 0, 0));
	for (cap = 0; cap < 64; cap++)
		if (args->cap_amb & (1ull << cap))
			CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_CAP_AMBIENT_, PR_CAP_AMBIENT_RAISE_, (unsigned long)cap, 0, 0));
	CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_SET_SECUREBITS_, args->securebits, 0, 0, 0));
	CHECK(RESTORER_STEP_CREDS, sys_capset(&h, d));
	if (args->no_new_privs)
		CHECK(RESTORER_STEP_CREDS, sys_prctl(PR_SET_NO_NEW_PRIVS_, 1, 0, 0, 0));
}

/* A thread but the leader: born with every signal blocked (the leader's
 * mask), it restores itself, says so, and waits for criu. */
static __attribute__((noreturn)) void thread_main(void *arg)
{
	const struct restorer_thread *t = arg;

	restore_thread(t);
	restore_creds();
	__atomic_add_fetch(&args->threads_ready, 1, __ATOMIC_SEQ_CST);
	sys_futex(&args->threads_ready, FUTEX_WAKE_PRIVATE_, 1, 0, 0, 0);
	park();
}

/* With the leader's capabilities still whole: clone3 with set_tid needs
 * CAP_CHECKPOINT_RESTORE.  No CLONE_SETTLS: criu sets fs and gs base with
 * the rest of the registers. */
static void create_threads(void)
{
	const struct restorer_thread *threads = (const void *)(unsigned long)args->threads;
	uint32_t i, ready;

	for (i = 1; i < args->nr_threads; i++) {
		const struct restorer_thread *t = &threads[i];
		struct kernel_clone_args ca = {0};
		long ret;

		ca.flags = CLONE_VM_ | CLONE_FS_ | CLONE_FILES_ | CLONE_SIGHAND_ | CLONE_THREAD_ | CLONE_SYSVSEM_;
		ca.stack = t->stack_top - RESTORER_THREAD_STACK;
		ca.stack_size = RESTORER_THREAD_STACK;
		ca.set_tid = (unsigned long)&t->tid;
		ca.set_tid_size = 1;
		ret = compel_clone_thread(&ca, sizeof(ca), thread_main, (void *)t);
		if (ret < 0)
			fail(t->tid, RESTORER_STEP_CLONE, ret);
	}
	while ((ready = __atomic_load_n(&args->threads_ready, __ATOMIC_SEQ_CST)) != args->nr_threads - 1)
		sys_futex(&args->threads_ready, FUTEX_WAIT_PRIVATE_, ready, 0, 0, 0);
}

__attribute__((noreturn)) void __export_restore(struct restorer_args *a);

void __export_restore(struct restorer_args *a)
{
	struct restorer_status done;
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
	restore_sigactions();
	create_threads();
	restore_timers();
	restore_thread((const struct restorer_thread *)(unsigned long)args->threads);
	restore_process();
	queue_shared_pending();
	restore_creds();
	for (i = 0; i < sizeof(args->close_fds) / sizeof(args->close_fds[0]); i++)
		if (args->close_fds[i] >= 0)
			sys_close(args->close_fds[i]);
	done = (struct restorer_status){RESTORER_STATUS_MAGIC, 0, 0, 0, args->self};
	sys_write(args->status_fd, &done, sizeof(done));
	sys_close(args->status_fd);
	park();
}
