#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <compel/blob.h>

namespace compel::core {

// A thread's general registers as PTRACE_GETREGSET(NT_PRSTATUS) gives them:
// the bytes of the kernel's struct for the task's arch, which the TaskArch
// of that arch interprets.
struct RegSet {
	alignas(16) uint8_t bytes[512];
	size_t size = 0;
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

	virtual uint64_t ip(const RegSet &r) const = 0;
	virtual uint64_t sp(const RegSet &r) const = 0;

	// Loads syscall nr with its arguments, to be run by the syscall
	// instruction at ip.  Also cancels any restart of the syscall the thread
	// was stopped in, which the kernel would otherwise apply on resume.
	virtual void set_syscall(RegSet &r, uint64_t ip, long nr, const uint64_t args[6]) const = 0;
	virtual int64_t syscall_result(const RegSet &r) const = 0;

	// Makes the thread enter the function at ip as if it had been called
	// with the stack top at sp (aligned here), with no restart pending.
	virtual void set_call(RegSet &r, uint64_t ip, uint64_t sp) const = 0;

	// The syscall the thread was interrupted in (the kernel will restart
	// it or fail it with EINTR on resume), or -1.
	virtual long interrupted_syscall(const RegSet &r) const = 0;

	// Whether the thread executes Thumb code (ARM), for disassembly.
	virtual bool in_thumb_mode(const RegSet &r) const = 0;

	// Whether PTRACE_SINGLESTEP works for tasks of this arch.
	virtual bool can_single_step() const = 0;

	// Byte patterns of a syscall instruction of this ABI, and their
	// alignment: compel runs the one it finds in the task's own code.
	virtual std::span<const uint8_t> syscall_insn() const = 0;
	virtual unsigned syscall_insn_align() const = 0;

	// The regset holding the FPU and vector registers, and how big it can be.
	virtual unsigned fpu_regset() const = 0;
	virtual size_t fpu_max_size() const = 0;

	// Register dump for messages: "rip=0x... rsp=0x... rax=0x...".
	virtual std::vector<std::pair<const char *, uint64_t>> describe(const RegSet &r) const = 0;
};

// The task arches this host can trace, native first.
std::span<const TaskArch *const> host_task_arches();

// The one whose NT_PRSTATUS regset is `size` bytes, or nullptr.
const TaskArch *task_arch_by_regset_size(size_t size);

} // namespace compel::core
