#pragma once

// The kernel's register structs of x86 tasks, for the host side of compel
// and of criu.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sys/user.h>

#include "TaskArch.h"

namespace compel::core {

// NT_PRSTATUS of a 64-bit task: the kernel's struct user_regs_struct.
struct UserRegs64 {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, orig_rax, rip, cs,
		eflags, rsp, ss, fs_base, gs_base, ds, es, fs, gs;
};
static_assert(sizeof(UserRegs64) == 216);

// NT_PRSTATUS of an ia32 task, from a 64-bit or a 32-bit tracer alike.
struct UserRegs32 {
	uint32_t ebx, ecx, edx, esi, edi, ebp, eax, xds, xes, xfs, xgs, orig_eax, eip, xcs, eflags, esp, xss;
};
static_assert(sizeof(UserRegs32) == 68);

// The host's own view must agree with ours.
#if defined(__x86_64__)
static_assert(sizeof(user_regs_struct) == sizeof(UserRegs64));
static_assert(offsetof(user_regs_struct, orig_rax) == offsetof(UserRegs64, orig_rax));
static_assert(offsetof(user_regs_struct, rip) == offsetof(UserRegs64, rip));
static_assert(offsetof(user_regs_struct, rsp) == offsetof(UserRegs64, rsp));
static_assert(offsetof(user_regs_struct, fs_base) == offsetof(UserRegs64, fs_base));
static_assert(offsetof(user_regs_struct, gs) == offsetof(UserRegs64, gs));
#elif defined(__i386__)
static_assert(sizeof(user_regs_struct) == sizeof(UserRegs32));
static_assert(offsetof(user_regs_struct, orig_eax) == offsetof(UserRegs32, orig_eax));
static_assert(offsetof(user_regs_struct, eip) == offsetof(UserRegs32, eip));
static_assert(offsetof(user_regs_struct, esp) == offsetof(UserRegs32, esp));
static_assert(offsetof(user_regs_struct, xss) == offsetof(UserRegs32, xss));
#endif

template <typename Regs> Regs load(const RegSet &r)
{
	Regs regs;
	std::memcpy(&regs, r.bytes, sizeof(regs));
	return regs;
}

template <typename Regs> void store(RegSet &r, const Regs &regs)
{
	std::memcpy(r.bytes, &regs, sizeof(regs));
	r.size = sizeof(regs);
}

// The xsave area's XSTATE_BV: which components it holds.
inline constexpr size_t kXsaveHeaderOffset = 512;

} // namespace compel::core
