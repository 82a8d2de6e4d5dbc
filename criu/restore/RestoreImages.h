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

// The images of one process of the dump, read and checked before anything
// is restored.  A zombie has its pstree entry only.
struct RestoreImages {
	pid_t pid = 0;
	const PstreeEntry *pstree = nullptr;
	Unpacked<CoreEntry> core;                 // the leader's
	std::vector<Unpacked<CoreEntry>> threads; // the other threads', in pstree.img's order
	Unpacked<MmEntry> mm;
	Unpacked<PagemapHead> pagemap_head;
	std::vector<Unpacked<PagemapEntry>> pagemap;
	std::vector<Unpacked<FdinfoEntry>> fdinfo;
	Unpacked<FsEntry> fs;
	std::string pages_file;
	uint64_t data_pages = 0; // pages the pages image holds

	bool zombie() const { return pstree->has_zombie_status; }
	const FileEntry &file(uint32_t id) const { return *files_by_id.at(id); }
	std::map<uint32_t, FileEntry *> files_by_id; // the tree's files.img
};

// Every image of a dump: a garbled, truncated or inconsistent image, a
// missing page file or a changed file is refused here, with nothing
// started yet.
struct RestoreTree {
	Unpacked<InventoryEntry> inventory;
	std::vector<Unpacked<PstreeEntry>> pstree;
	std::vector<Unpacked<FileEntry>> files;
	std::vector<RestoreImages> procs; // as pstree.img lists them: the root first, parents before children
	uint64_t data_pages = 0;

	const RestoreImages *find(pid_t pid) const;
};

RestoreTree read_images(const ImagesDir &dir);

// The vma of parent that v, an inherited vma of its child, is a copy of:
// the same range, kind, and file at the same offset; nullptr if none.
const VmaEntry *inherited_from(const RestoreImages &parent, const VmaEntry &v);

} // namespace criu
