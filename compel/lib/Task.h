#pragma once

#include <memory>
#include <optional>
#include <sys/types.h>
#include <vector>

#include <compel/compel.h>

#include "TaskArch.h"
#include "Thread.h"

namespace compel::core {

class Infection;

// A thread of a seized task, with what compel must put back before it lets
// the thread go.
struct TracedThread {
	explicit TracedThread(pid_t tid) : thread(tid) {}

	Thread thread;
	const TaskArch *arch = nullptr;
	RegSet regs; // as seized
	compel_task_state state = COMPEL_TASK_RUNNING;
	int stop_signal = 0; // the job-control stop signal, if any
	long syscall_nr = -1; // the syscall it was interrupted in, or -1

	// Set once compel runs code in the thread: its own signal mask and
	// FPU state, to put back.
	bool prepared = false;
	uint64_t sigmask = 0;
	std::vector<uint8_t> fpu;
	bool regs_dirty = false;      // the registers are not `regs` now
	bool in_syscall_stop = false; // stopped at the exit of a syscall compel ran

	// Signals other processes sent while compel ran code in the thread,
	// which compel had to take out of the way: sent again after detach.
	std::vector<int> deferred;
};

// A process (or one thread of it) stopped under ptrace.  Every failure
// throws Error naming the pid and the step; the destructor lets the task go
// as it found it.
class Task {
public:
	static std::unique_ptr<Task> seize(pid_t pid, unsigned flags);
	~Task();
	Task(const Task &) = delete;
	Task &operator=(const Task &) = delete;

	// Cures any infection, puts back every thread and detaches.
	void detach();
	// Lets go of a task its user has just killed: no cure, no detach (the
	// threads are gone, or going, with everything compel put in them).
	void abandon();

	pid_t pid() const { return pid_; }
	const TaskArch &arch() const { return *leader().arch; }
	std::vector<pid_t> tids() const;
	TracedThread &leader() const { return *threads_.front(); }
	TracedThread &thread(pid_t tid) const; // 0: the leader

	// Runs a syscall in thread t and returns the kernel's result.
	int64_t syscall(TracedThread &t, compel_sys sys, const uint64_t args[6]);
	int64_t syscall(compel_sys sys, std::initializer_list<uint64_t> args);
	int64_t syscall(TracedThread &t, compel_sys sys, std::initializer_list<uint64_t> args);

	// mmap(2) on every ABI: mmap2, with the offset in pages, on the 32-bit
	// ones.  Returns the address or a negative errno.
	int64_t mmap(TracedThread &t, uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off);

	void read_mem(uint64_t addr, void *buf, size_t len);
	void write_mem(uint64_t addr, const void *buf, size_t len);

	// A pidfd of the task, for pidfd_getfd().
	int pidfd();

	// Blocks signals in t (but the synchronous ones that report faults) and
	// saves what it will restore: from then on, compel may run code in t.
	void prepare(TracedThread &t);
	// Puts back t's registers, FPU state and signal mask.
	void restore(TracedThread &t);
	// Makes t leave with these registers, FPU state and signal mask instead
	// of those it had when seized (criu restore gives a restored thread its
	// dumped state this way).
	void replace_saved_state(TracedThread &t, const RegSet &regs, const std::vector<uint8_t> &fpu, uint64_t sigmask);

	// Resumes t (the way `how` says; or, with resume false, waits for t,
	// which runs already) until it stops for compel: a signal of compel's
	// code (its end, or a fault), a syscall stop, or its end.
	enum class Resume { Cont, Syscall, Step };
	Stop run(TracedThread &t, Resume how, bool resume = true);

	// Whether s is a stop compel sets aside while running code in t: a
	// job-control stop, a stray interrupt, a signal another process sent
	// (kept for after detach).  If so, t is resumed again the way `how` says.
	bool absorb(TracedThread &t, const Stop &s, Resume how);
	void resume(TracedThread &t, Resume how);

	void resume();
	void interrupt();

	Infection *infection() const { return infection_.get(); }
	Infection &infect(const compel_blob_desc *const *blobs, const compel_infect_opts &opts);
	void cure();

private:
	explicit Task(pid_t pid) : pid_(pid) {}

	// A syscall instruction found in the task's code.
	struct SyscallSite {
		uint64_t addr = 0; // 0: not looked for yet
		const SyscallInsn *insn = nullptr;

		uint64_t entry() const { return addr | (insn->thumb ? 1 : 0); }
		uint64_t end() const { return addr + insn->bytes.size(); }
	};

	enum class Settled { Yes, Again, Gone };

	void seize_threads(bool one_thread, unsigned long options, bool leader_seccomp);
	void seize_thread(pid_t tid, unsigned long options);
	bool wait_seized(TracedThread &t); // false: a thread other than the leader exited
	bool wait_stop(TracedThread &t, std::optional<Stop> first = std::nullopt);
	Settled settle(TracedThread &t, const RestartSettling &rs);
	long interrupted_syscall(const TracedThread &t);
	void wait_interrupted(TracedThread &t);
	const SyscallSite &syscall_site(const TracedThread &t);
	SyscallSite find_insn(const TracedThread &t, uint64_t start, uint64_t len); // addr 0: none
	void detach_thread(TracedThread &t);
	[[noreturn]] void fail(const std::string &what, int err = 0) const;

	pid_t pid_;
	std::vector<std::unique_ptr<TracedThread>> threads_;
	bool resumed_ = false;
	int mem_fd_ = -1;
	int pidfd_ = -1;
	SyscallSite syscall_site_;
	bool ignores_sigtrap_ = false;
	std::unique_ptr<Infection> infection_;
};

} // namespace compel::core
