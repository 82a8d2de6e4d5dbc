#include "Show.h"

#include <algorithm>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <compel/error.hpp>

#include "Image.h"
#include "Json.h"
#include "format.h"

namespace criu {

using compel::Error;
using compel::format;

namespace {

std::string show_file(int dirfd, const std::string &dir, const std::string &name, int indent)
{
	const ImageKindInfo *k = image_kind_of_file(name);
	if (!k)
		throw Error(dir + "/" + name + ": not an image file name this criu knows", EINVAL);
	std::string pad(size_t(indent), ' ');
	std::string out = "{\n" + pad + "  \"file\": \"" + name + "\",\n" + pad + "  \"kind\": \"" + k->name + "\",\n";
	if (!k->entry) {
		struct stat st;
		if (fstatat(dirfd, name.c_str(), &st, 0) != 0)
			throw Error("cannot stat " + dir + "/" + name, errno);
		return out + pad + format("  \"size\": %lld\n", (long long)st.st_size) + pad + "}";
	}
	ImageReader r(dirfd, dir, k->kind, name);
	out += pad + "  \"entries\": [";
	bool first = true;
	const ProtobufCMessageDescriptor *d = k->head ? k->head : k->entry;
	while (auto m = r.next(d)) {
		out += (first ? "\n" : ",\n") + pad + "    " + to_json(m.msg.get(), indent + 4);
		first = false;
		d = k->entry;
	}
	return out + (first ? "]\n" : "\n" + pad + "  ]\n") + pad + "}";
}

} // namespace

std::string show(const std::string &path)
{
	struct stat st;
	if (stat(path.c_str(), &st) != 0)
		throw Error("cannot find " + path, errno);
	if (!S_ISDIR(st.st_mode)) {
		size_t slash = path.rfind('/');
		std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
		std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
		int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			throw Error("cannot open " + dir, errno);
		try {
			std::string out = show_file(dfd, dir, name, 0) + "\n";
			close(dfd);
			return out;
		} catch (...) {
			close(dfd);
			throw;
		}
	}
	int dfd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		throw Error("cannot open " + path, errno);
	std::vector<std::string> names;
	if (DIR *d = fdopendir(dup(dfd))) {
		while (dirent *e = readdir(d))
			if (e->d_name[0] != '.' && image_kind_of_file(e->d_name))
				names.push_back(e->d_name);
		closedir(d);
	}
	std::sort(names.begin(), names.end());
	std::string out = "[";
	try {
		for (size_t i = 0; i < names.size(); i++)
			out += (i ? ",\n  " : "\n  ") + show_file(dfd, path, names[i], 2);
	} catch (...) {
		close(dfd);
		throw;
	}
	close(dfd);
	return out + (names.empty() ? "]\n" : "\n]\n");
}

} // namespace criu
