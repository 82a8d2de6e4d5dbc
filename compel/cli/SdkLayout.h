#pragma once

#include <string>
#include <vector>

namespace compel {

// Blob build flags of one arch, from cmake/CompelFlags.cmake.
struct ArchFlags {
	const char *arch;
	const char *triple;
	std::vector<const char *> cflags; // arch-specific, after the common ones
};

// Where the SDK's files are: next to the source and build trees when this
// `compel` runs from the build tree, else under the prefix it is installed in.
struct SdkLayout {
	std::string include_dir; // public headers (host and blob side)
	std::string arch_root;   // <arch_root>/<arch>/: include/, lib<plugin>.a
	std::string link_script;
	std::string lib_dir; // libcompel

	static SdkLayout find();
};

const ArchFlags *arch_flags(const std::string &arch);
const std::vector<ArchFlags> &all_arch_flags();
const std::vector<const char *> &common_cflags();
const std::vector<const char *> &c_cflags();   // C sources only
const std::vector<const char *> &cxx_cflags(); // C++ sources only
const std::vector<const char *> &ldflags();
const std::vector<const char *> &parasite_ldflags();
const char *native_arch();
const char *version();

} // namespace compel
