#pragma once

#include "ImagesDir.h"
#include "RestoreImages.h"

namespace criu {

// Runs in the restored process (a child of criu, with the dumped pid) while
// it is still criu's code: places its files, working directory, limits and
// memory, then jumps into the restorer blob, which takes criu's memory out
// and reports on status_fd.  On failure writes "ERR:" and why to status_fd
// and exits.
[[noreturn]] void restore_task(const RestoreImages &img, const ImagesDir &dir, int status_fd, bool shell_job);

} // namespace criu
