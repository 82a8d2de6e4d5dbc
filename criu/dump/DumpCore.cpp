// core-<tid>.img: each thread's registers and signal state, and the
// process-wide state in its leader's.
#include <cstring>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "ArchCore.h"
#include "DumpContext.h"
#include "Proc.h"
#include "dump-protocol.h"
#include "format.h"

namespace criu {

using compel::format;

namespace {

constexpr int kPtraceGetRseqConfiguration = 0x420f;
constexpr int kPeekSiginfoShared = 1;
constexpr int kNrRlimits = 16;

struct PtraceRseqConfiguration {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

struct PeekSiginfoArgs {
	uint64_t off;
	uint32_t flags;
	int32_t nr;
};

// Signals queued for the thread (or, shared, for the process), in order.
std::vector<SiginfoEntry *> pending(DumpContext &c, pid_t tid, bool shared)
{
	std::vector<SiginfoEntry *> out;
	for (uint64_t off = 0;; off += 32) {
		siginfo_t si[32];
		PeekSiginfoArgs a = {off, uint32_t(shared ? kPeekSiginfoShared : 0), 32};
		long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, si);
		if (n < 0)
			c.fail(format("thread %d: PTRACE_PEEKSIGINFO", tid), errno);
		for (long i = 0; i < n; i++) {
			SiginfoEntry e = SIGINFO_ENTRY__INIT;
			e.siginfo.len = sizeof(siginfo_t);
			e.siginfo.data = c.arena.bytes(&si[i], sizeof(siginfo_t));
			out.push_back(c.arena.make(e));
		}
		if (n < 32)
			return out;
	}
}

std::vector<RlimitEntry *> rlimits(DumpContext &c)
{
	// /proc/PID/limits works for any process root may look at; prlimit()
	// on another uid's needs CAP_SYS_RESOURCE.
	std::ifstream f(format("/proc/%d/limits", c.pid));
	std::string line;
	std::getline(f, line); // the header
	std::vector<RlimitEntry *> out;
	for (int res = 0; res < kNrRlimits && std::getline(f, line); res++) {
		// "Max open files            1024                 1048576              files"
		std::istringstream in(line.substr(26));
		std::string soft, hard;
		if (!(in >> soft >> hard))
			c.fail(format("cannot parse line %d of /proc/PID/limits", res + 2), EINVAL);
		auto value = [](const std::string &s) { return s == "unlimited" ? RLIM_INFINITY : strtoull(s.c_str(), nullptr, 10); };
		RlimitEntry e = RLIMIT_ENTRY__INIT;
		e.resource = uint32_t(res);
		e.cur = value(soft);
		e.max = value(hard);
		out.push_back(c.arena.make(e));
	}
	if (out.size() != kNrRlimits)
		c.fail("/proc/PID/limits lists fewer limits than expected", EINVAL);
	return out;
}

CredsEntry *creds(DumpContext &c, const proc::Status &st, uint32_t securebits)
{
	CredsEntry e = CREDS_ENTRY__INIT;
	e.uid = st.uid[0], e.euid = st.uid[1], e.suid = st.uid[2], e.fsuid = st.uid[3];
	e.gid = st.gid[0], e.egid = st.gid[1], e.sgid = st.gid[2], e.fsgid = st.gid[3];
	e.n_groups = st.groups.size();
	e.groups = c.arena.array<uint32_t>(st.groups.size());
	std::copy(st.groups.begin(), st.groups.end(), e.groups);
	e.cap_inh = st.cap_inh, e.cap_prm = st.cap_prm, e.cap_eff = st.cap_eff;
	e.cap_bnd = st.cap_bnd, e.cap_amb = st.cap_amb;
	e.securebits = securebits;
	return c.arena.make(e);
}

template <typename T> void set_repeated(Arena &a, const std::vector<T *> &v, size_t &n, T **&out)
{
	n = v.size();
	out = a.array<T *>(v.size());
	std::copy(v.begin(), v.end(), out);
}

TaskCoreEntry *task_core(DumpContext &c, const dump_misc &m)
{
	proc::Stat stat = proc::read_stat(c.pid);
	proc::Status status = proc::read_status(c.pid);
	TaskCoreEntry t = TASK_CORE_ENTRY__INIT;
	t.comm = c.arena.str(stat.comm);
	t.personality = proc::read_personality(c.pid);
	t.umask = m.umask;
	std::vector<SigactionEntry *> acts;
	for (int sig = 1; sig <= DUMP_NR_SIGNALS; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		const dump_sigaction &d = m.sigactions[sig - 1];
		SigactionEntry e = SIGACTION_ENTRY__INIT;
		e.sig = uint32_t(sig), e.handler = d.handler, e.flags = d.flags, e.restorer = d.restorer, e.mask = d.mask;
		acts.push_back(c.arena.make(e));
	}
	set_repeated(c.arena, acts, t.n_sigactions, t.sigactions);
	set_repeated(c.arena, pending(c, c.pid, true), t.n_shared_pending, t.shared_pending);
	set_repeated(c.arena, rlimits(c), t.n_rlimits, t.rlimits);

	std::vector<ItimerEntry *> itimers;
	for (uint32_t which = 0; which < 3; which++) {
		ItimerEntry e = ITIMER_ENTRY__INIT;
		e.which = which, e.value_ns = m.itimers[which].value_ns, e.interval_ns = m.itimers[which].interval_ns;
		itimers.push_back(c.arena.make(e));
	}
	set_repeated(c.arena, itimers, t.n_itimers, t.itimers);

	std::vector<PosixTimerEntry *> timers;
	for (const proc::PosixTimer &p : proc::read_timers(c.pid)) {
		const dump_timer *d = nullptr;
		for (uint32_t i = 0; i < m.nr_timers; i++)
			if (m.timers[i].id == p.id)
				d = &m.timers[i];
		if (!d)
			c.fail(format("POSIX timer %d appeared during the dump", p.id), EAGAIN);
		PosixTimerEntry e = POSIX_TIMER_ENTRY__INIT;
		e.id = p.id, e.clock = p.clock, e.notify = p.notify, e.signo = p.signo, e.sigval = p.sigval;
		e.has_notify_tid = p.notify_tid != 0;
		e.notify_tid = p.notify_tid;
		e.value_ns = d->value_ns, e.interval_ns = d->interval_ns, e.overrun = d->overrun;
		timers.push_back(c.arena.make(e));
	}
	set_repeated(c.arena, timers, t.n_posix_timers, t.posix_timers);

	t.creds = creds(c, status, m.securebits);
	t.dumpable = uint32_t(m.dumpable);
	t.pdeathsig = m.pdeathsig;
	t.no_new_privs = status.no_new_privs;
	t.child_subreaper = m.child_subreaper != 0;
	t.exit_signal = uint32_t(stat.exit_signal);
	return c.arena.make(t);
}

std::string thread_name(DumpContext &c, pid_t tid)
{
	std::ifstream f(format("/proc/%d/task/%d/comm", c.pid, tid));
	std::string name;
	if (!std::getline(f, name))
		c.fail(format("thread %d: cannot read /proc/PID/task/TID/comm", tid), errno ? errno : EIO);
	return name;
}

ThreadCoreEntry *thread_core(DumpContext &c, compel::core::TracedThread &t, const ThreadMisc &m)
{
	pid_t tid = t.thread.tid();
	ThreadCoreEntry e = THREAD_CORE_ENTRY__INIT;
	e.blocked_sigs = t.thread.get_sigmask(); // compel has put it back: the thread's own
	set_repeated(c.arena, pending(c, tid, false), e.n_pending, e.pending);
	e.name = c.arena.str(thread_name(c, tid));

	PtraceRseqConfiguration rseq = {};
	if (ptrace(__ptrace_request(kPtraceGetRseqConfiguration), tid, sizeof(rseq), &rseq) < 0)
		c.fail(format("thread %d: PTRACE_GET_RSEQ_CONFIGURATION", tid), errno);
	if (rseq.rseq_abi_pointer) {
		RseqEntry r = RSEQ_ENTRY__INIT;
		r.area = rseq.rseq_abi_pointer, r.length = rseq.rseq_abi_size, r.signature = rseq.signature;
		e.rseq = c.arena.make(r);
	}

	e.clear_child_tid = m.tid_address;
	uint64_t head = 0;
	size_t len = 0;
	if (syscall(SYS_get_robust_list, tid, &head, &len) != 0)
		c.fail(format("thread %d: get_robust_list", tid), errno);
	e.robust_list = head, e.robust_list_len = len;
	e.has_altstack_sp = e.has_altstack_size = e.has_altstack_flags = true;
	e.altstack_sp = m.altstack_sp, e.altstack_size = m.altstack_size, e.altstack_flags = m.altstack_flags;
	return c.arena.make(e);
}

void write_core(DumpContext &c, compel::core::TracedThread &t, const ThreadMisc &m, TaskCoreEntry *task)
{
	const ArchCore *arch = arch_core(t.arch->id());
	if (!arch)
		c.refuse(format("thread %d is an %s task: dumping it is not supported yet", t.thread.tid(), t.arch->name()));
	CoreEntry core = CORE_ENTRY__INIT;
	core.arch = t.arch->id();
	core.tid = uint32_t(t.thread.tid());
	// The registers as seized; the FPU state read now that compel has put
	// it back (after the parasite, or the syscalls criu ran).
	arch->save(t.regs, t.thread.get_regset(t.arch->fpu_regset(), t.arch->fpu_max_size()), core, c.arena);
	core.thread = thread_core(c, t, m);
	core.task = task;
	c.write_image(ImageKind::Core, format("core-%d.img", t.thread.tid()), {&core.base});
}

} // namespace

std::map<pid_t, ThreadMisc> collect_threads(DumpContext &c, compel::core::Infection &inf)
{
	constexpr int kPrGetTidAddress = 40;
	std::map<pid_t, ThreadMisc> out;
	auto *d = &static_cast<dump_args *>(inf.args())->thread;
	uint64_t remote = inf.remote_args();
	for (pid_t tid : c.task.tids()) {
		if (tid == c.pid)
			continue;
		compel::core::TracedThread &t = c.task.thread(tid);
		*d = {};
		int64_t r = c.task.syscall(t, COMPEL_SYS_prctl,
					   {kPrGetTidAddress, remote + offsetof(dump_thread, tid_address)});
		if (r < 0)
			c.fail(format("thread %d: prctl(PR_GET_TID_ADDRESS)", tid), int(-r));
		r = c.task.syscall(t, COMPEL_SYS_sigaltstack, {0, remote + offsetof(dump_thread, altstack)});
		if (r < 0)
			c.fail(format("thread %d: sigaltstack", tid), int(-r));
		c.task.restore(t);
		out[tid] = {d->tid_address, d->altstack.sp, d->altstack.size, d->altstack.flags};
	}
	return out;
}

void dump_core(DumpContext &c, const dump_misc &m, const std::map<pid_t, ThreadMisc> &threads)
{
	ThreadMisc leader = {m.tid_address, m.altstack_sp, m.altstack_size, m.altstack_flags};
	write_core(c, c.task.leader(), leader, task_core(c, m));
	for (const auto &[tid, misc] : threads)
		write_core(c, c.task.thread(tid), misc, nullptr);
}

} // namespace criu
