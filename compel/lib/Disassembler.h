#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <compel/blob.h>

namespace compel {

// One instruction as capstone decodes it, or bytes it cannot decode.
struct Instruction {
	// What the instruction does that code running inside another task may
	// have to answer for.  InstructionKind.cpp says how each is found.
	enum class Kind {
		plain,
		undecodable, // bytes capstone cannot decode; mnemonic and op_str are empty
		fp_vector,   // uses FP/vector registers, or their control and status state
		privileged,  // faults in a Linux task, or changes state that is not the task's
		syscall,     // enters the kernel as a system call
	};

	uint64_t address = 0;
	std::vector<uint8_t> bytes;
	std::string mnemonic;            // "mov"
	std::string op_str;              // "rax, qword ptr [rdi]"
	std::vector<std::string> groups; // capstone's group names: "jump", "sse1", "privilege"
	Kind kind = Kind::plain;
	std::string evidence; // what gave the kind away, e.g. "uses xmm0", when there is something to say

	size_t size() const { return bytes.size(); }

	// "mov rax, qword ptr [rdi]", or "(undecodable bytes 0f 04)".
	std::string text() const;
};

// A capstone disassembler for one blob arch, with instruction detail on.
class Disassembler {
public:
	explicit Disassembler(compel_arch arch);
	~Disassembler();
	Disassembler(const Disassembler &) = delete;
	Disassembler &operator=(const Disassembler &) = delete;

	// The instructions of code[0, size), taken to be at `address`, in Thumb
	// mode if `thumb` (ARM only).  After bytes it cannot decode, decoding
	// goes on at the next instruction boundary the arch allows (1 byte on
	// x86, 2 in Thumb, 4 on ARM and AArch64); a run of them is one
	// Instruction of kind undecodable.
	std::vector<Instruction> disassemble(const uint8_t *code, size_t size, uint64_t address,
					     bool thumb = false);

	// The instruction at the start of code[0, size), or, if it cannot be
	// decoded, as many bytes as the arch's longest instruction (at most size).
	Instruction decode(const uint8_t *code, size_t size, uint64_t address, bool thumb = false);

private:
	struct Engine;
	std::unique_ptr<Engine> engine_;
};

// The instruction at code[0, size) (at `address`, which shows in branch
// targets) as text, for reports on a crashed parasite: "mov rax, qword ptr
// [rdi]", or "(undecodable bytes 0f 04 ...)".  `thumb` selects Thumb mode
// on COMPEL_ARCH_ARM.  Throws Error if size is 0 or capstone cannot start.
std::string disassemble_one(compel_arch arch, bool thumb, const uint8_t *code, size_t size,
			    uint64_t address);

} // namespace compel
