// compel: build blobs (flags, headers) and check them.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "BlobVerifier.h"
#include "ElfBlob.h"
#include <compel/error.hpp>
#include "HeaderWriter.h"
#include "SdkLayout.h"
#include "format.h"

namespace compel {
namespace {

const char kUsage[] =
	"usage: compel [--arch ARCH] COMMAND [ARGS]\n"
	"\n"
	"Flags for building blobs (ARCH: x86_64, i386, arm, thumb, aarch64; default: the host's):\n"
	"  cflags               clang flags for C blob sources, includes included\n"
	"  cxxflags             clang flags for C++ blob sources\n"
	"  includes             the include directories alone\n"
	"  ldflags [--parasite] ld.lld flags and the link script; --parasite links the\n"
	"                       std plugin's entry and command loop, for compel_infect()\n"
	"  plugins [NAME...]    plugin archives to link (default: std)\n"
	"  libs                 host linker flags for libcompel\n"
	"Blobs:\n"
	"  hgen -f BLOB -o HEADER [--prefix NAME]\n"
	"                       check a linked blob and write the C header that embeds it\n"
	"  verify BLOB          check a linked blob as hgen does, then disassemble it and\n"
	"                       refuse FP/vector, privileged and undecodable instructions,\n"
	"                       and syscalls outside the std plugin's compel_syscall\n"
	"  --version            print the version\n";

[[noreturn]] void usage_error(const std::string &msg)
{
	throw Error(msg + " (see compel --help)");
}

void print_words(const std::vector<std::string> &words)
{
	std::string line;
	for (const auto &w : words)
		line += (line.empty() ? "" : " ") + w;
	std::cout << line << '\n';
}

std::vector<std::string> include_flags(const SdkLayout &sdk, const std::string &arch)
{
	return {"-I" + sdk.include_dir, "-I" + sdk.arch_root + "/" + arch + "/include"};
}

// Flags for a C (or, with cxx, C++) blob source: the order compel_add_blob() uses.
std::vector<std::string> cflags(const SdkLayout &sdk, const ArchFlags &a, bool cxx)
{
	std::vector<std::string> out = {std::string("--target=") + a.triple};
	out.insert(out.end(), common_cflags().begin(), common_cflags().end());
	out.insert(out.end(), a.cflags.begin(), a.cflags.end());
	for (auto &f : include_flags(sdk, a.arch))
		out.push_back(f);
	const auto &lang = cxx ? cxx_cflags() : c_cflags();
	out.insert(out.end(), lang.begin(), lang.end());
	out.push_back("-include");
	out.push_back("compel/blob-prologue.h");
	return out;
}

int cmd_hgen(const std::vector<std::string> &args)
{
	std::string in, out, prefix;
	for (size_t i = 0; i < args.size(); i++) {
		auto value = [&]() -> std::string {
			if (i + 1 >= args.size())
				usage_error("hgen: " + args[i] + " needs a value");
			return args[++i];
		};
		if (args[i] == "-f")
			in = value();
		else if (args[i] == "-o")
			out = value();
		else if (args[i] == "--prefix")
			prefix = value();
		else
			usage_error("hgen: unknown argument '" + args[i] + "'");
	}
	if (in.empty() || out.empty())
		usage_error("hgen: -f BLOB and -o HEADER are required");
	std::string name = in.substr(in.find_last_of('/') + 1);
	if (prefix.empty()) {
		prefix = name.substr(0, name.find('.'));
		for (char &c : prefix)
			if (!isalnum(static_cast<unsigned char>(c)))
				c = '_';
	}

	BlobImage img = read_blob_elf(in);
	std::string header = blob_header(img, prefix, name);

	std::string tmp = out + ".tmp";
	{
		std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
		f << header;
		if (!f.flush())
			throw_errno("hgen: cannot write " + tmp);
	}
	if (rename(tmp.c_str(), out.c_str()) != 0)
		throw_errno("hgen: cannot rename " + tmp + " to " + out);
	return 0;
}

// "1 function", "2 functions".
std::string counted(size_t n, const char *noun)
{
	return format("%zu %s%s", n, noun, n == 1 ? "" : "s");
}

int cmd_verify(const std::vector<std::string> &args)
{
	if (args.size() != 1 || args[0].empty() || args[0][0] == '-')
		usage_error("verify: expects one BLOB");
	const std::string &path = args[0];
	VerifyReport r = verify_blob(path);
	std::string counts = counted(r.functions, "function") + ", " + counted(r.instructions, "instruction");
	if (r.problems.empty()) {
		std::cout << "compel verify: " << path << ": " << counts << ", ok\n";
		return 0;
	}
	for (const auto &p : r.problems)
		std::cerr << "compel: verify: " << path << ": " << p << '\n';
	throw Error("verify: " + path + ": " + counted(r.problems.size(), "problem") + " in " + counts);
}

int run(std::vector<std::string> args)
{
	std::string arch = native_arch();
	while (!args.empty() && args[0].rfind("--", 0) == 0 && args[0] != "--version" && args[0] != "--help") {
		if (args[0] == "--arch" && args.size() > 1) {
			arch = args[1];
			args.erase(args.begin(), args.begin() + 2);
		} else if (args[0].rfind("--arch=", 0) == 0) {
			arch = args[0].substr(7);
			args.erase(args.begin());
		} else {
			usage_error("unknown option '" + args[0] + "'");
		}
	}
	if (args.empty())
		usage_error("no command");
	const ArchFlags *af = arch_flags(arch);
	if (!af)
		usage_error("unknown arch '" + arch + "'");

	std::string cmd = args[0];
	std::vector<std::string> rest(args.begin() + 1, args.end());
	if (cmd == "--help" || cmd == "help") {
		std::cout << kUsage;
		return 0;
	}
	if (cmd == "--version") {
		std::cout << "compel " << version() << '\n';
		return 0;
	}
	if (cmd == "hgen")
		return cmd_hgen(rest);
	if (cmd == "verify")
		return cmd_verify(rest);

	SdkLayout sdk = SdkLayout::find();
	if (cmd == "cflags" || cmd == "cxxflags") {
		print_words(cflags(sdk, *af, cmd == "cxxflags"));
	} else if (cmd == "includes") {
		print_words(include_flags(sdk, arch));
	} else if (cmd == "ldflags") {
		std::vector<std::string> out(ldflags().begin(), ldflags().end());
		if (rest.size() == 1 && rest[0] == "--parasite")
			out.insert(out.end(), parasite_ldflags().begin(), parasite_ldflags().end());
		else if (!rest.empty())
			usage_error("ldflags: unknown argument '" + rest[0] + "'");
		out.push_back("-T");
		out.push_back(sdk.link_script);
		print_words(out);
	} else if (cmd == "plugins") {
		if (rest.empty())
			rest.push_back("std");
		std::vector<std::string> out;
		for (const auto &p : rest)
			out.push_back(sdk.arch_root + "/" + arch + "/lib" + p + ".a");
		print_words(out);
	} else if (cmd == "libs") {
		print_words({"-L" + sdk.lib_dir, "-lcompel"});
	} else {
		usage_error("unknown command '" + cmd + "'");
	}
	return 0;
}

} // namespace
} // namespace compel

int main(int argc, char **argv)
{
	try {
		return compel::run(std::vector<std::string>(argv + 1, argv + argc));
	} catch (const compel::Error &e) {
		std::cerr << "compel: " << e.what() << '\n';
		return 1;
	} catch (const std::exception &e) {
		std::cerr << "compel: internal error: " << e.what() << '\n';
		return 1;
	}
}
