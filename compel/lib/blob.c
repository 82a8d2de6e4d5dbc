/*
 * Relocating a blob image.  Plain C with no dependencies: it is built into
 * libcompel and, on its own, into the test loaders of every arch.
 */
#include <string.h>

#include <compel/blob.h>

int compel_blob_relocate(const struct compel_blob_desc *desc, void *dst, uint64_t base)
{
	unsigned char *image = dst;
	uint32_t i;

	if ((desc->word_size != 4 && desc->word_size != 8) || desc->mem_size < desc->word_size ||
	    desc->file_size > desc->mem_size)
		return -1;
	memcpy(image, desc->bytes, desc->file_size);
	memset(image + desc->file_size, 0, desc->mem_size - desc->file_size);

	for (i = 0; i < desc->nr_relocs; i++) {
		const struct compel_blob_reloc *r = &desc->relocs[i];
		uint64_t value = base + r->addend;

		if (r->offset > desc->mem_size - desc->word_size)
			return -1;
		if (desc->word_size == 8) {
			memcpy(image + r->offset, &value, 8);
		} else {
			uint32_t v32 = (uint32_t)value;

			memcpy(image + r->offset, &v32, 4);
		}
	}
	return 0;
}

int64_t compel_blob_export_offset(const struct compel_blob_desc *desc, const char *name)
{
	uint32_t i;

	for (i = 0; i < desc->nr_exports; i++)
		if (strcmp(desc->exports[i].name, name) == 0)
			return desc->exports[i].offset;
	return -1;
}

const struct compel_blob_desc *compel_blob_for_arch(const struct compel_blob_desc *const *list,
						    enum compel_arch arch)
{
	for (; *list; list++)
		if ((*list)->arch == (uint32_t)arch)
			return *list;
	return NULL;
}

const char *compel_arch_name(enum compel_arch arch)
{
	switch (arch) {
	case COMPEL_ARCH_X86_64:
		return "x86_64";
	case COMPEL_ARCH_I386:
		return "i386";
	case COMPEL_ARCH_ARM:
		return "arm";
	case COMPEL_ARCH_AARCH64:
		return "aarch64";
	case COMPEL_ARCH_NONE:
		break;
	}
	return "none";
}
