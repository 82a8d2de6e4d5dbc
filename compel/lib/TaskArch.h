#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <compel/blob.h>

namespace compel::core {

class Thread;

// A thread's general registers as PTRACE_GETREGSET(NT_PRSTATUS) gives them:
// the bytes of the kernel's struct for the task's arch, which the TaskArch
// of that arch interprets.
struct RegSet {
	alignas(16) uint8_t bytes[512];
	size_t size = 0;
};

// A syscall instruction as compel looks for it in a task's code: compel runs
// syscalls with one the task already has.
struct SyscallInsn {
	std::span<const uint8_t> bytes;
	unsigned align;
	// ARM: Thumb code, entered at its address with bit 0 set, as a branch
	// (and set_syscall()) takes it.
	bool thumb = false;
};

// Where the kernel prepares the restart of an interrupted syscall before the
// thread stops for its tracer (ARM, AArch64: do_signal() moves the pc back
// to the syscall instruction and forgets the syscall, then calls
// get_signal(), where the thread stops), its last step comes only when the
// thread leaves that stop: for -ERESTART_RESTARTBLOCK (nanosleep, poll,
// futex with a timeout) it loads restart_syscall into the syscall-number
// register.  Once compel has run code in the thread, the kernel no longer
// knows, and the thread would run the syscall again from the start, with
// its whole timeout.  Task::settle() has the kernel finish first, with these
// parts of the arch.
class RestartSettling {
public:
	// Puts nr in the register that holds the syscall number.
	virtual void set_syscall_nr(RegSet &r, long nr) const = 0;

	// At a syscall-entry stop, with the registers read there: the kernel
	// skips the syscall, which returns -ENOSYS.
	virtual void skip_syscall(Thread &t, RegSet &at_entry) const = 0;

protected:
	~RestartSettling() = default;
};

// Everything a tracer does differently for one task arch (x86-64, ia32,
// AArch64, ARM): generic code talks to this, never to an #ifdef.  The arch
// folders implement it (arch/x86/host, ...) and list the arches this host
// can trace in host_task_arches().
class TaskArch {
public:
	virtual ~TaskArch() = default;

	virtual compel_arch id() const = 0;
	virtual const char *name() const = 0;

	// Column of this arch's ABI in kSyscallNumbers.
	virtual unsigned abi_index() const = 0;

	// Bytes in a pointer or a long of a task of this arch.
	virtual unsigned word_size() const = 0;

	// Size of the NT_PRSTATUS regset; tells the arch of a task apart.
	virtual size_t gpr_size() const = 0;

	// Whether r, an NT_PRSTATUS regset, is one of a task of this arch.
	virtual bool owns(const RegSet &r) const { return r.size == gpr_size(); }

	virtual uint64_t ip(const RegSet &r) const = 0;
	virtual uint64_t sp(const RegSet &r) const = 0;

	// Loads syscall nr with its arguments, to be run by the syscall
	// instruction at `entry` (an address as a branch takes it: on ARM, bit
	// 0 set for Thumb).  On x86 this also cancels the restart of the
	// syscall the thread was stopped in, which the kernel would otherwise
	// apply on resume; arches with restart_settling() have none pending.
	virtual void set_syscall(RegSet &r, uint64_t entry, long nr, const uint64_t args[6]) const = 0;
	virtual int64_t syscall_result(const RegSet &r) const = 0;

	// Makes the thread enter the function at ip (bit 0 set: Thumb) as if it
	// had been called with the stack top at sp (aligned here), with no
	// restart pending.
	virtual void set_call(RegSet &r, uint64_t ip, uint64_t sp) const = 0;

	// The syscall the thread was interrupted in, which the kernel restarts
	// (or fails with EINTR) on resume, or -1.  `code` holds the bytes at
	// ip(r), as far as they could be read: where the kernel has already
	// moved the thread back onto the syscall instruction (ARM, AArch64),
	// only they tell.
	virtual long interrupted_syscall(const RegSet &r, std::span<const uint8_t> code) const = 0;

	// Whether the thread executes Thumb code (ARM), for disassembly.
	virtual bool in_thumb_mode(const RegSet &r) const = 0;

	// Whether compel runs a syscall with one PTRACE_SINGLESTEP (else with a
	// syscall-entry and a syscall-exit stop).
	virtual bool can_single_step() const = 0;

	// The syscall instructions of this ABI that compel may run, the
	// preferred first.
	virtual std::span<const SyscallInsn> syscall_insns() const = 0;

	// Non-null where the kernel prepares syscall restarts before the thread
	// stops (see RestartSettling).
	virtual const RestartSettling *restart_settling() const { return nullptr; }

	// The regset holding the FPU and vector registers, and how big it can be.
	virtual unsigned fpu_regset() const = 0;
	virtual size_t fpu_max_size() const = 0;

	// Register dump for messages: "rip=0x... rsp=0x... rax=0x...".
	virtual std::vector<std::pair<const char *, uint64_t>> describe(const RegSet &r) const = 0;
};

// The task arches this host can trace, native first.
std::span<const TaskArch *const> host_task_arches();

// The one that owns r, a thread's NT_PRSTATUS regset, or nullptr.
const TaskArch *task_arch_of(const RegSet &r);

} // namespace compel::core
