#include "Error.h"

#include <cstring>

namespace compel {

std::string Error::errno_text(int err)
{
	const char *name = strerrorname_np(err);
	std::string text = strerror(err);
	return name ? text + " (" + name + ")" : text;
}

} // namespace compel
