/*
 * A blob as `compel hgen` describes it: position-independent code and data
 * linked at address 0, to be copied anywhere 4 KiB-aligned, relocated and run.
 * Usable from C and C++, on the host and in blobs.
 */
#ifndef COMPEL_BLOB_H
#define COMPEL_BLOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel ABI a blob is built for.  Thumb blobs are COMPEL_ARCH_ARM. */
enum compel_arch {
	COMPEL_ARCH_NONE = 0,
	COMPEL_ARCH_X86_64 = 1,
	COMPEL_ARCH_I386 = 2,
	COMPEL_ARCH_ARM = 3,
	COMPEL_ARCH_AARCH64 = 4,
};

/* Write (load address + addend) into the pointer-sized word at offset. */
struct compel_blob_reloc {
	uint32_t offset;
	uint32_t addend;
};

/*
 * A symbol the blob exports (its name began with "__export_", which is not
 * part of name).  On ARM, bit 0 of a Thumb function's offset is set, as in
 * the ELF symbol: it is the address to branch to, not where the code starts.
 */
struct compel_blob_export {
	const char *name;
	uint32_t offset;
};

struct compel_blob_desc {
	const char *name;                /* prefix given to hgen */
	uint32_t arch;                   /* enum compel_arch */
	uint32_t word_size;              /* 4 or 8: size of a relocated word */
	const unsigned char *bytes;      /* the image from offset 0 ... */
	uint32_t file_size;              /* ... up to here; the rest is zero */
	uint32_t mem_size;               /* whole image with bss, page-aligned */
	uint32_t exec_size;              /* [0, exec_size) is r-x, the rest rw- */
	const struct compel_blob_reloc *relocs;
	uint32_t nr_relocs;
	const struct compel_blob_export *exports;
	uint32_t nr_exports;
};

/*
 * Copy desc's image into dst (mem_size bytes, writable) and relocate it for
 * execution at address `base`.  dst may be another mapping of the memory
 * that will run at base (the host's view of a victim's mapping).
 * Returns 0, or -1 if the image is inconsistent (a relocation out of range).
 */
int compel_blob_relocate(const struct compel_blob_desc *desc, void *dst, uint64_t base);

/* Offset of the export called name, or -1 if the blob has none. */
int64_t compel_blob_export_offset(const struct compel_blob_desc *desc, const char *name);

/* "x86_64", "i386", "arm", "aarch64", or "none" for anything else. */
const char *compel_arch_name(enum compel_arch arch);

/* The blob of a null-terminated list (NAME_blobs[]) built for arch, or NULL. */
const struct compel_blob_desc *compel_blob_for_arch(const struct compel_blob_desc *const *list,
						    enum compel_arch arch);

#ifdef __cplusplus
}
#endif

#endif /* COMPEL_BLOB_H */
