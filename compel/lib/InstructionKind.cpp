// Which instructions use FP/vector state, need privilege or make syscalls,
// per arch, from capstone 4's instruction detail.  FP/vector use is found
// from capstone's instruction groups and the registers cs_regs_access()
// reports (explicit operands and implicit uses alike).  Privileged ones are
// capstone's privilege group and what it misses on x86, and our own lists
// on ARM and AArch64, where the group is no guide: it takes in every
// AArch64 mrs and msr, nzcv included, and the ARM TLS register reads, and
// leaves out cps, srs, rfe, eret and hvc.
#include "InstructionKind.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include <compel/error.hpp>
#include "format.h"

namespace compel {

namespace {

using Kind = Instruction::Kind;

struct Verdict {
	Kind kind = Kind::plain;
	std::string evidence;
};

const char kWfi[] = "waits for an interrupt, which a task leaves to the kernel (arm64 kernels trap it at EL0)";

bool in(unsigned v, unsigned first, unsigned last) { return v >= first && v <= last; }

template <size_t N> bool listed(unsigned v, const unsigned (&list)[N])
{
	return std::find(std::begin(list), std::end(list), v) != std::end(list);
}

// Every register an instruction reads or writes, whether its operands
// name it or not.
class Registers {
public:
	Registers(csh handle, const cs_insn &insn) : handle_(handle)
	{
		if (cs_err err = cs_regs_access(handle, &insn, read_, &nread_, written_, &nwritten_))
			throw Error(format("capstone: cannot list the registers of '%s %s': %s", insn.mnemonic,
					   insn.op_str, cs_strerror(err)));
	}

	// The name of the first register, read or written, that `wanted`
	// accepts, or "" if there is none.
	template <class Pred> std::string find(Pred wanted) const
	{
		for (uint8_t i = 0; i < nread_; i++)
			if (wanted(read_[i]))
				return cs_reg_name(handle_, read_[i]);
		for (uint8_t i = 0; i < nwritten_; i++)
			if (wanted(written_[i]))
				return cs_reg_name(handle_, written_[i]);
		return "";
	}

	bool writes(unsigned reg) const
	{
		return std::find(written_, written_ + nwritten_, reg) != written_ + nwritten_;
	}

private:
	csh handle_;
	cs_regs read_, written_;
	uint8_t nread_ = 0, nwritten_ = 0;
};

// In one of the arch's FP/vector groups, or using an FP/vector register.
// Either test alone misses some: capstone 4 puts AArch64 ldr/str/ldp/stp
// of q and d registers in no group, and lists no registers for ARM's vldm.
template <size_t N, class Pred>
Verdict fp_vector(csh handle, const cs_insn &insn, const unsigned (&groups)[N], Pred is_fp_register)
{
	for (unsigned g : groups)
		if (cs_insn_group(handle, &insn, g))
			return {Kind::fp_vector, std::string("capstone group ") + cs_group_name(handle, g)};
	std::string reg = Registers(handle, insn).find(is_fp_register);
	if (!reg.empty())
		return {Kind::fp_vector, "uses " + reg};
	return {};
}

// x86 //////////////////////////////////////////////////////////////////

// x87, MMX and 3DNow! instructions all work on the x87 register file, so
// their groups are enough.  The SSE and AVX groups are not: capstone 4 puts
// mfence, pause, prefetch, crc32, movnti and clflush, which touch no
// vector register, in them.  Vector instructions are found by register.
const unsigned kX86FpGroups[] = {X86_GRP_FPU, X86_GRP_MMX, X86_GRP_3DNOW};

bool x86_fp_register(unsigned r)
{
	return r == X86_REG_FPSW || in(r, X86_REG_FP0, X86_REG_FP7) || in(r, X86_REG_ST0, X86_REG_ST7) ||
	       in(r, X86_REG_MM0, X86_REG_MM7) || in(r, X86_REG_K0, X86_REG_K7) ||
	       in(r, X86_REG_XMM0, X86_REG_XMM31) || in(r, X86_REG_YMM0, X86_REG_YMM31) ||
	       in(r, X86_REG_ZMM0, X86_REG_ZMM31);
}

// FP/vector state instructions that capstone 4 gives neither an FP group
// nor an FP register: the x87 control word, MXCSR, whole-state saves.
const unsigned kX86FpState[] = {
	X86_INS_FNSTCW,    X86_INS_LDMXCSR,  X86_INS_STMXCSR,   X86_INS_VLDMXCSR,   X86_INS_VSTMXCSR,
	X86_INS_FXSAVE,    X86_INS_FXSAVE64, X86_INS_FXRSTOR,   X86_INS_FXRSTOR64,  X86_INS_XSAVE,
	X86_INS_XSAVE64,   X86_INS_XSAVEC,   X86_INS_XSAVEC64,  X86_INS_XSAVEOPT,   X86_INS_XSAVEOPT64,
	X86_INS_XSAVES,    X86_INS_XSAVES64, X86_INS_XRSTOR,    X86_INS_XRSTOR64,   X86_INS_XRSTORS,
	X86_INS_XRSTORS64,
};

// Port I/O: only after ioperm() or iopl(), which no victim does for us.
const unsigned kX86PortIo[] = {X86_INS_IN,    X86_INS_OUT,   X86_INS_INSB,  X86_INS_INSW,
			       X86_INS_INSD,  X86_INS_OUTSB, X86_INS_OUTSW, X86_INS_OUTSD};

// Stores of descriptor-table and machine-status registers: they fault in
// user mode on CPUs with UMIP.
const unsigned kX86Umip[] = {X86_INS_SGDT, X86_INS_SIDT, X86_INS_SLDT, X86_INS_SMSW, X86_INS_STR};

// Ring-0 instructions capstone 4 leaves out of its privilege group.
const unsigned kX86Ring0[] = {X86_INS_RDMSR, X86_INS_CLTS, X86_INS_MONITOR, X86_INS_MWAIT, X86_INS_ENCLS};

// `int N`: 0x80 is the i386 system call gate; 3 and 4 are the breakpoint
// and overflow traps that int3 and into raise, open to tasks.  No other
// vector has a gate user mode may use: it raises #GP.
Verdict x86_int(int64_t vector)
{
	if (vector == 0x80)
		return {Kind::syscall, ""};
	if (vector == 3 || vector == 4)
		return {};
	return {Kind::privileged, format("vector 0x%llx has no user-mode gate", (unsigned long long)vector)};
}

Verdict classify_x86(csh handle, const cs_insn &insn)
{
	switch (insn.id) {
	case X86_INS_SYSCALL:
	case X86_INS_SYSENTER:
		return {Kind::syscall, ""};
	case X86_INS_INT:
		return x86_int(insn.detail->x86.operands[0].imm);
	// In capstone 4's privilege group, yet open to tasks: rdtscp as much as
	// rdtsc, iret for a return to the same ring.
	case X86_INS_RDTSCP:
	case X86_INS_IRET:
	case X86_INS_IRETD:
	case X86_INS_IRETQ:
		return {};
	}
	if (listed(insn.id, kX86PortIo))
		return {Kind::privileged, "port I/O needs ioperm() or iopl()"};
	if (listed(insn.id, kX86Umip))
		return {Kind::privileged, "faults in user mode on CPUs with UMIP"};
	if (listed(insn.id, kX86Ring0) || cs_insn_group(handle, &insn, X86_GRP_PRIVILEGE))
		return {Kind::privileged, "needs ring 0"};
	if (listed(insn.id, kX86FpState))
		return {Kind::fp_vector, "control register or state save/restore"};
	return fp_vector(handle, insn, kX86FpGroups, x86_fp_register);
}

// ARM and Thumb /////////////////////////////////////////////////////////

const unsigned kArmFpGroups[] = {ARM_GRP_VFP2, ARM_GRP_VFP3,    ARM_GRP_VFP4,  ARM_GRP_NEON,
				 ARM_GRP_DPVFP, ARM_GRP_FPARMV8, ARM_GRP_FPVMLX};

const unsigned kArmVfpSystemRegisters[] = {ARM_REG_FPEXC, ARM_REG_FPINST, ARM_REG_FPINST2, ARM_REG_FPSCR,
					   ARM_REG_FPSCR_NZCV, ARM_REG_FPSID, ARM_REG_MVFR0, ARM_REG_MVFR1,
					   ARM_REG_MVFR2};

bool arm_fp_register(unsigned r)
{
	return in(r, ARM_REG_S0, ARM_REG_S31) || in(r, ARM_REG_D0, ARM_REG_D31) || in(r, ARM_REG_Q0, ARM_REG_Q15) ||
	       listed(r, kArmVfpSystemRegisters);
}

// Mode changes, exception entry and return, hypervisor and monitor calls.
const unsigned kArmPl1[] = {ARM_INS_CPS,   ARM_INS_SRSDA, ARM_INS_SRSDB, ARM_INS_SRSIA, ARM_INS_SRSIB,
			    ARM_INS_RFEDA, ARM_INS_RFEDB, ARM_INS_RFEIA, ARM_INS_RFEIB, ARM_INS_ERET,
			    ARM_INS_HVC,   ARM_INS_SMC};

// Coprocessor operations and transfers other than mrc/mrrc: CP14 and CP15
// need PL1, except for TPIDRURW, which holds the victim's TLS pointer.
// (CP10 and CP11, VFP and NEON, decode as vmrs, vmsr and the like.)
const unsigned kArmCoprocessor[] = {ARM_INS_CDP,  ARM_INS_CDP2,  ARM_INS_MCR,  ARM_INS_MCR2, ARM_INS_MCRR,
				    ARM_INS_MCRR2, ARM_INS_MRC2, ARM_INS_MRRC2, ARM_INS_LDC, ARM_INS_LDC2,
				    ARM_INS_LDCL, ARM_INS_LDC2L, ARM_INS_STC,  ARM_INS_STC2, ARM_INS_STCL,
				    ARM_INS_STC2L};

// The coprocessor registers Linux lets a task read: TPIDRURW and TPIDRURO
// (mrc p15, 0, Rt, c13, c0, 2 or 3) and the virtual counter CNTVCT
// (mrrc p15, 1, Rt, Rt2, c14).  Operands: coprocessor, opc1, Rt, then
// CRn, CRm, opc2 for mrc, or Rt2, CRm for mrrc.
bool arm_task_readable(const cs_insn &insn)
{
	const cs_arm_op *op = insn.detail->arm.operands;
	if (op[0].imm != 15)
		return false;
	if (insn.id == ARM_INS_MRRC)
		return op[1].imm == 1 && op[4].imm == 14;
	return op[1].imm == 0 && op[3].imm == 13 && op[4].imm == 0 && (op[5].imm == 2 || op[5].imm == 3);
}

// mrs from the APSR (CPSR), msr to its flags: a task's.  SPSR, banked
// registers and the CPSR control, extension and status fields are not.
bool arm_status_access_ok(const cs_insn &insn)
{
	const cs_arm &arm = insn.detail->arm;
	if (insn.id == ARM_INS_MRS)
		return arm.operands[1].type == ARM_OP_REG &&
		       (arm.operands[1].reg == ARM_REG_APSR || arm.operands[1].reg == ARM_REG_CPSR);
	unsigned reg = unsigned(arm.operands[0].reg);
	return reg == ARM_SYSREG_CPSR_F || in(reg, ARM_SYSREG_APSR, ARM_SYSREG_APSR_NZCVQG);
}

Verdict arm_privileged(csh handle, const cs_insn &insn)
{
	const cs_arm &arm = insn.detail->arm;
	if (insn.id == ARM_INS_WFI)
		return {Kind::privileged, kWfi};
	if (listed(insn.id, kArmPl1))
		return {Kind::privileged, "needs PL1"};
	if (listed(insn.id, kArmCoprocessor))
		return {Kind::privileged, "coprocessor operation: needs PL1, or writes the victim's TPIDRURW"};
	if ((insn.id == ARM_INS_MRC || insn.id == ARM_INS_MRRC) && !arm_task_readable(insn))
		return {Kind::privileged, "reads a coprocessor register that needs PL1"};
	if ((insn.id == ARM_INS_MRS || insn.id == ARM_INS_MSR) && !arm_status_access_ok(insn))
		return {Kind::privileged, "SPSR, banked registers and the CPSR control bits need PL1"};
	if (arm.usermode)
		return {Kind::privileged, "ldm/stm of the user registers (^) needs PL1"};
	if (arm.update_flags && Registers(handle, insn).writes(ARM_REG_PC))
		return {Kind::privileged, "exception return (restores CPSR from SPSR) needs PL1"};
	return {};
}

Verdict classify_arm(csh handle, const cs_insn &insn)
{
	if (insn.id == ARM_INS_SVC)
		return {Kind::syscall, ""};
	Verdict v = arm_privileged(handle, insn);
	if (v.kind != Kind::plain)
		return v;
	return fp_vector(handle, insn, kArmFpGroups, arm_fp_register);
}

// AArch64 //////////////////////////////////////////////////////////////

const unsigned kA64FpGroups[] = {ARM64_GRP_FPARMV8, ARM64_GRP_NEON};

bool aarch64_fp_register(unsigned r)
{
	return in(r, ARM64_REG_B0, ARM64_REG_B31) || in(r, ARM64_REG_H0, ARM64_REG_H31) ||
	       in(r, ARM64_REG_S0, ARM64_REG_S31) || in(r, ARM64_REG_D0, ARM64_REG_D31) ||
	       in(r, ARM64_REG_Q0, ARM64_REG_Q31) || in(r, ARM64_REG_V0, ARM64_REG_V31);
}

// capstone 4 gives the system register of mrs and msr as its encoding, in
// the operand's arm64_reg member.
constexpr unsigned sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2)
{
	return op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;
}
constexpr unsigned kNzcv = sysreg(3, 3, 4, 2, 0);
constexpr unsigned kFpcr = sysreg(3, 3, 4, 4, 0);
constexpr unsigned kFpsr = sysreg(3, 3, 4, 4, 1);

// EL0 may read the system registers encoded with op0 = 3, op1 = 3 (a few
// of which Linux still traps, such as the PMU's); writing any but NZCV
// either traps or, for TPIDR_EL0, changes the victim's TLS pointer.  The
// PSTATE fields msr writes by immediate (DAIF, SPSel, PAN...) are the
// kernel's.
Verdict aarch64_sysreg(const cs_insn &insn)
{
	bool write = insn.id == ARM64_INS_MSR;
	const cs_arm64_op &op = insn.detail->arm64.operands[write ? 0 : 1];
	if (op.type == ARM64_OP_PSTATE)
		return {Kind::privileged, "PSTATE fields are the kernel's"};
	// Copied, not read as an arm64_reg: no enumerator has the encoding's
	// value, and loading it through the enum type is undefined in C++.
	uint32_t reg;
	static_assert(sizeof(op.reg) == sizeof(reg));
	std::memcpy(&reg, &op.reg, sizeof(reg));
	if (reg == kFpcr || reg == kFpsr)
		return {Kind::fp_vector, reg == kFpcr ? "FPCR" : "FPSR"};
	if (write && reg != kNzcv)
		return {Kind::privileged, "a task may write no system register but NZCV"};
	if (!write && (reg >> 14 != 3 || (reg >> 11 & 7) != 3))
		return {Kind::privileged, "reads a system register EL0 cannot read"};
	return {};
}

// Cache maintenance by address that Linux opens to EL0 (SCTLR_EL1.UCI and
// DZE): cleaning caches after writing code, zeroing with dc zva.
bool aarch64_task_cache_op(const cs_insn &insn)
{
	unsigned op = insn.detail->arm64.operands[0].sys;
	if (insn.id == ARM64_INS_IC)
		return op == ARM64_IC_IVAU;
	return op == ARM64_DC_ZVA || op == ARM64_DC_CVAC || op == ARM64_DC_CVAU || op == ARM64_DC_CIVAC;
}

Verdict classify_aarch64(csh handle, const cs_insn &insn)
{
	switch (insn.id) {
	case ARM64_INS_SVC:
		return {Kind::syscall, ""};
	case ARM64_INS_HVC:
	case ARM64_INS_SMC:
	case ARM64_INS_ERET:
	case ARM64_INS_DCPS1:
	case ARM64_INS_DCPS2:
	case ARM64_INS_DCPS3:
	case ARM64_INS_SYS:
	case ARM64_INS_SYSL:
	case ARM64_INS_AT:
	case ARM64_INS_TLBI:
		return {Kind::privileged, "needs EL1"};
	case ARM64_INS_HLT:
		return {Kind::privileged, "a halting-debug stop, undefined at EL0 (brk is a task's breakpoint)"};
	case ARM64_INS_WFI:
		return {Kind::privileged, kWfi};
	case ARM64_INS_DC:
	case ARM64_INS_IC:
		if (!aarch64_task_cache_op(insn))
			return {Kind::privileged, "cache maintenance that needs EL1"};
		break;
	case ARM64_INS_MRS:
	case ARM64_INS_MSR:
		return aarch64_sysreg(insn);
	}
	return fp_vector(handle, insn, kA64FpGroups, aarch64_fp_register);
}

} // namespace

void classify_instruction(csh handle, compel_arch arch, const cs_insn &insn, Instruction &out)
{
	Verdict v;
	switch (arch) {
	case COMPEL_ARCH_X86_64:
	case COMPEL_ARCH_I386:
		v = classify_x86(handle, insn);
		break;
	case COMPEL_ARCH_ARM:
		v = classify_arm(handle, insn);
		break;
	case COMPEL_ARCH_AARCH64:
		v = classify_aarch64(handle, insn);
		break;
	case COMPEL_ARCH_NONE:
		break;
	}
	out.kind = v.kind;
	out.evidence = std::move(v.evidence);
}

} // namespace compel
