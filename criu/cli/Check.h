#pragma once

#include "Options.h"

namespace criu {

// `criu check [--feature NAME]`: tries each kernel feature criu relies on
// for real, prints one line per feature, and says whether all are there.
bool check(const Options &opts);

} // namespace criu
