// The ARM task arch: 32-bit EABI tasks, running ARM or Thumb-2 code, traced
// by an ARM host or, as compat tasks, by an AArch64 one.
#include "ArmArch.h"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "Thread.h"

namespace compel::core {

namespace {

// NT_PRSTATUS of an ARM task, from an ARM or an AArch64 tracer alike: the
// kernel's uregs[18].
struct UserRegs {
	uint32_t r[13], sp, lr, pc, cpsr, orig_r0;
};
static_assert(sizeof(UserRegs) == 72);
#if defined(__arm__)
static_assert(sizeof(user_regs) == sizeof(UserRegs));
#endif

// EABI: the syscall number is in r7.
constexpr unsigned kNr = 7;

constexpr uint32_t kCpsrThumb = 1u << 5;
// If-Then state, IT[1:0] and IT[7:2]: left set, it would predicate the
// first instructions compel makes the thread run.
constexpr uint32_t kCpsrIt = (3u << 25) | (0x3fu << 10);
// User mode in AArch32 state.  An AArch64 task seen through the 32-bit view
// a compat tracer gets on an AArch64 kernel has M[4] clear.
constexpr uint32_t kCpsrModeMask = 0x1f, kCpsrModeUser = 0x10;

// svc #0 in ARM and in Thumb code.  Other immediates are not for compel: a
// kernel with OABI_COMPAT takes them for old-ABI syscall numbers.
constexpr uint8_t kSvcArm[] = {0x00, 0x00, 0x00, 0xef};
constexpr uint8_t kSvcThumb[] = {0x00, 0xdf};

// user_vfp: d0-d31 and fpscr.
constexpr size_t kVfpMax = 512;

UserRegs load(const RegSet &r)
{
	UserRegs g;
	std::memcpy(&g, r.bytes, sizeof(g));
	return g;
}

void store(RegSet &r, const UserRegs &g)
{
	std::memcpy(r.bytes, &g, sizeof(g));
	r.size = sizeof(g);
}

// Enter the code at `entry`, a branch target: bit 0 selects Thumb.
void enter(UserRegs &g, uint64_t entry)
{
	g.pc = uint32_t(entry & ~uint64_t(1));
	g.cpsr &= ~(kCpsrIt | kCpsrThumb);
	if (entry & 1)
		g.cpsr |= kCpsrThumb;
}

class Arm final : public TaskArch, public RestartSettling {
public:
	compel_arch id() const override { return COMPEL_ARCH_ARM; }
	const char *name() const override { return "arm"; }
	unsigned abi_index() const override { return 2; }
	unsigned word_size() const override { return 4; }
	size_t gpr_size() const override { return sizeof(UserRegs); }

	bool owns(const RegSet &r) const override
	{
		return r.size == sizeof(UserRegs) && (load(r).cpsr & kCpsrModeMask) == kCpsrModeUser;
	}

	uint64_t ip(const RegSet &r) const override { return load(r).pc; }
	uint64_t sp(const RegSet &r) const override { return load(r).sp; }

	void set_syscall(RegSet &r, uint64_t entry, long nr, const uint64_t a[6]) const override
	{
		auto g = load(r);
		enter(g, entry);
		g.r[kNr] = uint32_t(nr);
		for (int i = 0; i < 6; i++)
			g.r[i] = uint32_t(a[i]);
		store(r, g);
	}

	// An error is -4095..-1; anything else (an address above 2 GiB too) is
	// unsigned.
	int64_t syscall_result(const RegSet &r) const override
	{
		uint32_t r0 = load(r).r[0];
		return r0 >= uint32_t(-4095) ? int64_t(int32_t(r0)) : int64_t(r0);
	}

	// AAPCS: the stack is 8-byte aligned at a call.  lr 0: returning from
	// the entry (which never returns) faults instead of running on.
	void set_call(RegSet &r, uint64_t ip, uint64_t sp) const override
	{
		auto g = load(r);
		enter(g, ip);
		g.sp = uint32_t(sp) & ~7u;
		g.lr = 0;
		store(r, g);
	}

	// The kernel has moved an interrupted thread back onto its svc, and
	// forgotten that it was in a syscall, before the thread stops: a thread
	// on an svc is in the syscall of r7 as far as anyone can tell.
	long interrupted_syscall(const RegSet &r, std::span<const uint8_t> code) const override
	{
		auto svc = in_thumb_mode(r) ? std::span<const uint8_t>(kSvcThumb) : std::span<const uint8_t>(kSvcArm);
		if (code.size() < svc.size() || std::memcmp(code.data(), svc.data(), svc.size()) != 0)
			return -1;
		return long(load(r).r[kNr]);
	}

	bool in_thumb_mode(const RegSet &r) const override { return load(r).cpsr & kCpsrThumb; }

	// An ARM kernel has no PTRACE_SINGLESTEP, and an AArch64 one reports a
	// step over svc with a SIGTRAP that claims a user sent it (SI_USER, pid
	// 0), as a kill() from outside the task's pid namespace would: syscall
	// stops tell compel for certain.
	bool can_single_step() const override { return false; }

	std::span<const SyscallInsn> syscall_insns() const override
	{
		static const SyscallInsn insns[] = {{kSvcArm, 4}, {kSvcThumb, 2, true}};
		return insns;
	}

	const RestartSettling *restart_settling() const override { return this; }

	void set_syscall_nr(RegSet &r, long nr) const override
	{
		auto g = load(r);
		g.r[kNr] = uint32_t(nr);
		store(r, g);
	}

	void skip_syscall(Thread &t, RegSet &at_entry) const override
	{
		// The kernel leaves r0 as it is: an ARM kernel would take a restart
		// code there for a syscall to restart.
		auto g = load(at_entry);
		g.r[0] = uint32_t(-ENOSYS);
		store(at_entry, g);
		t.set_regs(at_entry);
#if defined(__aarch64__)
		// A 64-bit tracer reaches a compat task's syscall number as on
		// AArch64; PTRACE_SET_SYSCALL exists for 32-bit tracers only.
		t.set_regset(NT_ARM_SYSTEM_CALL, std::vector<uint8_t>(sizeof(int32_t), 0xff)); // -1: none
#else
		t.request(PTRACE_SET_SYSCALL, 0, static_cast<unsigned long>(-1), "PTRACE_SET_SYSCALL");
#endif
	}

	unsigned fpu_regset() const override { return NT_ARM_VFP; }
	size_t fpu_max_size() const override { return kVfpMax; }

	std::vector<std::pair<const char *, uint64_t>> describe(const RegSet &r) const override
	{
		auto g = load(r);
		return {{"pc", g.pc}, {"sp", g.sp}, {"lr", g.lr}, {"r0", g.r[0]}, {"r1", g.r[1]},
			{"r2", g.r[2]}, {"r7", g.r[7]}, {"cpsr", g.cpsr}};
	}
};

const Arm kArm;

} // namespace

const TaskArch &arm_task_arch() { return kArm; }

#if defined(__arm__)
std::span<const TaskArch *const> host_task_arches()
{
	static const TaskArch *const arches[] = {&kArm};
	return arches;
}
#endif

} // namespace compel::core
