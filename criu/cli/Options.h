#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace criu {

// Everything the command line (and the config files) can say, with CRIU's
// option names and meanings.
struct Options {
	std::string command; // dump, restore, check, show
	std::vector<std::string> args; // what follows the command that is not an option

	std::string images_dir = ".";
	std::string log_file;          // relative: inside images_dir, as CRIU does
	int verbosity = 2;             // 0 nothing, 1 errors, 2 +warnings, 3 +info, 4 +debug

	pid_t tree = 0;                // dump -t
	bool leave_running = false;    // dump -R
	bool leave_stopped = false;    // dump/restore -s
	bool shell_job = false;        // -j
	uint64_t ghost_limit = 1 << 20; // deleted files up to this size are saved

	bool restore_detached = false; // restore -d
	std::string pidfile;           // restore --pidfile

	std::string feature;           // check --feature
};

// Parses argv (argv[0] is the program), after the options of the config
// files: --config FILE, else /etc/criu/default.conf and ~/.criu/default.conf
// unless --no-default-config.  Throws Error with a usage message.
Options parse_options(int argc, char **argv);

extern const char kUsage[];

} // namespace criu
