#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace compel {

// What `compel verify` found in a blob's code.
struct VerifyReport {
	size_t functions = 0;
	size_t instructions = 0; // decoded in functions
	// One line per forbidden instruction: "memcpy+0x1c (blob offset 0x9c):
	// movaps xmmword ptr [rdi], xmm0: FP/vector instruction (uses xmm0): ..."
	std::vector<std::string> problems;
};

// Reads the blob at `path` as `compel hgen` does (read_blob_elf() throws
// Error on what it refuses), then disassembles its executable sections
// function by function, following ARM/AArch64 mapping symbols and skipping
// data, and reports the instructions a parasite must not run: FP/vector
// ones, privileged ones, syscalls outside the std plugin's compel_syscall,
// and bytes that do not decode.  Code between functions is checked too,
// for all but the last kind, as it holds padding.
VerifyReport verify_blob(const std::string &path);

} // namespace compel
