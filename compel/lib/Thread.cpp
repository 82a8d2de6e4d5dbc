#include "Thread.h"

#include <cstring>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "format.h"

namespace compel::core {

std::string Stop::describe() const
{
	switch (kind) {
	case Kind::Exited:
		return format("exited with status %d", status);
	case Kind::Killed:
		return format("was killed by signal %d (%s)", sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	case Kind::Signal:
		return format("stopped by signal %d (SIG%s)", sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	case Kind::GroupStop:
		return format("entered a job-control stop (SIG%s)", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	case Kind::Interrupt:
		return "stopped by PTRACE_INTERRUPT";
	case Kind::Syscall:
		return "stopped at a syscall entry or exit";
	case Kind::Event:
		return format("stopped for ptrace event %d", status);
	}
	return "?";
}

namespace {

Stop decode(int status)
{
	if (WIFEXITED(status))
		return {Stop::Kind::Exited, 0, WEXITSTATUS(status)};
	if (WIFSIGNALED(status))
		return {Stop::Kind::Killed, WTERMSIG(status)};
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	if (event == PTRACE_EVENT_STOP) {
		bool job = sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
		return {job ? Stop::Kind::GroupStop : Stop::Kind::Interrupt, sig};
	}
	if (event)
		return {Stop::Kind::Event, sig, event};
	if (sig == (SIGTRAP | 0x80)) // PTRACE_O_TRACESYSGOOD's mark
		return {Stop::Kind::Syscall, SIGTRAP};
	return {Stop::Kind::Signal, sig};
}

} // namespace

void Thread::fail(const char *what, int err) const
{
	// ESRCH: the thread is no longer stopped for its tracer, most likely
	// because it is dying (SIGKILL).  Say so, if it ends soon.
	for (int i = 0; err == ESRCH && i < 100; i++) {
		int status;
		if (waitpid(tid_, &status, __WALL | WNOHANG) == tid_ && !decode(status).alive())
			throw Error(format("thread %d %s (found at %s)", tid_, decode(status).describe().c_str(), what),
				    ESRCH);
		usleep(1000);
	}
	throw Error(format("thread %d: %s", tid_, what), err);
}

void Thread::seize(unsigned long options)
{
	if (ptrace(PTRACE_SEIZE, tid_, nullptr, options) != 0)
		fail("PTRACE_SEIZE", errno);
}

void Thread::interrupt()
{
	if (ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) != 0)
		fail("PTRACE_INTERRUPT", errno);
}

Stop Thread::wait()
{
	int status;
	for (;;) {
		pid_t r = waitpid(tid_, &status, __WALL);
		if (r == tid_)
			return decode(status);
		if (r < 0 && errno != EINTR)
			fail("waitpid", errno);
	}
}

std::optional<Stop> Thread::poll()
{
	int status;
	pid_t r;
	do
		r = waitpid(tid_, &status, __WALL | WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		fail("waitpid", errno);
	if (r == 0)
		return std::nullopt;
	return decode(status);
}

void Thread::cont(int sig)
{
	if (ptrace(PTRACE_CONT, tid_, nullptr, long(sig)) != 0)
		fail("PTRACE_CONT", errno);
}

void Thread::syscall_step()
{
	if (ptrace(PTRACE_SYSCALL, tid_, nullptr, nullptr) != 0)
		fail("PTRACE_SYSCALL", errno);
}

void Thread::single_step()
{
	if (ptrace(PTRACE_SINGLESTEP, tid_, nullptr, nullptr) != 0)
		fail("PTRACE_SINGLESTEP", errno);
}

void Thread::detach(int sig)
{
	if (ptrace(PTRACE_DETACH, tid_, nullptr, long(sig)) != 0)
		fail("PTRACE_DETACH", errno);
}

void Thread::get_regs(RegSet &r)
{
	iovec iov = {r.bytes, sizeof(r.bytes)};
	if (ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void *>(NT_PRSTATUS), &iov) != 0)
		fail("PTRACE_GETREGSET(NT_PRSTATUS)", errno);
	r.size = iov.iov_len;
}

void Thread::set_regs(const RegSet &r)
{
	iovec iov = {const_cast<uint8_t *>(r.bytes), r.size};
	if (ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void *>(NT_PRSTATUS), &iov) != 0)
		fail("PTRACE_SETREGSET(NT_PRSTATUS)", errno);
}

std::vector<uint8_t> Thread::get_regset(unsigned type, size_t max)
{
	std::vector<uint8_t> data(max);
	iovec iov = {data.data(), data.size()};
	if (ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void *>(uintptr_t(type)), &iov) != 0)
		fail(format("PTRACE_GETREGSET(0x%x)", type).c_str(), errno);
	data.resize(iov.iov_len);
	return data;
}

void Thread::set_regset(unsigned type, const std::vector<uint8_t> &data)
{
	iovec iov = {const_cast<uint8_t *>(data.data()), data.size()};
	if (ptrace(PTRACE_SETREGSET, tid_, reinterpret_cast<void *>(uintptr_t(type)), &iov) != 0)
		fail(format("PTRACE_SETREGSET(0x%x)", type).c_str(), errno);
}

uint64_t Thread::get_sigmask()
{
	uint64_t mask;
	if (ptrace(PTRACE_GETSIGMASK, tid_, sizeof(mask), &mask) != 0)
		fail("PTRACE_GETSIGMASK", errno);
	return mask;
}

void Thread::set_sigmask(uint64_t mask)
{
	if (ptrace(PTRACE_SETSIGMASK, tid_, sizeof(mask), &mask) != 0)
		fail("PTRACE_SETSIGMASK", errno);
}

long Thread::entering_syscall()
{
	__ptrace_syscall_info info;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, tid_, sizeof(info), &info);
	if (n < 0)
		fail("PTRACE_GET_SYSCALL_INFO", errno);
	if (info.op != PTRACE_SYSCALL_INFO_ENTRY)
		fail("PTRACE_GET_SYSCALL_INFO: not at a syscall-entry stop", EPROTO);
	return long(info.entry.nr);
}

void Thread::request(int req, unsigned long addr, unsigned long data, const char *what)
{
	if (ptrace(__ptrace_request(req), tid_, addr, data) != 0)
		fail(what, errno);
}

siginfo_t Thread::get_siginfo()
{
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, tid_, nullptr, &si) != 0)
		fail("PTRACE_GETSIGINFO", errno);
	return si;
}

} // namespace compel::core
