#pragma once

#include <cstdint>
#include <vector>

#include <compel/blob.h>

#include "Arena.h"
#include "TaskArch.h"
#include "core.pb-c.h"

namespace criu {

// What criu does differently per task arch, beyond what compel's TaskArch
// covers: the registers' image form.  Implemented in arch/<arch>/criu.
class ArchCore {
public:
	virtual ~ArchCore() = default;

	// Fills core's registers from a thread's NT_PRSTATUS and FPU regsets.
	virtual void save(const compel::core::RegSet &gpr, const std::vector<uint8_t> &fpu, CoreEntry &core,
			  Arena &arena) const = 0;

	// The regsets that give a thread the registers of core.  Throws Error
	// naming what is missing or wrong; `fpu_template` is the FPU regset of
	// the thread that will take them (its size and supported features).
	virtual void load(const CoreEntry &core, const std::vector<uint8_t> &fpu_template,
			  compel::core::RegSet &gpr, std::vector<uint8_t> &fpu) const = 0;

	// The signature glibc registers its rseq area with (RSEQ_SIG), for
	// criu's own, which its restorer unregisters.
	virtual uint32_t libc_rseq_signature() const = 0;

	// Calls entry(arg) on the stack whose top is stack_top (16-byte
	// aligned), leaving the current stack for good.
	[[noreturn]] virtual void jump(uint64_t entry, uint64_t arg, uint64_t stack_top) const = 0;
};

// The ArchCore of the arch criu itself runs as.
const ArchCore &host_arch_core();

// The ArchCore of task arch `arch` (an enum compel_arch, or any number an
// image holds), or nullptr if criu cannot dump it.
const ArchCore *arch_core(uint32_t arch);

} // namespace criu
