#pragma once

#include <string>

#include "ElfBlob.h"

namespace compel {

// The C header (usable from C and C++) that embeds a blob: its bytes,
// relocations and exports, and a struct compel_blob_desc named
// <prefix>_blob.  Each export's offset is also a macro,
// <prefix>_export_<name>.  source names the ELF file in a comment.
std::string blob_header(const BlobImage &img, const std::string &prefix, const std::string &source);

// Whether s can name C identifiers (the prefix, an export).
bool is_c_identifier(const std::string &s);

} // namespace compel
