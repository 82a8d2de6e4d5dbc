// The image form of x86 registers: x86-64 and ia32 threads.
#include <compel/error.hpp>

#include "ArchCore.h"
#include "X86Regs.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::core::RegSet;
using compel::core::store;
using compel::core::UserRegs32;
using compel::core::UserRegs64;

namespace {

class X86Core final : public ArchCore {
public:
	void save(const RegSet &gpr, const std::vector<uint8_t> &fpu, CoreEntry &core, Arena &arena) const override
	{
		X86RegsEntry r = X86_REGS_ENTRY__INIT;
		if (gpr.size == sizeof(UserRegs64)) {
			auto g = compel::core::load<UserRegs64>(gpr);
			r.mode = X86_REGS_ENTRY__MODE_T__NATIVE;
			r.r15 = g.r15, r.r14 = g.r14, r.r13 = g.r13, r.r12 = g.r12, r.bp = g.rbp, r.bx = g.rbx;
			r.r11 = g.r11, r.r10 = g.r10, r.r9 = g.r9, r.r8 = g.r8, r.ax = g.rax, r.cx = g.rcx;
			r.dx = g.rdx, r.si = g.rsi, r.di = g.rdi, r.orig_ax = g.orig_rax, r.ip = g.rip, r.cs = g.cs;
			r.flags = g.eflags, r.sp = g.rsp, r.ss = g.ss, r.fs_base = g.fs_base, r.gs_base = g.gs_base;
			r.ds = g.ds, r.es = g.es, r.fs = g.fs, r.gs = g.gs;
		} else if (gpr.size == sizeof(UserRegs32)) {
			auto g = compel::core::load<UserRegs32>(gpr);
			r.mode = X86_REGS_ENTRY__MODE_T__COMPAT;
			r.bx = g.ebx, r.cx = g.ecx, r.dx = g.edx, r.si = g.esi, r.di = g.edi, r.bp = g.ebp;
			r.ax = g.eax, r.ds = g.xds, r.es = g.xes, r.fs = g.xfs, r.gs = g.xgs, r.orig_ax = g.orig_eax;
			r.ip = g.eip, r.cs = g.xcs, r.flags = g.eflags, r.sp = g.esp, r.ss = g.xss;
		} else {
			throw Error("x86 registers of an unknown size", EINVAL);
		}
		core.x86_regs = arena.make(r);

		X86XsaveEntry x = X86_XSAVE_ENTRY__INIT;
		if (fpu.size() >= compel::core::kXsaveHeaderOffset + 8)
			std::memcpy(&x.xfeatures, fpu.data() + compel::core::kXsaveHeaderOffset, 8);
		x.area.len = fpu.size();
		x.area.data = arena.bytes(fpu.data(), fpu.size());
		core.x86_xsave = arena.make(x);
	}

	void load(const CoreEntry &core, const std::vector<uint8_t> &fpu_template, RegSet &gpr,
		  std::vector<uint8_t> &fpu) const override
	{
		const X86RegsEntry *r = core.x86_regs;
		if (!r)
			throw Error("the thread has no x86 registers", EINVAL);
		if (r->mode == X86_REGS_ENTRY__MODE_T__NATIVE) {
			UserRegs64 g = {r->r15, r->r14, r->r13, r->r12, r->bp,	r->bx,	    r->r11,	r->r10, r->r9,
					r->r8,	r->ax,	r->cx,	r->dx,	r->si,	r->di,	    r->orig_ax, r->ip,	r->cs,
					r->flags, r->sp, r->ss, r->fs_base, r->gs_base, r->ds, r->es, r->fs, r->gs};
			store(gpr, g);
		} else {
			auto w = [](uint64_t v) { return uint32_t(v); };
			UserRegs32 g = {w(r->bx), w(r->cx), w(r->dx), w(r->si), w(r->di),    w(r->bp),
					w(r->ax), w(r->ds), w(r->es), w(r->fs), w(r->gs),    w(r->orig_ax),
					w(r->ip), w(r->cs), w(r->flags), w(r->sp), w(r->ss)};
			store(gpr, g);
		}
		const X86XsaveEntry *x = core.x86_xsave;
		if (!x)
			throw Error("the thread has no FPU state", EINVAL);
		if (x->area.len != fpu_template.size())
			throw Error(compel::format("the dumping CPU's xsave area has %zu bytes, this one's %zu: "
						   "restoring on another CPU model is not supported",
						   x->area.len, fpu_template.size()),
				    EINVAL);
		fpu.assign(x->area.data, x->area.data + x->area.len);
	}

	uint32_t libc_rseq_signature() const override { return 0x53053053; }

	void jump(uint64_t entry, uint64_t arg, uint64_t stack_top) const override
	{
#if defined(__x86_64__)
		__asm__ volatile("mov %[sp], %%rsp\n\t"
				 "xor %%ebp, %%ebp\n\t"
				 "call *%[entry]\n\t"
				 "ud2"
				 :
				 : [sp] "r"(stack_top), [entry] "a"(entry), "D"(arg)
				 : "memory");
#else
		__asm__ volatile("mov %[sp], %%esp\n\t"
				 "xor %%ebp, %%ebp\n\t"
				 "sub $12, %%esp\n\t"
				 "push %[arg]\n\t"
				 "call *%[entry]\n\t"
				 "ud2"
				 :
				 : [sp] "r"(uint32_t(stack_top)), [entry] "a"(uint32_t(entry)), [arg] "d"(uint32_t(arg))
				 : "memory");
#endif
		__builtin_unreachable();
	}
};

const X86Core kX86Core;

} // namespace

const ArchCore *arch_core(uint32_t arch)
{
	return arch == COMPEL_ARCH_X86_64 || arch == COMPEL_ARCH_I386 ? &kX86Core : nullptr;
}

const ArchCore &host_arch_core() { return kX86Core; }

} // namespace criu
