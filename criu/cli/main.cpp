// criu: checkpoint and restore of Linux processes.
#include <cstdio>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include <compel/error.hpp>

#include "Check.h"
#include "Dump.h"
#include "Log.h"
#include "Options.h"
#include "Restore.h"
#include "Show.h"

namespace criu {
namespace {

// A relative -o names a file inside the images directory, as in CRIU.
std::string log_path(const Options &o)
{
	if (o.log_file.empty() || o.log_file[0] == '/')
		return o.log_file;
	return o.images_dir + "/" + o.log_file;
}

int run(const Options &o)
{
	if (o.command == "help") {
		std::cout << kUsage;
		return 0;
	}
	if (o.command == "version") {
		std::cout << "criu " << PROJECT_VERSION << '\n';
		return 0;
	}
	if (o.command == "show") {
		if (o.args.size() != 1)
			throw compel::Error("show: one FILE or DIR, please (see criu --help)", EINVAL);
		std::cout << show(o.args[0]);
		return 0;
	}
	if (!o.args.empty())
		throw compel::Error("unexpected argument '" + o.args[0] + "' (see criu --help)", EINVAL);
	// A dump makes its images directory, which may hold its log.
	if (o.command == "dump" && mkdir(o.images_dir.c_str(), 0700) != 0 && errno != EEXIST)
		throw compel::Error("cannot create the images directory " + o.images_dir, errno);
	log_setup(o.verbosity, log_path(o));
	if (o.command == "dump") {
		dump(o);
		return 0;
	}
	if (o.command == "restore")
		return restore(o);
	if (o.command == "check")
		return check(o) ? 0 : 1;
	throw compel::Error("unknown command '" + o.command + "' (see criu --help)", EINVAL);
}

} // namespace
} // namespace criu

int main(int argc, char **argv)
{
	try {
		return criu::run(criu::parse_options(argc, argv));
	} catch (const compel::Error &e) {
		criu::log_msg(criu::LogLevel::Error, "%s", e.what());
		if (criu::log_fd() >= 0) // the log went to a file: say it here too
			std::cerr << "criu: " << e.what() << '\n';
		return 1;
	}
}
