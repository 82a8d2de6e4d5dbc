// criu's command line and config files, as CRIU's users write them.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include <compel/error.hpp>

#include "Options.h"
#include "TempDir.h"

using criu::Options;
using criu::parse_options;

namespace {

// parse_options() on a command line, with HOME pointing at home.
Options parse(std::initializer_list<std::string> args, const std::string &home = "/nonexistent")
{
	setenv("HOME", home.c_str(), 1);
	std::vector<std::string> words{"criu"};
	words.insert(words.end(), args);
	std::vector<char *> argv;
	for (auto &w : words)
		argv.push_back(w.data());
	return parse_options(int(argv.size()), argv.data());
}

std::string error_of(std::initializer_list<std::string> args, const std::string &home = "/nonexistent")
{
	try {
		parse(args, home);
	} catch (const compel::Error &e) {
		return e.what();
	}
	return "";
}

} // namespace

TEST_CASE("dump options, short and long", "[criu][options]")
{
	Options o = parse({"dump", "-t", "42", "-D", "/tmp/img", "-o", "d.log", "-v4", "-R", "-j"});
	CHECK(o.command == "dump");
	CHECK(o.tree == 42);
	CHECK(o.images_dir == "/tmp/img");
	CHECK(o.log_file == "d.log");
	CHECK(o.verbosity == 4);
	CHECK(o.leave_running);
	CHECK(o.shell_job);

	Options l = parse({"--tree", "7", "--images-dir=/x", "--verbosity=3", "--leave-stopped", "dump",
			   "--ghost-limit", "64K"});
	CHECK(l.command == "dump");
	CHECK(l.tree == 7);
	CHECK(l.images_dir == "/x");
	CHECK(l.verbosity == 3);
	CHECK(l.leave_stopped);
	CHECK(l.ghost_limit == 64 * 1024);
}

TEST_CASE("verbosity: a number sets it, each v adds one", "[criu][options]")
{
	CHECK(parse({"check"}).verbosity == 2);
	CHECK(parse({"check", "-v"}).verbosity == 3);
	CHECK(parse({"check", "-vv"}).verbosity == 4);
	CHECK(parse({"check", "-vvvv"}).verbosity == 4);
	CHECK(parse({"check", "-v0"}).verbosity == 0);
	CHECK(parse({"check", "--verbosity=1"}).verbosity == 1);
	CHECK_THAT(error_of({"check", "-vx"}), Catch::Contains("'x' is not a level"));
}

TEST_CASE("restore options and what follows a command", "[criu][options]")
{
	Options o = parse({"restore", "-D", "d", "-d", "--pidfile", "p", "-s"});
	CHECK(o.command == "restore");
	CHECK(o.restore_detached);
	CHECK(o.pidfile == "p");
	CHECK(o.leave_stopped);
	Options s = parse({"show", "core-1.img"});
	CHECK(s.command == "show");
	CHECK(s.args == std::vector<std::string>{"core-1.img"});
	CHECK(parse({"--version"}).command == "version");
	CHECK(parse({"-h"}).command == "help");
}

TEST_CASE("bad command lines say what is wrong", "[criu][options]")
{
	CHECK_THAT(error_of({}), Catch::Contains("no command"));
	CHECK_THAT(error_of({"dump", "-t", "abc"}), Catch::Contains("'abc' is not a pid"));
	CHECK_THAT(error_of({"dump", "-t", "-3"}), Catch::Contains("is not a pid"));
	CHECK_THAT(error_of({"dump", "--frobnicate"}), Catch::Contains("'--frobnicate'"));
	CHECK_THAT(error_of({"dump", "--ghost-limit", "10Q"}), Catch::Contains("'10Q' is not a size"));
	CHECK_THAT(error_of({"dump", "-t"}), Catch::Contains("missing value"));
}

TEST_CASE("config files: defaults, --config, then the command line", "[criu][options]")
{
	TempDir home;
	home.file(".criu/default.conf", "# defaults\n\nleave-running\nverbosity 4  # debug\nimages-dir /from-home\n");
	std::string given = home.file("given.conf", "  images-dir   /from-given  \nlog-file given.log\n");

	Options o = parse({"dump", "-t", "1"}, home.path());
	CHECK(o.leave_running);
	CHECK(o.verbosity == 4);
	CHECK(o.images_dir == "/from-home");

	Options g = parse({"dump", "-t", "1", "--config", given}, home.path());
	CHECK(g.images_dir == "/from-given"); // --config after the default files
	CHECK(g.log_file == "given.log");
	CHECK(g.leave_running);

	Options c = parse({"dump", "-t", "1", "--config=" + given, "-D", "/cmdline"}, home.path());
	CHECK(c.images_dir == "/cmdline"); // the command line last

	Options n = parse({"dump", "-t", "1", "--no-default-config"}, home.path());
	CHECK_FALSE(n.leave_running);
	CHECK(n.verbosity == 2);
	CHECK(n.images_dir == ".");
}

TEST_CASE("bad config files name the file", "[criu][options]")
{
	TempDir d;
	std::string unknown = d.file("unknown.conf", "tree 1\nno-such-option\n");
	CHECK_THAT(error_of({"dump", "--config", unknown}), Catch::Contains("config file") &&
								 Catch::Contains("--no-such-option"));
	std::string nested = d.file("nested.conf", "config /etc/other.conf\n");
	CHECK_THAT(error_of({"dump", "--config", nested}), Catch::Contains(nested + ":1") &&
								Catch::Contains("cannot be used in a config file"));
	std::string command = d.file("command.conf", "dump\n");
	CHECK_THAT(error_of({"--config", command}), Catch::Contains("config file: unknown option"));
	CHECK_THAT(error_of({"dump", "--config", d.path() + "/missing.conf"}),
		   Catch::Contains(d.path() + "/missing.conf"));
}
