#pragma once

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include "Image.h"
#include "ImagesDir.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"

namespace criu {

// Every image of a dump, read and checked before anything is restored: a
// garbled, truncated or inconsistent image, a missing page file or a
// changed file is refused here, with nothing started yet.
struct RestoreImages {
	pid_t pid = 0;
	Unpacked<InventoryEntry> inventory;
	Unpacked<PstreeEntry> pstree;
	Unpacked<CoreEntry> core;                 // the leader's
	std::vector<Unpacked<CoreEntry>> threads; // the other threads', in pstree.img's order
	Unpacked<MmEntry> mm;
	Unpacked<PagemapHead> pagemap_head;
	std::vector<Unpacked<PagemapEntry>> pagemap;
	std::vector<Unpacked<FileEntry>> files;
	std::vector<Unpacked<FdinfoEntry>> fdinfo;
	Unpacked<FsEntry> fs;
	std::string pages_file;
	uint64_t data_pages = 0; // pages the pages image holds

	const FileEntry &file(uint32_t id) const { return *files_by_id.at(id); }
	std::map<uint32_t, FileEntry *> files_by_id;
};

RestoreImages read_images(const ImagesDir &dir);

} // namespace criu
