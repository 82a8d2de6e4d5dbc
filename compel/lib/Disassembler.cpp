#include "Disassembler.h"

#include <algorithm>
#include <capstone/capstone.h>

#include <compel/error.hpp>
#include "InstructionKind.h"
#include "format.h"

namespace compel {

namespace {

// Bytes shown for an undecodable run before "...".
constexpr size_t kShownBytes = 8;

// How capstone decodes one blob arch, and its instruction lengths.
struct Target {
	cs_arch arch;
	cs_mode mode;
	size_t step;    // the instruction alignment: where to resume after undecodable bytes
	size_t longest; // the longest instruction
};

Target target_of(compel_arch arch, bool thumb)
{
	if (thumb && arch != COMPEL_ARCH_ARM)
		throw Error(format("disassembler: Thumb mode on %s, which has none", compel_arch_name(arch)));
	// CS_MODE_V8 adds the ARMv8 A32/T32 instructions (lda/stl, crc32) to
	// ARMv7's, for blobs built for newer cores.
	switch (arch) {
	case COMPEL_ARCH_X86_64:
		return {CS_ARCH_X86, CS_MODE_64, 1, 15};
	case COMPEL_ARCH_I386:
		return {CS_ARCH_X86, CS_MODE_32, 1, 15};
	case COMPEL_ARCH_ARM:
		if (thumb)
			return {CS_ARCH_ARM, cs_mode(CS_MODE_THUMB | CS_MODE_V8), 2, 4};
		return {CS_ARCH_ARM, cs_mode(CS_MODE_ARM | CS_MODE_V8), 4, 4};
	case COMPEL_ARCH_AARCH64:
		return {CS_ARCH_ARM64, CS_MODE_ARM, 4, 4};
	case COMPEL_ARCH_NONE:
		break;
	}
	throw Error("disassembler: no arch");
}

[[noreturn]] void fail(compel_arch arch, const char *what, cs_err err)
{
	throw Error(format("capstone: cannot %s for %s: %s", what, compel_arch_name(arch), cs_strerror(err)));
}

Instruction undecodable(const uint8_t *code, size_t size, uint64_t address)
{
	Instruction i;
	i.address = address;
	i.bytes.assign(code, code + size);
	i.kind = Instruction::Kind::undecodable;
	return i;
}

} // namespace

std::string Instruction::text() const
{
	if (kind != Kind::undecodable)
		return op_str.empty() ? mnemonic : mnemonic + " " + op_str;
	std::string s = "(undecodable bytes";
	for (size_t i = 0; i < bytes.size() && i < kShownBytes; i++)
		s += format(" %02x", bytes[i]);
	return s + (bytes.size() > kShownBytes ? " ...)" : ")");
}

// A capstone handle, switched between ARM and Thumb on demand, and the one
// instruction buffer cs_disasm_iter() decodes into.
struct Disassembler::Engine {
	compel_arch arch;
	Target target;
	csh handle = 0;
	cs_insn *insn = nullptr;

	explicit Engine(compel_arch a) : arch(a), target(target_of(a, false))
	{
		if (cs_err err = cs_open(target.arch, target.mode, &handle))
			fail(arch, "open a disassembler", err);
		// Detail first: cs_malloc() gives the buffer a detail only if it is on.
		cs_err err = cs_option(handle, CS_OPT_DETAIL, CS_OPT_ON);
		insn = err ? nullptr : cs_malloc(handle);
		if (!insn) {
			cs_close(&handle);
			fail(arch, "set up a disassembler", err ? err : CS_ERR_MEM);
		}
	}
	~Engine()
	{
		cs_free(insn, 1);
		cs_close(&handle);
	}
	Engine(const Engine &) = delete;
	Engine &operator=(const Engine &) = delete;

	void set_thumb(bool thumb)
	{
		Target t = target_of(arch, thumb);
		if (t.mode == target.mode)
			return;
		if (cs_err err = cs_option(handle, CS_OPT_MODE, t.mode))
			fail(arch, thumb ? "switch to Thumb mode" : "switch to ARM mode", err);
		target = t;
	}

	// The instruction at code, or nothing if capstone cannot decode it.
	bool decode(const uint8_t *code, size_t size, uint64_t address, Instruction &out)
	{
		if (!cs_disasm_iter(handle, &code, &size, &address, insn))
			return false;
		out.address = insn->address;
		out.bytes.assign(insn->bytes, insn->bytes + insn->size);
		out.mnemonic = insn->mnemonic;
		out.op_str = insn->op_str;
		for (uint8_t i = 0; i < insn->detail->groups_count; i++)
			out.groups.push_back(cs_group_name(handle, insn->detail->groups[i]));
		classify_instruction(handle, arch, *insn, out);
		return true;
	}
};

Disassembler::Disassembler(compel_arch arch) : engine_(std::make_unique<Engine>(arch)) {}

Disassembler::~Disassembler() = default;

std::vector<Instruction> Disassembler::disassemble(const uint8_t *code, size_t size, uint64_t address,
						   bool thumb)
{
	engine_->set_thumb(thumb);
	std::vector<Instruction> out;
	for (size_t at = 0; at < size;) {
		Instruction i;
		if (!engine_->decode(code + at, size - at, address + at, i)) {
			size_t n = std::min(engine_->target.step, size - at);
			if (!out.empty() && out.back().kind == Instruction::Kind::undecodable)
				out.back().bytes.insert(out.back().bytes.end(), code + at, code + at + n);
			else
				out.push_back(undecodable(code + at, n, address + at));
			at += n;
			continue;
		}
		at += i.size();
		out.push_back(std::move(i));
	}
	return out;
}

Instruction Disassembler::decode(const uint8_t *code, size_t size, uint64_t address, bool thumb)
{
	engine_->set_thumb(thumb);
	Instruction i;
	if (!engine_->decode(code, size, address, i))
		return undecodable(code, std::min(engine_->target.longest, size), address);
	return i;
}

std::string disassemble_one(compel_arch arch, bool thumb, const uint8_t *code, size_t size,
			    uint64_t address)
{
	if (size == 0)
		throw Error(format("disassembler: no bytes to decode at 0x%llx", (unsigned long long)address));
	return Disassembler(arch).decode(code, size, address, thumb).text();
}

} // namespace compel
