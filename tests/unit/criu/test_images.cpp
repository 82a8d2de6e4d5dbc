// Image files: what the writer makes, the reader gives back, and what the
// reader refuses, naming the file and why.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <sys/stat.h>

#include <compel/error.hpp>

#include "Image.h"
#include "ImagesDir.h"
#include "Json.h"
#include "TempDir.h"
#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "pagemap.pb-c.h"

using namespace criu;

namespace {

std::string slurp(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	return {std::istreambuf_iterator<char>(f), {}};
}

void write_pagemap(const ImagesDir &dir, const std::string &name, unsigned entries)
{
	ImageWriter w(dir.fd(), dir.path(), ImageKind::Pagemap, name);
	PagemapHead h = PAGEMAP_HEAD__INIT;
	h.pages_id = 3;
	w.write(&h.base);
	for (unsigned i = 0; i < entries; i++) {
		PagemapEntry e = PAGEMAP_ENTRY__INIT;
		e.vaddr = 0x10000 * (i + 1);
		e.nr_pages = i + 1;
		e.flag = i % 2 ? PAGEMAP_ENTRY__FLAG_T__ZERO : PAGEMAP_ENTRY__FLAG_T__DATA;
		w.write(&e.base);
	}
	w.commit();
}

std::string refusal(const ImagesDir &dir, ImageKind kind, const std::string &name)
{
	try {
		ImageReader r(dir.fd(), dir.path(), kind, name);
		r.expect<PagemapHead>(&pagemap_head__descriptor);
		while (r.next(&pagemap_entry__descriptor))
			;
	} catch (const compel::Error &e) {
		return e.what();
	}
	return "";
}

} // namespace

TEST_CASE("what is written is read back, entry by entry", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	write_pagemap(dir, "pagemap-1.img", 1000); // more than one flush of the writer's buffer
	std::string bytes = slurp(d.path() + "/pagemap-1.img");
	REQUIRE(bytes.size() > 12);
	CHECK(bytes.compare(0, 4, "CRNG") == 0);
	CHECK(bytes.compare(4, 4, "PMAP") == 0);

	ImageReader r(dir.fd(), dir.path(), ImageKind::Pagemap, "pagemap-1.img");
	auto head = r.expect<PagemapHead>(&pagemap_head__descriptor);
	CHECK(head->pages_id == 3);
	unsigned n = 0;
	while (auto e = r.next<PagemapEntry>(&pagemap_entry__descriptor)) {
		CHECK(e->vaddr == 0x10000ull * (n + 1));
		CHECK(e->nr_pages == n + 1);
		n++;
	}
	CHECK(n == 1000);
}

TEST_CASE("an image is complete or absent", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	{
		ImageWriter w(dir.fd(), dir.path(), ImageKind::Pagemap, "pagemap-2.img");
		PagemapHead h = PAGEMAP_HEAD__INIT;
		w.write(&h.base);
	} // not committed
	CHECK_FALSE(dir.exists("pagemap-2.img"));
	struct stat st;
	CHECK(stat(d.path().c_str(), &st) == 0);
	CHECK(st.st_nlink == 2); // no temporary file left either
}

TEST_CASE("the reader refuses what it does not understand, naming the file", "[criu][images]")
{
	TempDir d;
	ImagesDir dir(d.path(), false);
	write_pagemap(dir, "good.img", 3);
	std::string good = slurp(d.path() + "/good.img");

	d.file("short.img", good.substr(0, 7));
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "short.img"),
		   Catch::Contains(d.path() + "/short.img") && Catch::Contains("not even a header"));
	d.file("foreign.img", "XXXX" + good.substr(4));
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "foreign.img"), Catch::Contains("is not an image of this tool"));
	CHECK_THAT(refusal(dir, ImageKind::Core, "good.img"),
		   Catch::Contains("is a pagemap image where a core image was expected"));
	std::string v2 = good;
	v2[8] = 2;
	d.file("v2.img", v2);
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "v2.img"), Catch::Contains("format version 2"));
	d.file("cut.img", good.substr(0, good.size() - 3));
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "cut.img"), Catch::Contains("is truncated"));
	std::string huge = good.substr(0, 12) + std::string("\xff\xff\xff\x7f", 4) + "abc";
	d.file("huge.img", huge);
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "huge.img"), Catch::Contains("entry 1"));
	std::string garbage = good.substr(0, 12) + std::string("\x04\0\0\0\xff\xff\xff\xff", 8);
	d.file("garbage.img", garbage);
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "garbage.img"), Catch::Contains("does not decode as"));
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "missing.img"),
		   Catch::Contains("cannot open " + d.path() + "/missing.img"));
	mkdir((d.path() + "/dir.img").c_str(), 0700);
	CHECK_THAT(refusal(dir, ImageKind::Pagemap, "dir.img"), Catch::Contains("is not a regular file"));
}

TEST_CASE("file names and magics lead to kinds", "[criu][images]")
{
	REQUIRE(image_kind_of_file("core-12.img"));
	CHECK(image_kind_of_file("core-12.img")->kind == ImageKind::Core);
	CHECK(image_kind_of_file("pagemap-3.img")->kind == ImageKind::Pagemap);
	CHECK(image_kind_of_file("inventory.img")->kind == ImageKind::Inventory);
	CHECK(image_kind_of_file("stats-dump.img")->kind == ImageKind::Stats);
	CHECK(image_kind_of_file("corefile") == nullptr);
	CHECK(image_kind_of_file("dump.log") == nullptr);
	CHECK(image_kind_by_magic(0x54564e49)->kind == ImageKind::Inventory);
	CHECK(image_kind_by_magic(0) == nullptr);
}

TEST_CASE("JSON from the descriptors: enums by name, bytes in hex, unset optionals left out", "[criu][images]")
{
	PagemapEntry e = PAGEMAP_ENTRY__INIT;
	e.vaddr = 4096;
	e.nr_pages = 2;
	e.flag = PAGEMAP_ENTRY__FLAG_T__ZERO;
	std::string j = to_json(&e.base);
	CHECK_THAT(j, Catch::Contains("\"vaddr\": 4096") && Catch::Contains("\"nr_pages\": 2") &&
			      Catch::Contains("\"flag\": \"ZERO\""));

	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	NsPid pid = NS_PID__INIT;
	inv.root_pid = &pid;
	inv.tool_version = const_cast<char *>("say \"hi\"\n");
	std::string ij = to_json(&inv.base);
	CHECK_THAT(ij, Catch::Contains(R"("tool_version": "say \"hi\"\u000a")"));
	CHECK_THAT(ij, !Catch::Contains("dump_time"));
	CHECK_THAT(ij, !Catch::Contains("kernel"));

	uint8_t area[] = {0x00, 0xab, 0x7f};
	X86XsaveEntry x = X86_XSAVE_ENTRY__INIT;
	x.area = {sizeof(area), area};
	CHECK_THAT(to_json(&x.base), Catch::Contains(R"("area": "00ab7f")"));
}
