// The x86 task arches: x86-64 and ia32 (32-bit tasks on a 64-bit kernel, or
// on a 32-bit host).
#include <cstddef>
#include <cstring>
#include <elf.h>
#include <sys/user.h>

#include "KernelAbi.h"
#include "TaskArch.h"
#include "X86Regs.h"

namespace compel::core {

namespace {

constexpr uint64_t kEflagsDF = 1u << 10;
// AMX state makes the xsave area about 11 KiB; leave room.
constexpr size_t kXstateMax = 16384;

class X86_64 final : public TaskArch {
public:
	compel_arch id() const override { return COMPEL_ARCH_X86_64; }
	const char *name() const override { return "x86_64"; }
	unsigned abi_index() const override { return 0; }
	unsigned word_size() const override { return 8; }
	size_t gpr_size() const override { return sizeof(UserRegs64); }
	uint64_t ip(const RegSet &r) const override { return load<UserRegs64>(r).rip; }
	uint64_t sp(const RegSet &r) const override { return load<UserRegs64>(r).rsp; }

	void set_syscall(RegSet &r, uint64_t entry, long nr, const uint64_t a[6]) const override
	{
		auto g = load<UserRegs64>(r);
		g.rip = entry;
		g.rax = uint64_t(nr);
		g.rdi = a[0], g.rsi = a[1], g.rdx = a[2], g.r10 = a[3], g.r8 = a[4], g.r9 = a[5];
		g.orig_rax = uint64_t(-1);
		store(r, g);
	}

	int64_t syscall_result(const RegSet &r) const override { return int64_t(load<UserRegs64>(r).rax); }

	void set_call(RegSet &r, uint64_t ip, uint64_t sp) const override
	{
		auto g = load<UserRegs64>(r);
		g.rip = ip;
		g.rsp = (sp & ~uint64_t(15)) - 8; // where a call would have put its return address
		g.orig_rax = uint64_t(-1);
		g.eflags &= ~kEflagsDF;     // the ABI wants DF clear on function entry
		store(r, g);
	}

	// The kernel decides about the restart when the thread resumes, from
	// orig_rax and rax, which tell the tracer meanwhile.
	long interrupted_syscall(const RegSet &r, std::span<const uint8_t>) const override
	{
		auto g = load<UserRegs64>(r);
		return int64_t(g.orig_rax) >= 0 && is_restart_code(long(g.rax)) ? long(g.orig_rax) : -1;
	}

	std::span<const SyscallInsn> syscall_insns() const override
	{
		static const uint8_t syscall[] = {0x0f, 0x05};
		static const SyscallInsn insns[] = {{syscall, 1}};
		return insns;
	}
	bool can_single_step() const override { return true; }
	bool in_thumb_mode(const RegSet &) const override { return false; }
	unsigned fpu_regset() const override { return NT_X86_XSTATE; }
	size_t fpu_max_size() const override { return kXstateMax; }

	std::vector<std::pair<const char *, uint64_t>> describe(const RegSet &r) const override
	{
		auto g = load<UserRegs64>(r);
		return {{"rip", g.rip}, {"rsp", g.rsp}, {"rax", g.rax}, {"rdi", g.rdi}, {"rsi", g.rsi},
			{"rdx", g.rdx}, {"orig_rax", g.orig_rax}};
	}
};

class Ia32 final : public TaskArch {
public:
	compel_arch id() const override { return COMPEL_ARCH_I386; }
	const char *name() const override { return "i386"; }
	unsigned abi_index() const override { return 1; }
	unsigned word_size() const override { return 4; }
	size_t gpr_size() const override { return sizeof(UserRegs32); }
	uint64_t ip(const RegSet &r) const override { return load<UserRegs32>(r).eip; }
	uint64_t sp(const RegSet &r) const override { return load<UserRegs32>(r).esp; }

	void set_syscall(RegSet &r, uint64_t entry, long nr, const uint64_t a[6]) const override
	{
		auto g = load<UserRegs32>(r);
		g.eip = uint32_t(entry);
		g.eax = uint32_t(nr);
		g.ebx = uint32_t(a[0]), g.ecx = uint32_t(a[1]), g.edx = uint32_t(a[2]);
		g.esi = uint32_t(a[3]), g.edi = uint32_t(a[4]), g.ebp = uint32_t(a[5]);
		g.orig_eax = uint32_t(-1);
		store(r, g);
	}

	// An error is -4095..-1; anything else (an address above 2 GiB too) is
	// unsigned.
	int64_t syscall_result(const RegSet &r) const override
	{
		uint32_t eax = load<UserRegs32>(r).eax;
		return eax >= uint32_t(-4095) ? int64_t(int32_t(eax)) : int64_t(eax);
	}

	void set_call(RegSet &r, uint64_t ip, uint64_t sp) const override
	{
		auto g = load<UserRegs32>(r);
		g.eip = uint32_t(ip);
		g.esp = (uint32_t(sp) & ~15u) - 4;
		g.orig_eax = uint32_t(-1);
		g.eflags &= ~uint32_t(kEflagsDF);
		store(r, g);
	}

	long interrupted_syscall(const RegSet &r, std::span<const uint8_t>) const override
	{
		auto g = load<UserRegs32>(r);
		return int32_t(g.orig_eax) >= 0 && is_restart_code(int32_t(g.eax)) ? long(g.orig_eax) : -1;
	}

	std::span<const SyscallInsn> syscall_insns() const override
	{
		static const uint8_t int80[] = {0xcd, 0x80};
		static const SyscallInsn insns[] = {{int80, 1}};
		return insns;
	}
	bool can_single_step() const override { return true; }
	bool in_thumb_mode(const RegSet &) const override { return false; }
	unsigned fpu_regset() const override { return NT_X86_XSTATE; }
	size_t fpu_max_size() const override { return kXstateMax; }

	std::vector<std::pair<const char *, uint64_t>> describe(const RegSet &r) const override
	{
		auto g = load<UserRegs32>(r);
		return {{"eip", g.eip}, {"esp", g.esp}, {"eax", g.eax}, {"ebx", g.ebx}, {"ecx", g.ecx},
			{"edx", g.edx}, {"orig_eax", g.orig_eax}};
	}
};

const X86_64 kX86_64;
const Ia32 kIa32;

} // namespace

std::span<const TaskArch *const> host_task_arches()
{
#if defined(__x86_64__)
	static const TaskArch *const arches[] = {&kX86_64, &kIa32};
#else
	static const TaskArch *const arches[] = {&kIa32};
#endif
	return arches;
}

} // namespace compel::core
