// compel verify: the smoke blobs pass, and each fixture is refused for the
// one instruction it was written to hold, named with its function.
#include <catch2/catch.hpp>

#include "BlobVerifier.h"
#include <compel/error.hpp>

using namespace compel;
using Catch::Matchers::Contains;

namespace {

std::string smoke(const std::string &arch) { return std::string(SMOKE_BLOB_DIR) + "/smoke." + arch + ".elf"; }
std::string fixture(const std::string &name) { return std::string(FIXTURE_DIR) + "/" + name + ".elf"; }

// The one problem verify finds in fixture `name`.
std::string only_problem(const std::string &name)
{
	VerifyReport r = verify_blob(fixture(name));
	for (const auto &p : r.problems)
		UNSCOPED_INFO(p);
	REQUIRE(r.problems.size() == 1);
	return r.problems[0];
}

} // namespace

TEST_CASE("verify accepts the smoke blob of every arch", "[verify]")
{
	for (const char *arch : {"x86_64", "i386", "arm", "thumb", "aarch64"}) {
		INFO(arch);
		VerifyReport r = verify_blob(smoke(arch));
		for (const auto &p : r.problems)
			UNSCOPED_INFO(p);
		CHECK(r.problems.empty());
		// __export_smoke_run, the string functions and compel_syscall at
		// least, decoded rather than just found.
		CHECK(r.functions >= 8);
		CHECK(r.instructions > 200);
	}
}

TEST_CASE("verify refuses FP/vector instructions", "[verify][errors]")
{
	std::string x86 = only_problem("verify-sse");
	CHECK_THAT(x86, Contains("__export_add4+0x0 (blob offset 0x"));
	CHECK_THAT(x86, Contains("): addps xmm0, xmm1: FP/vector instruction (uses xmm0)"));
	std::string a64 = only_problem("verify-fp");
	CHECK_THAT(a64, Contains("__export_add+0x0 (blob offset 0x"));
	CHECK_THAT(a64, Contains("): fadd d0, d0, d1: FP/vector instruction"));
}

TEST_CASE("verify refuses syscalls outside compel_syscall", "[verify][errors]")
{
	// The fixture calls sys_getpid() and compel_clone_thread() too: the
	// syscalls of the std plugin's stubs pass.
	std::string msg = only_problem("verify-syscall");
	CHECK_THAT(msg, Contains("__export_pids+0x"));
	CHECK_THAT(msg, Contains("): syscall: syscall outside compel_syscall"));
}

TEST_CASE("verify refuses privileged instructions", "[verify][errors]")
{
	CHECK_THAT(only_problem("verify-hlt"),
		   Contains("__export_stop+0x0 (blob offset 0x0): hlt: privileged instruction (needs ring 0)"));
}

TEST_CASE("verify decodes Thumb code and skips data that mapping symbols mark", "[verify][errors]")
{
	// The literal pool before the vadd would read as two `svc #0`.
	CHECK_THAT(only_problem("verify-thumb"),
		   Contains("__export_pool+0x8 (blob offset 0x8): vadd.f64 d0, d0, d1: FP/vector instruction"));
}

TEST_CASE("verify checks code that no function symbol covers", "[verify][errors]")
{
	CHECK_THAT(only_problem("verify-untyped"),
		   Contains(".text+0x2 (blob offset 0x2, outside any function symbol): syscall: syscall outside"));
}

TEST_CASE("verify refuses what hgen refuses", "[verify][errors]")
{
	CHECK_THROWS_WITH(verify_blob(fixture("got")), Contains("R_X86_64_GLOB_DAT relocation at 0x"));
}
