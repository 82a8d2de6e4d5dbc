#pragma once

#include <capstone/capstone.h>

#include "Disassembler.h"

namespace compel {

// Sets out.kind and out.evidence from capstone's detail on insn (decoded by
// `handle` for `arch`, with CS_OPT_DETAIL on).  The Disassembler's helper:
// the one place that knows capstone's instruction, group and register ids.
void classify_instruction(csh handle, compel_arch arch, const cs_insn &insn, Instruction &out);

} // namespace compel
