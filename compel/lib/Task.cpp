#include "Task.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <elf.h>
#include <sys/auxv.h>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "Infection.h"
#include "ProcFs.h"
#include "SyscallTable.h"
#include "format.h"

namespace compel::core {

namespace {

constexpr uint64_t sigbit(int sig) { return 1ull << (sig - 1); }

// While compel runs code in a thread, signals wait: a handler must not run
// on compel's registers.  The synchronous ones stay unblocked, because the
// kernel forces them on a fault, and forcing a blocked signal resets its
// handler to SIG_DFL; being the tracer, compel sees them before any handler.
constexpr uint64_t kFaultSignals =
	sigbit(SIGTRAP) | sigbit(SIGSEGV) | sigbit(SIGBUS) | sigbit(SIGILL) | sigbit(SIGFPE) | sigbit(SIGSYS);
constexpr uint64_t kRunMask = ~kFaultSignals;

// The vDSO is small and present in every task these kernels run: its
// syscall instructions are found first.  Other code is searched only this far.
constexpr size_t kMaxSearch = 1 << 20;

} // namespace

void Task::fail(const std::string &what, int err) const { throw Error(format("pid %d: ", pid_) + what, err); }

std::unique_ptr<Task> Task::seize(pid_t pid, unsigned flags)
{
	if (pid <= 0)
		throw Error(format("pid %d: not a process id", pid), EINVAL);
	ProcStatus st = read_proc_status(pid);
	if (st.kernel_thread)
		throw Error(format("pid %d is a kernel thread: it has no user space to run code in", pid), EPERM);
	if (st.state == 'Z' || st.state == 'X')
		throw Error(format("pid %d is a zombie: it has exited and waits to be reaped", pid), ESRCH);
	if (st.tracer)
		throw Error(format("pid %d is already traced by pid %d", pid, st.tracer), EBUSY);
	bool one = flags & COMPEL_SEIZE_ONE_THREAD;
	if (!one && st.tgid != pid)
		throw Error(format("pid %d is a thread of process %d: seize the process, or this thread "
				   "alone with COMPEL_SEIZE_ONE_THREAD",
				   pid, st.tgid),
			    EINVAL);

	std::unique_ptr<Task> task(new Task(pid));
	task->ignores_sigtrap_ = st.sig_ignored & sigbit(SIGTRAP);
	// First: seizing reads the code the threads stopped at.
	task->mem_fd_ = open(format("/proc/%d/mem", pid).c_str(), O_RDWR | O_CLOEXEC);
	if (task->mem_fd_ < 0)
		task->fail("cannot open /proc/PID/mem", errno);
	task->seize_threads(one, PTRACE_O_TRACESYSGOOD, st.seccomp != 0);
	return task;
}

void Task::seize_thread(pid_t tid, unsigned long options)
{
	auto t = std::make_unique<TracedThread>(tid);
	try {
		t->thread.seize(options);
	} catch (const Error &e) {
		if (e.err() == ESRCH && tid != pid_)
			return; // exited meanwhile
		if (e.err() == EPERM && (options & PTRACE_O_SUSPEND_SECCOMP))
			fail(format("thread %d runs under seccomp, and suspending it needs CAP_SYS_ADMIN", tid), EPERM);
		throw e.with_context(format("pid %d", pid_));
	}
	threads_.push_back(std::move(t));
	TracedThread &tt = *threads_.back();
	tt.thread.interrupt();
	if (!wait_seized(tt))
		threads_.pop_back();
}

void Task::seize_threads(bool one_thread, unsigned long options, bool leader_seccomp)
{
	// The leader first; then listing and stopping until a listing brings
	// nothing new: stopped threads clone no more, so the last listing is
	// complete (for a single thread, one listing).
	seize_thread(pid_, options | (leader_seccomp ? PTRACE_O_SUSPEND_SECCOMP : 0));
	if (one_thread)
		return;
	std::set<pid_t> seen = {pid_};
	for (bool found = true; found;) {
		found = false;
		for (pid_t tid : list_threads(pid_)) {
			if (!seen.insert(tid).second)
				continue;
			found = true;
			try {
				seize_thread(tid, options | (read_proc_status(tid).seccomp ? PTRACE_O_SUSPEND_SECCOMP : 0));
			} catch (const Error &e) {
				if (e.err() != ESRCH) // gone before compel could look at it
					throw;
			}
		}
	}
}

bool Task::wait_seized(TracedThread &t)
{
	t.state = COMPEL_TASK_RUNNING;
	t.stop_signal = 0;
	if (!wait_stop(t))
		return false;
	for (;;) {
		t.thread.get_regs(t.regs);
		t.arch = task_arch_of(t.regs);
		if (!t.arch)
			fail(format("thread %d is of no arch this host can trace (its NT_PRSTATUS has %zu bytes)",
				    t.thread.tid(), t.regs.size),
			     ENOEXEC);
		t.syscall_nr = interrupted_syscall(t);
		const RestartSettling *rs = t.arch->restart_settling();
		Settled settled = rs && t.syscall_nr >= 0 ? settle(t, *rs) : Settled::Yes;
		if (settled == Settled::Gone)
			return false;
		if (settled == Settled::Yes)
			break;
	}
	if (t.syscall_nr >= 0 && t.state == COMPEL_TASK_RUNNING)
		t.state = COMPEL_TASK_IN_SYSCALL;
	return true;
}

bool Task::wait_stop(TracedThread &t, std::optional<Stop> first)
{
	for (;;) {
		Stop s = first ? *first : t.thread.wait();
		first.reset();
		switch (s.kind) {
		case Stop::Kind::Interrupt:
			return true;
		case Stop::Kind::GroupStop:
			t.state = COMPEL_TASK_JOB_STOPPED;
			t.stop_signal = s.sig;
			return true;
		case Stop::Kind::Signal:
			// The signal was on its way in before compel asked for the stop:
			// let it arrive; the stop comes next.
			t.thread.cont(s.sig);
			break;
		case Stop::Kind::Event:
		case Stop::Kind::Syscall:
			t.thread.cont(0);
			break;
		case Stop::Kind::Exited:
		case Stop::Kind::Killed:
			if (t.thread.tid() == pid_)
				fail("it " + s.describe() + " while compel was stopping it", ESRCH);
			return false; // a thread that exited meanwhile
		}
	}
}

// The thread stands on a syscall instruction, where the kernel may have put
// it back to restart the syscall it was in, with the last step of the
// restart still to come (see RestartSettling).  Resumed with PTRACE_SYSCALL,
// it leaves the kernel's signal handling, which completes the restart, and
// enters that syscall: the kernel says which one it runs now, compel skips
// it and stops the thread again, and puts the registers back as they were
// but for that number.  They are the registers the thread resumes with,
// whatever compel does meanwhile.
Task::Settled Task::settle(TracedThread &t, const RestartSettling &rs)
{
	RegSet settled = t.regs;
	t.thread.syscall_step();
	Stop s = t.thread.wait();
	bool entered = s.kind == Stop::Kind::Syscall;
	if (entered) {
		RegSet at_entry;
		t.thread.get_regs(at_entry);
		rs.set_syscall_nr(settled, t.thread.entering_syscall());
		rs.skip_syscall(t.thread, at_entry);
	}
	// Anything else (a signal that arrived first) is handled as at seize,
	// from the stop it ends in.
	if (s.alive() && s.kind != Stop::Kind::Interrupt && s.kind != Stop::Kind::GroupStop)
		t.thread.interrupt();
	if (entered)
		t.thread.cont(0);
	if (!wait_stop(t, entered ? std::nullopt : std::optional<Stop>(s)))
		return Settled::Gone;
	if (!entered)
		return Settled::Again;
	t.regs = settled;
	t.thread.set_regs(t.regs);
	return Settled::Yes;
}

long Task::interrupted_syscall(const TracedThread &t)
{
	uint8_t code[4];
	ssize_t n = pread(mem_fd_, code, sizeof(code), off_t(t.arch->ip(t.regs)));
	return t.arch->interrupted_syscall(t.regs, {code, size_t(std::max<ssize_t>(n, 0))});
}

Task::~Task()
{
	try {
		detach();
	} catch (const Error &) {
		// Unwinding from another error, which is the one to report; detach()
		// has let every thread go that it could.
	}
}

std::vector<pid_t> Task::tids() const
{
	std::vector<pid_t> out;
	for (const auto &t : threads_)
		out.push_back(t->thread.tid());
	return out;
}

TracedThread &Task::thread(pid_t tid) const
{
	if (tid == 0)
		return leader();
	for (const auto &t : threads_)
		if (t->thread.tid() == tid)
			return *t;
	fail(format("thread %d is not one of its seized threads", tid), ESRCH);
}

void Task::read_mem(uint64_t addr, void *buf, size_t len)
{
	auto *p = static_cast<uint8_t *>(buf);
	while (len) {
		ssize_t n = pread(mem_fd_, p, len, off_t(addr));
		if (n <= 0)
			fail(format("cannot read %zu bytes of memory at 0x%llx", len, (unsigned long long)addr),
			     n < 0 ? errno : EIO);
		p += n, addr += uint64_t(n), len -= size_t(n);
	}
}

void Task::write_mem(uint64_t addr, const void *buf, size_t len)
{
	auto *p = static_cast<const uint8_t *>(buf);
	while (len) {
		ssize_t n = pwrite(mem_fd_, p, len, off_t(addr));
		if (n <= 0)
			fail(format("cannot write %zu bytes of memory at 0x%llx", len, (unsigned long long)addr),
			     n < 0 ? errno : EIO);
		p += n, addr += uint64_t(n), len -= size_t(n);
	}
}

int Task::pidfd()
{
	if (pidfd_ < 0) {
		// Through syscall(): glibc 2.36 declares pidfd_open() without C linkage for C++.
		pidfd_ = int(::syscall(SYS_pidfd_open, pid_, 0));
		if (pidfd_ < 0)
			fail("pidfd_open", errno);
	}
	return pidfd_;
}

namespace {

// Size of the code of the ELF image (the vDSO) whose first bytes are hdr:
// the end of its executable PT_LOAD segment, or 0 if hdr is no ELF image.
template <typename Ehdr, typename Phdr> uint64_t elf_code_size(const std::vector<uint8_t> &hdr)
{
	Ehdr eh;
	if (hdr.size() < sizeof(eh))
		return 0;
	std::memcpy(&eh, hdr.data(), sizeof(eh));
	if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Phdr ph;
		uint64_t at = eh.e_phoff + uint64_t(i) * sizeof(ph);
		if (at + sizeof(ph) > hdr.size())
			return 0;
		std::memcpy(&ph, hdr.data() + at, sizeof(ph));
		if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
			return ph.p_vaddr + ph.p_filesz;
	}
	return 0;
}

} // namespace

Task::SyscallSite Task::find_insn(const TracedThread &t, uint64_t start, uint64_t len)
{
	std::vector<uint8_t> code(std::min<uint64_t>(len, kMaxSearch));
	ssize_t n = pread(mem_fd_, code.data(), code.size(), off_t(start));
	for (const SyscallInsn &insn : t.arch->syscall_insns()) {
		for (size_t off = 0; n > 0 && off < size_t(n);) {
			auto *at = static_cast<const uint8_t *>(
				memmem(code.data() + off, size_t(n) - off, insn.bytes.data(), insn.bytes.size()));
			if (!at)
				break;
			off = size_t(at - code.data());
			if ((start + off) % insn.align == 0)
				return {start + off, &insn};
			off++;
		}
	}
	return {};
}

const Task::SyscallSite &Task::syscall_site(const TracedThread &t)
{
	if (syscall_site_.addr)
		return syscall_site_;
	// The vDSO has syscall instructions (its fallbacks) on every arch, and
	// the auxiliary vector finds it far faster than the memory map does.
	if (uint64_t vdso = read_auxv(pid_, AT_SYSINFO_EHDR, t.arch->word_size())) {
		std::vector<uint8_t> hdr(4096);
		if (pread(mem_fd_, hdr.data(), hdr.size(), off_t(vdso)) == ssize_t(hdr.size())) {
			uint64_t size = t.arch->word_size() == 8 ? elf_code_size<Elf64_Ehdr, Elf64_Phdr>(hdr)
								 : elf_code_size<Elf32_Ehdr, Elf32_Phdr>(hdr);
			if ((syscall_site_ = find_insn(t, vdso, size)).addr)
				return syscall_site_;
		}
	}
	// No vDSO (vdso=0, or moved away): any code of the task will do.
	for (const MapEntry &m : read_maps(pid_))
		if (m.exec && m.name != "[vsyscall]" && (syscall_site_ = find_insn(t, m.start, m.end - m.start)).addr)
			return syscall_site_;
	fail("has no syscall instruction in its code for compel to run syscalls with", ENOEXEC);
}

void Task::prepare(TracedThread &t)
{
	if (t.prepared)
		return;
	t.sigmask = t.thread.get_sigmask();
	t.fpu = t.thread.get_regset(t.arch->fpu_regset(), t.arch->fpu_max_size());
	t.thread.set_sigmask(kRunMask);
	t.prepared = true;
}

void Task::restore(TracedThread &t)
{
	if (t.in_syscall_stop) {
		// From a syscall-exit stop, the thread would go straight back to
		// user space, skipping the restart of the syscall it was interrupted
		// in.  Have it stop once more, inside the kernel's signal handling
		// (PTRACE_INTERRUPT), and put its registers back there: resuming
		// from there restarts the syscall as if compel had never stopped it.
		// Not at the exit stop: an ARM kernel leaving it takes r0/x0 for the
		// result of compel's syscall, and would move a thread whose own r0
		// held a restart code back by an instruction.
		t.thread.interrupt();
		t.thread.cont(0);
		wait_interrupted(t);
		t.in_syscall_stop = false;
	}
	if (t.regs_dirty) {
		t.thread.set_regs(t.regs);
		t.regs_dirty = false;
	}
	if (t.prepared) {
		t.thread.set_regset(t.arch->fpu_regset(), t.fpu);
		t.thread.set_sigmask(t.sigmask);
		t.prepared = false;
	}
}

void Task::replace_saved_state(TracedThread &t, const RegSet &regs, const std::vector<uint8_t> &fpu, uint64_t sigmask)
{
	prepare(t);
	t.regs = regs;
	t.fpu = fpu;
	t.sigmask = sigmask;
	t.regs_dirty = true;
}

void Task::wait_interrupted(TracedThread &t)
{
	for (;;) {
		Stop s = t.thread.wait();
		if (s.kind == Stop::Kind::Interrupt || s.kind == Stop::Kind::GroupStop)
			return;
		if (!absorb(t, s, Resume::Cont))
			fail(format("thread %d %s instead of stopping", t.thread.tid(), s.describe().c_str()), EIO);
	}
}

int64_t Task::syscall(TracedThread &t, compel_sys sys, const uint64_t args[6])
{
	if (unsigned(sys) >= COMPEL_SYS_COUNT)
		fail(format("unknown syscall id %d", int(sys)), EINVAL);
	long nr = kSyscallNumbers[sys][t.arch->abi_index()];
	if (nr < 0)
		fail(format("%s tasks have no syscall %s", t.arch->name(), kSyscallNames[sys]), ENOSYS);
	if (resumed_)
		fail("is running: interrupt it before running syscalls in it", EBUSY);
	const SyscallSite &site = syscall_site(t);
	prepare(t);
	RegSet r = t.regs;
	t.arch->set_syscall(r, site.entry(), nr, args);
	t.thread.set_regs(r);
	t.regs_dirty = true;
	if (t.arch->can_single_step() && !ignores_sigtrap_) {
		// One stop: the kernel reports the step with a SIGTRAP it forces,
		// which changes nothing unless SIGTRAP is ignored (forcing an
		// ignored signal resets it to SIG_DFL).
		Stop s = run(t, Resume::Step);
		if (s.kind != Stop::Kind::Signal || s.sig != SIGTRAP)
			fail(format("thread %d: syscall %s did not complete: the thread %s", t.thread.tid(),
				    kSyscallNames[sys], s.describe().c_str()),
			     EFAULT);
	} else {
		// Two stops, and no signal at all.
		for (const char *stop : {"entry", "exit"}) {
			Stop s = run(t, Resume::Syscall);
			if (s.kind != Stop::Kind::Syscall)
				fail(format("thread %d: syscall %s did not reach its %s: the thread %s",
					    t.thread.tid(), kSyscallNames[sys], stop, s.describe().c_str()),
				     EFAULT);
		}
		t.in_syscall_stop = true;
	}
	t.thread.get_regs(r);
	if (t.arch->ip(r) != site.end())
		fail(format("thread %d stopped at 0x%llx, not after the syscall instruction at 0x%llx",
			    t.thread.tid(), (unsigned long long)t.arch->ip(r), (unsigned long long)site.addr),
		     EFAULT);
	return t.arch->syscall_result(r);
}

int64_t Task::syscall(TracedThread &t, compel_sys sys, std::initializer_list<uint64_t> args)
{
	uint64_t a[6] = {};
	std::copy(args.begin(), args.end(), a);
	return syscall(t, sys, a);
}

int64_t Task::syscall(compel_sys sys, std::initializer_list<uint64_t> args) { return syscall(leader(), sys, args); }

int64_t Task::mmap(TracedThread &t, uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	// The 32-bit ABIs have mmap2; i386's mmap is old_mmap, which takes a struct.
	if (kSyscallNumbers[COMPEL_SYS_mmap2][t.arch->abi_index()] < 0)
		return syscall(t, COMPEL_SYS_mmap, {addr, len, uint64_t(prot), uint64_t(flags), uint64_t(fd), off});
	if (off % 4096)
		fail(format("mmap offset 0x%llx is not a multiple of the page size", (unsigned long long)off), EINVAL);
	return syscall(t, COMPEL_SYS_mmap2, {addr, len, uint64_t(prot), uint64_t(flags), uint64_t(fd), off / 4096});
}

bool Task::absorb(TracedThread &t, const Stop &s, Resume how)
{
	bool aside = false;
	switch (s.kind) {
	case Stop::Kind::GroupStop:
	case Stop::Kind::Interrupt:
	case Stop::Kind::Event:
		// Stopped by someone else (SIGSTOP...): the job-control stop
		// takes hold again when compel detaches.
		aside = true;
		break;
	case Stop::Kind::Signal:
		// Only the fault signals get through the mask (kRunMask); one that
		// another process sent is kept, to be sent again after detach.
		if (siginfo_t si = t.thread.get_siginfo(); si.si_code <= 0 && si.si_pid != pid_) {
			t.deferred.push_back(s.sig);
			aside = true;
		}
		break;
	case Stop::Kind::Syscall:
		break;
	case Stop::Kind::Exited:
	case Stop::Kind::Killed:
		fail(format("thread %d %s while running compel's code", t.thread.tid(), s.describe().c_str()),
		     ESRCH);
	}
	if (aside)
		resume(t, how);
	return aside;
}

void Task::resume(TracedThread &t, Resume how)
{
	switch (how) {
	case Resume::Cont:
		t.thread.cont(0);
		break;
	case Resume::Syscall:
		t.thread.syscall_step();
		break;
	case Resume::Step:
		t.thread.single_step();
		break;
	}
}

Stop Task::run(TracedThread &t, Resume how, bool resume)
{
	if (resume) {
		this->resume(t, how);
		t.in_syscall_stop = false;
	}
	for (;;) {
		Stop s = t.thread.wait();
		if (!absorb(t, s, how))
			return s;
	}
}

void Task::resume()
{
	if (infection_)
		fail("is infected: cure it before letting it run", EBUSY);
	if (resumed_)
		return;
	for (auto &t : threads_) {
		restore(*t);
		if (t->state == COMPEL_TASK_JOB_STOPPED) {
			// Stay in the job-control stop, but let it end (SIGCONT) as usual.
			if (ptrace(PTRACE_LISTEN, t->thread.tid(), nullptr, nullptr) != 0)
				fail(format("thread %d: PTRACE_LISTEN", t->thread.tid()), errno);
		} else {
			t->thread.cont(0);
		}
	}
	resumed_ = true;
}

void Task::interrupt()
{
	if (!resumed_)
		return;
	for (auto &t : threads_)
		t->thread.interrupt();
	resumed_ = false;
	for (auto it = threads_.begin(); it != threads_.end();)
		it = wait_seized(**it) ? it + 1 : threads_.erase(it);
	syscall_site_ = {}; // the task may have remapped its code
}

Infection &Task::infect(const compel_blob_desc *const *blobs, const compel_infect_opts &opts)
{
	if (infection_)
		fail("is already infected", EBUSY);
	if (resumed_)
		fail("is running: interrupt it before infecting it", EBUSY);
	infection_ = std::make_unique<Infection>(*this, blobs, opts);
	return *infection_;
}

void Task::cure()
{
	if (!infection_)
		fail("is not infected", EINVAL);
	std::unique_ptr<Infection> inf = std::move(infection_);
	inf->cure();
}

void Task::detach_thread(TracedThread &t)
{
	restore(t);
	t.thread.detach(0);
	for (int sig : t.deferred)
		if (::syscall(SYS_tgkill, pid_, t.thread.tid(), sig) != 0)
			fail(format("thread %d: cannot send back signal %d (SIG%s) that arrived meanwhile",
				    t.thread.tid(), sig, sigabbrev_np(sig)),
			     errno);
}

void Task::abandon()
{
	if (infection_)
		infection_->abandon();
	infection_.reset();
	threads_.clear();
	if (mem_fd_ >= 0)
		close(mem_fd_);
	if (pidfd_ >= 0)
		close(pidfd_);
	mem_fd_ = pidfd_ = -1;
}

void Task::detach()
{
	if (threads_.empty())
		return;
	std::optional<Error> first;
	auto keep = [&](const Error &e) {
		if (!first)
			first = e;
	};
	try {
		interrupt();
		if (infection_)
			cure();
	} catch (const Error &e) {
		keep(e);
		infection_.reset();
	}
	for (auto &t : threads_) {
		try {
			detach_thread(*t);
		} catch (const Error &e) {
			keep(e);
		}
	}
	threads_.clear();
	if (mem_fd_ >= 0)
		close(mem_fd_);
	if (pidfd_ >= 0)
		close(pidfd_);
	mem_fd_ = pidfd_ = -1;
	if (first)
		throw *first;
}

} // namespace compel::core
