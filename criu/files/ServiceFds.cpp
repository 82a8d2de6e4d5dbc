#include "ServiceFds.h"

#include <algorithm>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

ServiceFds::ServiceFds(int highest_target) : base_(std::max(highest_target + 1, 3)) {}

// Through copies above the slots first: an original may sit on another's slot.
std::vector<int> ServiceFds::install(const std::vector<int> &fds)
{
	std::vector<int> high, out;
	for (int fd : fds) {
		int h = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, base_ + Count);
		if (fd >= 0 && h < 0)
			throw Error(format("cannot copy criu's descriptor %d", fd), errno);
		high.push_back(h);
	}
	for (size_t slot = 0; slot < high.size(); slot++) {
		int to = high[slot] < 0 ? -1 : base_ + int(slot);
		struct stat st;
		if (to >= 0 && (dup3(high[slot], to, O_CLOEXEC) < 0 || close(high[slot]) != 0 || fstat(to, &st) != 0))
			throw Error(format("cannot move criu's descriptor to %d", to), errno);
		if (to >= 0)
			used_.push_back({to, st.st_dev, st.st_ino});
		out.push_back(to);
	}
	return out;
}

bool ServiceFds::owns(int fd) const
{
	return std::any_of(used_.begin(), used_.end(), [fd](const Installed &i) { return i.fd == fd; });
}

void ServiceFds::check(int fd) const
{
	if (owns(fd) || fd >= base_)
		throw Error(format("internal: fd %d would overwrite criu's service descriptors from %d", fd, base_), EBADF);
}

void ServiceFds::verify() const
{
	for (const Installed &i : used_) {
		struct stat st;
		if (fstat(i.fd, &st) != 0 || st.st_dev != i.dev || st.st_ino != i.ino)
			throw Error(format("internal: criu's service descriptor %d was closed or replaced while files "
					   "were restored",
					   i.fd),
				    EBADF);
	}
}

} // namespace criu
