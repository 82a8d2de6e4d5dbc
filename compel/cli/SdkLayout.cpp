#include "SdkLayout.h"

#include <climits>
#include <filesystem>
#include <unistd.h>

#include <compel/error.hpp>
#include "compel-config.h"

namespace compel {

namespace fs = std::filesystem;

SdkLayout SdkLayout::find()
{
	std::error_code ec;
	fs::path exe = fs::read_symlink("/proc/self/exe", ec);
	if (ec)
		throw Error("cannot read /proc/self/exe to find the SDK", ec.value());
	fs::path bindir = exe.parent_path();

	if (fs::equivalent(bindir, COMPEL_BUILD_BIN_DIR, ec))
		return {COMPEL_SOURCE_INCLUDE_DIR, COMPEL_BUILD_ARCH_ROOT, COMPEL_SOURCE_LINK_SCRIPT,
			COMPEL_BUILD_LIB_DIR};

	fs::path prefix = bindir.parent_path();
	fs::path libdir = prefix / COMPEL_INSTALL_LIBDIR;
	return {(prefix / COMPEL_INSTALL_INCLUDEDIR).string(), (libdir / "compel").string(),
		(libdir / "compel" / "blob.lds").string(), libdir.string()};
}

const std::vector<ArchFlags> &all_arch_flags()
{
	static const std::vector<ArchFlags> flags = {COMPEL_ARCH_FLAGS};
	return flags;
}

const ArchFlags *arch_flags(const std::string &arch)
{
	for (const ArchFlags &f : all_arch_flags())
		if (arch == f.arch)
			return &f;
	return nullptr;
}

const std::vector<const char *> &common_cflags()
{
	static const std::vector<const char *> flags = {COMPEL_COMMON_CFLAGS};
	return flags;
}

const std::vector<const char *> &c_cflags()
{
	static const std::vector<const char *> flags = {COMPEL_C_CFLAGS};
	return flags;
}

const std::vector<const char *> &cxx_cflags()
{
	static const std::vector<const char *> flags = {COMPEL_CXX_CFLAGS};
	return flags;
}

const std::vector<const char *> &ldflags()
{
	static const std::vector<const char *> flags = {COMPEL_LDFLAGS};
	return flags;
}

const std::vector<const char *> &parasite_ldflags()
{
	static const std::vector<const char *> flags = {COMPEL_PARASITE_LDFLAGS};
	return flags;
}

const char *native_arch() { return COMPEL_NATIVE_ARCH; }
const char *version() { return COMPEL_VERSION; }

} // namespace compel
