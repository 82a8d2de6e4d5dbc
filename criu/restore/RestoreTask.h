#pragma once

#include "ImagesDir.h"
#include "RestoreImages.h"

namespace criu {

// Runs in a restored process (made by criu, with the dumped pid and ids) while
// it is still criu's code: places its files, working directory, limits and
// memory, then jumps into the restorer blob, which takes criu's memory out
// and reports on status_fd.  On failure writes "ERR:" and why to status_fd
// and exits.
[[noreturn]] void restore_task(const RestoreImages &img, const ImagesDir &dir, int status_fd);

} // namespace criu
