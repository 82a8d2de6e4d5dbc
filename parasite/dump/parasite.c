/*
 * criu's dump parasite: runs inside the dumped process and reports what
 * only the process itself can tell (signal dispositions, timers, prctl
 * state...), and writes its memory to the pages image, read in place.
 * Everything /proc and ptrace give, the host reads itself.
 */
#include <compel/plugins/fds.h>
#include <compel/plugins/std.h>

#include "dump-protocol.h"
#include "kernel-abi.h"

struct kernel_stack {
	void *sp;
	int flags;
	unsigned long size;
};

#define PR_GET_PDEATHSIG_ 2
#define PR_GET_DUMPABLE_ 3
#define PR_GET_SECUREBITS_ 27
#define PR_GET_CHILD_SUBREAPER_ 37
#define PR_GET_TID_ADDRESS_ 40
#define EIO_ 5
#define EINVAL_ 22

static int failed(struct dump_misc *m, uint32_t step, long err)
{
	m->failed_step = step;
	m->error = (int32_t)err;
	return (int)err;
}

static uint64_t ns(long sec, long sub, long unit)
{
	return (uint64_t)sec * 1000000000ull + (uint64_t)sub * (uint64_t)unit;
}

static int dump_signals(struct dump_misc *m)
{
	int sig;

	for (sig = 1; sig <= DUMP_NR_SIGNALS; sig++) {
		struct kernel_sigaction a = {0, 0, 0, 0};
		struct dump_sigaction *d = &m->sigactions[sig - 1];
		long ret = sys_rt_sigaction(sig, 0, &a, sizeof(a.mask));

		if (ret == -EINVAL_) /* SIGKILL, SIGSTOP */
			continue;
		if (ret < 0)
			return failed(m, DUMP_STEP_SIGACTION, ret);
		d->handler = a.handler;
		d->flags = a.flags;
		d->restorer = a.restorer;
		d->mask = a.mask;
	}
	return 0;
}

static int dump_timers(struct dump_misc *m)
{
	unsigned int i;

	for (i = 0; i < 3; i++) {
		struct kernel_itimerval v;
		long ret = sys_getitimer((int)i, &v);

		if (ret < 0)
			return failed(m, DUMP_STEP_ITIMER, ret);
		m->itimers[i].value_ns = ns(v.value.sec, v.value.usec, 1000);
		m->itimers[i].interval_ns = ns(v.interval.sec, v.interval.usec, 1000);
	}
	for (i = 0; i < m->nr_timers && i < DUMP_MAX_TIMERS; i++) {
		struct kernel_itimerspec v;
		long ret = sys_timer_gettime(m->timer_ids[i], &v);

		if (ret >= 0)
			ret = sys_timer_getoverrun(m->timer_ids[i]);
		if (ret < 0)
			return failed(m, DUMP_STEP_TIMER, ret);
		m->timers[i].id = m->timer_ids[i];
		m->timers[i].overrun = (int32_t)ret;
		m->timers[i].value_ns = ns(v.value.sec, v.value.nsec, 1);
		m->timers[i].interval_ns = ns(v.interval.sec, v.interval.nsec, 1);
	}
	return 0;
}

static int dump_misc(struct dump_misc *m)
{
	struct kernel_stack ss;
	unsigned long tid_address = 0;
	int value = 0;
	long ret;
	int err;

	if ((err = dump_signals(m)) || (err = dump_timers(m)))
		return err;

	m->umask = (uint32_t)sys_umask(0);
	sys_umask((int)m->umask);
	m->brk = (unsigned long)sys_brk(0);

	ret = sys_prctl(PR_GET_DUMPABLE_, 0, 0, 0, 0);
	if (ret < 0)
		return failed(m, DUMP_STEP_PRCTL, ret);
	m->dumpable = (int32_t)ret;
	if ((ret = sys_prctl(PR_GET_PDEATHSIG_, (unsigned long)&value, 0, 0, 0)) < 0)
		return failed(m, DUMP_STEP_PRCTL, ret);
	m->pdeathsig = value;
	if ((ret = sys_prctl(PR_GET_CHILD_SUBREAPER_, (unsigned long)&value, 0, 0, 0)) < 0)
		return failed(m, DUMP_STEP_PRCTL, ret);
	m->child_subreaper = value;
	if ((ret = sys_prctl(PR_GET_SECUREBITS_, 0, 0, 0, 0)) < 0)
		return failed(m, DUMP_STEP_PRCTL, ret);
	m->securebits = (uint32_t)ret;
	if ((ret = sys_prctl(PR_GET_TID_ADDRESS_, (unsigned long)&tid_address, 0, 0, 0)) < 0)
		return failed(m, DUMP_STEP_PRCTL, ret);
	m->tid_address = tid_address;

	if ((ret = sys_sigaltstack(0, &ss)) < 0)
		return failed(m, DUMP_STEP_ALTSTACK, ret);
	m->altstack_sp = (unsigned long)ss.sp;
	m->altstack_size = ss.size;
	m->altstack_flags = ss.flags;
	return 0;
}

#define PAGE_SIZE_ 4096ul

static int pages_failed(struct dump_pages *p, uint32_t step, long err)
{
	p->failed_step = step;
	p->error = (int32_t)err;
	return (int)err;
}

/*
 * Reads a whole page only when it is zero: other pages differ from zero
 * within their first words.  Eight words at a time, to keep the loads in
 * flight without vector registers (the parasite must not touch them).
 */
static int page_is_zero(const uint64_t *w)
{
	unsigned int i;

	for (i = 0; i < PAGE_SIZE_ / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7])
			return 0;
	return 1;
}

static long write_all(int fd, unsigned long addr, unsigned long len)
{
	while (len) {
		long n = sys_write(fd, (const void *)addr, len);

		if (n == 0)
			return -EIO_;
		if (n < 0)
			return n;
		addr += (unsigned long)n;
		len -= (unsigned long)n;
	}
	return 0;
}

/* Writes the pages [from, to), if any, and counts them. */
static long write_stretch(struct dump_pages *p, int fd, unsigned long from, unsigned long to)
{
	long ret = 0;

	if (to > from) {
		ret = write_all(fd, from, to - from);
		p->written += (to - from) / PAGE_SIZE_;
	}
	return ret;
}

static int write_pages(struct dump_pages *p, int fd)
{
	compel_u64 page = 0; /* index of the page in the batch */
	uint32_t r;
	long ret;

	for (r = 0; r < p->nr_runs && r < DUMP_MAX_RUNS; r++) {
		unsigned long addr = p->runs[r].addr, end = addr + p->runs[r].nr_pages * PAGE_SIZE_;
		unsigned long data = addr; /* start of the stretch of non-zero pages not yet written */

		for (; addr < end; addr += PAGE_SIZE_, page++) {
			if (page >= DUMP_BATCH_PAGES)
				return pages_failed(p, DUMP_STEP_PAGES_WRITE, -EINVAL_);
			if (!page_is_zero((const uint64_t *)addr)) {
				p->zero[page / 64] &= ~(1ull << (page % 64));
				continue;
			}
			p->zero[page / 64] |= 1ull << (page % 64);
			if ((ret = write_stretch(p, fd, data, addr)) < 0)
				return pages_failed(p, DUMP_STEP_PAGES_WRITE, ret);
			data = addr + PAGE_SIZE_;
		}
		if ((ret = write_stretch(p, fd, data, end)) < 0)
			return pages_failed(p, DUMP_STEP_PAGES_WRITE, ret);
	}
	return 0;
}

static int dump_pages(struct dump_pages *p)
{
	int fd, ret;
	long err = compel_fds_recv(&fd, 1);

	p->written = 0;
	if (err < 0)
		return pages_failed(p, DUMP_STEP_PAGES_FD, err);
	ret = write_pages(p, fd);
	sys_close(fd);
	return ret;
}

int parasite_service(unsigned int cmd, void *args)
{
	union dump_args *a = args;

	switch (cmd) {
	case DUMP_CMD_MISC:
		return dump_misc(&a->misc);
	case DUMP_CMD_PAGES:
		return dump_pages(&a->pages);
	}
	return -EINVAL_;
}
