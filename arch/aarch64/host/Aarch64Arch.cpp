// The AArch64 task arch, and the task arches an AArch64 host traces: its own
// and, as compat tasks, ARM ones (arch/arm/host).
#include <asm/ptrace.h>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <elf.h>

#include "ArmArch.h"
#include "TaskArch.h"
#include "Thread.h"

namespace compel::core {

namespace {

// NT_PRSTATUS: the kernel's struct user_pt_regs.
struct UserRegs {
	uint64_t x[31], sp, pc, pstate;
};
static_assert(sizeof(UserRegs) == 272);
static_assert(sizeof(user_pt_regs) == sizeof(UserRegs));
static_assert(offsetof(user_pt_regs, pc) == offsetof(UserRegs, pc));
static_assert(offsetof(user_pt_regs, pstate) == offsetof(UserRegs, pstate));

constexpr unsigned kNr = 8; // the syscall number is in x8
constexpr unsigned kLr = 30;

// PSTATE.BTYPE: the kind of the branch that got here, checked against the
// target's BTI landing pad.  Left from the thread's own last branch, it
// would fault on the first instruction compel points the thread at.
constexpr uint64_t kPstateBtype = 3u << 10;

constexpr uint8_t kSvc[] = {0x01, 0x00, 0x00, 0xd4}; // svc #0

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

class Aarch64 final : public TaskArch, public RestartSettling {
public:
	compel_arch id() const override { return COMPEL_ARCH_AARCH64; }
	const char *name() const override { return "aarch64"; }
	unsigned abi_index() const override { return 3; }
	unsigned word_size() const override { return 8; }
	size_t gpr_size() const override { return sizeof(UserRegs); }
	uint64_t ip(const RegSet &r) const override { return load(r).pc; }
	uint64_t sp(const RegSet &r) const override { return load(r).sp; }

	void set_syscall(RegSet &r, uint64_t entry, long nr, const uint64_t a[6]) const override
	{
		auto g = load(r);
		g.pc = entry;
		g.pstate &= ~kPstateBtype;
		g.x[kNr] = uint64_t(nr);
		std::memcpy(g.x, a, 6 * sizeof(uint64_t));
		store(r, g);
	}

	int64_t syscall_result(const RegSet &r) const override { return int64_t(load(r).x[0]); }

	// AAPCS64: sp is 16-byte aligned, always.  lr 0: returning from the
	// entry (which never returns) faults instead of running on.
	void set_call(RegSet &r, uint64_t ip, uint64_t sp) const override
	{
		auto g = load(r);
		g.pc = ip;
		g.pstate &= ~kPstateBtype;
		g.sp = sp & ~uint64_t(15);
		g.x[kLr] = 0;
		store(r, g);
	}

	// The kernel has moved an interrupted thread back onto its svc, and
	// forgotten that it was in a syscall, before the thread stops: a thread
	// on an svc is in the syscall of x8 as far as anyone can tell.
	long interrupted_syscall(const RegSet &r, std::span<const uint8_t> code) const override
	{
		if (code.size() < sizeof(kSvc) || std::memcmp(code.data(), kSvc, sizeof(kSvc)) != 0)
			return -1;
		return long(load(r).x[kNr]);
	}

	bool in_thumb_mode(const RegSet &) const override { return false; }

	// The kernel reports a step over svc with a SIGTRAP that claims a user
	// sent it (SI_USER, pid 0), as a kill() from outside the task's pid
	// namespace would: syscall stops tell compel for certain.
	bool can_single_step() const override { return false; }

	std::span<const SyscallInsn> syscall_insns() const override
	{
		static const SyscallInsn insns[] = {{kSvc, 4}};
		return insns;
	}

	const RestartSettling *restart_settling() const override { return this; }

	void set_syscall_nr(RegSet &r, long nr) const override
	{
		auto g = load(r);
		g.x[kNr] = uint64_t(nr);
		store(r, g);
	}

	void skip_syscall(Thread &t, RegSet &at_entry) const override
	{
		auto g = load(at_entry);
		g.x[0] = uint64_t(-ENOSYS);
		store(at_entry, g);
		t.set_regs(at_entry);
		t.set_regset(NT_ARM_SYSTEM_CALL, std::vector<uint8_t>(sizeof(int32_t), 0xff)); // -1: none
	}

	// FPSIMD only: a task using SVE would lose the upper bits of its Z
	// registers.
	unsigned fpu_regset() const override { return NT_PRFPREG; }
	size_t fpu_max_size() const override { return sizeof(user_fpsimd_state); }

	std::vector<std::pair<const char *, uint64_t>> describe(const RegSet &r) const override
	{
		auto g = load(r);
		return {{"pc", g.pc}, {"sp", g.sp}, {"lr", g.x[kLr]}, {"x0", g.x[0]}, {"x1", g.x[1]},
			{"x2", g.x[2]}, {"x8", g.x[kNr]}, {"pstate", g.pstate}};
	}
};

const Aarch64 kAarch64;

} // namespace

std::span<const TaskArch *const> host_task_arches()
{
	static const TaskArch *const arches[] = {&kAarch64, &arm_task_arch()};
	return arches;
}

} // namespace compel::core
