#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <compel/blob.h>

#include "Arch.h"

namespace compel {

// A linked blob, read from its ELF file and checked: what `compel hgen`
// turns into a header.
struct BlobImage {
	struct Export {
		std::string name; // without the "__export_" prefix
		uint32_t offset;
	};

	compel_arch arch = COMPEL_ARCH_NONE;
	unsigned word_size = 0;
	std::vector<uint8_t> bytes; // the image from offset 0 to the end of file-backed data
	uint32_t mem_size = 0;      // with bss, page-aligned
	uint32_t exec_size = 0;     // [0, exec_size) is r-x, the rest rw-
	std::vector<compel_blob_reloc> relocs;
	std::vector<Export> exports;
};

// Reads and checks a blob linked by compel's flags and link script.  Throws
// Error naming the file, and the section, segment or symbol at fault, if the
// blob could not be loaded at any address by compel_blob_relocate(): not a
// static PIE of a blob arch, a relocation other than *_RELATIVE, an
// undefined symbol, a writable and executable section or segment, TLS,
// constructors that nothing would run, or a truncated file.
BlobImage read_blob_elf(const std::string &path);

} // namespace compel
