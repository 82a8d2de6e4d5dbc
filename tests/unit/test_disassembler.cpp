// The capstone disassembler of compel-base: its text, its instruction
// kinds (the rules `compel verify` applies) and undecodable bytes, per arch.
#include <catch2/catch.hpp>

#include <vector>

#include "Disassembler.h"
#include <compel/error.hpp>

using namespace compel;
using Catch::Matchers::Contains;
using Kind = Instruction::Kind;

namespace {

const char *kind_name(Kind k)
{
	switch (k) {
	case Kind::plain:
		return "plain";
	case Kind::undecodable:
		return "undecodable";
	case Kind::fp_vector:
		return "fp_vector";
	case Kind::privileged:
		return "privileged";
	case Kind::syscall:
		return "syscall";
	}
	return "?";
}

std::string one(compel_arch arch, const std::vector<uint8_t> &bytes, bool thumb = false, uint64_t address = 0)
{
	return disassemble_one(arch, thumb, bytes.data(), bytes.size(), address);
}

struct Case {
	compel_arch arch;
	bool thumb;
	std::vector<uint8_t> bytes;
	const char *text;
	Kind kind;
};

constexpr auto X64 = COMPEL_ARCH_X86_64, I386 = COMPEL_ARCH_I386, ARM = COMPEL_ARCH_ARM,
	       A64 = COMPEL_ARCH_AARCH64;

// What a blob may do and may not, instruction by instruction.
const Case kCases[] = {
	{X64, false, {0x0f, 0x58, 0xc1}, "addps xmm0, xmm1", Kind::fp_vector},
	{X64, false, {0xd9, 0x07}, "fld dword ptr [rdi]", Kind::fp_vector},
	{X64, false, {0x0f, 0xae, 0x17}, "ldmxcsr dword ptr [rdi]", Kind::fp_vector},
	{X64, false, {0x0f, 0xae, 0xf0}, "mfence", Kind::plain}, // in the sse2 group, but no xmm
	{X64, false, {0xf3, 0x90}, "pause", Kind::plain},
	{X64, false, {0x0f, 0x05}, "syscall", Kind::syscall},
	{X64, false, {0xcd, 0x80}, "int 0x80", Kind::syscall},
	{X64, false, {0xcc}, "int3", Kind::plain},
	{X64, false, {0x0f, 0x0b}, "ud2", Kind::plain},
	{X64, false, {0xf4}, "hlt", Kind::privileged},
	{X64, false, {0xec}, "in al, dx", Kind::privileged},
	{X64, false, {0x0f, 0x32}, "rdmsr", Kind::privileged},
	{X64, false, {0x0f, 0x01, 0xf9}, "rdtscp", Kind::plain},
	{X64, false, {0xcd, 0x81}, "int 0x81", Kind::privileged},
	{I386, false, {0x0f, 0x34}, "sysenter", Kind::syscall},
	{I386, false, {0x8b, 0x07}, "mov eax, dword ptr [edi]", Kind::plain},
	{ARM, false, {0x00, 0x00, 0x00, 0xef}, "svc #0", Kind::syscall},
	{ARM, false, {0x01, 0x0b, 0x30, 0xee}, "vadd.f64 d0, d0, d1", Kind::fp_vector},
	{ARM, false, {0x70, 0x0f, 0x1d, 0xee}, "mrc p15, #0, r0, c13, c0, #3", Kind::plain}, // TPIDRURO
	{ARM, false, {0x03, 0xf0, 0x20, 0xe3}, "wfi", Kind::privileged},
	{ARM, false, {0x70, 0x00, 0x20, 0xe1}, "bkpt #0", Kind::plain},
	{ARM, true, {0x00, 0xdf}, "svc #0", Kind::syscall},
	{ARM, true, {0x72, 0xb6}, "cpsid i", Kind::privileged},
	{ARM, true, {0x00, 0xbe}, "bkpt #0", Kind::plain},
	{ARM, true, {0xd1, 0xf8, 0x04, 0x00}, "ldr.w r0, [r1, #4]", Kind::plain},
	{A64, false, {0x01, 0x00, 0x00, 0xd4}, "svc #0", Kind::syscall},
	{A64, false, {0x00, 0x28, 0x61, 0x1e}, "fadd d0, d0, d1", Kind::fp_vector},
	{A64, false, {0x00, 0x00, 0xc0, 0x3d}, "ldr q0, [x0]", Kind::fp_vector}, // in no group: by register
	{A64, false, {0x00, 0x44, 0x1b, 0xd5}, "msr fpcr, x0", Kind::fp_vector},
	{A64, false, {0x40, 0xd0, 0x1b, 0xd5}, "msr tpidr_el0, x0", Kind::privileged},
	{A64, false, {0x40, 0xd0, 0x3b, 0xd5}, "mrs x0, tpidr_el0", Kind::plain},
	{A64, false, {0x7f, 0x20, 0x03, 0xd5}, "wfi", Kind::privileged},
	{A64, false, {0x00, 0x00, 0x20, 0xd4}, "brk #0", Kind::plain},
	{A64, false, {0x20, 0x74, 0x0b, 0xd5}, "dc zva, x0", Kind::plain},
};

} // namespace

TEST_CASE("disassemble_one gives capstone's text on every arch", "[disassembler]")
{
	CHECK(one(X64, {0x48, 0x8b, 0x07}) == "mov rax, qword ptr [rdi]");
	CHECK(one(X64, {0xe8, 0x00, 0x00, 0x00, 0x00}, false, 0x1000) == "call 0x1005");
	CHECK(one(I386, {0x8b, 0x07}) == "mov eax, dword ptr [edi]");
	CHECK(one(ARM, {0x1e, 0xff, 0x2f, 0xe1}) == "bx lr");
	CHECK(one(ARM, {0x70, 0x47}, true) == "bx lr");
	CHECK(one(ARM, {0x10, 0xb5}, true) == "push {r4, lr}");
	CHECK(one(A64, {0xc0, 0x03, 0x5f, 0xd6}) == "ret");
	CHECK(one(A64, {0xfd, 0x7b, 0xbf, 0xa9}) == "stp x29, x30, [sp, #-0x10]!");
}

TEST_CASE("disassemble_one shows the bytes it cannot decode", "[disassembler]")
{
	CHECK(one(X64, {0x0f, 0x04}) == "(undecodable bytes 0f 04)");
	CHECK(one(X64, {0x48, 0x8b}) == "(undecodable bytes 48 8b)"); // cut short
	CHECK(one(X64, {0x0f, 0x04, 1, 2, 3, 4, 5, 6, 7, 8}) ==
	      "(undecodable bytes 0f 04 01 02 03 04 05 06 ...)");
	// No more than the longest instruction of the arch.
	CHECK(one(A64, {0, 0, 0, 0, 0xc0, 0x03, 0x5f, 0xd6}) == "(undecodable bytes 00 00 00 00)");
}

TEST_CASE("disassemble_one refuses what it cannot do", "[disassembler][errors]")
{
	CHECK_THROWS_WITH(one(X64, {0x90}, true), Contains("Thumb mode on x86_64"));
	CHECK_THROWS_WITH(one(X64, {}, false, 0x40), Contains("no bytes to decode at 0x40"));
}

TEST_CASE("instructions are sorted into what a blob may and may not run", "[disassembler]")
{
	for (const Case &c : kCases) {
		INFO(c.text);
		Instruction i = Disassembler(c.arch).decode(c.bytes.data(), c.bytes.size(), 0, c.thumb);
		CHECK(i.text() == c.text);
		CHECK(kind_name(i.kind) == std::string(kind_name(c.kind)));
		CHECK(i.size() == c.bytes.size());
	}
}

TEST_CASE("a range decodes into instructions and runs of undecodable bytes", "[disassembler]")
{
	const std::vector<uint8_t> code = {0xc0, 0x03, 0x5f, 0xd6, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x03, 0x5f, 0xd6};
	std::vector<Instruction> out = Disassembler(A64).disassemble(code.data(), code.size(), 0x100);
	REQUIRE(out.size() == 3);
	CHECK(out[0].address == 0x100);
	CHECK(out[0].mnemonic == "ret");
	CHECK(out[0].op_str.empty());
	CHECK(out[0].groups == std::vector<std::string>{"return"});
	CHECK(out[1].address == 0x104);
	CHECK(out[1].size() == 8);
	CHECK(out[1].kind == Kind::undecodable);
	CHECK(out[2].address == 0x10c);
	CHECK(out[2].text() == "ret");
}

TEST_CASE("one disassembler switches between ARM and Thumb", "[disassembler]")
{
	const std::vector<uint8_t> arm = {0x1e, 0xff, 0x2f, 0xe1}, thumb = {0x10, 0xb5};
	Disassembler d(ARM);
	CHECK(d.decode(arm.data(), arm.size(), 0).text() == "bx lr");
	CHECK(d.decode(thumb.data(), thumb.size(), 0, true).text() == "push {r4, lr}");
	CHECK(d.decode(arm.data(), arm.size(), 0).text() == "bx lr");
}
