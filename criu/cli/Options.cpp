#include "Options.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <getopt.h>

#include <compel/error.hpp>

#include "format.h"

namespace criu {

using compel::Error;

const char kUsage[] =
	"usage: criu COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  dump -t PID -D DIR     checkpoint process PID into DIR\n"
	"  restore -D DIR         bring the process of DIR back\n"
	"  check [--feature NAME] check that this kernel has what criu needs\n"
	"  show FILE|DIR          decode images to JSON\n"
	"\n"
	"Options:\n"
	"  -t, --tree PID           the process to dump\n"
	"  -D, --images-dir DIR     where the images are (default: .)\n"
	"  -o, --log-file FILE      log to FILE (relative: inside the images dir)\n"
	"  -v[N], --verbosity=N     0 quiet, 1 errors, 2 warnings (default), 3 info, 4 debug;\n"
	"                           -v adds one, -vv two\n"
	"  -R, --leave-running      dump: let the process run on after the dump\n"
	"  -s, --leave-stopped      dump: leave the process stopped; restore: leave it stopped\n"
	"  -j, --shell-job          the process runs on the caller's terminal\n"
	"      --ghost-limit SIZE   save deleted open files up to SIZE bytes (default 1M)\n"
	"  -d, --restore-detached   restore: do not wait for the restored process\n"
	"      --pidfile FILE       restore: write the restored pid to FILE\n"
	"      --feature NAME       check: check one feature only\n"
	"      --config FILE        read options from FILE (one per line, # comments)\n"
	"      --no-default-config  do not read /etc/criu/default.conf and ~/.criu/default.conf\n"
	"  -V, --version            print the version\n";

namespace {

enum { OPT_GHOST_LIMIT = 256, OPT_PIDFILE, OPT_FEATURE, OPT_CONFIG, OPT_NO_DEFAULT_CONFIG };

const option kLongOptions[] = {
	{"tree", required_argument, nullptr, 't'},
	{"images-dir", required_argument, nullptr, 'D'},
	{"log-file", required_argument, nullptr, 'o'},
	{"verbosity", optional_argument, nullptr, 'v'},
	{"leave-running", no_argument, nullptr, 'R'},
	{"leave-stopped", no_argument, nullptr, 's'},
	{"shell-job", no_argument, nullptr, 'j'},
	{"ghost-limit", required_argument, nullptr, OPT_GHOST_LIMIT},
	{"restore-detached", no_argument, nullptr, 'd'},
	{"pidfile", required_argument, nullptr, OPT_PIDFILE},
	{"feature", required_argument, nullptr, OPT_FEATURE},
	{"config", required_argument, nullptr, OPT_CONFIG},
	{"no-default-config", no_argument, nullptr, OPT_NO_DEFAULT_CONFIG},
	{"version", no_argument, nullptr, 'V'},
	{"help", no_argument, nullptr, 'h'},
	{nullptr, 0, nullptr, 0},
};
const char kShortOptions[] = "t:D:o:v::RsjdVh";

[[noreturn]] void usage_error(const std::string &msg)
{
	throw Error::described(msg + " (see criu --help)", EINVAL);
}

uint64_t parse_size(const char *s, const char *option)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	uint64_t unit = 1;
	if (*end == 'K' || *end == 'k')
		unit = 1 << 10, end++;
	else if (*end == 'M' || *end == 'm')
		unit = 1 << 20, end++;
	else if (*end == 'G' || *end == 'g')
		unit = 1 << 30, end++;
	if (end == s || *end)
		usage_error(std::string("--") + option + ": '" + s + "' is not a size (like 4096, 64K, 10M)");
	return v * unit;
}

// "# comment", "tree 42", "leave-running": one option per line, without dashes.
std::vector<std::string> read_config(const std::string &path, bool must_exist)
{
	std::ifstream f(path);
	if (!f) {
		if (must_exist)
			throw Error("cannot read config file " + path, ENOENT);
		return {};
	}
	std::vector<std::string> out;
	std::string line;
	for (int n = 1; std::getline(f, line); n++) {
		line = line.substr(0, line.find('#'));
		size_t b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
		if (b == std::string::npos)
			continue;
		line = line.substr(b, e - b + 1);
		size_t sp = line.find_first_of(" \t");
		std::string name = line.substr(0, sp);
		if (name == "config" || name == "no-default-config")
			throw Error(compel::format("%s:%d: '%s' cannot be used in a config file", path.c_str(), n,
						   name.c_str()),
				    EINVAL);
		// One "--name=value" word: options with an optional value
		// (verbosity) take it only that way.
		if (sp == std::string::npos)
			out.push_back("--" + name);
		else
			out.push_back("--" + name + "=" + line.substr(line.find_first_not_of(" \t", sp)));
	}
	return out;
}

void apply(Options &o, int c, const char *arg)
{
	switch (c) {
	case 't': {
		char *end;
		long v = strtol(arg, &end, 10);
		if (*end || v <= 0)
			usage_error(std::string("--tree: '") + arg + "' is not a pid");
		o.tree = pid_t(v);
		break;
	}
	case 'D':
		o.images_dir = arg;
		break;
	case 'o':
		o.log_file = arg;
		break;
	case 'v':
		// -v4 or --verbosity=4 sets; -v adds one, and so does each v of -vv.
		if (!arg || strspn(arg, "v") == strlen(arg))
			o.verbosity = std::min(4, o.verbosity + 1 + int(arg ? strlen(arg) : 0));
		else if (strspn(arg, "0123456789") == strlen(arg))
			o.verbosity = std::min(4, atoi(arg));
		else
			usage_error(std::string("--verbosity: '") + arg + "' is not a level from 0 to 4");
		break;
	case 'R':
		o.leave_running = true;
		break;
	case 's':
		o.leave_stopped = true;
		break;
	case 'j':
		o.shell_job = true;
		break;
	case OPT_GHOST_LIMIT:
		o.ghost_limit = parse_size(arg, "ghost-limit");
		break;
	case 'd':
		o.restore_detached = true;
		break;
	case OPT_PIDFILE:
		o.pidfile = arg;
		break;
	case OPT_FEATURE:
		o.feature = arg;
		break;
	}
}

// Runs getopt_long over args (args[0] a program name); returns the rest.
std::vector<std::string> parse(Options &o, std::vector<std::string> args, const std::string &origin)
{
	std::vector<char *> argv;
	for (auto &a : args)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	optind = 0; // also resets getopt's state between calls
	opterr = 0;
	int c;
	while ((c = getopt_long(int(args.size()), argv.data(), kShortOptions, kLongOptions, nullptr)) != -1) {
		if (c == '?' || c == ':')
			usage_error(origin + ": unknown option or missing value: '" +
				    std::string(argv[optind - 1] ? argv[optind - 1] : "?") + "'");
		if (c == 'h' || c == 'V' || c == OPT_CONFIG || c == OPT_NO_DEFAULT_CONFIG) {
			if (c == 'h')
				o.command = "help";
			if (c == 'V')
				o.command = "version";
			continue;
		}
		apply(o, c, optarg);
	}
	// getopt_long moved the non-options to the end of argv, not of args.
	return {argv.begin() + optind, argv.begin() + long(args.size())};
}

} // namespace

Options parse_options(int argc, char **argv)
{
	std::vector<std::string> cmdline(argv, argv + argc);

	// Config files first, so that the command line overrides them; the
	// default files before those given with --config.
	std::vector<std::string> given;
	bool defaults = true;
	for (size_t i = 1; i < cmdline.size(); i++) {
		if (cmdline[i] == "--no-default-config")
			defaults = false;
		else if (cmdline[i] == "--config" && i + 1 < cmdline.size())
			given.push_back(cmdline[++i]);
		else if (cmdline[i].rfind("--config=", 0) == 0)
			given.push_back(cmdline[i].substr(9));
	}
	std::vector<std::string> config = {"criu"};
	auto add = [&](const std::string &path, bool must_exist) {
		for (auto &a : read_config(path, must_exist))
			config.push_back(a);
	};
	if (defaults) {
		add("/etc/criu/default.conf", false);
		if (const char *home = getenv("HOME"))
			add(std::string(home) + "/.criu/default.conf", false);
	}
	for (auto &path : given)
		add(path, true);

	Options o;
	if (parse(o, config, "config file").size())
		usage_error("config files hold options only, not commands");
	std::vector<std::string> rest = parse(o, cmdline, "command line");
	if (o.command.empty()) {
		if (rest.empty())
			usage_error("no command");
		o.command = rest[0];
		o.args.assign(rest.begin() + 1, rest.end());
	}
	return o;
}

} // namespace criu
