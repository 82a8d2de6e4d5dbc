#include <cstring>

#include "Image.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"

namespace criu {

namespace {

const ImageKindInfo kKinds[] = {
	{ImageKind::Inventory, "inventory", 0x54564e49, nullptr, &inventory_entry__descriptor},
	{ImageKind::Pstree, "pstree", 0x45525450, nullptr, &pstree_entry__descriptor},
	{ImageKind::Core, "core", 0x45524f43, nullptr, &core_entry__descriptor},
	{ImageKind::Mm, "mm", 0x4d4d4d4d, nullptr, &mm_entry__descriptor},
	{ImageKind::Pagemap, "pagemap", 0x50414d50, &pagemap_head__descriptor, &pagemap_entry__descriptor},
	{ImageKind::Files, "files", 0x53454c46, nullptr, &file_entry__descriptor},
	{ImageKind::Fdinfo, "fdinfo", 0x4f464446, nullptr, &fdinfo_entry__descriptor},
	{ImageKind::Fs, "fs", 0x53465346, nullptr, &fs_entry__descriptor},
	{ImageKind::Pages, "pages", 0, nullptr, nullptr},
	{ImageKind::Ghost, "ghost", 0, nullptr, nullptr},
	{ImageKind::Memfd, "memfd", 0, nullptr, nullptr},
	{ImageKind::Stats, "stats", 0x54415453, nullptr, &stats_entry__descriptor},
};

} // namespace

const ImageKindInfo &image_kind(ImageKind kind)
{
	for (const ImageKindInfo &k : kKinds)
		if (k.kind == kind)
			return k;
	__builtin_unreachable();
}

const ImageKindInfo *image_kind_of_file(const std::string &file_name)
{
	for (const ImageKindInfo &k : kKinds) {
		size_t n = strlen(k.name);
		if (file_name.compare(0, n, k.name) == 0 && (file_name[n] == '-' || file_name[n] == '.'))
			return &k;
	}
	return nullptr;
}

const ImageKindInfo *image_kind_by_magic(uint32_t magic)
{
	for (const ImageKindInfo &k : kKinds)
		if (k.magic && k.magic == magic)
			return &k;
	return nullptr;
}

} // namespace criu
