// fuzz-images-replay FILE|DIR...: runs the fuzz target once on each FILE
// and on each file in each DIR, without libFuzzer, so that every build
// replays the corpus as a regression test.  A bad input crashes it, as it
// would crash the fuzzer; it fails too if it was given no input at all.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> inputs(int argc, char **argv)
{
	std::vector<fs::path> out;
	for (int i = 1; i < argc; i++) {
		if (!fs::is_directory(argv[i])) {
			out.push_back(argv[i]);
			continue;
		}
		std::vector<fs::path> files;
		for (const fs::directory_entry &e : fs::directory_iterator(argv[i]))
			if (e.is_regular_file())
				files.push_back(e.path());
		std::sort(files.begin(), files.end());
		out.insert(out.end(), files.begin(), files.end());
	}
	return out;
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<fs::path> files;
	try {
		files = inputs(argc, argv);
	} catch (const fs::filesystem_error &e) {
		fprintf(stderr, "fuzz-images-replay: %s\n", e.what());
		return 1;
	}
	if (files.empty()) {
		fprintf(stderr, "usage: fuzz-images-replay FILE|DIR... (and the directories must hold inputs)\n");
		return 1;
	}
	for (const fs::path &f : files) {
		std::ifstream in(f, std::ios::binary);
		std::vector<uint8_t> data;
		if (in)
			data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
		if (!in || in.bad()) {
			fprintf(stderr, "fuzz-images-replay: cannot read %s\n", f.c_str());
			return 1;
		}
		// Before the run: a crash then says which input it was.
		fprintf(stderr, "%s\n", f.c_str());
		LLVMFuzzerTestOneInput(data.data(), data.size());
	}
	fprintf(stderr, "fuzz-images-replay: %zu inputs, all refused or accepted cleanly\n", files.size());
	return 0;
}
