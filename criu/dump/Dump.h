#pragma once

#include "Options.h"

namespace criu {

// `criu dump -t PID -D DIR`: freezes the process, writes its images, and
// kills it (or leaves it running or stopped, as the options say).  On any
// failure the process is left running as it was, with nothing of criu in
// it, and no image files of this dump remain.
void dump(const Options &opts);

} // namespace criu
