#include "Arch.h"

namespace compel {

const char *arch_name(compel_arch arch)
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

} // namespace compel
