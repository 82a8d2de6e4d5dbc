#pragma once

#include "Options.h"

namespace criu {

// `criu restore -D DIR`: reads and checks every image, then brings the
// process back with its pid.  Returns the exit code of criu: 0, or with no
// -d, the restored process's own exit status once it ends.  On failure,
// nothing it started is left, and the images are untouched.
int restore(const Options &opts);

} // namespace criu
