#pragma once

#include <atomic>
#include <cstdint>
#include <map>

#include "ImagesDir.h"
#include "RestoreImages.h"

namespace criu {

// What criu made once for several processes of the tree and sent to this
// one (see RestoreTree.h): the task's own copies.
struct Received {
	std::map<uint32_t, int> files; // by file id
	std::map<uint64_t, int> shmem; // shared anonymous memory, by shmid
	std::map<uint32_t, int> mapped; // deleted files and memfds it maps, made by criu, by file id
};

// Runs in a restored process (made by criu, with the dumped pid and ids)
// while it is still criu's code, before it forks its children: maps its
// memory out of the way of criu's, the vmas it inherits from its parent
// taken from the parent's copy (in this process since the fork), and fills
// it.  Closes the descriptors of shared memory, deleted files and memfds
// received, mapped now.
void premap_memory(const RestoreImages &img, const ImagesDir &dir, Received &received);

// Where premap_memory() adds the bytes it reads from the pages images, for
// criu to show progress: memory shared with criu, which the processes it
// makes inherit.
void count_pages_in(std::atomic<uint64_t> *bytes_read);

// Then, once the tree is made: places its files, working directory and
// limits, and jumps into the restorer blob, which takes criu's memory out,
// moves the premapped memory in place, and reports on status_fd.  On
// failure writes "ERR:" and why to status_fd and exits.
[[noreturn]] void restore_task(const RestoreImages &img, const ImagesDir &dir, int status_fd, Received received);

} // namespace criu
