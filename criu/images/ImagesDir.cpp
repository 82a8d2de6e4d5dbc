#include "ImagesDir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

namespace criu {

ImagesDir::ImagesDir(const std::string &path, bool create) : path_(path)
{
	if (create && mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
		throw compel::Error("cannot create the images directory " + path, errno);
	fd_ = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd_ < 0)
		throw compel::Error("cannot open the images directory " + path, errno);
}

ImagesDir::~ImagesDir()
{
	if (owned_ && fd_ >= 0)
		close(fd_);
}

bool ImagesDir::exists(const std::string &name) const { return faccessat(fd_, name.c_str(), F_OK, 0) == 0; }

void ImagesDir::remove(const std::string &name) const { unlinkat(fd_, name.c_str(), 0); }

} // namespace criu
