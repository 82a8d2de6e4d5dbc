// compel hgen's reader: real blobs of every arch are read as they are, and
// each kind of broken ELF file is refused with a message that says why.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "ElfBlob.h"
#include <compel/error.hpp>
#include "HeaderWriter.h"

using namespace compel;
using Catch::Matchers::Contains;

namespace {

std::string smoke(const std::string &arch) { return std::string(SMOKE_BLOB_DIR) + "/smoke." + arch + ".elf"; }
std::string fixture(const std::string &name) { return std::string(FIXTURE_DIR) + "/" + name + ".elf"; }

std::vector<char> slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	REQUIRE(f);
	return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A file in the test's temporary directory, removed at the end of the test.
struct TempFile {
	std::string path;
	explicit TempFile(const std::vector<char> &bytes)
	{
		static int n;
		path = (std::filesystem::temp_directory_path() /
			("hgen-test-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".elf"))
			       .string();
		std::ofstream f(path, std::ios::binary);
		f.write(bytes.data(), std::streamsize(bytes.size()));
	}
	~TempFile() { std::filesystem::remove(path); }
};

std::string error_of(const std::string &path)
{
	try {
		read_blob_elf(path);
	} catch (const Error &e) {
		return e.what();
	}
	FAIL("read_blob_elf accepted " << path);
	return "";
}

} // namespace

TEST_CASE("hgen reads the smoke blob of every arch", "[hgen]")
{
	struct {
		const char *arch;
		compel_arch expect;
		unsigned word;
		bool thumb;
	} cases[] = {
		{"x86_64", COMPEL_ARCH_X86_64, 8, false}, {"i386", COMPEL_ARCH_I386, 4, false},
		{"arm", COMPEL_ARCH_ARM, 4, false},       {"thumb", COMPEL_ARCH_ARM, 4, true},
		{"aarch64", COMPEL_ARCH_AARCH64, 8, false},
	};
	for (const auto &c : cases) {
		INFO(c.arch);
		BlobImage img = read_blob_elf(smoke(c.arch));
		CHECK(img.arch == c.expect);
		CHECK(img.word_size == c.word);
		CHECK(img.exec_size % 4096 == 0);
		CHECK(img.mem_size % 4096 == 0);
		CHECK(img.exec_size < img.mem_size);
		CHECK(img.bytes.size() <= img.mem_size);
		// The word table and the 12 KiB scratch area: relocations and bss.
		CHECK(img.relocs.size() >= 4);
		CHECK(img.mem_size - img.bytes.size() >= 3 * 4096);
		for (const auto &r : img.relocs) {
			CHECK(r.offset >= img.exec_size);
			CHECK(r.offset + img.word_size <= img.mem_size);
			CHECK(r.addend < img.mem_size);
		}
		REQUIRE(img.exports.size() == 1);
		CHECK(img.exports[0].name == "smoke_run");
		CHECK(img.exports[0].offset < img.exec_size);
		CHECK(bool(img.exports[0].offset & 1) == c.thumb);
	}
}

TEST_CASE("hgen writes a header that names the blob and its exports", "[hgen]")
{
	BlobImage img = read_blob_elf(smoke("x86_64"));
	std::string h = blob_header(img, "smoke_x86_64", "smoke.x86_64.elf");
	CHECK_THAT(h, Contains("static const struct compel_blob_desc smoke_x86_64_blob"));
	CHECK_THAT(h, Contains("COMPEL_ARCH_X86_64, /* arch */"));
	CHECK_THAT(h, Contains("#define smoke_x86_64_export_smoke_run 0x"));
	CHECK_THAT(h, Contains(std::to_string(img.mem_size) + ", /* mem_size */"));
	CHECK_THROWS_WITH(blob_header(img, "9lives", "x"),
			  Contains("prefix '9lives' is not a C identifier"));
}

TEST_CASE("hgen refuses a missing file", "[hgen][errors]")
{
	std::string msg = error_of("/nonexistent/blob.elf");
	CHECK_THAT(msg, Contains("/nonexistent/blob.elf: cannot open"));
	CHECK_THAT(msg, Contains("ENOENT"));
}

TEST_CASE("hgen refuses truncated files", "[hgen][errors]")
{
	std::vector<char> good = slurp(smoke("x86_64"));
	SECTION("shorter than an ELF header")
	{
		TempFile f({good.begin(), good.begin() + 10});
		CHECK_THAT(error_of(f.path), Contains(f.path + ": not an ELF file"));
	}
	SECTION("cut in the middle")
	{
		TempFile f({good.begin(), good.begin() + std::ptrdiff_t(good.size() / 2)});
		std::string msg = error_of(f.path);
		CHECK_THAT(msg, Contains(f.path + ": "));
		CHECK_THAT(msg, Contains("truncated"));
	}
	SECTION("cut just before the end")
	{
		TempFile f({good.begin(), good.end() - 1});
		CHECK_THAT(error_of(f.path), Contains("truncated"));
	}
}

TEST_CASE("hgen refuses an ELF file of another machine", "[hgen][errors]")
{
	std::vector<char> elf = slurp(smoke("x86_64"));
	elf[18] = 21; // e_machine = EM_PPC64
	elf[19] = 0;
	TempFile f(elf);
	CHECK_THAT(error_of(f.path), Contains("ELF machine 21 is not a blob arch"));
}

TEST_CASE("hgen refuses a relocation through the GOT", "[hgen][errors]")
{
	std::string msg = error_of(fixture("got"));
	CHECK_THAT(msg, Contains("R_X86_64_GLOB_DAT relocation at 0x"));
	CHECK_THAT(msg, Contains("(in .got)"));
	CHECK_THAT(msg, Contains("against symbol 'counter'"));
	CHECK_THAT(msg, Contains("blobs allow only R_X86_64_RELATIVE"));
}

TEST_CASE("hgen refuses an undefined weak symbol", "[hgen][errors]")
{
	CHECK_THAT(error_of(fixture("weak")), Contains("weak symbol 'missing' is undefined"));
}

TEST_CASE("hgen refuses a writable and executable segment", "[hgen][errors]")
{
	std::string msg = error_of(fixture("wx"));
	CHECK_THAT(msg, Contains("is writable and executable"));
	CHECK_THAT(msg, Contains(".text"));
}

TEST_CASE("hgen refuses thread-local storage", "[hgen][errors]")
{
	CHECK_THAT(error_of(fixture("tls")), Contains("thread-local storage (.tbss)"));
}

TEST_CASE("hgen refuses constructors", "[hgen][errors]")
{
	CHECK_THAT(error_of(fixture("ctor")), Contains("section .init_array lists constructors"));
}

TEST_CASE("hgen refuses what is not a static PIE", "[hgen][errors]")
{
	CHECK_THAT(error_of(fixture("exec")), Contains("not position-independent (ET_EXEC)"));
	CHECK_THAT(error_of(fixture("object")), Contains("an object file, not a linked blob"));
}
