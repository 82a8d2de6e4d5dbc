#pragma once

#include <compel/blob.h>

namespace compel {

// The name of a blob's kernel ABI in messages: "x86_64", "i386", "arm",
// "aarch64" (Thumb blobs are "arm"), or "none".
const char *arch_name(compel_arch arch);

} // namespace compel
