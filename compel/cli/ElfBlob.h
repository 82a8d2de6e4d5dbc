#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <compel/blob.h>


namespace compel {

// A linked blob, read from its ELF file and checked: what `compel hgen`
// turns into a header.
struct BlobImage {
	struct Export {
		std::string name; // without the "__export_" prefix
		uint32_t offset;
	};

	// What `compel verify` disassembles: the executable sections, the
	// functions in them and, on ARM and AArch64, their mapping symbols.
	struct CodeSection {
		std::string name;
		uint64_t offset;
		uint64_t size;
	};
	struct Function {
		std::string name;
		uint64_t offset; // where the code starts: bit 0 of a Thumb symbol is cleared
		uint64_t size;
		bool thumb; // ARM only: bit 0 of the symbol was set
	};
	// $a (ARM), $t (Thumb), $x (A64) or $d (data) from offset on.
	struct Mapping {
		uint64_t offset;
		char kind; // 'a', 't', 'x' or 'd'
	};

	compel_arch arch = COMPEL_ARCH_NONE;
	unsigned word_size = 0;
	std::vector<uint8_t> bytes; // the image from offset 0 to the end of file-backed data
	uint32_t mem_size = 0;      // with bss, page-aligned
	uint32_t exec_size = 0;     // [0, exec_size) is r-x, the rest rw-
	std::vector<compel_blob_reloc> relocs;
	std::vector<Export> exports;
	std::vector<CodeSection> code_sections;
	std::vector<Function> functions; // STT_FUNC symbols of .symtab, by offset
	std::vector<Mapping> mappings;   // those of executable sections, by offset
};

// Reads and checks a blob linked by compel's flags and link script.  Throws
// Error naming the file, and the section, segment or symbol at fault, if the
// blob could not be loaded at any address by compel_blob_relocate(): not a
// static PIE of a blob arch, a relocation other than *_RELATIVE, an
// undefined symbol, a writable and executable section or segment, TLS,
// constructors that nothing would run, or a truncated file.
BlobImage read_blob_elf(const std::string &path);

} // namespace compel
