#pragma once

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "TaskArch.h"

namespace compel::core {

// How a traced thread stopped or ended, from waitpid().
struct Stop {
	enum class Kind {
		Exited,    // status: exit code
		Killed,    // sig: the fatal signal
		Signal,    // signal-delivery-stop of sig
		GroupStop, // job-control stop by sig, reported to a seizing tracer
		Interrupt, // PTRACE_INTERRUPT took effect
		Syscall,   // syscall-entry or -exit stop (PTRACE_SYSCALL)
		Event,     // status: a PTRACE_EVENT_* compel did not ask for
	};
	Kind kind;
	int sig = 0;
	int status = 0;

	bool alive() const { return kind != Kind::Exited && kind != Kind::Killed; }
	std::string describe() const;
};

// One thread under ptrace.  Every failure throws Error naming the thread.
class Thread {
public:
	explicit Thread(pid_t tid) : tid_(tid) {}

	pid_t tid() const { return tid_; }

	void seize(unsigned long options);
	void interrupt();
	Stop wait();
	std::optional<Stop> poll(); // a stop or end already there, without blocking

	void cont(int sig = 0);
	void syscall_step(); // PTRACE_SYSCALL: run to the next syscall entry or exit
	void single_step();
	void detach(int sig = 0);

	// NT_PRSTATUS; sets r.size to what the kernel filled in.
	void get_regs(RegSet &r);
	void set_regs(const RegSet &r);
	std::vector<uint8_t> get_regset(unsigned type, size_t max);
	void set_regset(unsigned type, const std::vector<uint8_t> &data);

	uint64_t get_sigmask();
	void set_sigmask(uint64_t mask);
	siginfo_t get_siginfo();

	// At a syscall-entry stop: the number of the syscall the kernel runs,
	// which the registers need not hold (an ARM kernel restarts syscalls
	// without returning to user space, past the register).
	long entering_syscall();

	// A ptrace request of one arch (PTRACE_SET_SYSCALL on ARM), named `what`
	// in errors.
	void request(int req, unsigned long addr, unsigned long data, const char *what);

private:
	[[noreturn]] void fail(const char *what, int err) const;

	pid_t tid_;
};

} // namespace compel::core
