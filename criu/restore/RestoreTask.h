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
// received: files criu opened once for several processes of the tree, by
// file id (see RestoreTree.h); the task's own copies of them.
[[noreturn]] void restore_task(const RestoreImages &img, const ImagesDir &dir, int status_fd,
			       std::map<uint32_t, int> received);

} // namespace criu
