// compel_blob_relocate() and the lookups of <compel/blob.h>, on hand-made
// descriptors.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include <compel/blob.h>

namespace {

const unsigned char kBytes[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
const compel_blob_reloc kRelocs[] = {{0, 0x10}, {8, 0x20}};
const compel_blob_export kExports[] = {{"entry", 0x1}, {"data", 0x8}};

compel_blob_desc desc(uint32_t word_size)
{
	return {"test", COMPEL_ARCH_X86_64, word_size, kBytes, sizeof(kBytes), 4096, 0,
		kRelocs, 2, kExports, 2};
}

} // namespace

TEST_CASE("relocate writes base + addend in words of the blob's size", "[blob]")
{
	std::vector<unsigned char> image(4096, 0xff);
	SECTION("64-bit")
	{
		compel_blob_desc d = desc(8);
		REQUIRE(compel_blob_relocate(&d, image.data(), 0x7f0000001000ull) == 0);
		uint64_t w0, w1;
		std::memcpy(&w0, &image[0], 8);
		std::memcpy(&w1, &image[8], 8);
		CHECK(w0 == 0x7f0000001010ull);
		CHECK(w1 == 0x7f0000001020ull);
	}
	SECTION("32-bit")
	{
		compel_blob_desc d = desc(4);
		REQUIRE(compel_blob_relocate(&d, image.data(), 0x40000000) == 0);
		uint32_t w0, w1;
		std::memcpy(&w0, &image[0], 4);
		std::memcpy(&w1, &image[8], 4);
		CHECK(w0 == 0x40000010u);
		CHECK(w1 == 0x40000020u);
		CHECK(image[4] == 5); // bytes between relocations are the blob's
	}
	// The rest of the image, bss, is zeroed.
	CHECK(image[16] == 0);
	CHECK(image[4095] == 0);
}

TEST_CASE("relocate refuses inconsistent descriptors", "[blob]")
{
	std::vector<unsigned char> image(4096);
	compel_blob_desc d = desc(8);
	SECTION("a relocation past the end")
	{
		const compel_blob_reloc bad[] = {{4090, 0}};
		d.relocs = bad;
		d.nr_relocs = 1;
		CHECK(compel_blob_relocate(&d, image.data(), 0) == -1);
	}
	SECTION("a word size other than 4 or 8")
	{
		d.word_size = 2;
		CHECK(compel_blob_relocate(&d, image.data(), 0) == -1);
	}
	SECTION("more file bytes than memory")
	{
		d.mem_size = 8;
		CHECK(compel_blob_relocate(&d, image.data(), 0) == -1);
	}
}

TEST_CASE("exports and per-arch blobs are found by name and arch", "[blob]")
{
	compel_blob_desc a = desc(8), b = desc(4);
	b.arch = COMPEL_ARCH_I386;
	const compel_blob_desc *const list[] = {&a, &b, nullptr};
	CHECK(compel_blob_export_offset(&a, "entry") == 1);
	CHECK(compel_blob_export_offset(&a, "data") == 8);
	CHECK(compel_blob_export_offset(&a, "nope") == -1);
	CHECK(compel_blob_for_arch(list, COMPEL_ARCH_I386) == &b);
	CHECK(compel_blob_for_arch(list, COMPEL_ARCH_X86_64) == &a);
	CHECK(compel_blob_for_arch(list, COMPEL_ARCH_AARCH64) == nullptr);
}

TEST_CASE("arches have the names messages use", "[blob]")
{
	CHECK(std::string(compel_arch_name(COMPEL_ARCH_X86_64)) == "x86_64");
	CHECK(std::string(compel_arch_name(COMPEL_ARCH_I386)) == "i386");
	CHECK(std::string(compel_arch_name(COMPEL_ARCH_ARM)) == "arm");
	CHECK(std::string(compel_arch_name(COMPEL_ARCH_AARCH64)) == "aarch64");
	CHECK(std::string(compel_arch_name(COMPEL_ARCH_NONE)) == "none");
	CHECK(std::string(compel_arch_name(compel_arch(99))) == "none");
}
