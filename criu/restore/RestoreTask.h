#pragma once

#include <cstdint>
#include <map>

#include "ImagesDir.h"
#include "RestoreImages.h"

namespace criu {

// Runs in a restored process (made by criu, with the dumped pid and ids) while
// it is still criu's code: places its files, working directory, limits and
// memory, then jumps into the restorer blob, which takes criu's memory out
// and reports on status_fd.  On failure writes "ERR:" and why to status_fd
// and exits.
// What criu made once for several processes of the tree and sent to this
// one (see RestoreTree.h): the task's own copies.
struct Received {
	std::map<uint32_t, int> files; // by file id
	std::map<uint64_t, int> shmem; // shared anonymous memory, by shmid
};

[[noreturn]] void restore_task(const RestoreImages &img, const ImagesDir &dir, int status_fd, Received received);

} // namespace criu
